"""Describe transfer events in the logbook, in plain words."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_TRANSFER_FAILED, EVENT_TRANSFER_SUCCEEDED
from .phone import format_for_display
from .providers.validation import is_sip_uri

# Plain-words reasons for the failure codes of call_transfer_failed.
_REASONS = {
    "invalid_auth": "the credentials were rejected",
    "forbidden": "the provider does not allow it",
    "call_not_found": "call is not in progress",
    "invalid_request": "the provider refused the request",
    "rate_limited": "the provider is rate limiting",
    "timeout": "the provider did not answer in time",
    "cannot_connect": "the provider could not be reached",
    "provider_error": "the provider had an error",
    "unexpected_response": "the provider's answer could not be read",
}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe call_transfer events."""

    @callback
    def async_describe_succeeded(event: Event) -> dict[str, str]:
        data = event.data
        return {
            LOGBOOK_ENTRY_NAME: "Call transfer",
            LOGBOOK_ENTRY_MESSAGE: f"Call {data['call_id']} transferred {_destination(data)}",
        }

    @callback
    def async_describe_failed(event: Event) -> dict[str, str]:
        data = event.data
        reason = _REASONS.get(data["error"], data["error"])
        return {
            LOGBOOK_ENTRY_NAME: "Call transfer",
            LOGBOOK_ENTRY_MESSAGE: f"Transfer of call {data['call_id']} failed: {reason}",
        }

    async_describe_event(DOMAIN, EVENT_TRANSFER_SUCCEEDED, async_describe_succeeded)
    async_describe_event(DOMAIN, EVENT_TRANSFER_FAILED, async_describe_failed)


def _destination(data: Mapping[str, Any]) -> str:
    if to := data.get("to"):
        return f"to {to if is_sip_uri(to) else format_for_display(to)}"
    legs = {"aleg": "the caller's leg", "bleg": "the callee's leg", "both": "both legs"}
    return f"({legs.get(data.get('legs') or '', 'call leg')} redirected)"
