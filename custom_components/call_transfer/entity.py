"""Entity base classes: every entity belongs to its account's service device."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import LiveCallsCoordinator
from .data import CallTransferConfigEntry


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
def async_remove_unprovided(
    hass: HomeAssistant, entry: CallTransferConfigEntry, domain: str, key: str
) -> None:
    """Forget an account's entity that its platform no longer provides.

    The live-call entities of an account that no longer lists calls (a Bland AI account
    whose organization id was removed) would otherwise linger as "no longer provided".
    """
    registry = er.async_get(hass)
    unique_id = f"{entry.entry_id}_{key}"
    if entity_id := registry.async_get_entity_id(domain, DOMAIN, unique_id):
        registry.async_remove(entity_id)
