"""Live calls through Home Assistant: polling, the Active calls sensor, Calls events."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Any

import aiohttp
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
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.call_transfer.const import (
    DOMAIN,
    EVENT_CALL_ENDED,
    EVENT_CALL_STARTED,
)
from custom_components.call_transfer.providers import PROVIDERS
from sandbox import (
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_ORG_ID,
    Fault,
    FaultKind,
    Sandbox,
)
from tests.helpers.entries import setup_entry
from tests.helpers.live_calls import LiveAccount

LOGGER_NAME = "custom_components.call_transfer"


def poll_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return what the integration logged at INFO or above."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER_NAME and record.levelno >= logging.INFO
    ]


async def test_calls_starting_and_ending_show_on_the_sensor_and_as_events(
    live: LiveAccount,
) -> None:
    """Calls started and ended over the sandbox's control plane: each is reported once."""
    started = async_capture_events(live.hass, EVENT_CALL_STARTED)
    ended = async_capture_events(live.hass, EVENT_CALL_ENDED)
    await live.set_up()

    state = live.state("active_calls")
    assert state.state == "2"
    assert state.attributes["friendly_name"].endswith("Active calls")
    seeded = live.calls()
    # In the provider's order (Twilio lists the newest first).
    assert sorted(state.attributes["calls"], key=lambda call: call["started"]) == [
        live.case.seen(call) for call in seeded
    ]
    # The calls live at start-up were not seen starting.
    assert started == []
    assert live.state("calls").attributes["event_type"] is None

    control = f"{live.sandbox.control_url}/calls"
    async with aiohttp.ClientSession() as session:
        async with session.post(
            control,
            json={
                "provider": live.provider,
                "from": "+14155550142",
                "direction": "outbound",
            },
        ) as response:
            assert response.status == 201
            new_call = await response.json()
        await live.poll()

        assert live.state("active_calls").state == "3"
        [event] = started
        seen = live.case.seen(live.sandbox.calls[new_call["call_id"]])
        del seen["status"]
        assert event.data == {
            "config_entry_id": live.entry.entry_id,
            "provider": live.provider,
            **seen,
            "source": "poll",
        }
        calls_state = live.state("calls")
        assert calls_state.attributes["event_type"] == "started"
        assert calls_state.attributes["call_id"] == new_call["call_id"]
        assert calls_state.attributes["from"] == seen["from"]
        assert "config_entry_id" not in calls_state.attributes

        for call_id in (new_call["call_id"], seeded[0].call_id):
            async with session.delete(f"{control}/{call_id}") as response:
                assert response.status == 200
    await live.poll()
    await live.poll()

    state = live.state("active_calls")
    assert state.state == "1"
    assert [call["call_id"] for call in state.attributes["calls"]] == [
        seeded[1].call_id
    ]
    assert len(started) == 1
    assert sorted(event.data["call_id"] for event in ended) == sorted(
        [new_call["call_id"], seeded[0].call_id]
    )
    assert live.state("calls").attributes["event_type"] == "ended"


async def test_a_failed_poll_is_not_every_call_ending(
    live: LiveAccount, caplog: pytest.LogCaptureFixture
) -> None:
    """Polling fails: Active calls unavailable, logged once; it recovers: logged once, events once."""
    ended = async_capture_events(live.hass, EVENT_CALL_ENDED)
    await live.set_up()
    caplog.clear()
    live.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=503), path_contains=live.case.listing_path
    )

    for _ in range(3):
        await live.poll()

    assert live.state("active_calls").state == STATE_UNAVAILABLE
    # Its last event stays (test_event: an outage replays no call event).
    assert live.state("calls").state != STATE_UNAVAILABLE
    assert poll_log(caplog) == [
        (f"Error fetching {live.entry.title} live calls data: Provider error: HTTP 503")
    ]
    assert ended == []

    caplog.clear()
    live.sandbox.clear_faults()
    [still_live] = live.leave_live(1)
    await live.poll()
    await live.poll()

    assert poll_log(caplog) == [
        f"Fetching {live.entry.title} live calls data recovered"
    ]
    assert live.state("active_calls").state == "1"
    assert live.state("calls").state != STATE_UNAVAILABLE
    [event] = ended
    assert event.data["call_id"] != still_live


