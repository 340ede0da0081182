"""Device triggers of an account: a call started or ended, a transfer succeeded or failed.

And, where the provider reports it (push), whether the number a call was transferred to
answered. Each is the account's bus event (``call_transfer_call_started`` …), so the
automation gets its data as ``trigger.event.data``. Calls are offered only on an
account whose live calls are listed, answers only where the provider reports them.
"""

from __future__ import annotations

from typing import Final

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
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType
import voluptuous as vol

from .const import (
    ATTR_CONFIG_ENTRY_ID,
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
    entry: CallTransferConfigEntry = hass.config_entries.async_get_known_entry(
        _entry_id(hass, device_id)
    )
    lists_calls = (
        entry.state is ConfigEntryState.LOADED
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
    """Follow the trigger's bus event, for the device's account only."""
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            event_trigger.CONF_EVENT_TYPE: _EVENTS[config[CONF_TYPE]],
            CONF_EVENT_DATA: {
                ATTR_CONFIG_ENTRY_ID: _entry_id(hass, config[CONF_DEVICE_ID])
            },
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )


def _entry_id(hass: HomeAssistant, device_id: str) -> str:
    """Return the id of the account whose service device this is.

    Home Assistant checked that it is one when it read the automation; the account may
    have been deleted since (an automation turned on again).
    """
    if (device := dr.async_get(hass).async_get(device_id)) is None:
        raise InvalidDeviceAutomationConfig(f"Unknown device {device_id}")
    return next(entry_id for domain, entry_id in device.identifiers if domain == DOMAIN)
