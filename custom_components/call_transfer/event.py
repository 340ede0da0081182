"""Event entity: the last transfer of an account, for dashboards and automations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.event import DOMAIN as EVENT_DOMAIN, EventEntity
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    DOMAIN,
    EVENT_TRANSFER_FAILED,
    EVENT_TRANSFER_SUCCEEDED,
)
from .data import CallTransferConfigEntry

PARALLEL_UPDATES = 0

_EVENT_TYPES = {EVENT_TRANSFER_SUCCEEDED: "succeeded", EVENT_TRANSFER_FAILED: "failed"}
# Identity fields of the bus event that the entity's own attributes do not repeat.
_NOT_ATTRIBUTES = (ATTR_CONFIG_ENTRY_ID, "provider", ATTR_ENTITY_ID)


@callback
def transfers_entity_id(hass: HomeAssistant, entry_id: str) -> str | None:
    """Return the entity id of an account's Transfers entity, if it is registered."""
    return er.async_get(hass).async_get_entity_id(
        EVENT_DOMAIN, DOMAIN, _unique_id(entry_id)
    )


def _unique_id(entry_id: str) -> str:
    return f"{entry_id}_transfers"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the account's transfers event entity."""
    async_add_entities([TransfersEventEntity(entry)])


class TransfersEventEntity(EventEntity):
    """Fires ``succeeded`` or ``failed`` for every transfer made with the account."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_translation_key = "transfers"
    _attr_event_types = list(_EVENT_TYPES.values())

    def __init__(self, entry: CallTransferConfigEntry) -> None:
        """Describe the entity and the account's service device."""
        self._entry_id = entry.entry_id
        self._attr_unique_id = _unique_id(entry.entry_id)
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer=entry.runtime_data.client.display_name,
            model="Call transfer account",
            entry_type=DeviceEntryType.SERVICE,
        )

    async def async_added_to_hass(self) -> None:
        """Follow this account's transfer events on the bus."""
        for event_type in _EVENT_TYPES:
            self.async_on_remove(
                self.hass.bus.async_listen(
                    event_type, self._async_handle_transfer, event_filter=self._is_ours
                )
            )

    @callback
    def _is_ours(self, event_data: Mapping[str, Any]) -> bool:
        return event_data.get(ATTR_CONFIG_ENTRY_ID) == self._entry_id

    @callback
    def _async_handle_transfer(self, event: Event) -> None:
        attributes = {
            key: value
            for key, value in event.data.items()
            if key not in _NOT_ATTRIBUTES
        }
        self._trigger_event(_EVENT_TYPES[str(event.event_type)], attributes)
        self.async_write_ha_state()