async def test_rejected_credentials_while_polling_start_reauth(
    live: LiveAccount,
) -> None:
    """A 401 on the live-call listing opens a reauth flow and stops polling."""
    await live.set_up()
    live.case.revoke(live.sandbox)

    await live.poll()

    [flow] = live.hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["context"]["entry_id"] == live.entry.entry_id
    assert live.state("active_calls").state == STATE_UNAVAILABLE
    live.sandbox.requests.clear()
    await live.poll()
    assert live.sandbox.requests == []


async def test_reauth_with_the_same_credentials_polls_again(
    live: LiveAccount,
) -> None:
    """The provider refused the credentials once: given again, the account polls again.

    Without a reload (the entities keep their state).
    """
    await live.set_up()
    body = live.sandbox.error_body(live.provider, 401, "authentication failed")
    live.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=401, body=body),
        path_contains=live.case.listing_path,
        times=1,
    )
    await live.poll()
    assert live.state("active_calls").state == STATE_UNAVAILABLE
    runtime = live.entry.runtime_data
    [flow] = live.hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    credentials = PROVIDERS[live.provider].credential_fields
    same = {
        cred.key: live.entry.data[cred.key]
        for cred in credentials
        if (cred.secret or not cred.required) and cred.key in live.entry.data
    }

    result = await live.hass.config_entries.flow.async_configure(flow["flow_id"], same)

    assert result["reason"] == "reauth_successful"
    assert live.entry.runtime_data is runtime
    assert live.state("active_calls").state == "2"
    live.sandbox.requests.clear()
    await live.poll()
    assert [r.path for r in live.sandbox.requests if live.case.listing_path in r.path]


async def test_rate_limit_makes_the_next_poll_wait(live: LiveAccount) -> None:
    """A 429 with Retry-After: 60 means no poll, requested or scheduled, for 60 s."""
    await live.set_up()
    live.sandbox.add_fault(
        Fault(kind=FaultKind.RATE_LIMIT, retry_after="60"),
        path_contains=live.case.listing_path,
        times=1,
    )
    await live.poll()
    assert live.state("active_calls").state == STATE_UNAVAILABLE
    live.sandbox.requests.clear()

    for _ in range(5):
        await live.poll()
    # A refresh asked for in the meantime (as after a transfer) waits too.
    await live.entry.runtime_data.coordinator.async_request_refresh()
    await live.hass.async_block_till_done(wait_background_tasks=True)
    assert live.sandbox.requests == []
    assert live.state("active_calls").state == STATE_UNAVAILABLE

    await live.poll(timedelta(seconds=11))
    assert live.sandbox.requests_to(live.case.listing_path)
    assert live.state("active_calls").state == "2"


@pytest.mark.parametrize("provider", ["vobiz"])
async def test_fifty_unchanged_vobiz_calls_cost_one_request_per_poll(
    live: LiveAccount,
) -> None:
    """Vobiz lists only ids: details are fetched once per call, not once per poll."""
    account = live.case.account
    for number in range(48):
        live.sandbox.add_call("vobiz", account, from_number=f"+1415555{number:04d}")
    await live.set_up()
    assert live.state("active_calls").state == "50"
    assert len(live.sandbox.requests_to("/Call/")) == 51  # the listing, each call once

    for _ in range(3):
        live.sandbox.requests.clear()
        await live.poll()
        [listing] = live.sandbox.requests
        assert listing.path.endswith(f"/Account/{account}/Call/")

    live.sandbox.add_call("vobiz", account)
    live.sandbox.requests.clear()
    await live.poll()
    assert len(live.sandbox.requests) == 2  # the listing and the new call's details
    assert live.state("active_calls").state == "51"


