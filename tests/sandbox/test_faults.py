"""Injected faults: each kind, how they are matched, and how they run out."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from sandbox import (
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_SECOND_CALL_ID,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_CALL_ID,
    SANDBOX_VOBIZ_SECOND_CALL_ID,
    Fault,
    FaultKind,
    Sandbox,
    server,
)

from .conftest import (
    ACCOUNT_PATH,
    BLAND_HEADERS,
    VOBIZ_HEADERS,
    assert_vobiz_error,
    bland_error,
)

TRANSFER_BODY = {"aleg_url": "https://xml.example.com/aleg"}


def vobiz_transfer(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    call_id: str = SANDBOX_VOBIZ_CALL_ID,
    headers: dict[str, str] = VOBIZ_HEADERS,
) -> Any:
    """Start a Vobiz transfer request (use it with ``async with``)."""
    return session.post(
        f"{sandbox.vobiz_base_url}{ACCOUNT_PATH}/Call/{call_id}/",
        headers=headers,
        json=TRANSFER_BODY,
    )


def bland_transfer(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    call_id: str = SANDBOX_BLAND_CALL_ID,
    timeout: float = 10,
) -> Any:
    """Start a Bland transfer request (use it with ``async with``)."""
    return session.post(
        f"{sandbox.bland_base_url}/v1/calls/active/transfer",
        headers=BLAND_HEADERS,
        json={"call_id": call_id, "transfer_number": "+12223334444"},
        timeout=aiohttp.ClientTimeout(total=timeout),
    )


def request_handlers_running() -> list[asyncio.Task[Any]]:
    """Return the tasks of aiohttp's server still handling a request."""
    return [
        task
        for task in asyncio.all_tasks()
        if not task.done()
        and task.get_coro().__qualname__.startswith("RequestHandler.")
    ]


async def request_handlers_finish() -> None:
    """Wait until aiohttp's server has ended every request it was handling."""
    if handlers := request_handlers_running():
        await asyncio.wait(handlers)


def request_arrives(sandbox: Sandbox) -> asyncio.Event:
    """Return an event set when the sandbox receives a provider request."""
    arrived = asyncio.Event()
    sandbox.request_hooks.append(lambda _request: arrived.set())
    return arrived


def record_waits(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> list[float | None]:
    """Record how long each of the sandbox's faults waits (each wait still takes its time)."""
    waits: list[float | None] = []
    wait_for_stop = sandbox._wait_for_stop  # noqa: SLF001

    async def recording_wait(seconds: float | None) -> bool:
        waits.append(seconds)
        return await wait_for_stop(seconds)

    monkeypatch.setattr(sandbox, "_wait_for_stop", recording_wait)
    return waits


async def test_status_fault_sends_any_body_and_headers(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A STATUS fault answers exactly its status, JSON body and headers."""
    envelope = {
        "status": "error",
        "error": {"code": "maintenance", "message": "Down", "details": None},
        "requestId": "req-1",
    }
    sandbox.add_fault(
        Fault(
            kind=FaultKind.STATUS, status=503, body=envelope, headers={"X-Trace": "t1"}
        )
    )

    async with vobiz_transfer(session, sandbox) as response:
        assert response.status == 503
        assert await response.json() == envelope
        assert response.headers["X-Trace"] == "t1"
    assert sandbox.calls[SANDBOX_VOBIZ_CALL_ID].transfers == []


async def test_status_fault_without_body_is_empty(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A STATUS fault without a body sends none."""
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=500))

    async with bland_transfer(session, sandbox) as response:
        assert response.status == 500
        assert await response.read() == b""


