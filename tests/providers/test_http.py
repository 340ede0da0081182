"""The shared request helper: URLs, path segments, Retry-After, broken transports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
import gzip
from pathlib import Path
import re
import shutil
import subprocess
import sys
import zlib

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
    BlandClient,
    CallTransferError,
    CannotConnectError,
    InvalidBaseUrlError,
    InvalidRequestError,
    TransferRequest,
    UnexpectedResponseError,
)
from custom_components.call_transfer.providers.http import (
    MAX_TEXT_LENGTH,
    ApiResponse,
    HttpClient,
    normalize_base_url,
    parse_retry_after,
)
from custom_components.call_transfer.providers.validation import path_segment
from sandbox import SANDBOX_BLAND_API_KEY, Fault, FaultKind, Sandbox

INTEGRATION = (
    Path(__file__).resolve().parents[2] / "custom_components" / "call_transfer"
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.vobiz.ai/api/v1/", "https://api.vobiz.ai/api/v1"),
        ("https://eu.proxy.example:8443/bland", "https://eu.proxy.example:8443/bland"),
        ("http://127.0.0.1:8765/bland", "http://127.0.0.1:8765/bland"),
        ("http://127.10.0.2/x/", "http://127.10.0.2/x"),
        ("http://localhost:8765", "http://localhost:8765"),
        ("http://[::1]:8765/vobiz", "http://[::1]:8765/vobiz"),
    ],
)
def test_base_url_accepted(url: str, expected: str) -> None:
    """Https anywhere, http only on loopback; a trailing slash is dropped."""
    assert normalize_base_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://api.vobiz.ai/api/v1",
        "http://10.0.0.5/api",
        "ftp://127.0.0.1/x",
        "api.vobiz.ai/api/v1",
        "https://user:pass@api.vobiz.ai/",
        "https://api.vobiz.ai/api/v1?debug=1",
        "https://api.vobiz.ai/#x",
        "",
    ],
)
def test_base_url_refused(url: str) -> None:
    """Anything that could leak credentials or reach the wrong place is refused."""
    with pytest.raises(InvalidBaseUrlError):
        normalize_base_url(url)


@pytest.mark.parametrize(
    "value",
    [
        "../../auth/me",
        "..",
        ".",
        "a/b",
        "a?b",
        "a#b",
        "a%2Fb",
        "a b",
        "",
        "ü",
        "x" * 129,
        "-x",
    ],
)
def test_path_segment_refuses_injection(value: str) -> None:
    """Nothing that could change the request path gets through."""
    with pytest.raises(InvalidRequestError):
        path_segment(value, "call ID")


def test_path_segment_accepts_provider_ids() -> None:
    """Real call ids and auth ids pass unchanged."""
    for value in ("29f01d00-5197-4b83-bc0f-161e14533a78", "MA_SANDBOX_0001", "CA.1:2"):
        assert path_segment(value, "id") == value


def test_retry_after() -> None:
    """Delta-seconds and HTTP dates are both understood."""
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3", now=now) == 3.0
    assert parse_retry_after("0.5", now=now) == 0.5
    assert parse_retry_after("-4", now=now) == 0.0
    assert parse_retry_after("Sun, 22 Nov 2026 12:00:04 GMT", now=now) == 4.0
    assert parse_retry_after("Sun, 22 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("Sun, 22 Nov 2026 12:00:02 -0000", now=now) == 2.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None, now=now) is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("inf", 600.0),
        ("Infinity", 600.0),
        ("1e12", 600.0),
        ("601", 600.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 600.0),
        ("Sun, 22 Nov 2026 12:10:01 GMT", 600.0),
        ("-inf", 0.0),
        ("-5", 0.0),
        ("nan", None),
        ("NaN", None),
    ],
)
def test_retry_after_is_capped(value: str, seconds: float | None) -> None:
    """Issue 21, 4: at most 10 minutes, at least none; nan is no number of seconds."""
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == seconds


def test_providers_package_never_imports_home_assistant(tmp_path: Path) -> None:
    """The clients are a standalone library: importing them loads no Home Assistant.

    Imported from a copy, as the published package ships it: with the integration's own
    folder on sys.path, its select.py would shadow the standard library's select.
    """
    shutil.copytree(INTEGRATION / "providers", tmp_path / "providers")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import providers; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'homeassistant'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


@pytest.fixture
async def truncating_server(socket_enabled: None) -> AsyncIterator[str]:
    """Yield the URL of a server that promises a body, sends a byte of it and hangs up.

    The sandbox speaks HTTP properly through aiohttp; this breaks the protocol itself.
    """

    async def answer(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


async def test_broken_response_body(truncating_server: str) -> None:
    """A response cut short mid-body is a broken connection, and may have transferred."""
    async with aiohttp.ClientSession() as session:
        client = BlandClient(session, api_key="k", base_url=truncating_server)
        with pytest.raises(CannotConnectError) as raised:
            await client.async_transfer(
                TransferRequest(call_id="c1", to="+14155550100")
            )
    assert raised.value.outcome_unknown
    assert "ClientPayloadError" in raised.value.message


async def test_waiting_for_a_free_connection_is_not_may_have_happened(
    sandbox: Sandbox,
) -> None:
    """Issue 12, finding 7: only time after a request may have left counts.

    Two connections for six transfers to a slow provider: the ones still waiting for a
    connection when their time is up were never sent, and must say so.
    """
    for index in range(6):
        sandbox.add_call("bland", SANDBOX_BLAND_API_KEY, f"queued-{index}")
    sandbox.add_fault(
        Fault(kind=FaultKind.LATENCY, delay=0.4), path_contains="transfer"
    )
    connector = aiohttp.TCPConnector(limit_per_host=2)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = BlandClient(
            session,
            api_key=SANDBOX_BLAND_API_KEY,
            base_url=sandbox.bland_base_url,
            timeout=0.6,
        )
        outcomes = await asyncio.gather(
            *(
                client.async_transfer(
                    TransferRequest(call_id=f"queued-{index}", to="+14155550100")
                )
                for index in range(6)
            ),
            return_exceptions=True,
        )

    sent = {request.json["call_id"] for request in sandbox.requests_to("transfer")}
    not_sent = {f"queued-{index}" for index in range(6)} - sent
    assert not_sent, "the test needs requests that never got a connection"
    for index, outcome in enumerate(outcomes):
        call_id = f"queued-{index}"
        if call_id in not_sent:
            assert isinstance(outcome, CallTransferError), outcome
            assert not outcome.outcome_unknown, outcome.message
            assert "not sent" in outcome.message
        elif isinstance(outcome, CallTransferError):
            assert outcome.outcome_unknown, outcome.message


@pytest.fixture
async def raw_server(socket_enabled: None) -> AsyncIterator[list[bytes]]:
    """Serve the bytes appended to the yielded list, as they are, to every request.

    Its URL is the list's first item: append the raw HTTP answer after it.
    """
    answers: list[bytes] = []

    async def answer(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if length := re.search(rb"(?i)content-length: *(\d+)", head):
            await reader.readexactly(int(length[1]))
        writer.write(answers[1])
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    answers.append(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}".encode())
    async with server:
        yield answers


def chunked(status: str, headers: str, body: bytes, chunk_size: int = 65536) -> bytes:
    """Return a raw HTTP/1.1 answer with a chunked body (no Content-Length)."""
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(part), part)
        for part in (
            body[index : index + chunk_size]
            for index in range(0, len(body), chunk_size)
        )
    )
    head = f"HTTP/1.1 {status}\r\nTransfer-Encoding: chunked\r\n{headers}\r\n"
    return head.encode() + chunks + b"0\r\n\r\n"


def sized(status: str, headers: str, body: bytes, length: int | None = None) -> bytes:
    """Return a raw HTTP/1.1 answer with a Content-Length (the body's own, unless given)."""
    length = len(body) if length is None else length
    head = f"HTTP/1.1 {status}\r\nContent-Length: {length}\r\n{headers}\r\n"
    return head.encode() + body


SUCCESS = b'{"data": {"message": "transferred"}, "errors": null}'
JSON = "Content-Type: application/json\r\n"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(chunked("200 OK", JSON, SUCCESS), id="chunked"),
        pytest.param(
            chunked(
                "200 OK", JSON + "Content-Encoding: gzip\r\n", gzip.compress(SUCCESS)
            ),
            id="chunked-gzip",
        ),
        pytest.param(
            sized(
                "200 OK", JSON + "Content-Encoding: deflate\r\n", zlib.compress(SUCCESS)
            ),
            id="deflate",
        ),
    ],
)
async def test_answers_in_any_framing_and_encoding_are_read(
    raw_server: list[bytes], answer: bytes
) -> None:
    """Chunked, gzip and deflate answers are read (the client inflates them itself)."""
    raw_server.append(answer)
    async with aiohttp.ClientSession() as session:
        client = BlandClient(session, api_key="k", base_url=raw_server[0].decode())
        result = await client.async_transfer(
            TransferRequest(call_id="c1", to="+14155550100")
        )
    assert result.message == "transferred"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        pytest.param(
            chunked("200 OK", JSON, b" " * 1_100_000), "too large", id="chunked-huge"
        ),
        pytest.param(
            sized("200 OK", JSON, b"{}", length=2_000_000),
            "too large",
            id="huge-length",
        ),
        pytest.param(
            sized("200 OK", JSON + "Content-Encoding: br\r\n", b"\x0b\x02\x80{}\x03"),
            "cannot read (br)",
            id="brotli",
        ),
        pytest.param(
            sized("200 OK", JSON + "Content-Encoding: gzip\r\n", b"not gzip at all"),
            "gzip answer is corrupt",
            id="corrupt-gzip",
        ),
    ],
)
async def test_unreadable_bodies_are_refused(
    raw_server: list[bytes], answer: bytes, reason: str
) -> None:
    """Too large, in an unknown encoding or corrupt: unreadable, and it may have transferred."""
    raw_server.append(answer)
    async with aiohttp.ClientSession() as session:
        client = BlandClient(session, api_key="k", base_url=raw_server[0].decode())
        with pytest.raises(UnexpectedResponseError) as raised:
            await client.async_transfer(
                TransferRequest(call_id="c1", to="+14155550100")
            )
    assert reason in raised.value.message
    assert raised.value.outcome_unknown


