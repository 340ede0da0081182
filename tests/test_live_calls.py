"""Live calls through Home Assistant: polling, the Active calls sensor, Calls events."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Any

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.call_transfer.const import (
    DOMAIN,
    EVENT_CALL_ENDED,
    EVENT_CALL_STARTED,
)
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_CALL_ID,
    Fault,
    FaultKind,
    ProviderName,
    Sandbox,
)

from .conftest import setup_entry

SCAN_INTERVAL = timedelta(seconds=10)
LISTING_PATH = {"vobiz": "/Call/", "bland": "/v1/calls/active"}
ACCOUNT = {"vobiz": SANDBOX_VOBIZ_AUTH_ID, "bland": SANDBOX_BLAND_API_KEY}
LOGGER_NAME = "custom_components.call_transfer"


@pytest.fixture(params=["vobiz", "bland"])
def provider(request: pytest.FixtureRequest) -> ProviderName:
    """Run a test once per provider."""
    provider: ProviderName = request.param
    return provider


@pytest.fixture
def live_entry(
    hass: HomeAssistant, request: pytest.FixtureRequest, provider: ProviderName
) -> MockConfigEntry:
    """Return the provider's entry (the only one), able to list live calls.

    A Bland AI entry gets the sandbox's organization id.
    """
    entry: MockConfigEntry = request.getfixturevalue(f"{provider}_entry")
    if provider == "bland":
        hass.config_entries.async_update_entry(
            entry, options={"org_id": SANDBOX_BLAND_ORG_ID}
        )
    return entry


def entity_id(
    entity_registry: er.EntityRegistry, entry: MockConfigEntry, key: str
) -> str:
    """Return the entity id of one of an account's entities, by key."""
    platform = "sensor" if key == "active_calls" else "event"
    found = entity_registry.async_get_entity_id(
        platform, DOMAIN, f"{entry.entry_id}_{key}"
    )
    assert found is not None
    return found


async def next_poll(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    after: timedelta = SCAN_INTERVAL,
) -> None:
    """Let ``after`` pass, so the polls due by then run, and wait for them."""
    freezer.tick(after)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def poll_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return what the integration logged at INFO or above about polling."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER_NAME and record.levelno >= logging.INFO
    ]


async def test_calls_starting_and_ending_show_on_the_sensor_and_as_events(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
    entity_registry: er.EntityRegistry,
    provider: ProviderName,
    live_entry: MockConfigEntry,
) -> None:
    """Calls started and ended over the sandbox's control plane: each is reported once."""
    started = async_capture_events(hass, EVENT_CALL_STARTED)
    ended = async_capture_events(hass, EVENT_CALL_ENDED)
    await setup_entry(hass, live_entry)
    sensor = entity_id(entity_registry, live_entry, "active_calls")
    calls_entity = entity_id(entity_registry, live_entry, "calls")

    state = hass.states.get(sensor)
    assert state.state == "2"
    assert state.attributes["friendly_name"].endswith("Active calls")
    assert state.attributes["state_class"] == "measurement"
    seeded = sandbox.account_calls(provider, ACCOUNT[provider])
    assert [call["call_id"] for call in state.attributes["calls"]] == [
        call.call_id for call in seeded
    ]
    first = state.attributes["calls"][0]
    assert first["from"] == seeded[0].from_number
    assert first["to"] == seeded[0].to_number
    assert first["started"] == seeded[0].started.isoformat()
    assert first["status"] == {"vobiz": "in-progress", "bland": "IN_PROGRESS"}[provider]
    # The calls live at start-up were not seen starting.
    assert started == []
    assert hass.states.get(calls_entity).attributes["event_type"] is None

    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{sandbox.control_url}/calls",
            json={
                "provider": provider,
                "from": "+14155550142",
                "direction": "outbound",
            },
        ) as response:
            assert response.status == 201
            new_call = await response.json()
        await next_poll(hass, freezer)

        assert hass.states.get(sensor).state == "3"
        [event] = started
        assert event.data == {
            "config_entry_id": live_entry.entry_id,
            "provider": provider,
            "call_id": new_call["call_id"],
            "from": "+14155550142",
            "to": "+14155550199",
            "direction": "outbound" if provider == "vobiz" else None,
            "started": new_call["started"],
        }
        calls_state = hass.states.get(calls_entity)
        assert calls_state.attributes["event_type"] == "started"
        assert calls_state.attributes["call_id"] == new_call["call_id"]
        assert calls_state.attributes["from"] == "+14155550142"
        assert "config_entry_id" not in calls_state.attributes

        for call_id in (new_call["call_id"], seeded[0].call_id):
            async with session.delete(
                f"{sandbox.control_url}/calls/{call_id}"
            ) as response:
                assert response.status == 200
    await next_poll(hass, freezer)
    await next_poll(hass, freezer)

    state = hass.states.get(sensor)
    assert state.state == "1"
    assert [call["call_id"] for call in state.attributes["calls"]] == [
        seeded[1].call_id
    ]
    assert len(started) == 1
    assert sorted(event.data["call_id"] for event in ended) == sorted(
        [new_call["call_id"], seeded[0].call_id]
    )
    assert hass.states.get(calls_entity).attributes["event_type"] == "ended"


