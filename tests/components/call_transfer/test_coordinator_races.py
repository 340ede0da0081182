"""Polls that overlap: every call is reported started and ended once, the sensor right.

The sandbox's request hooks make things happen between two requests of Home
Assistant's, at the same point every run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from hypothesis import HealthCheck, example, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.call_transfer.const import (
    DOMAIN,
    EVENT_CALL_ENDED,
    EVENT_CALL_STARTED,
)
from sandbox import Fault, FaultKind, RecordedRequest, Sandbox
from tests.helpers.entries import add_entry
from tests.helpers.live_calls import LiveAccount


async def list_calls(hass: HomeAssistant, config_entry_id: str) -> Any:
    """Call list_calls as a script does, for its response."""
    return await hass.services.async_call(
        DOMAIN,
        "list_calls",
        {"config_entry_id": config_entry_id},
        blocking=True,
        return_response=True,
    )


async def overlapping_polls(
    live: LiveAccount, between: Callable[[], None]
) -> asyncio.Task[Any]:
    """Run a scheduled poll; while it lists the calls, list_calls asks for a fresh one.

    ``between`` runs as the fresh poll lists the calls. Return the list_calls task.
    """
    listings: list[RecordedRequest] = []
    fresh: list[asyncio.Task[Any]] = []

    def hook(request: RecordedRequest) -> None:
        if not live.case.is_listing(request):
            return
        listings.append(request)
        if len(listings) == 1:
            fresh.append(
                live.hass.async_create_task(list_calls(live.hass, live.entry.entry_id))
            )
        elif len(listings) == 2:
            between()

    live.sandbox.request_hooks.append(hook)
    await live.poll()
    live.sandbox.request_hooks.clear()
    [task] = fresh
    return task


async def test_a_call_ending_between_two_overlapping_polls_is_reported_once(
    live: LiveAccount,
) -> None:
    """Issue 21, 2: B starts and ends once, though its end came between two polls.

    Call A is live and B starts; a scheduled poll is in flight when list_calls asks for
    a fresh one, and B ends in between.
    """
    started = async_capture_events(live.hass, EVENT_CALL_STARTED)
    ended = async_capture_events(live.hass, EVENT_CALL_ENDED)
    await live.set_up()
    [call_a] = live.leave_live(1)
    await live.poll()
    ended.clear()
    call_b = (await live.start_call()).call_id

    fresh = await overlapping_polls(live, lambda: live.sandbox.end_call(call_b))

    response = await fresh
    assert [call["call_id"] for call in response["calls"]] == [call_a]
    assert [event.data["call_id"] for event in started] == [call_b]
    assert [event.data["call_id"] for event in ended] == [call_b]
    assert live.state("active_calls").state == "1"
    calls = live.state("calls")
    assert (calls.attributes["event_type"], calls.attributes["call_id"]) == (
        "ended",
        call_b,
    )
    for _ in range(3):
        await live.poll()
    assert (len(started), len(ended)) == (1, 1)
    assert live.state("active_calls").state == "1"


# One step of the property test: a call starts, ends or is left out of the next listing
# request, the next listing request fails, a scheduled poll runs, or a scheduled poll
# and a fresh one (list_calls) overlap with a call starting or ending in between.
type Step = tuple[Any, ...]
CHANGES = st.one_of(st.just(("start",)), st.tuples(st.just("end"), st.integers(0, 9)))
STEPS = st.lists(
    st.one_of(
        CHANGES,
        st.tuples(st.just("omit"), st.integers(0, 9)),
        st.just(("fail",)),
        st.just(("poll",)),
        st.tuples(st.just("race"), CHANGES),
    ),
    max_size=12,
)


class Scenario:
    """One provider account, fresh for each example, in the test's Home Assistant."""

    def __init__(self, live: LiveAccount) -> None:
        """Start from the account with no live call."""
        self.live = live
        self.case = live.case

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox every example shares."""
        return self.live.sandbox

    def live_ids(self) -> list[str]:
        """Return the ids of the account's live calls, oldest first."""
        return [call.call_id for call in self.live.calls() if call.live]

    def change(self, step: Step) -> None:
        """Start a call, or end the live call the step picks (if any is live)."""
        if step[0] == "start":
            self.live.add_calls(1)
        elif live := self.live_ids():
            self.sandbox.end_call(live[step[1] % len(live)])

    async def run(self, step: Step) -> None:
        """Do one step."""
        match step:
            case ("omit", pick):
                if live := self.live_ids():
                    self.sandbox.omit_from_listings(live[pick % len(live)])
            case ("fail",):
                self.live.fault_next_listing(Fault(kind=FaultKind.STATUS, status=503))
            case ("poll",):
                await self.live.poll()
            case ("race", change):
                await self.race(change)
            case _:
                self.change(step)

    async def race(self, change: Step) -> None:
        """Overlap a scheduled poll and a fresh one; ``change`` comes in between."""
        fresh = await overlapping_polls(self.live, lambda: self.change(change))
        with contextlib.suppress(HomeAssistantError):  # the listing may fail
            await fresh


