"""Entity base classes: every entity belongs to its account's service device."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import LiveCallsCoordinator
from .data import CallTransferConfigEntry


def live_calls_signal(entry: CallTransferConfigEntry) -> str:
    """Name the signal telling that the account's calls start or stop being listed.

    It carries the account's coordinator, or None.
    """
    return f"{DOMAIN}_{entry.entry_id}_live_calls"


class CallTransferEntity(Entity):
    """An entity of one account, named by its translation ``key``."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, entry: CallTransferConfigEntry, key: str) -> None:
        """Describe the entity and the account's service device."""
        self._attr_translation_key = key
        self._attr_unique_id = f"{entry.entry_id}_{key}"
        self._attr_device_info = service_device(
            entry, entry.entry_id, entry.title, "Call transfer account"
        )


def service_device(
    entry: CallTransferConfigEntry, identifier: str, name: str, model: str
) -> DeviceInfo:
    """Describe a service device of the account: its own, or one of a destination's."""
    return DeviceInfo(
        identifiers={(DOMAIN, identifier)},
        name=name,
        manufacturer=entry.runtime_data.client.display_name,
        model=model,
        entry_type=DeviceEntryType.SERVICE,
    )


class LiveCallsEntity(CoordinatorEntity[LiveCallsCoordinator], CallTransferEntity):
    """An entity showing the account's live calls; unavailable while polling fails."""

    def __init__(self, coordinator: LiveCallsCoordinator, key: str) -> None:
        """Follow the account's live-calls coordinator."""
        super().__init__(coordinator)
        CallTransferEntity.__init__(self, coordinator.config_entry, key)


@callback
def async_add_live_calls_entity(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entity: Callable[[LiveCallsCoordinator], Entity],
    domain: str,
    key: str,
) -> None:
    """Provide a platform's live-calls entity (``domain``, ``key``) while calls are listed.

    Also when an options change starts listing them, without a reload. An account that
    does not (or no longer) list calls has the entity removed from the registry, so it
    does not linger as "no longer provided" (a Bland AI account whose organization id
    was removed).
    """

    @callback
    def async_provide(coordinator: LiveCallsCoordinator | None) -> None:
        if coordinator is not None:
            async_add_entities([entity(coordinator)])
            return
        registry = er.async_get(hass)
        unique_id = f"{entry.entry_id}_{key}"
        if entity_id := registry.async_get_entity_id(domain, DOMAIN, unique_id):
            registry.async_remove(entity_id)

    async_provide(entry.runtime_data.coordinator)
    entry.async_on_unload(
        async_dispatcher_connect(hass, live_calls_signal(entry), async_provide)
    )
