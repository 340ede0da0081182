"""Deadlines: whatever a provider does, a poll ends in bounded time (a transfer's: test_transfer.py).

Time is the frozen clock of the test's Home Assistant (``freezer``), which the event
loop runs on too: the sandbox's DRIP fault sends an answer one byte per 0.5 s of that
clock, never silent long enough for a read timeout, and the tests move the clock on
step by step. Nothing here measures wall time.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
from typing import Any, Final

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.call_transfer.const import DOMAIN
from sandbox import Fault, FaultKind, Sandbox
from tests.helpers.entries import setup_entry
from tests.helpers.live_calls import REQUEST_DEADLINE, STEP, LiveAccount, advance
from tests.helpers.provider_cases import ProviderCase

# The README's promise: a poll of several requests ends 30 s after it starts.
POLL_DEADLINE: Final = 30.0
LOGGER_NAME: Final = "custom_components.call_transfer"


async def list_calls(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    """Call list_calls as a script does, for its response."""
    return await hass.services.async_call(
        DOMAIN,
        "list_calls",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        return_response=True,
    )


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return what the integration logged at ERROR or above, tracebacks included."""
    return [
        record.getMessage() + (" (with a traceback)" if record.exc_info else "")
        for record in caplog.records
        if record.name == LOGGER_NAME and record.levelno >= logging.ERROR
    ]


def poll_error(live: LiveAccount, message: str) -> str:
    """Return how Home Assistant logs a failed poll of the account."""
    return f"Error fetching {live.entry.title} live calls data: {message}"


async def test_a_poll_answered_a_byte_at_a_time_ends_at_its_deadline(
    live: LiveAccount, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 21, 1: a dripping listing holds the poll lock 20 s, no longer.

    list_calls asked meanwhile waits for that poll, then lists the calls afresh.
    """
    await live.set_up()
    live.fault_next_listing(Fault(kind=FaultKind.DRIP, delay=STEP))
    await live.until_polled()
    listing = asyncio.ensure_future(list_calls(live.hass, live.entry))

    passed = await advance(live.freezer, listing.done, limit=3 * REQUEST_DEADLINE)

    assert abs(passed - REQUEST_DEADLINE) <= STEP
    assert len(listing.result()["calls"]) == 2
    host = f"127.0.0.1:{live.sandbox.port}"
    assert errors_logged(caplog) == [
        poll_error(live, f"{host} did not finish answering within 20 s")
    ]
    assert live.state("active_calls").state == "2"


@pytest.mark.parametrize("provider", ["plivo"])
async def test_a_poll_of_several_requests_ends_at_its_deadline(
    live: LiveAccount, caplog: pytest.LogCaptureFixture
) -> None:
    """Pages each answered in time (8 s) still make a poll end 30 s after it started."""
    live.add_calls(70)  # four pages of 20
    await live.set_up()
    assert live.state("active_calls").state == "72"
    live.sandbox.add_fault(
        Fault(kind=FaultKind.LATENCY, delay=8),
        path_contains=live.case.listing_path,
        times=4,
    )
    await live.until_polled()

    passed = await advance(
        live.freezer, lambda: bool(errors_logged(caplog)), limit=3 * POLL_DEADLINE
    )

    assert abs(passed - POLL_DEADLINE) <= STEP
    assert errors_logged(caplog) == [
        poll_error(live, "The live calls were not listed within 30 s")
    ]
    assert live.state("active_calls").state == STATE_UNAVAILABLE


@pytest.mark.parametrize(
    "retry_after",
    ["inf", "1e12", "Fri, 31 Dec 9999 23:59:59 GMT"],
)
async def test_a_huge_retry_after_is_capped_at_ten_minutes(
    live: LiveAccount, caplog: pytest.LogCaptureFixture, retry_after: str
) -> None:
    """Issue 21, 4: no traceback, no poll for 10 minutes, then polling goes on."""
    await live.set_up()
    live.fault_next_listing(Fault(kind=FaultKind.RATE_LIMIT, retry_after=retry_after))

    await live.poll()

    assert live.state("active_calls").state == STATE_UNAVAILABLE
    assert errors_logged(caplog) == [
        poll_error(
            live,
            "The provider is rate limiting requests; the live calls are listed "
            "again in 600 s",
        )
    ]
    live.sandbox.requests.clear()
    await live.poll(timedelta(minutes=9, seconds=50))
    assert live.sandbox.requests == []
    await live.poll(timedelta(seconds=11))
    assert live.sandbox.requests_to(live.case.listing_path)
    assert live.state("active_calls").state == "2"


@pytest.mark.parametrize("provider", ["twilio"])
@pytest.mark.parametrize("retry_after", ["nan", "-5"])
async def test_a_retry_after_that_asks_no_wait_is_retried(
    hass: HomeAssistant,
    sandbox: Sandbox,
    entry: MockConfigEntry,
    case: ProviderCase,
    retry_after: str,
) -> None:
    """Issue 21, 4: nan is no wait (as without the header: 1 s), -5 s none: retried."""
    hass.config_entries.async_update_entry(entry, options=case.live_options)
    await setup_entry(hass, entry)
    sandbox.add_fault(
        Fault(kind=FaultKind.RATE_LIMIT, retry_after=retry_after),
        path_contains=case.listing_path,
        times=1,
    )
    sandbox.requests.clear()

    response = await list_calls(hass, entry)

    assert len(response["calls"]) == 2
    assert len([r for r in sandbox.requests if case.is_listing(r)]) == 2
