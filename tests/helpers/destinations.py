"""Destinations in tests: added and changed through the account's subentry flow, as on its page."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.call_transfer.const import DOMAIN
from tests.helpers.provider_cases import ProviderCase

DESTINATION = "destination"


async def start_destination_flow(
    hass: HomeAssistant, entry: MockConfigEntry, subentry_id: str | None = None
) -> FlowResult:
    """Open the add (or, with ``subentry_id``, the edit) form of a destination."""
    context: dict[str, Any] = {"source": SOURCE_USER}
    if subentry_id is not None:
        context = {"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id}
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, DESTINATION), context=context
    )


async def submit_destination(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    user_input: dict[str, Any],
    subentry_id: str | None = None,
) -> FlowResult:
    """Fill in and submit the destination form; return what Home Assistant answers."""
    form = await start_destination_flow(hass, entry, subentry_id)
    assert form["type"] is FlowResultType.FORM, form
    if "transfer_url" in map(str, form["data_schema"].schema):
        # The UI always sends the section, opened or not.
        user_input = {"transfer_url": {}} | user_input
    result = await hass.config_entries.subentries.async_configure(
        form["flow_id"], user_input
    )
    await hass.async_block_till_done()
    return result


async def add_destination(
    hass: HomeAssistant, entry: MockConfigEntry, name: str, **fields: Any
) -> str:
    """Add a destination (``number=…`` or ``transfer_url={…}``); return its subentry id."""
    result = await submit_destination(hass, entry, {"name": name, **fields})
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    # The closing message says where the button is.
    assert result["description_placeholders"] == {
        "name": name.strip(),
        "title": entry.title,
    }
    [subentry_id] = [
        subentry_id
        for subentry_id, subentry in entry.subentries.items()
        if subentry.title == name.strip()
    ]
    return subentry_id


def button_entity_id(
    hass: HomeAssistant, entry: MockConfigEntry, subentry_id: str
) -> str | None:
    """Return the entity id of a destination's button, if it is registered."""
    return er.async_get(hass).async_get_entity_id(
        "button", DOMAIN, f"{entry.entry_id}_destination_{subentry_id}"
    )


def fields_of(case: ProviderCase) -> dict[str, Any]:
    """Return the destination form's fields for where the provider's valid transfer goes.

    A number where the case transfers to one, else its leg URL (Vobiz, Plivo: their
    number transfers need Home Assistant reachable by URL).
    """
    if "to" in case.destination:
        return {"number": case.destination["to"]}
    return {"transfer_url": {"url": case.destination["aleg_url"]}}
