"""Event entities: an account's Transfers (its last transfer) and Calls (calls starting and ending)."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from sandbox import SANDBOX_BLAND_CALL_ID, Sandbox
from tests.helpers.entities import transfers_entity_id
from tests.helpers.entries import setup_entry
from tests.helpers.hass import transfer
from tests.helpers.snapshots import (
    add_snapshot_account,
    assert_platform_matches_snapshot,
)


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
