"""Event entities: an account's last transfer, and its calls starting and ending."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.event import DOMAIN as EVENT_DOMAIN, EventEntity
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import (
    ATTR_CALL_ID,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_ERROR_MESSAGE,
    ATTR_MESSAGE,
    ATTR_PROVIDER,
    ATTR_REQUEST_ID,
    ATTR_TO,
    DOMAIN,
    EVENT_TRANSFER_ANSWERED,
    EVENT_TRANSFER_FAILED,
    EVENT_TRANSFER_REFUSED,
    EVENT_TRANSFER_SUCCEEDED,
    EVENT_TRANSFER_UNANSWERED,
)
from .coordinator import CallChange, LiveCallsCoordinator
from .data import CallTransferConfigEntry
from .entity import CallTransferEntity, LiveCallsEntity, async_add_live_calls_entity

PARALLEL_UPDATES = 0
CALLS = "calls"

# A transfer succeeded or failed; then (push) whether the number answered.
_EVENT_TYPES = {
    EVENT_TRANSFER_SUCCEEDED: "succeeded",
    EVENT_TRANSFER_FAILED: "failed",
    # Refused before anything was sent: no live call, several, an unknown name…
    EVENT_TRANSFER_REFUSED: "refused",
    EVENT_TRANSFER_ANSWERED: "answered",
    EVENT_TRANSFER_UNANSWERED: "unanswered",
}
_OUTCOMES = frozenset({EVENT_TRANSFER_ANSWERED, EVENT_TRANSFER_UNANSWERED})
# Identity fields of the bus event that the entity's own attributes do not repeat.
_NOT_ATTRIBUTES = (ATTR_CONFIG_ENTRY_ID, ATTR_PROVIDER, ATTR_ENTITY_ID)
# Attributes new with every transfer stay on the entity but out of its recorded history:
# the recorder keeps them already, in the transfer's bus event (which the logbook shows),
# and leaving them out lets every state share one stored attributes row per outcome kind.
_PER_TRANSFER = frozenset(
    {ATTR_CALL_ID, ATTR_TO, ATTR_MESSAGE, ATTR_REQUEST_ID, ATTR_ERROR_MESSAGE}
)


@callback
def transfers_entity_id(hass: HomeAssistant, entry_id: str) -> str | None:
    """Return the entity id of an account's Transfers entity, if it is registered."""
    return er.async_get(hass).async_get_entity_id(
        EVENT_DOMAIN, DOMAIN, f"{entry_id}_transfers"
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the account's Transfers entity, and its Calls entity when calls are listed."""
    async_add_entities([TransfersEventEntity(entry)])
    async_add_live_calls_entity(
        hass, entry, async_add_entities, CallsEventEntity, EVENT_DOMAIN, CALLS
    )


class TransfersEventEntity(CallTransferEntity, EventEntity):
    """Fires ``succeeded`` or ``failed`` for every transfer made with the account.

    And ``refused`` for every transfer refused before anything was sent; where the
    provider reports it (push), ``answered`` or ``unanswered`` when the number a call
    was transferred to answered or not.
    """

    _unrecorded_attributes = _PER_TRANSFER

    def __init__(self, entry: CallTransferConfigEntry) -> None:
        """Follow the transfers of one account (and their outcomes, where reported)."""
        super().__init__(entry, "transfers")
        self._entry_id = entry.entry_id
        push = entry.runtime_data.client.push
        self._events = {
            event_type: kind
            for event_type, kind in _EVENT_TYPES.items()
            if event_type not in _OUTCOMES
            or (push is not None and push.reports_transfer_outcomes)
        }
        self._attr_event_types = list(self._events.values())

    async def async_added_to_hass(self) -> None:
        """Follow this account's transfer events on the bus."""
        for event_type in self._events:
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
        self._trigger_event(self._events[str(event.event_type)], attributes)
        # The state change is part of what asked for the transfer (a button press, an
        # action, a voice command): the logbook and history say "triggered by" it.
        self.async_set_context(event.context)
        self.async_write_ha_state()


class CallsEventEntity(LiveCallsEntity, EventEntity):
    """Fires ``started`` or ``ended`` for every call seen to start or end on the account.

    The event data is that of ``call_transfer_call_started`` / ``_ended``, without the
    account (the entity is the account's). Each change arrives once, as the coordinator
    applies it.
    """

    _attr_event_types = ["started", "ended"]

    def __init__(self, coordinator: LiveCallsCoordinator) -> None:
        """Follow the account's live calls."""
        super().__init__(coordinator, CALLS)

    @property
    def available(self) -> bool:
        """Always: its state, the last call seen to start or end, stays true in an outage.

        The outage shows on the account's Active calls and buttons. Going unavailable
        and back would read as a new event to state triggers, the history and the
        logbook, as on a reload.
        """
        return True

    async def async_added_to_hass(self) -> None:
        """Follow the calls starting and ending, as well as the polls."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.async_add_change_listener(self._async_handle_change)
        )

    @callback
    def _async_handle_change(self, change: CallChange) -> None:
        data = self.coordinator.event_data(change)
        attributes = {k: v for k, v in data.items() if k not in _NOT_ATTRIBUTES}
        self._trigger_event(change.kind, attributes)
        self.async_write_ha_state()