async def test_a_failed_poll_is_not_every_call_ending(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    sandbox: Sandbox,
    entity_registry: er.EntityRegistry,
    provider: ProviderName,
    live_entry: MockConfigEntry,
) -> None:
    """Polling fails: unavailable, logged once; it recovers: logged once, events once."""
    ended = async_capture_events(hass, EVENT_CALL_ENDED)
    await setup_entry(hass, live_entry)
    sensor = entity_id(entity_registry, live_entry, "active_calls")
    calls_entity = entity_id(entity_registry, live_entry, "calls")
    caplog.clear()
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=503), path_contains=LISTING_PATH[provider]
    )

    await next_poll(hass, freezer)
    await next_poll(hass, freezer)
    await next_poll(hass, freezer)

    assert hass.states.get(sensor).state == STATE_UNAVAILABLE
    assert hass.states.get(calls_entity).state == STATE_UNAVAILABLE
    [failure] = poll_log(caplog)
    assert failure == (
        f"Error fetching {live_entry.title} live calls data: "
        "Listing the live calls failed: Provider error: HTTP 503"
    )
    assert ended == []

    caplog.clear()
    sandbox.clear_faults()
    sandbox.end_call(
        SANDBOX_VOBIZ_CALL_ID if provider == "vobiz" else SANDBOX_BLAND_CALL_ID
    )
    await next_poll(hass, freezer)
    await next_poll(hass, freezer)

    assert poll_log(caplog) == [
        f"Fetching {live_entry.title} live calls data recovered"
    ]
    assert hass.states.get(sensor).state == "1"
    assert hass.states.get(calls_entity).state != STATE_UNAVAILABLE
    assert [event.data["call_id"] for event in ended] == [
        SANDBOX_VOBIZ_CALL_ID if provider == "vobiz" else SANDBOX_BLAND_CALL_ID
    ]


async def test_rejected_credentials_while_polling_start_reauth(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
    entity_registry: er.EntityRegistry,
    provider: ProviderName,
    live_entry: MockConfigEntry,
) -> None:
    """A 401 on the live-call listing opens a reauth flow and stops polling."""
    await setup_entry(hass, live_entry)
    if provider == "vobiz":
        sandbox.vobiz_accounts[SANDBOX_VOBIZ_AUTH_ID].auth_token = "rotated-elsewhere"
    else:
        del sandbox.bland_accounts[SANDBOX_BLAND_API_KEY]  # the key was revoked

    await next_poll(hass, freezer)

    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["context"]["entry_id"] == live_entry.entry_id
    sensor = entity_id(entity_registry, live_entry, "active_calls")
    assert hass.states.get(sensor).state == STATE_UNAVAILABLE
    sandbox.requests.clear()
    await next_poll(hass, freezer)
    assert sandbox.requests == []


async def test_rate_limit_makes_the_next_poll_wait(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
    entity_registry: er.EntityRegistry,
    provider: ProviderName,
    live_entry: MockConfigEntry,
) -> None:
    """A 429 with Retry-After: 60 means no poll, requested or scheduled, for 60 s."""
    await setup_entry(hass, live_entry)
    sensor = entity_id(entity_registry, live_entry, "active_calls")
    sandbox.add_fault(
        Fault(kind=FaultKind.RATE_LIMIT, retry_after="60"),
        path_contains=LISTING_PATH[provider],
        times=1,
    )
    await next_poll(hass, freezer)
    assert hass.states.get(sensor).state == STATE_UNAVAILABLE
    sandbox.requests.clear()

    for _ in range(5):
        await next_poll(hass, freezer)
    # A refresh asked for in the meantime (as after a transfer) waits too.
    await live_entry.runtime_data.coordinator.async_request_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sandbox.requests == []
    assert hass.states.get(sensor).state == STATE_UNAVAILABLE

    await next_poll(hass, freezer, timedelta(seconds=11))
    assert sandbox.requests_to(LISTING_PATH[provider])
    assert hass.states.get(sensor).state == "2"


async def test_fifty_unchanged_vobiz_calls_cost_one_request_per_poll(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
    entity_registry: er.EntityRegistry,
    vobiz_entry: MockConfigEntry,
) -> None:
    """Vobiz lists only ids: details are fetched once per call, not once per poll."""
    for number in range(48):
        sandbox.add_call(
            "vobiz", SANDBOX_VOBIZ_AUTH_ID, from_number=f"+1415555{number:04d}"
        )
    await setup_entry(hass, vobiz_entry)
    sensor = entity_id(entity_registry, vobiz_entry, "active_calls")
    assert hass.states.get(sensor).state == "50"
    assert len(sandbox.requests_to("/Call/")) == 51  # the listing, then each call once

    for _ in range(3):
        sandbox.requests.clear()
        await next_poll(hass, freezer)
        [listing] = sandbox.requests
        assert listing.path.endswith(f"/Account/{SANDBOX_VOBIZ_AUTH_ID}/Call/")

    sandbox.add_call("vobiz", SANDBOX_VOBIZ_AUTH_ID)
    sandbox.requests.clear()
    await next_poll(hass, freezer)
    assert len(sandbox.requests) == 2  # the listing and the new call's details
    assert hass.states.get(sensor).state == "51"


