"""Destinations: added, refused, edited and removed through the account's subentry flow."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.call_transfer.const import DOMAIN
from custom_components.call_transfer.providers import NumberTransfer, VobizClient
from sandbox import Sandbox
from tests.helpers.destinations import (
    add_destination,
    button_entity_id,
    start_destination_flow,
    submit_destination,
)
from tests.helpers.entries import add_entry, setup_entry

QUEUE_URL = "https://xml.example.com/vobiz/queue.xml"


def url_section(form: Any) -> section:
    """Return the form's Transfer URL section."""
    [found] = [
        validator
        for validator in form["data_schema"].schema.values()
        if isinstance(validator, section)
    ]
    return found


def form_fields(form: Any) -> dict[str, Any]:
    """Return the form's fields by name; a section's own fields as a nested dict."""
    return {
        str(marker): (
            {str(inner): None for inner in validator.schema.schema}
            if isinstance(validator, section)
            else None
        )
        for marker, validator in form["data_schema"].schema.items()
    }


async def subentry_devices(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, entry: MockConfigEntry
) -> dict[str | None, list[str]]:
    """Return the names of the account's devices by subentry, as the account's page reads them."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "config/device_registry/list"})
    devices: dict[str | None, list[str]] = {}
    for device in (await client.receive_json())["result"]:
        for subentry_id in device["config_entries_subentries"].get(entry.entry_id, []):
            devices.setdefault(subentry_id, []).append(device["name"])
    return devices


async def test_add_a_destination_and_its_button_appears(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    sandbox: Sandbox,
    entry: MockConfigEntry,
) -> None:
    """A number in any format is stored in E.164; the button comes without a reload."""
    hass.config.country = "US"
    await setup_entry(hass, entry)
    runtime = entry.runtime_data
    sandbox.requests.clear()

    subentry_id = await add_destination(
        hass, entry, " Reception ", number="(415) 555-0100"
    )

    subentry = entry.subentries[subentry_id]
    assert subentry.subentry_type == "destination"
    assert subentry.title == "Reception"
    assert dict(subentry.data) == {"number": "+14155550100"}
    entity_id = button_entity_id(hass, entry, subentry_id)
    assert entity_id is not None
    registered = er.async_get(hass).async_get(entity_id)
    assert registered is not None
    assert registered.translation_key == "transfer"
    # The destination's own device, tied to its subentry: its row on the account's
    # page lists it with its button.
    assert registered.config_subentry_id == subentry_id
    device = dr.async_get(hass).async_get(registered.device_id or "")
    assert device is not None
    assert device.identifiers == {(DOMAIN, subentry_id)}
    assert device.name == "Reception"
    assert await subentry_devices(hass, hass_ws_client, entry) == {
        subentry_id: ["Reception"],
        None: [entry.title],
    }
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.name == "Reception Transfer call"
    # No reload: the same runtime, and not one request (no credential check, no poll).
    assert entry.runtime_data is runtime
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("provider", "number_field", "url_fields"),
    [
        ("vobiz", "optional", ["url", "method", "legs"]),
        ("twilio", "optional", ["url", "method"]),
        ("bland", "required", None),
        ("telnyx", "required", None),
    ],
)
async def test_the_form_asks_for_what_the_provider_transfers_to(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    number_field: str,
    url_fields: list[str] | None,
) -> None:
    """A number everywhere; a URL (in a collapsed section) where legs can point at one."""
    form = await start_destination_flow(hass, entry)

    assert form["step_id"] == "user"
    assert form["description_placeholders"]["title"] == entry.title
    fields = form_fields(form)
    assert list(fields)[:2] == ["name", "number"]
    markers = {str(marker): marker for marker in form["data_schema"].schema}
    assert type(markers["number"]).__name__.lower() == number_field
    if url_fields is None:
        assert "transfer_url" not in fields
        return
    assert list(fields["transfer_url"]) == url_fields
    assert url_section(form).options["collapsed"]


@pytest.mark.parametrize(
    ("provider", "user_input", "errors"),
    [
        (
            "bland",
            {"name": "Desk", "number": "call me"},
            {"number": "invalid_phone_number"},
        ),
        ("bland", {"name": "Desk", "number": "12"}, {"number": "invalid_phone_number"}),
        (
            "bland",
            {"name": "PBX", "number": "sip:desk@pbx.example.com"},
            {"number": "sip_not_supported"},
        ),
        (
            "telnyx",
            {"name": "PBX", "number": "sip:desk@"},
            {"number": "invalid_sip_uri"},
        ),
        ("bland", {"name": "   ", "number": "+14155550100"}, {"name": "name_required"}),
        (
            "vobiz",
            {
                "name": "Queue",
                "number": "+14155550100",
                "transfer_url": {"url": QUEUE_URL},
            },
            {"base": "number_or_url"},
        ),
        (
            "vobiz",
            {"name": "Queue", "transfer_url": {}},
            {"base": "number_or_url_required"},
        ),
        (
            "vobiz",
            {"name": "Queue", "transfer_url": {"url": "ftp://xml.example.com/q"}},
            {"base": "invalid_url"},
        ),
    ],
)
async def test_invalid_destinations_are_refused(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    user_input: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """The form comes back with the error on the field; nothing is stored."""
    result = await submit_destination(hass, entry, user_input)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert entry.subentries == {}


async def test_duplicate_name_is_refused_whatever_its_case(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """Names are unique per account, not case-sensitive; another account may reuse one."""
    await add_destination(hass, bland_entry, "Reception", number="+14155550100")

    for name in ("reception", "  RECEPTION "):
        result = await submit_destination(
            hass, bland_entry, {"name": name, "number": "+14155550111"}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"name": "name_taken"}
    assert len(bland_entry.subentries) == 1
    vobiz = MockConfigEntry(
        domain=DOMAIN, title="Vobiz", data={"provider": "vobiz", "auth_id": "MA_X"}
    )
    vobiz.add_to_hass(hass)
    await add_destination(hass, vobiz, "Reception", number="+14155550122")


async def test_a_telnyx_destination_may_be_a_sip_uri(
    hass: HomeAssistant, sandbox: Sandbox, request: pytest.FixtureRequest
) -> None:
    """Where the provider takes SIP URIs, one is stored as given."""

    entry = add_entry(hass, sandbox, "telnyx")
    subentry_id = await add_destination(
        hass, entry, "PBX", number="sip:reception@pbx.example.com"
    )

    assert dict(entry.subentries[subentry_id].data) == {
        "number": "sip:reception@pbx.example.com"
    }


async def test_a_vobiz_destination_may_be_a_url(
    hass: HomeAssistant, vobiz_entry: MockConfigEntry
) -> None:
    """A URL that answers call XML, with its method and the legs it takes."""
    subentry_id = await add_destination(
        hass,
        vobiz_entry,
        "Queue",
        transfer_url={"url": QUEUE_URL, "method": "GET", "legs": "bleg"},
    )

    assert dict(vobiz_entry.subentries[subentry_id].data) == {
        "url": QUEUE_URL,
        "method": "GET",
        "legs": "bleg",
    }


async def test_edit_a_destination(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """The edit form shows the destination; saving renames its button in place."""
    hass.config.country = "US"
    await setup_entry(hass, vobiz_entry)
    reception = await add_destination(
        hass, vobiz_entry, "Reception", number="+14155550100"
    )
    queue = await add_destination(
        hass, vobiz_entry, "Queue", transfer_url={"url": QUEUE_URL}
    )
    entity_id = button_entity_id(hass, vobiz_entry, reception)
    assert entity_id is not None

    form = await start_destination_flow(hass, vobiz_entry, reception)
    assert form["step_id"] == "reconfigure"
    suggested = {
        str(marker): marker.description["suggested_value"]
        for marker in form["data_schema"].schema
        if marker.description
    }
    assert suggested == {"name": "Reception", "number": "+14155550100"}
    # A URL destination opens with its section expanded and filled in.
    queue_form = await start_destination_flow(hass, vobiz_entry, queue)
    assert not url_section(queue_form).options["collapsed"]

    # Its own name (in another case) is fine; another destination's is not.
    taken = await submit_destination(
        hass, vobiz_entry, {"name": "queue", "number": "+14155550100"}, reception
    )
    assert taken["errors"] == {"name": "name_taken"}
    result = await submit_destination(
        hass, vobiz_entry, {"name": "Front desk", "number": "415 555 0111"}, reception
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    subentry = vobiz_entry.subentries[reception]
    assert subentry.title == "Front desk"
    assert dict(subentry.data) == {"number": "+14155550111"}
    assert button_entity_id(hass, vobiz_entry, reception) == entity_id
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.name == "Front desk Transfer call"
    registered = er.async_get(hass).async_get(entity_id)
    assert registered is not None
    device = dr.async_get(hass).async_get(registered.device_id or "")
    assert device is not None
    assert device.name == "Front desk"
    recase = await submit_destination(
        hass, vobiz_entry, {"name": "FRONT DESK", "number": "+14155550111"}, reception
    )
    assert recase["reason"] == "reconfigure_successful"


async def test_remove_a_destination_removes_its_button(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
) -> None:
    """Deleting it on the account's page (over the websocket, as the UI does)."""
    await setup_entry(hass, bland_entry)
    reception = await add_destination(
        hass, bland_entry, "Reception", number="+14155550100"
    )
    on_call = await add_destination(hass, bland_entry, "On-call", number="+14155550111")
    entity_id = button_entity_id(hass, bland_entry, reception)
    assert entity_id is not None
    registered = er.async_get(hass).async_get(entity_id)
    assert registered is not None
    device_id = registered.device_id or ""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)

    await client.send_json_auto_id(
        {
            "type": "config_entries/subentries/delete",
            "entry_id": bland_entry.entry_id,
            "subentry_id": reception,
        }
    )
    assert (await client.receive_json())["success"]
    await hass.async_block_till_done()

    assert button_entity_id(hass, bland_entry, reception) is None
    assert hass.states.get(entity_id) is None
    assert list(bland_entry.subentries) == [on_call]
    assert button_entity_id(hass, bland_entry, on_call) is not None
    # The destination's device goes with it; the account's stays, with its entities.
    devices = dr.async_get(hass)
    assert devices.async_get(device_id) is None
    assert [
        device.name
        for device in dr.async_entries_for_config_entry(devices, bland_entry.entry_id)
    ] == [bland_entry.title, "On-call"]

    # So while the account is not loaded: Home Assistant removes what the subentry has.
    assert await hass.config_entries.async_unload(bland_entry.entry_id)
    hass.config_entries.async_remove_subentry(bland_entry, on_call)
    assert button_entity_id(hass, bland_entry, on_call) is None
    await setup_entry(hass, bland_entry)
    assert hass.states.async_entity_ids("button") == []


