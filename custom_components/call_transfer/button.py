"""Buttons: one per destination, transferring the account's chosen (or only) live call there."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import LiveCallsCoordinator
from .data import CallTransferConfigEntry
from .destinations import Destination, account_destinations
from .entity import CallTransferEntity, live_calls_signal, service_device
from .transfer import async_transfer_live_call

# A press is a transfer: one at a time per account (a second press of the same call
# would be refused as a transfer in progress anyway).
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a button per destination, and follow destinations as they come and go.

    Each destination is a service device of its subentry with its button, as core
    integrations tie entities to subentries: the destination's row on the account's
    page lists them, and Home Assistant removes both with the destination. One added
    or renamed gets its button at once, without reloading the account (which would
    restart its live-call baseline). Buttons registered before they were tied to
    their subentry are removed here when their destination is gone.
    """
    registry = er.async_get(hass)
    buttons: dict[str, DestinationButton] = {}

    async def async_follow_destinations(
        hass: HomeAssistant, entry: CallTransferConfigEntry
    ) -> None:
        destinations = {dest.subentry_id: dest for dest in account_destinations(entry)}
        wanted = {_unique_id(entry, subentry_id) for subentry_id in destinations}
        for registered in er.async_entries_for_config_entry(registry, entry.entry_id):
            if (
                registered.domain == Platform.BUTTON
                and registered.unique_id not in wanted
            ):
                registry.async_remove(registered.entity_id)
        for subentry_id in buttons.keys() - destinations.keys():
            del buttons[subentry_id]
        for subentry_id, destination in destinations.items():
            if (button := buttons.get(subentry_id)) is not None:
                if button.destination_name == destination.name:
                    continue
                # Its name is its device's: add it again, which renames the device.
                await button.async_remove()
            buttons[subentry_id] = DestinationButton(entry, destination)
            async_add_entities([buttons[subentry_id]], config_subentry_id=subentry_id)

    await async_follow_destinations(hass, entry)
    entry.async_on_unload(entry.add_update_listener(async_follow_destinations))


def _unique_id(entry: CallTransferConfigEntry, subentry_id: str) -> str:
    return f"{entry.entry_id}_destination_{subentry_id}"


class DestinationButton(CallTransferEntity, ButtonEntity):
    """Transfers the account's chosen (else its only) live call to a destination.

    The call is the one chosen under the account's Call to transfer select. Available while the account's live calls are listed. With no call live, or several
    and none chosen, a press is refused, and the refusal recorded: it says why.
    """

    def __init__(
        self, entry: CallTransferConfigEntry, destination: Destination
    ) -> None:
        """Press to transfer to ``destination``; the button is on its own device."""
        super().__init__(entry, "transfer")
        self._attr_unique_id = _unique_id(entry, destination.subentry_id)
        self._attr_device_info = service_device(
            entry,
            destination.subentry_id,
            destination.name,
            "Call transfer destination",
        )
        self._entry = entry
        self._coordinator: LiveCallsCoordinator | None = None
        self._unfollow: CALLBACK_TYPE | None = None
        self.subentry_id = destination.subentry_id
        self.destination_name = destination.name

    async def async_added_to_hass(self) -> None:
        """Follow the live calls, which make the button available or not.

        Also when an options change starts or stops listing them.
        """
        await super().async_added_to_hass()
        self._follow(self._entry.runtime_data.coordinator)
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, live_calls_signal(self._entry), self._async_switch
            )
        )
        self.async_on_remove(lambda: self._follow(None))

    @callback
    def _follow(self, coordinator: LiveCallsCoordinator | None) -> None:
        if self._unfollow is not None:
            self._unfollow()
            self._unfollow = None
        self._coordinator = coordinator
        if coordinator is not None:
            self._unfollow = coordinator.async_add_listener(self.async_write_ha_state)

    @callback
    def _async_switch(self, coordinator: LiveCallsCoordinator | None) -> None:
        self._follow(coordinator)
        self.async_write_ha_state()

    @property
    def available(self) -> bool:
        """Whether the account's live calls are listed, and the last poll worked."""
        coordinator = self._coordinator
        return coordinator is not None and coordinator.last_update_success

    async def async_press(self) -> None:
        """Transfer the chosen, or only, live call (from a fresh poll) to the destination."""
        destination = Destination.from_subentry(
            self._entry.subentries[self.subentry_id]
        )
        await async_transfer_live_call(
            self.hass, self._entry, destination, self._context
        )