async def test_scan_interval_option_sets_the_polling_interval(
    live: LiveAccount,
) -> None:
    """With scan_interval 60 nothing is polled for 59 s, then one listing request."""
    live.hass.config_entries.async_update_entry(
        live.entry, options=live.entry.options | {"scan_interval": 60}
    )
    await live.set_up()
    live.sandbox.requests.clear()

    await live.poll(timedelta(seconds=58))
    assert live.sandbox.requests == []
    await live.poll(timedelta(seconds=3))
    assert len(live.sandbox.requests) == 1


async def test_listing_failing_at_setup_keeps_the_account_usable(
    live: LiveAccount, caplog: pytest.LogCaptureFixture
) -> None:
    """The credentials were just checked: the entry loads, the sensor waits, one warning."""
    live.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=500), path_contains=live.case.listing_path
    )

    await live.set_up()

    assert live.entry.state is ConfigEntryState.LOADED
    assert live.state("active_calls").state == STATE_UNAVAILABLE
    assert poll_log(caplog) == [
        (
            f"Could not list the live calls of {live.entry.title}: "
            "Provider error: HTTP 500; trying again every 10 s"
        )
    ]
    await live.poll()
    assert len(poll_log(caplog)) == 1

    live.sandbox.clear_faults()
    await live.poll()
    assert live.state("active_calls").state == "2"
    assert poll_log(caplog)[1:] == [
        f"Fetching {live.entry.title} live calls data recovered"
    ]


async def test_listing_rejecting_the_credentials_at_setup_starts_reauth(
    live: LiveAccount,
) -> None:
    """A 401 on the first listing fails the setup like a 401 on the account check."""
    body = live.sandbox.error_body(live.provider, 401, "authentication failed")
    live.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=401, body=body),
        path_contains=live.case.listing_path,
    )

    await live.set_up()

    assert live.entry.state is ConfigEntryState.SETUP_ERROR
    [flow] = live.hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH


def entity_keys(hass: HomeAssistant, entry: MockConfigEntry) -> list[str | None]:
    """Return the keys of an account's entities in the registry."""
    registry = er.async_get(hass)
    return [
        e.translation_key
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    ]


async def test_org_id_set_in_the_options_brings_live_calls_and_removal_takes_them(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """Bland lists calls only with an org id: set (checked) in the options, then cleared."""
    await setup_entry(hass, bland_entry)
    assert bland_entry.runtime_data.coordinator is None
    assert sandbox.requests_to("/v1/calls/active") == []
    assert entity_keys(hass, bland_entry) == ["transfers"]

    result = await hass.config_entries.options.async_init(bland_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"org_id": "org-not-mine", "scan_interval": 10}
    )
    assert result["errors"] == {"org_id": "invalid_org_id"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"org_id": SANDBOX_BLAND_ORG_ID, "scan_interval": 10}
    )
    await hass.async_block_till_done()

    assert sorted(entity_keys(hass, bland_entry)) == [
        "active_calls",
        "call_to_transfer",
        "calls",
        "transfers",
    ]
    sensor = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{bland_entry.entry_id}_active_calls"
    )
    state = hass.states.get(sensor)
    assert state.state == "2"
    assert SANDBOX_BLAND_CALL_ID in [c["call_id"] for c in state.attributes["calls"]]

    result = await hass.config_entries.options.async_init(bland_entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 10}
    )
    await hass.async_block_till_done()

    assert bland_entry.state is ConfigEntryState.LOADED
    assert entity_keys(hass, bland_entry) == ["transfers"]
    assert hass.states.get(sensor) is None


@pytest.mark.parametrize("provider", ["vobiz"])
async def test_call_list_is_not_recorded(
    recorder_mock: Recorder, live: LiveAccount
) -> None:
    """The count goes to the history; the call list (numbers, ids) does not."""
    start = dt_util.utcnow() - timedelta(seconds=1)  # the clock is frozen
    await live.set_up()
    sensor = live.entity_id("active_calls")
    assert live.state("active_calls").attributes["calls"]
    await async_wait_recording_done(live.hass)

    states: dict[str, list[Any]] = await live.hass.async_add_executor_job(
        get_significant_states, live.hass, start, None, [sensor]
    )

    [recorded] = states[sensor]
    assert recorded.state == "2"
    assert "calls" not in recorded.attributes
