"""Event entities: an account's Transfers (its last transfer) and Calls (calls starting and ending)."""

from __future__ import annotations

from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.call_transfer.const import DOMAIN
from sandbox import SANDBOX_BLAND_CALL_ID, Fault, FaultKind, Sandbox
from tests.helpers.entities import transfers_entity_id
from tests.helpers.entries import setup_entry
from tests.helpers.hass import transfer
from tests.helpers.live_calls import LiveAccount
from tests.helpers.snapshots import (
    add_snapshot_account,
    assert_platform_matches_snapshot,
)

from .test_init_account_changes import AUTOMATION_RAN, set_up_automations


async def test_entities(
    hass: HomeAssistant, sandbox: Sandbox, snapshot: SnapshotAssertion
) -> None:
    """Both event entities of an account that lists its calls: states and registry entries."""
    entry = add_snapshot_account(hass, sandbox)
    await assert_platform_matches_snapshot(hass, entry, Platform.EVENT, snapshot)


async def test_event_entity_follows_its_own_account(
    hass: HomeAssistant,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    bland_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Each account's entity shows its last transfer, succeeded or failed."""
    await setup_entry(hass, vobiz_entry)
    bland_entity = transfers_entity_id(entity_registry, bland_entry)
    vobiz_entity = transfers_entity_id(entity_registry, vobiz_entry)
    assert hass.states.get(bland_entity).attributes["event_types"] == [
        "succeeded",
        "failed",
        "refused",
    ]
    assert (
        hass.states.get(bland_entity).attributes["friendly_name"].endswith("Transfers")
    )

    await transfer(
        hass,
        config_entry_id=bland_entry.entry_id,
        call_id=SANDBOX_BLAND_CALL_ID,
        to="+14155550100",
    )
    state = hass.states.get(bland_entity)
    assert state.attributes["event_type"] == "succeeded"
    assert state.attributes["call_id"] == SANDBOX_BLAND_CALL_ID
    assert state.attributes["to"] == "+14155550100"
    assert "config_entry_id" not in state.attributes
    assert "entity_id" not in state.attributes
    assert hass.states.get(vobiz_entity).attributes["event_type"] is None

    sandbox.end_call(SANDBOX_BLAND_CALL_ID)
    with pytest.raises(HomeAssistantError):
        await transfer(
            hass,
            config_entry_id=bland_entry.entry_id,
            call_id=SANDBOX_BLAND_CALL_ID,
            to="+14155550100",
        )
    state = hass.states.get(bland_entity)
    assert state.attributes["event_type"] == "failed"
    assert state.attributes["error"] == "call_not_found"


@pytest.mark.parametrize("provider", ["twilio"])
async def test_an_outage_and_its_end_replay_no_call_event(live: LiveAccount) -> None:
    """The provider fails to answer polls, then answers again: Calls shows no new event.

    Its last event stays its state throughout (it is still the last call that started
    or ended); the outage shows on Active calls and on the buttons. So no state
    trigger, device trigger, history or logbook line takes the outage for a call.
    """
    hass = live.hass
    await live.set_up()
    await live.start_call()
    await live.poll()
    calls = live.entity_id("calls")
    before = live.state("calls")
    assert before.attributes["event_type"] == "started"
    [device] = dr.async_entries_for_config_entry(
        dr.async_get(hass), live.entry.entry_id
    )
    await set_up_automations(
        hass,
        {
            "calls state": {"platform": "state", "entity_id": calls},
            "calls device trigger": {
                "platform": "device",
                "domain": DOMAIN,
                "device_id": device.id,
                "type": "call_started",
            },
        },
    )
    ran = async_capture_events(hass, AUTOMATION_RAN)
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)

    live.sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=503))
    await live.poll()
    assert live.state("active_calls").state == STATE_UNAVAILABLE
    live.sandbox.clear_faults()
    await live.poll()
    assert live.state("active_calls").state != STATE_UNAVAILABLE

    assert ran == []
    assert [c for c in changes if c.data["entity_id"] == calls] == []
    assert live.state("calls") == before
