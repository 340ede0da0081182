"""Sensor: how many calls are live on an account, and which."""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN, SensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import ATTR_CALLS
from .coordinator import LiveCallsCoordinator, describe_call
from .data import CallTransferConfigEntry
from .entity import LiveCallsEntity, async_add_live_calls_entity

ACTIVE_CALLS = "active_calls"
# The coordinator polls; the entities only read its data.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the Active calls sensor of an account whose calls are listed."""
    async_add_live_calls_entity(
        hass, entry, async_add_entities, ActiveCallsSensor, SENSOR_DOMAIN, ACTIVE_CALLS
    )


class ActiveCallsSensor(LiveCallsEntity, SensorEntity):
    """The number of live calls; the calls themselves as the ``calls`` attribute."""

    # No state class: a count of calls, which Home Assistant's history then draws as
    # whole numbers over time. As a measurement it would keep long-term statistics, the
    # 5-minute and hourly means of the count (fractions of a call), and draw those.
    # The call list changes with every call: keep it out of the recorder's database.
    _unrecorded_attributes = frozenset({ATTR_CALLS})

    def __init__(self, coordinator: LiveCallsCoordinator) -> None:
        """Count the account's live calls."""
        super().__init__(coordinator, ACTIVE_CALLS)

    @property
    def native_value(self) -> int:
        """Return how many calls are live."""
        return len(self.coordinator.data or {})

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the live calls, oldest listed first as the provider lists them."""
        calls = (self.coordinator.data or {}).values()
        return {ATTR_CALLS: [describe_call(call) for call in calls]}