async def test_header_aiohttp_refuses_is_a_typed_error(sandbox: Sandbox) -> None:
    """A ValueError from aiohttp (an org id with a line break) stays in the hierarchy."""
    async with aiohttp.ClientSession() as session:
        client = BlandClient(
            session,
            api_key=SANDBOX_BLAND_API_KEY,
            org_id="org\r\nX-Injected: 1",
            base_url=sandbox.bland_base_url,
        )
        with pytest.raises(CannotConnectError) as raised:
            await client.async_live_calls()
    assert not raised.value.outcome_unknown
    assert sandbox.requests_to("/v1/calls/active") == []


async def test_every_text_of_an_answer_is_scrubbed_then_capped(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Every string of an answer, however deep, and its headers: masked, then cut.

    Masked before cutting, so a secret cut in half by the cap cannot show. A client
    gets this from the shared layer, whatever provider it speaks.
    """
    client = HttpClient(
        session, sandbox.bland_base_url, {}, secrets=("s3cr3t-token", "")
    )
    client.add_secret("learnt-secret")
    client.add_secret("learnt-secret")
    client.add_secret("")
    long = "x" * (MAX_TEXT_LENGTH - 5) + "s3cr3t-token learnt-secret"
    answer = {"message": long, "calls": [{"id": ["s3cr3t-token"]}], "count": 3}
    sandbox.add_fault(
        Fault(
            kind=FaultKind.STATUS,
            status=200,
            body=answer,
            headers={"X-Request-Id": "rq-learnt-secret"},
        )
    )

    response = await client.request("GET", "/v1/anything")
    data = response.json()

    assert len(data["message"]) == MAX_TEXT_LENGTH
    assert data["message"].endswith("…")
    assert "s3cr" not in data["message"]
    assert data["calls"] == [{"id": ["***"]}]
    assert data["count"] == 3
    assert response.header("X-Request-Id") == "rq-***"
    assert response.header("X-Not-Sent") is None


def test_text_nested_as_deep_as_json_goes_is_scrubbed() -> None:
    """The walk over an answer does not recurse: any depth the decoder reads is fine."""
    depth = 5000
    body = b"[" * depth + b'"a s3cr3t-token"' + b"]" * depth
    response = ApiResponse(
        status=200,
        headers={},
        body=body,
        content_type="application/json",
        secrets=("s3cr3t-token",),
    )

    node = response.json()
    # This Python's decoder may refuse the depth: unreadable, as it should be.
    if node is None:
        return
    while isinstance(node, list):
        [node] = node
    assert node == "a ***"
    assert ApiResponse(200, {}, b'"s3cr3t-token"', "", ("s3cr3t-token",)).json() == (
        "***"
    )
