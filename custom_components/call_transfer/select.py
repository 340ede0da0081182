"""Select: which live call the account's destination buttons and voice commands transfer."""

from __future__ import annotations

from typing import Any

from homeassistant.components.select import (
    ATTR_OPTIONS,
    DOMAIN as SELECT_DOMAIN,
    SelectEntity,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .call_choice import CHOOSE_A_CALL, ONLY_LIVE_CALL, call_labels
from .coordinator import LiveCallsCoordinator
from .data import CallTransferConfigEntry
from .entity import LiveCallsEntity, async_add_live_calls_entity
from .transfer import call_chosen_signal

CALL_TO_TRANSFER = "call_to_transfer"
# The coordinator polls; choosing a call sends nothing.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the Call to transfer select of an account whose calls are listed."""
    async_add_live_calls_entity(
        hass,
        entry,
        async_add_entities,
        CallToTransferSelect,
        SELECT_DOMAIN,
        CALL_TO_TRANSFER,
    )


class CallToTransferSelect(LiveCallsEntity, SelectEntity):
    """The live call to transfer: one of the calls by caller, or none chosen.

    Each call is named by its caller, masked to the last four digits, and the time it
    started. None chosen reads "the only live call" while at most one call is live,
    "choose a call" while several are. A chosen call that ends goes back to none
    chosen; so does one that was transferred.
    """

    def __init__(self, coordinator: LiveCallsCoordinator) -> None:
        """List the account's live calls to choose from."""
        super().__init__(coordinator, CALL_TO_TRANSFER)
        self._runtime = coordinator.config_entry.runtime_data
        self._labels: dict[str, str] = {}
        self._show_calls()

    async def async_added_to_hass(self) -> None:
        """Follow the calls, and the choice a transfer resets."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                call_chosen_signal(self.coordinator.config_entry),
                self._async_show_and_write,
            )
        )
        self.async_on_remove(self._forget_choice)

    @property
    def capability_attributes(self) -> dict[str, Any]:
        """None: the options change with every call, so they are a state attribute.

        As a capability, each change would be written to the entity registry and sent
        to every open frontend, and Home Assistant warns of an entity whose capabilities
        change more than 100 times an hour (50 calls).
        """
        return {}

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The options to choose from (the UI reads them here as well)."""
        return {ATTR_OPTIONS: self.options}

    async def async_select_option(self, option: str) -> None:
        """Choose a call (or none again: the only live call, or choose a call)."""
        self._runtime.chosen_call_id = self._labels.get(option)
        self._async_show_and_write()

    @callback
    def _handle_coordinator_update(self) -> None:
        self._show_calls()
        super()._handle_coordinator_update()

    @callback
    def _async_show_and_write(self) -> None:
        self._show_calls()
        self.async_write_ha_state()

    @callback
    def _forget_choice(self) -> None:
        self._runtime.chosen_call_id = None

    def _show_calls(self) -> None:
        """List the live calls; a chosen call no longer live is chosen no more."""
        self._labels = call_labels(list((self.coordinator.data or {}).values()))
        chosen = self._runtime.chosen_call_id
        if chosen not in self._labels.values():
            chosen = self._runtime.chosen_call_id = None
        none_chosen = ONLY_LIVE_CALL if len(self._labels) < 2 else CHOOSE_A_CALL
        self._attr_options = [none_chosen, *self._labels]
        self._attr_current_option = next(
            (label for label, call_id in self._labels.items() if call_id == chosen),
            none_chosen,
        )
