"""The shared request helper: URLs, path segments, Retry-After, broken transports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
import subprocess
import sys

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
    BlandClient,
    CannotConnectError,
    InvalidBaseUrlError,
    InvalidRequestError,
    TransferRequest,
)
from custom_components.call_transfer.providers.http import (
    normalize_base_url,
    parse_retry_after,
)
from custom_components.call_transfer.providers.validation import path_segment

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


def test_providers_package_never_imports_home_assistant() -> None:
    """The clients are a standalone library: importing them loads no Home Assistant."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import providers; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'homeassistant'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(INTEGRATION)],
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
