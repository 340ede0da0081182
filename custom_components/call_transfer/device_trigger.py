"""Device triggers of an account: a call started or ended, a transfer succeeded or failed.

Each is the account's bus event (``call_transfer_call_started`` …), so the automation
gets its data as ``trigger.event.data``. Calls are offered only on an account whose
live calls are listed; whether the number a call was transferred to answered, only where
the provider reports it (push). A destination's device offers its own transfers, to that
destination (by its current name: a renamed one is followed).
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_EVENT_DATA,
    CONF_PLATFORM,
    CONF_TYPE,
)
from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType
import voluptuous as vol

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DESTINATION,
    CONF_PROVIDER,
    DOMAIN,
    EVENT_CALL_ENDED,
    EVENT_CALL_STARTED,
    EVENT_TRANSFER_ANSWERED,
    EVENT_TRANSFER_FAILED,
    EVENT_TRANSFER_SUCCEEDED,
    EVENT_TRANSFER_UNANSWERED,
)
from .data import CallTransferConfigEntry
from .destinations import Destination
from .providers import PROVIDERS

CALL_TRIGGERS: Final = {
    "call_started": EVENT_CALL_STARTED,
    "call_ended": EVENT_CALL_ENDED,
}
TRANSFER_TRIGGERS: Final = {
    "transfer_succeeded": EVENT_TRANSFER_SUCCEEDED,
    "transfer_failed": EVENT_TRANSFER_FAILED,
}
OUTCOME_TRIGGERS: Final = {
    "transfer_answered": EVENT_TRANSFER_ANSWERED,
    "transfer_unanswered": EVENT_TRANSFER_UNANSWERED,
}
_EVENTS: Final = CALL_TRIGGERS | TRANSFER_TRIGGERS | OUTCOME_TRIGGERS

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {vol.Required(CONF_TYPE): vol.In(_EVENTS)}
)


async def async_get_triggers(
    hass: HomeAssistant, device_id: str
) -> list[dict[str, str]]:
    """List the account's triggers: its calls' where they are listed, its transfers'.

    And its transfers' outcomes where the provider reports them.
    """
    entry_id, subentry_id = _device_target(hass, device_id)
    entry: CallTransferConfigEntry = hass.config_entries.async_get_known_entry(entry_id)
    lists_calls = (
        subentry_id is None
        and entry.state is ConfigEntryState.LOADED
        and entry.runtime_data.coordinator is not None
    )
    push = PROVIDERS[entry.data[CONF_PROVIDER]].push
    offered = (CALL_TRIGGERS if lists_calls else {}) | TRANSFER_TRIGGERS
    if push is not None and push.reports_transfer_outcomes:
        offered |= OUTCOME_TRIGGERS
    return [
        {
            CONF_PLATFORM: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: device_id,
            CONF_TYPE: trigger_type,
        }
        for trigger_type in offered
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Follow the trigger's bus event, for the device's account (or destination) only."""
    entry_id, subentry_id = _device_target(hass, config[CONF_DEVICE_ID])
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            event_trigger.CONF_EVENT_TYPE: _EVENTS[config[CONF_TYPE]],
            CONF_EVENT_DATA: {ATTR_CONFIG_ENTRY_ID: entry_id},
        }
    )
    if subentry_id is not None:
        action = _for_destination(hass, entry_id, subentry_id, action)
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )


def _for_destination(
    hass: HomeAssistant, entry_id: str, subentry_id: str, action: TriggerActionType
) -> TriggerActionType:
    """Run ``action`` for transfers to the destination only, by its current name."""

    async def async_run_for_destination(
        run_variables: dict[str, Any], context: Context | None = None
    ) -> None:
        # Its name now: none once it (or its account) is removed.
        names = {
            Destination.from_subentry(subentry).name
            for entry in hass.config_entries.async_entries(DOMAIN)
            if entry.entry_id == entry_id
            for subentry in entry.subentries.values()
            if subentry.subentry_id == subentry_id
        }
        if run_variables["trigger"]["event"].data.get(ATTR_DESTINATION) in names:
            await action(run_variables, context)

    return async_run_for_destination


def _device_target(hass: HomeAssistant, device_id: str) -> tuple[str, str | None]:
    """Return the account of a device, and the destination if it is a destination's.

    Home Assistant checked that it is one of the integration's when it read the
    automation; the account may have been deleted since (an automation turned on again).
    """
    if (device := dr.async_get(hass).async_get(device_id)) is None:
        raise InvalidDeviceAutomationConfig(f"Unknown device {device_id}")
    identifier = next(ident for domain, ident in device.identifiers if domain == DOMAIN)
    for entry_id, subentry_ids in device.config_entries_subentries.items():
        if identifier in subentry_ids:
            return entry_id, identifier
    return identifier, None
