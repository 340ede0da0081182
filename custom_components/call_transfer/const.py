"""Constants for the Call Transfer integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "call_transfer"
LOGGER = logging.getLogger(__package__)

# Config entry data keys (a public contract: other code and tests rely on them).
CONF_PROVIDER: Final = "provider"
CONF_AUTH_TOKEN: Final = "auth_token"
CONF_API_KEY: Final = "api_key"
CONF_BASE_URL: Final = "base_url"
# Options: the provider's own (providers.OptionField keys) plus the live-call poll interval.
CONF_SCAN_INTERVAL: Final = "scan_interval"
DEFAULT_SCAN_INTERVAL: Final = 10
MIN_SCAN_INTERVAL: Final = 5
MAX_SCAN_INTERVAL: Final = 300
# Push: receive the provider's signed callbacks; set their URL at the provider.
CONF_PUSH: Final = "push"
CONF_PUSH_REGISTER: Final = "push_register"

SERVICE_TRANSFER: Final = "transfer"
SERVICE_LIST_CALLS: Final = "list_calls"

# Action fields.
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_CALL_ID: Final = "call_id"
ATTR_TO: Final = "to"
ATTR_LEGS: Final = "legs"
# A named destination of the account, instead of to and the leg fields.
ATTR_DESTINATION: Final = "destination"

# Events (a public contract).
EVENT_TRANSFER_SUCCEEDED: Final = "call_transfer_succeeded"
EVENT_TRANSFER_FAILED: Final = "call_transfer_failed"
# A transfer refused before anything was sent (no live call, several, an unknown name…).
EVENT_TRANSFER_REFUSED: Final = "call_transfer_refused"
ATTR_PROVIDER: Final = "provider"
ATTR_MESSAGE: Final = "message"
ATTR_REQUEST_ID: Final = "request_id"
ATTR_ERROR: Final = "error"
ATTR_ERROR_MESSAGE: Final = "error_message"
ATTR_STATUS: Final = "status"
# Live calls: call_transfer_call_started / _ended events, the sensor and list_calls.
EVENT_CALL_STARTED: Final = "call_transfer_call_started"
EVENT_CALL_ENDED: Final = "call_transfer_call_ended"
ATTR_CALLS: Final = "calls"
# list_calls of every account: each call's account, by its title.
ATTR_ACCOUNT: Final = "account"
ATTR_FROM: Final = "from"
ATTR_DIRECTION: Final = "direction"
ATTR_STARTED: Final = "started"
# What told of a call starting or ending: a provider's callback ("push") or a poll.
ATTR_SOURCE: Final = "source"
# Whether the number a call was transferred to answered (push, number transfers).
EVENT_TRANSFER_ANSWERED: Final = "call_transfer_transfer_answered"
EVENT_TRANSFER_UNANSWERED: Final = "call_transfer_transfer_unanswered"
ATTR_REASON: Final = "reason"

# Destinations: config subentries of an account, one button each.
SUBENTRY_DESTINATION: Final = "destination"
CONF_NUMBER: Final = "number"
CONF_URL: Final = "url"
CONF_METHOD: Final = "method"
CONF_LEGS: Final = "legs"
# The model of a destination's device: the action form's Destination lists these
# (services.yaml filters on it).
DESTINATION_MODEL: Final = "Call transfer destination"
# Assist and LLM agents: "transfer the call to reception".
INTENT_TRANSFER: Final = "CallTransferTransfer"
# "How many calls are live?"
INTENT_LIVE_CALLS: Final = "CallTransferLiveCalls"

RECENT_TRANSFERS_KEPT: Final = 20
