"""Fixtures for the provider clients: a real aiohttp session that counts its requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace

import aiohttp
import pytest


@dataclass
class RequestCounter:
    """What the client tried to send, seen from the client side."""

    attempts: int = 0
    connection_errors: list[BaseException] = field(default_factory=list)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the harness fixture: these tests use no Home Assistant."""


@pytest.fixture
def counter() -> RequestCounter:
    """Count request attempts made through the session."""
    return RequestCounter()


@pytest.fixture
async def session(counter: RequestCounter) -> AsyncIterator[aiohttp.ClientSession]:
    """Yield an aiohttp session like the one Home Assistant injects, with request tracing."""
    trace = aiohttp.TraceConfig()

    async def on_request_start(
        _session: aiohttp.ClientSession, _ctx: SimpleNamespace, _params: object
    ) -> None:
        counter.attempts += 1

    trace.on_request_start.append(on_request_start)
    async with aiohttp.ClientSession(trace_configs=[trace]) as client_session:
        yield client_session
