"""The logbook: one line per transfer, filed under the account's Transfers entity."""

from __future__ import annotations

from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.call_transfer.const import DOMAIN
from sandbox import (
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_TELNYX_CALL_ID,
    SANDBOX_VOBIZ_CALL_ID,
    Sandbox,
)
from tests.helpers.entities import transfers_entity_id
from tests.helpers.entries import add_entry, setup_entry
from tests.helpers.hass import transfer


async def test_logbook_files_each_transfer_under_its_transfers_entity(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    bland_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """One readable line per transfer, with the Transfers entity's link and icon.

    Read through the real recorder and logbook API: the whole logbook, and the
    logbook of one Transfers entity (what its more-info dialog shows).
    """
    assert await async_setup_component(hass, "logbook", {})
    await setup_entry(hass, vobiz_entry)
    bland_entity = transfers_entity_id(entity_registry, bland_entry)
    vobiz_entity = transfers_entity_id(entity_registry, vobiz_entry)
    start = dt_util.utcnow()
    await transfer(
        hass,
        config_entry_id=bland_entry.entry_id,
        call_id=SANDBOX_BLAND_CALL_ID,
        to="+14155550100",
    )
    await transfer(
        hass,
        config_entry_id=vobiz_entry.entry_id,
        call_id=SANDBOX_VOBIZ_CALL_ID,
        legs="both",
        aleg_url="https://x.example/a",
        bleg_url="https://x.example/b",
    )
    telnyx_entry = add_entry(hass, sandbox, "telnyx")
    await setup_entry(hass, telnyx_entry)
    telnyx_entity = transfers_entity_id(entity_registry, telnyx_entry)
    await transfer(
        hass,
        config_entry_id=telnyx_entry.entry_id,
        call_id=SANDBOX_TELNYX_CALL_ID,
        to="sip:alice@pbx.example.com",
    )
    sandbox.end_call(SANDBOX_VOBIZ_CALL_ID)
    with pytest.raises(HomeAssistantError):
        await transfer(
            hass,
            config_entry_id=vobiz_entry.entry_id,
            call_id=SANDBOX_VOBIZ_CALL_ID,
            aleg_url="https://x.example/a",
        )
    await async_wait_recording_done(hass)
    client = await hass_ws_client()

    async def logbook(**query: Any) -> list[dict[str, Any]]:
        await client.send_json_auto_id(
            {"type": "logbook/get_events", "start_time": start.isoformat(), **query}
        )
        response = await client.receive_json()
        assert response["success"]
        return [entry for entry in response["result"] if entry.get("domain") == DOMAIN]

    bland_line = {
        "name": bland_entry.title,
        "message": f"transferred call {SANDBOX_BLAND_CALL_ID} to +1 415-555-0100",
        "entity_id": bland_entity,
        "icon": "mdi:phone-check",
    }
    vobiz_lines = [
        {
            "name": vobiz_entry.title,
            "message": f"transferred call {SANDBOX_VOBIZ_CALL_ID} by redirecting both legs",
            "entity_id": vobiz_entity,
            "icon": "mdi:phone-check",
        },
        {
            "name": vobiz_entry.title,
            # The error the transfer raised, as its translation says it.
            "message": f"Call {SANDBOX_VOBIZ_CALL_ID} is not in progress (it has ended, "
            "or it belongs to another account), so it was not transferred",
            "entity_id": vobiz_entity,
            "icon": "mdi:phone-alert",
        },
    ]
    telnyx_line = {
        "name": telnyx_entry.title,
        "message": f"transferred call {SANDBOX_TELNYX_CALL_ID} to sip:alice@pbx.example.com",
        "entity_id": telnyx_entity,
        "icon": "mdi:phone-check",
    }
    keys = ("name", "message", "entity_id", "icon")
    everything = await logbook()
    assert [{key: entry[key] for key in keys} for entry in everything] == [
        bland_line,
        vobiz_lines[0],
        telnyx_line,
        vobiz_lines[1],
    ]
    # The events carry the caller's context, so the logbook ties each to the action call.
    assert {
        (entry["context_domain"], entry["context_service"]) for entry in everything
    } == {(DOMAIN, "transfer")}
    # The entity's own logbook has its account's transfers, and only those.
    of_vobiz = await logbook(entity_ids=[vobiz_entity])
    assert [{key: entry[key] for key in keys} for entry in of_vobiz] == vobiz_lines
    of_bland = await logbook(entity_ids=[bland_entity])
    assert [{key: entry[key] for key in keys} for entry in of_bland] == [bland_line]


async def test_logbook_reads_what_this_version_never_reports(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
) -> None:
    """Recorded events of other versions (an unknown error, no legs) still read well.

    A cancelled transfer reads as its error says: nothing sent, or maybe transferred.
    """
    assert await async_setup_component(hass, "logbook", {})
    await setup_entry(hass, vobiz_entry)
    start = dt_util.utcnow()
    reported = {"config_entry_id": vobiz_entry.entry_id, "call_id": "c1", "to": None}
    for event_type, data in (
        ("failed", {"error": "cancelled", "error_message": "nothing was sent"}),
        ("failed", {"error": "out_of_credit", "error_message": "Top up"}),
        ("succeeded", {"legs": None, "destination": None}),
        ("succeeded", {"legs": "sideways", "destination": "Queue"}),
    ):
        hass.bus.async_fire(f"call_transfer_{event_type}", reported | data)
    await async_wait_recording_done(hass)
    client = await hass_ws_client()

    await client.send_json_auto_id(
        {"type": "logbook/get_events", "start_time": start.isoformat()}
    )
    response = await client.receive_json()

    assert [
        entry["message"]
        for entry in response["result"]
        if entry.get("domain") == DOMAIN
    ] == [
        "Transfer of call c1 was stopped before it ended: nothing was sent",
        "could not transfer call c1: Top up",
        "transferred call c1 by redirecting a leg",
        "transferred call c1 to Queue by redirecting a leg",
    ]