@pytest.mark.slow  # a property test: 25 examples a provider
@pytest.mark.parametrize("provider", ["vobiz", "twilio", "telnyx"])
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    # One Home Assistant and sandbox serve every example, each with a fresh entry.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(initial=st.integers(0, 3), steps=STEPS)
# The race: a call starts, and ends between a scheduled poll and a fresh one.
@example(initial=1, steps=[("start",), ("race", ("end", 1))])
async def test_every_call_starts_and_ends_once_whatever_the_polls_meet(
    live: LiveAccount, initial: int, steps: list[Step]
) -> None:
    """Property: each call starts and ends once, and the sensor ends up right.

    Once the listing is stable, the sensor shows the provider's calls, and each call
    fired started and ended at most once each, in that order, as it came and went.
    Listings page (two calls a page where the provider pages), leave calls out, fail,
    and polls overlap. Calls live when the account is set up are the baseline: they
    never start; a call that came and went between two listings is never seen.
    """
    scenario = Scenario(live)
    sandbox = live.sandbox
    for earlier in live.hass.config_entries.async_entries(DOMAIN):
        await live.hass.config_entries.async_remove(earlier.entry_id)
    for call_id in scenario.live_ids():
        sandbox.end_call(call_id)
    sandbox.clear_faults()
    sandbox.omitted.clear()
    for account in (
        *sandbox.twilio_accounts.values(),
        *sandbox.telnyx_accounts.values(),
    ):
        account.page_size_limit = 2
    for _ in range(initial):
        live.add_calls(1)
    baseline = set(scenario.live_ids())
    # (kind, call id, entry, source), in the bus's order: a failure shows who told what.
    events: list[tuple[str, str, str, str]] = []

    # A callback: Home Assistant runs a plain function listener in its executor, where
    # two events fired back to back (a call seen, then seen ended) were recorded in either
    # order now and then: the cause of this test's rare failures in full runs.
    @callback
    def record(event: Event) -> None:
        kind = "started" if event.event_type == EVENT_CALL_STARTED else "ended"
        events.append(
            (
                kind,
                event.data["call_id"],
                event.data["config_entry_id"],
                event.data["source"],
            )
        )

    unsubscribe = [
        live.hass.bus.async_listen(event_type, record)
        for event_type in (EVENT_CALL_STARTED, EVENT_CALL_ENDED)
    ]
    live.entry = add_entry(live.hass, sandbox, live.provider)
    live.hass.config_entries.async_update_entry(
        live.entry, options=live.case.live_options
    )
    await live.set_up()
    try:
        for step in steps:
            await scenario.run(step)
        # The listing is stable: nothing left out, nothing failing.
        sandbox.clear_faults()
        sandbox.omitted.clear()
        await live.poll()
        await live.poll()

        # Only this example's account tells of its calls (the earlier ones are removed).
        assert {entry_id for _, _, entry_id, _ in events} <= {live.entry.entry_id}, (
            events
        )
        live_now = set(scenario.live_ids())
        state = live.state("active_calls")
        assert int(state.state) == len(live_now)
        assert {call["call_id"] for call in state.attributes["calls"]} == live_now
        for call in live.calls():
            fired = [kind for kind, call_id, _, _ in events if call_id == call.call_id]
            if call.call_id in baseline:
                expected = [] if call.live else ["ended"]
            elif call.live:
                expected = ["started"]
            else:  # seen (started, then ended) or, if it came and went unseen, neither
                expected = ["started", "ended"] if fired else []
            assert fired == expected, (call.call_id, steps, events)
    finally:
        for undo in unsubscribe:
            undo()
        await live.hass.config_entries.async_remove(live.entry.entry_id)
        await live.hass.async_block_till_done()