async def test_buttons_from_before_move_to_their_destination(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """Buttons registered on the account's device, untied to their subentry (0.1.0).

    At setup each moves to its destination's device, under the same entity id; one
    whose destination was removed meanwhile is removed.
    """
    reception = await add_destination(
        hass, bland_entry, "Reception", number="+14155550100"
    )
    gone = await add_destination(hass, bland_entry, "Gone", number="+14155550111")
    registry = er.async_get(hass)
    account_device = dr.async_get(hass).async_get_or_create(
        config_entry_id=bland_entry.entry_id,
        identifiers={(DOMAIN, bland_entry.entry_id)},
    )
    before = {
        subentry_id: registry.async_get_or_create(
            "button",
            DOMAIN,
            f"{bland_entry.entry_id}_destination_{subentry_id}",
            config_entry=bland_entry,
            device_id=account_device.id,
            suggested_object_id=f"bland_ai_transfer_to_{name}",
        ).entity_id
        for subentry_id, name in ((reception, "reception"), (gone, "gone"))
    }
    hass.config_entries.async_remove_subentry(bland_entry, gone)
    assert registry.async_get(before[gone]) is not None

    await setup_entry(hass, bland_entry)

    assert registry.async_get(before[gone]) is None
    moved = registry.async_get(before[reception])
    assert moved is not None
    assert moved.config_subentry_id == reception
    device = dr.async_get(hass).async_get(moved.device_id or "")
    assert device is not None
    assert device.identifiers == {(DOMAIN, reception)}
    assert hass.states.async_entity_ids("button") == [before[reception]]


async def test_a_provider_without_number_transfers_asks_for_a_url(
    hass: HomeAssistant, vobiz_entry: MockConfigEntry
) -> None:
    """The form follows the provider's capabilities: no number field, the URL required."""
    with patch.object(
        VobizClient,
        "capabilities",
        replace(VobizClient.capabilities, number_transfer=NumberTransfer.UNSUPPORTED),
    ):
        form = await start_destination_flow(hass, vobiz_entry)
        fields = form_fields(form)
        assert list(fields) == ["name", "transfer_url"]
        assert not url_section(form).options["collapsed"]
        subentry_id = await add_destination(
            hass, vobiz_entry, "Queue", transfer_url={"url": QUEUE_URL}
        )

    assert dict(vobiz_entry.subentries[subentry_id].data) == {
        "url": QUEUE_URL,
        "method": "POST",
        "legs": "aleg",
    }
