"""Shared fixtures: the provider sandbox, and config entries that point at it."""

from __future__ import annotations

from collections.abc import Generator
import logging
from typing import Any
from unittest.mock import patch

import pytest

# Import this repository's integration before Home Assistant's test config directory
# (which ships its own custom_components package) can shadow it.
import custom_components.call_transfer  # noqa: F401  isort:skip

from homeassistant import block_async_io
from homeassistant.core import Context, HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.call_transfer.const import (
    DOMAIN,
    EVENT_TRANSFER_FAILED,
    EVENT_TRANSFER_SUCCEEDED,
)
from custom_components.call_transfer.providers.bland import key_fingerprint
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    RecordedRequest,
    Sandbox,
)

pytest_plugins = ["sandbox.pytest_plugin", "tests.live_calls"]

BLOCKING_IO_REPORT = "inside the event loop by custom integration 'call_transfer'"


def blocking_io_reports(records: list[logging.LogRecord]) -> list[str]:
    """Return the reports of blocking I/O done by this integration in the event loop."""
    return [r.getMessage() for r in records if BLOCKING_IO_REPORT in r.getMessage()]


def set_up_hass(request: pytest.FixtureRequest) -> None:
    """Set up the test's Home Assistant, after the recorder when the test uses one."""
    if "recorder_mock" in request.fixturenames:
        request.getfixturevalue("recorder_mock")
    request.getfixturevalue("hass")


@pytest.fixture(autouse=True)
def fail_on_blocking_io(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Generator[None]:
    """Arm Home Assistant's blocking-I/O detector while a test runs a Home Assistant.

    Home Assistant arms it when it boots; the test harness does not, and in tests it
    would skip file I/O. It watches the event loop's thread, so it is armed, file I/O
    included, only once ``hass`` is set up (pytest works in that thread too). Blocking
    sleeps and HTTP then raise; any other blocking call the integration makes logs a
    report that fails the test here.
    """
    if "hass" not in request.fixturenames or block_async_io._BLOCKED_CALLS.calls:  # noqa: SLF001
        yield
        return
    set_up_hass(request)
    with patch.object(block_async_io, "_IN_TESTS", False):
        block_async_io.enable()
    try:
        yield
    finally:
        for blocking_call in block_async_io._BLOCKED_CALLS.calls:  # noqa: SLF001
            setattr(
                blocking_call.object,
                blocking_call.function,
                blocking_call.original_func,
            )
        block_async_io._BLOCKED_CALLS.calls.clear()  # noqa: SLF001
    if reports := blocking_io_reports(caplog.records):
        pytest.fail("Blocking I/O in the event loop:\n" + "\n".join(reports))


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant load custom integrations in every test."""
    set_up_hass(request)
    request.getfixturevalue("enable_custom_integrations")


def vobiz_data(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """Entry data for the sandbox's Vobiz account."""
    return {
        "provider": "vobiz",
        "auth_id": SANDBOX_VOBIZ_AUTH_ID,
        "auth_token": SANDBOX_VOBIZ_AUTH_TOKEN,
        "base_url": sandbox.vobiz_base_url,
    } | overrides


def bland_data(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """Entry data for the sandbox's Bland AI account."""
    return {
        "provider": "bland",
        "api_key": SANDBOX_BLAND_API_KEY,
        "base_url": sandbox.bland_base_url,
    } | overrides


@pytest.fixture
def vobiz_entry(hass: HomeAssistant, sandbox: Sandbox) -> MockConfigEntry:
    """Return a Vobiz entry for the sandbox account, added but not set up."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"Vobiz ({SANDBOX_VOBIZ_AUTH_ID})",
        unique_id=f"vobiz_{SANDBOX_VOBIZ_AUTH_ID}",
        data=vobiz_data(sandbox),
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
def bland_entry(hass: HomeAssistant, sandbox: Sandbox) -> MockConfigEntry:
    """Return a Bland AI entry for the sandbox account, added but not set up."""
    fingerprint = key_fingerprint(SANDBOX_BLAND_API_KEY)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"Bland AI (key …{fingerprint[:8]})",
        unique_id=f"bland_{fingerprint}",
        data=bland_data(sandbox),
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
def events(hass: HomeAssistant) -> dict[str, list[Any]]:
    """Capture both transfer events."""
    return {
        "succeeded": async_capture_events(hass, EVENT_TRANSFER_SUCCEEDED),
        "failed": async_capture_events(hass, EVENT_TRANSFER_FAILED),
    }


async def transfer(
    hass: HomeAssistant, context: Context | None = None, **data: Any
) -> Any:
    """Call the action the way a script or the UI does, asking for the response."""
    return await hass.services.async_call(
        DOMAIN, "transfer", data, blocking=True, return_response=True, context=context
    )


def transfers_sent(sandbox: Sandbox) -> list[RecordedRequest]:
    """Return the transfer requests the sandbox received.

    Both APIs transfer with POST; everything else the integration sends (account checks,
    live-call polls) is a GET.
    """
    return [request for request in sandbox.requests if request.method == "POST"]


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up an entry (and with it the integration) and wait until it settles."""
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
