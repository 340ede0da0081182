"""The Active calls sensor: how many calls are live on an account, and which."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from syrupy.assertion import SnapshotAssertion

from sandbox import Sandbox
from tests.helpers.snapshots import (
    add_snapshot_account,
    assert_platform_matches_snapshot,
)


async def test_entities(
    hass: HomeAssistant, sandbox: Sandbox, snapshot: SnapshotAssertion
) -> None:
    """The sensor of an account with two live calls: its state and registry entry."""
    entry = add_snapshot_account(hass, sandbox)
    await assert_platform_matches_snapshot(hass, entry, Platform.SENSOR, snapshot)
