"""Entity base classes: every entity belongs to its account's service device."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import LiveCallsCoordinator
from .data import CallTransferConfigEntry

# The entities that exist only while the account's live calls are polled, by key.
LIVE_CALL_ENTITIES: Final = {"active_calls": Platform.SENSOR, "calls": Platform.EVENT}


def live_calls_signal(entry: CallTransferConfigEntry) -> str:
    """Name the signal telling that the account's calls start or stop being listed.

    It carries the account's coordinator, or None.
    """
    return f"{DOMAIN}_{entry.entry_id}_live_calls"


@callback
def async_add_live_calls_entity(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    async_add_entities: AddEntitiesCallback,
    entity: Callable[[LiveCallsCoordinator], Entity],
) -> None:
    """Add a platform's live-calls entity while the account's calls are listed.

    Also when an options change makes them listed, without a reload; when it stops
    them, the entity is removed from the registry.
    """

    @callback
    def async_add(coordinator: LiveCallsCoordinator | None) -> None:
        if coordinator is not None:
            async_add_entities([entity(coordinator)])

    async_add(entry.runtime_data.coordinator)
    entry.async_on_unload(
        async_dispatcher_connect(hass, live_calls_signal(entry), async_add)
    )


class CallTransferEntity(Entity):
    """An entity of one account, named by its translation ``key``."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, entry: CallTransferConfigEntry, key: str) -> None:
        """Describe the entity and the account's service device."""
        self._attr_translation_key = key
        self._attr_unique_id = f"{entry.entry_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer=entry.runtime_data.client.display_name,
            model="Call transfer account",
            entry_type=DeviceEntryType.SERVICE,
        )


class LiveCallsEntity(CoordinatorEntity[LiveCallsCoordinator], CallTransferEntity):
    """An entity showing the account's live calls; unavailable while polling fails."""

    def __init__(self, coordinator: LiveCallsCoordinator, key: str) -> None:
        """Follow the account's live-calls coordinator."""
        super().__init__(coordinator)
        CallTransferEntity.__init__(self, coordinator.config_entry, key)
