"""Listings that miss calls (paging, lag) or fail in part: no call ends or starts twice.

A known call a listing leaves out ends only once confirmed: by asking the provider
about it where it can tell (Vobiz, Plivo, Twilio), else by listing again (Bland AI,
Telnyx); what could not be confirmed, the next poll confirms.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.call_transfer.const import EVENT_CALL_ENDED, EVENT_CALL_STARTED
from sandbox import Fault, FaultKind, RecordedRequest
from tests.helpers.live_calls import STEP, LiveAccount, advance


def on_listing(live: LiveAccount, number: int, act: Callable[[], None]) -> None:
    """Do ``act`` when the ``number``-th listing request from now arrives."""
    seen: list[RecordedRequest] = []

    def hook(request: RecordedRequest) -> None:
        if live.case.is_listing(request):
            seen.append(request)
            if len(seen) == number:
                act()

    live.sandbox.request_hooks.append(hook)


async def test_a_call_one_listing_leaves_out_does_not_end(live: LiveAccount) -> None:
    """Issue 21, 6: a live call missing from one listing fires neither ended nor started."""
    started = async_capture_events(live.hass, EVENT_CALL_STARTED)
    ended = async_capture_events(live.hass, EVENT_CALL_ENDED)
    await live.set_up()
    left_out = live.calls()[0].call_id
    live.sandbox.omit_from_listings(left_out)
    live.sandbox.requests.clear()

    await live.poll()

    listings = [r for r in live.sandbox.requests if live.case.is_listing(r)]
    lookups = [r for r in live.sandbox.requests if left_out in r.path]
    # Confirmed live: asked about (one request), or listed again.
    assert (len(listings), len(lookups)) in ((1, 1), (2, 0))
    assert live.state("active_calls").state == "2"
    for _ in range(3):
        await live.poll()
    assert (started, ended) == ([], [])
    assert live.state("active_calls").state == "2"


@pytest.mark.parametrize("provider", ["plivo", "telnyx", "twilio"])
async def test_a_call_ending_while_the_listing_is_paged_moves_none(
    live: LiveAccount,
) -> None:
    """Issue 21, 5: 30 calls in pages of 20; the oldest ends between the page requests.

    The listing then skips the call that moved from page 2 to page 1 (offset paging):
    it neither ends nor starts again; the oldest ends, once.
    """
    if live.provider == "telnyx":
        live.sandbox.telnyx_accounts[live.case.account].page_size_limit = 20
    elif live.provider == "twilio":
        live.sandbox.twilio_accounts[live.case.account].page_size_limit = 20
    live.add_calls(28)
    started = async_capture_events(live.hass, EVENT_CALL_STARTED)
    ended = async_capture_events(live.hass, EVENT_CALL_ENDED)
    await live.set_up()
    assert live.state("active_calls").state == "30"
    oldest = live.calls()[0].call_id
    on_listing(live, 2, lambda: live.sandbox.end_call(oldest))

    await live.poll()
    live.sandbox.request_hooks.clear()
    await live.poll()

    assert started == []
    assert [event.data["call_id"] for event in ended] == [oldest]
    assert live.state("active_calls").state == "29"


@pytest.mark.parametrize("provider", ["vobiz"])
async def test_one_failed_detail_request_keeps_the_details_read(
    live: LiveAccount,
) -> None:
    """Issue 21: 50 new calls, one detail request fails: the poll fails, the others stay read.

    The next poll asks for the listing and the one call it lacks, not for all 50.
    """
    await live.set_up()
    new = live.add_calls(50)
    live.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=500), call_id=new[7], times=1
    )
    await live.poll()
    assert live.state("active_calls").state == "unavailable"
    live.sandbox.requests.clear()

    await live.poll()

    assert [r.path.rsplit("/Call/", 1)[1] for r in live.sandbox.requests] == [
        "",
        f"{new[7]}/",
    ]
    assert live.state("active_calls").state == "52"


async def test_an_end_not_confirmed_waits_for_the_next_listing(
    live: LiveAccount,
) -> None:
    """A lookup (or second listing) that fails leaves the call live, for one poll.

    The next listing leaving it out again ends it, without asking once more.
    """
    ended = async_capture_events(live.hass, EVENT_CALL_ENDED)
    await live.set_up()
    gone = live.calls()[0].call_id
    live.sandbox.end_call(gone)
    failure = Fault(kind=FaultKind.STATUS, status=503)
    if live.entry.runtime_data.client.looks_up_calls:
        live.sandbox.add_fault(failure, call_id=gone, times=1)
    else:
        on_listing(live, 1, lambda: live.sandbox.add_fault(failure, times=1))

    await live.poll()
    live.sandbox.request_hooks.clear()
    assert (ended, live.state("active_calls").state) == ([], "2")
    live.sandbox.requests.clear()
    await live.poll()

    assert [event.data["call_id"] for event in ended] == [gone]
    assert live.state("active_calls").state == "1"
    [listing] = live.sandbox.requests
    assert live.case.is_listing(listing)


@pytest.mark.parametrize("provider", ["vobiz"])
async def test_a_mass_hang_up_costs_at_most_twenty_lookups_a_poll(
    live: LiveAccount,
) -> None:
    """30 calls end at once: 20 are asked about, the other 10 end at the next listing."""
    ended = async_capture_events(live.hass, EVENT_CALL_ENDED)
    live.add_calls(30)
    await live.set_up()
    live.leave_live(2)
    live.sandbox.requests.clear()

    await live.poll()
    assert len(live.sandbox.requests) == 1 + 20
    assert (len(ended), live.state("active_calls").state) == (20, "12")
    await live.poll()

    assert len({event.data["call_id"] for event in ended}) == 30
    assert live.state("active_calls").state == "2"


@pytest.mark.parametrize("provider", ["plivo"])
async def test_a_poll_out_of_time_leaves_the_lookups_to_the_next_one(
    live: LiveAccount, caplog: pytest.LogCaptureFixture
) -> None:
    """Listed in 18 s, a lookup that drips past the poll's 30 s is abandoned, not failed."""
    live.add_calls(21)  # two pages of 20
    ended = async_capture_events(live.hass, EVENT_CALL_ENDED)
    await live.set_up()
    gone = live.calls()[0].call_id
    live.sandbox.end_call(gone)
    live.sandbox.add_fault(Fault(kind=FaultKind.DRIP, delay=STEP), call_id=gone)
    live.sandbox.add_fault(
        Fault(kind=FaultKind.LATENCY, delay=9), path_contains="/Call/", times=2
    )
    await live.until_polled()

    passed = await advance(
        live.freezer, lambda: "Could not confirm" in caplog.text, limit=60
    )

    assert abs(passed - 30) <= STEP
    assert live.sandbox.requests_to(gone)
    assert (ended, live.state("active_calls").state) == ([], "23")
    live.sandbox.clear_faults()
    await live.poll()
    assert [event.data["call_id"] for event in ended] == [gone]
    assert live.state("active_calls").state == "22"
