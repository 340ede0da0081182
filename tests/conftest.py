"""Shared fixtures: the provider sandbox, and config entries that point at it."""

from __future__ import annotations

from collections.abc import Generator
import json
import logging
from typing import Any
from unittest.mock import patch

import pytest

# Import this repository's integration before Home Assistant's test config directory
# (which ships its own custom_components package) can shadow it.
import custom_components.call_transfer  # noqa: F401  isort:skip

from homeassistant import block_async_io
from homeassistant.const import MATCH_ALL
from homeassistant.core import Context, Event, HomeAssistant, ServiceRegistry, callback
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.call_transfer import diagnostics
from custom_components.call_transfer.const import (
    DOMAIN,
    EVENT_TRANSFER_FAILED,
    EVENT_TRANSFER_SUCCEEDED,
)
from custom_components.call_transfer.providers import PROVIDERS, CallTransferError
from custom_components.call_transfer.providers.bland import key_fingerprint
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_CALL_ID,
    Sandbox,
)

pytest_plugins = ["sandbox.pytest_plugin"]

BLOCKING_IO_REPORT = "inside the event loop by custom integration 'call_transfer'"
# Secrets every test knows of; the secrets of the test's config entries are added to them.
SANDBOX_SECRETS = (
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_BLAND_API_KEY,
)
# Shorter "secrets" (a test's throwaway key such as "k") would match innocent text.
SHORTEST_SECRET = 8


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
def no_secret_leaks(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Generator[None]:
    """Fail any test whose logs, events, action responses, errors or diagnostics hold a secret.

    Secrets: the sandbox's credentials and those of the test's call_transfer entries. The
    integration logs at debug level meanwhile, so its debug lines are checked too.
    """
    caplog.set_level(logging.DEBUG, logger="custom_components.call_transfer")
    seen: list[tuple[str, str]] = []
    original_error_init = CallTransferError.__init__

    def error_init(self: CallTransferError, message: str, **kwargs: Any) -> None:
        original_error_init(self, message, **kwargs)
        seen.append(("provider error", f"{message} {self.request_id}"))

    with patch.object(CallTransferError, "__init__", error_init):
        hass = _watch_home_assistant(request, seen)
        yield
    secrets = set(SANDBOX_SECRETS) | (_entry_secrets(hass) if hass else set())
    secrets = {secret for secret in secrets if len(secret) >= SHORTEST_SECRET}
    records = caplog.get_records("setup") + caplog.get_records("call")
    seen += [("log", _log_text(record)) for record in records]
    if leaks := [
        f"{where}: {text[:300]}"
        for where, text in seen
        if any(secret in text for secret in secrets)
    ]:
        pytest.fail("A secret leaked:\n" + "\n".join(leaks))


def _watch_home_assistant(
    request: pytest.FixtureRequest, seen: list[tuple[str, str]]
) -> HomeAssistant | None:
    """Record the test's events, action outcomes and diagnostics, if it runs a hass."""
    if "hass" not in request.fixturenames:
        return None
    set_up_hass(request)
    hass: HomeAssistant = request.getfixturevalue("hass")

    @callback
    def record_event(event: Event) -> None:
        seen.append((f"event {event.event_type}", repr(event.data)))

    request.addfinalizer(hass.bus.async_listen(MATCH_ALL, record_event))
    async_call = ServiceRegistry.async_call

    async def recording_call(self: ServiceRegistry, *args: Any, **kwargs: Any) -> Any:
        try:
            response = await async_call(self, *args, **kwargs)
        except Exception as err:
            placeholders = getattr(err, "translation_placeholders", None)
            seen.append(("action error", f"{err!r} {err} {placeholders}"))
            raise
        seen.append(("action response", repr(response)))
        return response

    get_diagnostics = diagnostics.async_get_config_entry_diagnostics

    async def recording_diagnostics(*args: Any) -> dict[str, Any]:
        result = await get_diagnostics(*args)
        seen.append(("diagnostics", json.dumps(result, default=str)))
        return result

    for target, name, replacement in (
        (ServiceRegistry, "async_call", recording_call),
        (diagnostics, "async_get_config_entry_diagnostics", recording_diagnostics),
    ):
        patcher = patch.object(target, name, replacement)
        patcher.start()
        request.addfinalizer(patcher.stop)
    return hass


def _entry_secrets(hass: HomeAssistant) -> set[str]:
    return {
        str(entry.data.get(cred.key))
        for entry in hass.config_entries.async_entries(DOMAIN)
        if (provider := PROVIDERS.get(entry.data.get("provider", "")))
        for cred in provider.credential_fields
        if cred.secret
    }


def _log_text(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += logging.Formatter().formatException(record.exc_info)
    return text


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


async def transfer(
    hass: HomeAssistant, context: Context | None = None, **data: Any
) -> Any:
    """Call the action the way a script or the UI does, asking for the response."""
    return await hass.services.async_call(
        DOMAIN, "transfer", data, blocking=True, return_response=True, context=context
    )


def transfer_data(provider: str, call_id: str | None = None) -> dict[str, str]:
    """Return valid action data for a live call (the provider's seeded one by default)."""
    if provider == "vobiz":
        return {
            "call_id": call_id or SANDBOX_VOBIZ_CALL_ID,
            "aleg_url": "https://xml.example.com/transfer/aleg",
        }
    return {"call_id": call_id or SANDBOX_BLAND_CALL_ID, "to": "+14155550100"}


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up an entry (and with it the integration) and wait until it settles."""
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
def events(hass: HomeAssistant) -> dict[str, list[Any]]:
    """Capture both transfer events."""
    return {
        "succeeded": async_capture_events(hass, EVENT_TRANSFER_SUCCEEDED),
        "failed": async_capture_events(hass, EVENT_TRANSFER_FAILED),
    }