async def test_raw_fault_sends_its_bytes_as_they_are(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A RAW fault answers exactly its status, bytes and headers: no encoding added."""
    body = gzip.compress(b'{"data": {"message": "ok"}}')
    sandbox.add_fault(
        Fault(
            kind=FaultKind.RAW,
            body=body,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
    )

    async with bland_transfer(session, sandbox) as response:
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert await response.json() == {"data": {"message": "ok"}}


async def test_rate_limit_twice_then_success(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """``times=2``: two 429s with Retry-After in Bland's envelope, then the real answer."""
    sandbox.add_fault(
        Fault(kind=FaultKind.RATE_LIMIT, retry_after="30"),
        path_contains="/transfer",
        times=2,
    )
    answers = []
    for _ in range(3):
        async with bland_transfer(session, sandbox) as response:
            answers.append(
                (
                    response.status,
                    response.headers.get("Retry-After"),
                    await response.json(),
                )
            )

    limited = (
        429,
        "30",
        bland_error("TOO_MANY_REQUESTS", "too many requests"),
    )
    assert answers[:2] == [limited, limited]
    assert answers[2][:2] == (200, None)
    assert sandbox.faults == []
    assert len(sandbox.calls[SANDBOX_BLAND_CALL_ID].transfers) == 1


async def test_rate_limit_in_vobiz_envelope(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Without retry_after there is no Retry-After header; the body is Vobiz's."""
    sandbox.add_fault(Fault(kind=FaultKind.RATE_LIMIT))

    async with vobiz_transfer(session, sandbox) as response:
        assert response.status == 429
        assert "Retry-After" not in response.headers
        assert_vobiz_error(await response.json(), "too many requests")


async def test_malformed_json(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    """MALFORMED_JSON answers 200, labelled JSON, with a body that is not."""
    sandbox.add_fault(Fault(kind=FaultKind.MALFORMED_JSON))

    async with vobiz_transfer(session, sandbox) as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        text = await response.text()
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


@pytest.mark.parametrize(("status", "expected"), [(None, 502), (503, 503)])
async def test_html_error_page(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    status: int | None,
    expected: int,
) -> None:
    """HTML answers an HTML page, 502 unless told otherwise."""
    sandbox.add_fault(Fault(kind=FaultKind.HTML, status=status))

    async with bland_transfer(session, sandbox) as response:
        assert response.status == expected
        assert response.content_type == "text/html"
        assert (await response.text()).startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(("status", "expected"), [(None, 200), (500, 500)])
async def test_empty_body(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    status: int | None,
    expected: int,
) -> None:
    """EMPTY answers the given status (200 by default) with no body."""
    sandbox.add_fault(Fault(kind=FaultKind.EMPTY, status=status))

    async with bland_transfer(session, sandbox) as response:
        assert response.status == expected
        assert await response.read() == b""


async def test_reset_aborts_the_connection(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """RESET drops the connection: the client sees a disconnect, nothing is transferred."""
    sandbox.add_fault(Fault(kind=FaultKind.RESET))

    with pytest.raises(aiohttp.ClientConnectionError):
        async with vobiz_transfer(session, sandbox):
            pass

    assert len(sandbox.requests_to("/Call/")) == 1
    assert sandbox.calls[SANDBOX_VOBIZ_CALL_ID].transfers == []


async def test_hang_until_the_client_gives_up(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """HANG never answers; once the client times out, nothing is left running."""
    sandbox.add_fault(Fault(kind=FaultKind.HANG))

    with pytest.raises(TimeoutError):
        async with bland_transfer(session, sandbox, timeout=0.3):
            pass

    await request_handlers_finish()
    assert sandbox.calls[SANDBOX_BLAND_CALL_ID].transfers == []


async def test_hang_ends_when_the_sandbox_stops(
    sandbox: Sandbox, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stop() does not wait for a hanging request: it drops the connection at once.

    The hanging request is aborted by stop() itself, not left to the server's shutdown,
    which would cancel it only after its shutdown timeout.
    """
    sandbox.add_fault(Fault(kind=FaultKind.HANG))
    aborted: list[str] = []
    abort_connection = server._abort  # noqa: SLF001

    def abort(request: web.BaseRequest) -> web.StreamResponse:
        aborted.append(request.path)
        return abort_connection(request)

    monkeypatch.setattr(server, "_abort", abort)

    async def send() -> None:
        async with bland_transfer(session, sandbox, timeout=30):
            pass

    arrived = request_arrives(sandbox)
    hanging = asyncio.create_task(send())
    await arrived.wait()
    await sandbox.stop()

    assert aborted == ["/bland/v1/calls/active/transfer"]
    with pytest.raises(aiohttp.ClientConnectionError):
        await hanging
    assert request_handlers_running() == []


async def test_latency_delays_a_normal_answer(
    sandbox: Sandbox, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LATENCY waits, then handles the request as usual."""
    sandbox.add_fault(Fault(kind=FaultKind.LATENCY, delay=0.3))
    waits = record_waits(sandbox, monkeypatch)

    async with vobiz_transfer(session, sandbox) as response:
        assert response.status == 202

    assert waits == [0.3]
    assert len(sandbox.calls[SANDBOX_VOBIZ_CALL_ID].transfers) == 1


async def test_drip_sends_the_normal_answer_a_byte_at_a_time(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """DRIP handles the request as usual and sends its answer, head included, bytewise."""
    sandbox.add_fault(Fault(kind=FaultKind.DRIP, delay=0.001), times=1)
    chunks: list[bytes] = []

    async with vobiz_transfer(session, sandbox) as response:
        while chunk := await response.content.readany():
            chunks.append(chunk)
        assert response.status == 202
        assert response.headers["Connection"] == "close"
        assert response.content_type == "application/json"

    body = json.loads(b"".join(chunks))
    assert body["message"] == "call transferred"
    assert len(chunks) > 10  # a byte, or a few, at a time
    assert len(sandbox.calls[SANDBOX_VOBIZ_CALL_ID].transfers) == 1
    # What the answer set off goes on once it is sent: the leg's URL is fetched.
    await sandbox.fetches_settled()
    assert sandbox.calls[SANDBOX_VOBIZ_CALL_ID].outcomes


async def test_drip_stops_when_the_client_gives_up(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A client that stops reading a dripping answer leaves no request running."""
    sandbox.add_fault(Fault(kind=FaultKind.DRIP, delay=0.01))

    with pytest.raises(TimeoutError):
        async with bland_transfer(session, sandbox, timeout=0.2) as response:
            await response.read()

    await request_handlers_finish()


async def test_an_error_can_take_its_time(
    sandbox: Sandbox, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A responding fault with a delay answers its error after the delay."""
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=503, delay=0.3))
    waits = record_waits(sandbox, monkeypatch)

    async with vobiz_transfer(session, sandbox) as response:
        assert response.status == 503

    assert waits == [0.3]
    assert sandbox.calls[SANDBOX_VOBIZ_CALL_ID].transfers == []


@pytest.mark.parametrize(
    "fault",
    [
        Fault(kind=FaultKind.STATUS, status=503, delay=30),
        Fault(kind=FaultKind.DRIP, delay=30),
    ],
    ids=["slow error", "drip"],
)
async def test_stop_aborts_a_slow_answer(
    sandbox: Sandbox, session: aiohttp.ClientSession, fault: Fault
) -> None:
    """Stopping the sandbox does not wait for a slow error, or a dripping answer."""
    sandbox.add_fault(fault)
    arrived = request_arrives(sandbox)
    slow = asyncio.ensure_future(vobiz_transfer(session, sandbox).__aenter__())
    await arrived.wait()
    await sandbox.stop()

    with pytest.raises(aiohttp.ClientConnectionError):
        await slow


async def test_account_filter_uses_the_authenticated_account(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A fault for one account misses other accounts and unauthenticated requests."""
    sandbox.add_vobiz_account("MA_OTHER_0002", "other-token")
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=500), account=SANDBOX_VOBIZ_AUTH_ID
    )
    me = f"{sandbox.vobiz_base_url}/auth/me"
    other = {"X-Auth-ID": "MA_OTHER_0002", "X-Auth-Token": "other-token"}
    forged = {"X-Auth-ID": SANDBOX_VOBIZ_AUTH_ID, "X-Auth-Token": "wrong"}

    statuses = []
    for headers in (other, forged, VOBIZ_HEADERS):
        async with session.get(me, headers=headers) as response:
            statuses.append(response.status)

    assert statuses == [200, 401, 500]


async def test_call_filter_reads_the_path_and_the_body(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A call filter matches Vobiz's call UUID in the path and Bland's call_id in the body."""
    for call_id in (SANDBOX_VOBIZ_SECOND_CALL_ID, SANDBOX_BLAND_SECOND_CALL_ID):
        sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=500), call_id=call_id)

    statuses = []
    for request in (
        vobiz_transfer(session, sandbox),
        vobiz_transfer(session, sandbox, SANDBOX_VOBIZ_SECOND_CALL_ID),
        bland_transfer(session, sandbox),
        bland_transfer(session, sandbox, SANDBOX_BLAND_SECOND_CALL_ID),
    ):
        async with request as response:
            statuses.append(response.status)

    assert statuses == [202, 500, 200, 500]


async def test_every_filter_must_match(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """With a path and a call filter, a request matching only one is not hit."""
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=500),
        path_contains="/auth/me",
        call_id=SANDBOX_VOBIZ_CALL_ID,
    )

    async with session.get(
        f"{sandbox.vobiz_base_url}/auth/me", headers=VOBIZ_HEADERS
    ) as response:
        assert response.status == 200
    async with vobiz_transfer(session, sandbox) as response:
        assert response.status == 202


async def test_first_matching_fault_wins_and_clear_faults(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Faults apply in the order added; clear_faults removes them all."""
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=418), times=1)
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=500))

    statuses = []
    for _ in range(2):
        async with bland_transfer(session, sandbox) as response:
            statuses.append(response.status)
    sandbox.clear_faults()
    async with bland_transfer(session, sandbox) as response:
        statuses.append(response.status)

    assert statuses == [418, 500, 200]


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": FaultKind.STATUS},
        {"kind": FaultKind.STATUS, "status": 500, "delay": -1.0},
        {"kind": FaultKind.RESET, "delay": 1.0},
        {"kind": FaultKind.RATE_LIMIT, "status": 503},
        {"kind": FaultKind.MALFORMED_JSON, "body": {"a": 1}},
        {"kind": FaultKind.HTML, "retry_after": "5"},
        {"kind": FaultKind.RESET, "status": 500},
        {"kind": FaultKind.HANG, "headers": {"X": "1"}},
        {"kind": FaultKind.LATENCY},
        {"kind": FaultKind.LATENCY, "delay": -1.0},
        {"kind": FaultKind.RAW, "body": "not bytes"},
        {"kind": FaultKind.DRIP},
        {"kind": FaultKind.DRIP, "delay": 0.1, "status": 500},
    ],
)
def test_a_fault_is_one_kind_with_its_own_fields(fields: dict[str, Any]) -> None:
    """A field the kind does not use, or a missing status or delay, is refused."""
    with pytest.raises(ValueError, match="fault"):
        Fault(**fields)


def test_times_must_be_positive() -> None:
    """A fault that would never apply is refused."""
    with pytest.raises(ValueError, match="times"):
        Sandbox().add_fault(Fault(kind=FaultKind.RESET), times=0)
