"""The provider's own record of one call (``async_confirm_call``), on Vobiz and Plivo.

What confirms a callback whose signature leaves the body out: the call's live details,
else its call detail record, else nothing (the provider does not know the call).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
    ConfirmedCall,
    LiveCall,
    PlivoClient,
    ProviderError,
    VobizClient,
)
from sandbox import (
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_PLIVO_CALL_ID,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_CALL_ID,
    CallStatus,
    Fault,
    FaultKind,
    Sandbox,
)

from . import test_plivo, test_vobiz

SECRETS = (SANDBOX_VOBIZ_AUTH_TOKEN, SANDBOX_PLIVO_AUTH_TOKEN)
CLIENTS: dict[
    str, Callable[[aiohttp.ClientSession, Sandbox], VobizClient | PlivoClient]
] = {"vobiz": test_vobiz.client_for, "plivo": test_plivo.client_for}
CALLS = {"vobiz": SANDBOX_VOBIZ_CALL_ID, "plivo": SANDBOX_PLIVO_CALL_ID}
STARTED = datetime(2025, 6, 1, 9, 30, 5, tzinfo=UTC)
UNKNOWN = "4f9a0d7e-0000-4000-8000-00000000dead"
every_client = pytest.mark.parametrize("provider", list(CLIENTS))


def seeded(sandbox: Sandbox, provider: str) -> tuple[str, LiveCall]:
    """Return the seeded call's id and what the provider says of it (started STARTED)."""
    call = sandbox.calls[CALLS[provider]]
    call.started = STARTED
    return call.call_id, LiveCall(
        call_id=call.call_id,
        from_number=call.from_number,
        to_number=call.to_number,
        started=STARTED,
        status="in-progress",
        direction=call.direction,
    )


@every_client
async def test_a_live_call_is_its_live_details(
    session: aiohttp.ClientSession, sandbox: Sandbox, provider: str
) -> None:
    """Live: one request, the live details."""
    call_id, expected = seeded(sandbox, provider)

    confirmed = await CLIENTS[provider](session, sandbox).async_confirm_call(call_id)

    assert confirmed == ConfirmedCall(call=expected, live=True)
    assert [r.query for r in sandbox.requests] == [{"status": "live"}]


@every_client
async def test_an_ended_call_is_its_record(
    session: aiohttp.ClientSession, sandbox: Sandbox, provider: str
) -> None:
    """Ended: the live details are 404, the call detail record tells its numbers."""
    call_id, expected = seeded(sandbox, provider)
    sandbox.end_call(call_id)

    confirmed = await CLIENTS[provider](session, sandbox).async_confirm_call(call_id)

    assert confirmed is not None
    assert confirmed.live is False
    assert confirmed.call.status == ("completed" if provider == "vobiz" else "ANSWER")
    assert (
        confirmed.call.from_number,
        confirmed.call.to_number,
        confirmed.call.direction,
        confirmed.call.started,
    ) == (expected.from_number, expected.to_number, expected.direction, STARTED)
    assert [r.query for r in sandbox.requests] == [{"status": "live"}, {}]


@every_client
async def test_a_call_the_provider_does_not_know_is_none(
    session: aiohttp.ClientSession, sandbox: Sandbox, provider: str
) -> None:
    """Neither live nor recorded: None (not an error)."""
    client = CLIENTS[provider](session, sandbox)

    assert await client.async_confirm_call(UNKNOWN) is None
    assert len(sandbox.requests) == 2


async def test_a_vobiz_record_of_a_call_not_over_is_live(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Vobiz records calls in progress too: a queued call (not live yet) is live."""
    call = sandbox.add_call(
        "vobiz", test_vobiz.SANDBOX_VOBIZ_AUTH_ID, status=CallStatus.QUEUED
    )

    confirmed = await test_vobiz.client_for(session, sandbox).async_confirm_call(
        call.call_id
    )

    assert confirmed is not None
    assert (confirmed.live, confirmed.call.status) == (True, "queued")


@pytest.mark.parametrize("initiated", ["2025-06-01 15:00:05", "yesterday"])
async def test_a_record_spelt_as_the_call_object_page(
    session: aiohttp.ClientSession, sandbox: Sandbox, initiated: str
) -> None:
    """Vobiz's Call object spelling; a time in the console's zone (none given) is not read."""
    record: dict[str, Any] = {
        "api_id": "5e4b1f7c-0000-4000-8000-000000000001",
        "call_uuid": SANDBOX_VOBIZ_CALL_ID,
        "call_direction": "outbound",
        "from_number": "+918035735400",
        "to_number": "+14155550188",
        "initiation_time": initiated,
        "end_time": "2025-06-01 15:02:05",
        "hangup_cause_name": "Normal Hangup",
    }
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=404), times=1)
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=200, body=record), times=1)

    confirmed = await test_vobiz.client_for(session, sandbox).async_confirm_call(
        SANDBOX_VOBIZ_CALL_ID
    )

    assert confirmed == ConfirmedCall(
        call=LiveCall(
            call_id=SANDBOX_VOBIZ_CALL_ID,
            from_number="+918035735400",
            to_number="+14155550188",
            started=None,
            status=None,
            direction="outbound",
        ),
        live=False,
    )


@every_client
@pytest.mark.parametrize("failing", [1, 2])
async def test_a_provider_error_is_raised(
    session: aiohttp.ClientSession, sandbox: Sandbox, provider: str, failing: int
) -> None:
    """The live details or the record failing (503): the error, never a guess."""
    call_id, _ = seeded(sandbox, provider)
    sandbox.end_call(call_id)
    if failing == 2:
        sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=404), times=1)
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=503), times=1)

    with pytest.raises(ProviderError):
        await CLIENTS[provider](session, sandbox).async_confirm_call(call_id)
    assert len(sandbox.requests) == failing
