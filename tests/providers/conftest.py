"""Fixtures for the provider clients: a real aiohttp session that counts its requests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
import logging
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
    CallTransferError,
    TransferProvider,
    TransferRequest,
)
from sandbox import Fault, FaultKind, Sandbox

# (HTTP status, the provider's error answer, the error it is read as, what its message says)
type ErrorAnswer = tuple[int, Any, type[CallTransferError], str]


@dataclass
class RequestCounter:
    """What the client tried to send, seen from the client side."""

    attempts: int = 0
    connection_errors: list[BaseException] = field(default_factory=list)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the harness fixture: these tests use no Home Assistant."""


@pytest.fixture(autouse=True)
def no_secret_in_logs(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """Capture debug logs; after each test, check that none of the module's SECRETS was logged."""
    caplog.set_level(logging.DEBUG, logger="custom_components.call_transfer.providers")
    yield
    secrets: tuple[str, ...] = getattr(request.module, "SECRETS", ())
    assert not any(secret in caplog.text for secret in secrets)


async def failed_transfer(
    client: TransferProvider,
    request: TransferRequest,
    sandbox: Sandbox | None = None,
    fault: Fault | None = None,
) -> CallTransferError:
    """Inject ``fault`` into the sandbox (if given), transfer, and return the error raised."""
    if sandbox is not None and fault is not None:
        sandbox.add_fault(fault)
    with pytest.raises(CallTransferError) as raised:
        await client.async_transfer(request)
    return raised.value


async def assert_read_as(
    client: TransferProvider,
    request: TransferRequest,
    sandbox: Sandbox,
    answer: ErrorAnswer,
) -> None:
    """Answer a transfer with an error; check the error and message it is read as."""
    status, body, expected, message = answer
    fault = Fault(kind=FaultKind.STATUS, status=status, body=body)
    error = await failed_transfer(client, request, sandbox, fault)
    assert (type(error), error.status) == (expected, status)
    assert message in error.message


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