async def test_scan_interval_option_sets_the_polling_interval(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
) -> None:
    """With scan_interval 60 nothing is polled for 59 s."""
    hass.config_entries.async_update_entry(vobiz_entry, options={"scan_interval": 60})
    await setup_entry(hass, vobiz_entry)
    sandbox.requests.clear()

    await next_poll(hass, freezer, timedelta(seconds=58))
    assert sandbox.requests == []
    await next_poll(hass, freezer, timedelta(seconds=3))
    assert len(sandbox.requests) == 1


async def test_listing_failing_at_setup_keeps_the_account_usable(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    sandbox: Sandbox,
    entity_registry: er.EntityRegistry,
    vobiz_entry: MockConfigEntry,
) -> None:
    """The credentials were just checked: the entry loads, the sensor waits, one warning."""
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=500), path_contains="/Call/")

    await setup_entry(hass, vobiz_entry)

    assert vobiz_entry.state is ConfigEntryState.LOADED
    sensor = entity_id(entity_registry, vobiz_entry, "active_calls")
    assert hass.states.get(sensor).state == STATE_UNAVAILABLE
    assert poll_log(caplog) == [
        (
            f"Could not list the live calls of {vobiz_entry.title}: Listing the live "
            "calls failed: Provider error: HTTP 500; trying again every 10 s"
        )
    ]
    await next_poll(hass, freezer)
    assert len(poll_log(caplog)) == 1

    sandbox.clear_faults()
    await next_poll(hass, freezer)
    assert hass.states.get(sensor).state == "2"
    assert poll_log(caplog)[1:] == [
        f"Fetching {vobiz_entry.title} live calls data recovered"
    ]


async def test_listing_rejecting_the_credentials_at_setup_starts_reauth(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """A 401 on the first listing fails the setup like a 401 on the account check."""
    sandbox.add_fault(
        Fault(
            kind=FaultKind.STATUS, status=401, body={"error": "authentication failed"}
        ),
        path_contains="/Call/",
    )

    await setup_entry(hass, vobiz_entry)

    assert vobiz_entry.state is ConfigEntryState.SETUP_ERROR
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH


async def test_bland_without_org_id_lists_no_calls(
    hass: HomeAssistant,
    sandbox: Sandbox,
    entity_registry: er.EntityRegistry,
    bland_entry: MockConfigEntry,
) -> None:
    """Without an org id Bland cannot list calls: no poll, no live-call entities."""
    await setup_entry(hass, bland_entry)

    assert bland_entry.runtime_data.coordinator is None
    assert sandbox.requests_to("/v1/calls/active") == []
    entities = er.async_entries_for_config_entry(entity_registry, bland_entry.entry_id)
    assert [entity.translation_key for entity in entities] == ["transfers"]


async def test_org_id_set_in_the_options_brings_live_calls_and_removal_takes_them(
    hass: HomeAssistant,
    sandbox: Sandbox,
    entity_registry: er.EntityRegistry,
    bland_entry: MockConfigEntry,
) -> None:
    """A wrong org id is refused; the right one shows the calls; clearing it removes them."""
    await setup_entry(hass, bland_entry)
    result = await hass.config_entries.options.async_init(bland_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"org_id": "org-not-mine", "scan_interval": 10}
    )
    assert result["errors"] == {"org_id": "invalid_org_id"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"org_id": SANDBOX_BLAND_ORG_ID, "scan_interval": 10}
    )
    await hass.async_block_till_done()

    sensor = entity_id(entity_registry, bland_entry, "active_calls")
    state = hass.states.get(sensor)
    assert state.state == "2"
    assert SANDBOX_BLAND_CALL_ID in [
        call["call_id"] for call in state.attributes["calls"]
    ]
    assert hass.states.get(entity_id(entity_registry, bland_entry, "calls"))

    result = await hass.config_entries.options.async_init(bland_entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 10}
    )
    await hass.async_block_till_done()

    assert bland_entry.state is ConfigEntryState.LOADED
    entities = er.async_entries_for_config_entry(entity_registry, bland_entry.entry_id)
    assert [entity.translation_key for entity in entities] == ["transfers"]
    assert hass.states.get(sensor) is None


async def test_call_list_is_not_recorded(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    sandbox: Sandbox,
    entity_registry: er.EntityRegistry,
    vobiz_entry: MockConfigEntry,
) -> None:
    """The count goes to the history; the call list (numbers, ids) does not."""
    start = dt_util.utcnow()
    await setup_entry(hass, vobiz_entry)
    sensor = entity_id(entity_registry, vobiz_entry, "active_calls")
    assert hass.states.get(sensor).attributes["calls"]
    await async_wait_recording_done(hass)

    states: dict[str, list[Any]] = await hass.async_add_executor_job(
        get_significant_states, hass, start, None, [sensor]
    )

    [recorded] = states[sensor]
    assert recorded.state == "2"
    assert "calls" not in recorded.attributes
