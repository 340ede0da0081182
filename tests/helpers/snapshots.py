"""Entity snapshots, as Home Assistant core takes them: one platform's states and registry entries.

The entries' shape differs between Home Assistant releases (2026 adds fields to the
entity registry's entries), so each leg keeps its own snapshot file:
``__snapshots_ha<major>.<minor>__/`` beside the test module.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.const import MAJOR_VERSION, MINOR_VERSION, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from sandbox import Sandbox
from tests.helpers.entries import add_entry

# Fixed ids: the entities' unique ids (and so their entity ids) are made of them.
ENTRY_ID = "01JCA11TRANSFERSNAPSHOT000"
RECEPTION_ID = "01JCA11TRANSFERRECEPTION00"
SUPPORT_ID = "01JCA11TRANSFERSUPPORT0000"
CALLS_STARTED = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


class PerReleaseSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's snapshot format, in one directory per Home Assistant release."""

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        """Return ``__snapshots_ha<major>.<minor>__`` beside the test module.

        Not inside ``__snapshots__``: syrupy reads every file under a snapshot
        directory as its own, and would delete the other release's as unused.
        """
        test_directory = Path(test_location.filepath).parent
        return str(test_directory / f"__snapshots_ha{MAJOR_VERSION}.{MINOR_VERSION}__")


def add_snapshot_account(
    hass: HomeAssistant, sandbox: Sandbox, **entry_fields: Any
) -> MockConfigEntry:
    """Add (not set up) the Vobiz account with fixed ids and two destinations.

    Its live calls started at fixed times (the sandbox seeds them minutes before now).
    """
    for minute, call in enumerate(sandbox.calls.values()):
        call.started = CALLS_STARTED + timedelta(minutes=minute)
    return add_entry(
        hass,
        sandbox,
        "vobiz",
        entry_id=ENTRY_ID,
        subentries_data=[
            {
                "data": {"number": "+14155550100"},
                "subentry_id": RECEPTION_ID,
                "subentry_type": "destination",
                "title": "Reception",
                "unique_id": None,
            },
            {
                "data": {"url": "https://xml.example.com/support"},
                "subentry_id": SUPPORT_ID,
                "subentry_type": "destination",
                "title": "Support",
                "unique_id": None,
            },
        ],
        **entry_fields,
    )


async def assert_platform_matches_snapshot(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    platform: Platform,
    snapshot: SnapshotAssertion,
) -> None:
    """Set up only ``platform`` of the entry; its states and registry entries match the snapshot."""
    with patch("custom_components.call_transfer.PLATFORMS", [platform]):
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(
        hass,
        er.async_get(hass),
        snapshot.use_extension(PerReleaseSnapshotExtension),
        entry.entry_id,
    )
