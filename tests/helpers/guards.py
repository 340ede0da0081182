"""Suite-wide guards: a test fails when the integration blocks the event loop or leaks a secret."""

from __future__ import annotations

from collections.abc import Generator
import json
import logging
from typing import Any
from unittest.mock import patch

from homeassistant import block_async_io
from homeassistant.components import webhook
from homeassistant.const import MATCH_ALL
from homeassistant.core import Event, HomeAssistant, ServiceRegistry, callback
import pytest

from custom_components.call_transfer import diagnostics
from custom_components.call_transfer.const import DOMAIN
from custom_components.call_transfer.providers import PROVIDERS, CallTransferError
from custom_components.call_transfer.providers.http import basic_auth
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_API_KEY_SECRET,
    SANDBOX_TWILIO_API_KEY_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_VOBIZ_AUTH_TOKEN,
)
from tests.helpers.hass import set_up_hass

BLOCKING_IO_REPORT = "inside the event loop by custom integration 'call_transfer'"
# Secrets every test knows of: every sandbox credential, and the HTTP Basic values built
# from them; the secrets of the test's config entries are added to them.
SANDBOX_SECRETS = (
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_BLAND_API_KEY,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_TWILIO_API_KEY_SECRET,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_PLIVO_AUTH_TOKEN,
    *(
        basic_auth(user, password).removeprefix("Basic ")
        for user, password in (
            (SANDBOX_TWILIO_ACCOUNT_SID, SANDBOX_TWILIO_AUTH_TOKEN),
            (SANDBOX_TWILIO_API_KEY_SID, SANDBOX_TWILIO_API_KEY_SECRET),
            (SANDBOX_PLIVO_AUTH_ID, SANDBOX_PLIVO_AUTH_TOKEN),
        )
    ),
)
# Shorter "secrets" (a test's throwaway key such as "k") would match innocent text.
SHORTEST_SECRET = 8
# The loggers of this project, where a webhook id (a credential) must never show.
OWN_LOGGERS = ("custom_components.call_transfer", "sandbox")


def blocking_io_reports(records: list[logging.LogRecord]) -> list[str]:
    """Return the reports of blocking I/O done by this integration in the event loop."""
    return [r.getMessage() for r in records if BLOCKING_IO_REPORT in r.getMessage()]


def records_of_the_test(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Return what the test logged so far: in its setup, its call and its teardown.

    ``caplog.records`` alone holds only the current phase's (a guard runs in teardown).
    """
    return [
        *caplog.get_records("setup"),
        *caplog.get_records("call"),
        *caplog.records,
    ]


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
    if reports := blocking_io_reports(records_of_the_test(caplog)):
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

    webhook_ids: set[str] = set()
    register_webhook = webhook.async_register

    def recording_register(
        hass: HomeAssistant,
        domain: str,
        name: str,
        webhook_id: str,
        *args: Any,
        **kw: Any,
    ) -> None:
        if domain == DOMAIN:
            webhook_ids.add(webhook_id)
        register_webhook(hass, domain, name, webhook_id, *args, **kw)

    with (
        patch.object(CallTransferError, "__init__", error_init),
        patch.object(webhook, "async_register", recording_register),
    ):
        hass = _watch_home_assistant(request, seen)
        yield
    secrets = set(SANDBOX_SECRETS) | (_entry_secrets(hass) if hass else set())
    secrets = {secret for secret in secrets if len(secret) >= SHORTEST_SECRET}
    records = records_of_the_test(caplog)
    seen += [("log", _log_text(record)) for record in records]
    # Home Assistant logs the paths it serves and the ids of webhooks it does not know,
    # the test harness what it stores: a webhook id must be in no log of this project.
    seen_ids = [
        ("log", _log_text(record))
        for record in records
        if record.name.startswith(OWN_LOGGERS)
    ]
    if leaks := [
        f"{where}: {text[:300]}"
        for where, text in seen
        if any(secret in text for secret in secrets)
    ] + [
        f"{where}: {text[:300]} (a webhook id)"
        for where, text in [
            *seen_ids,
            # What an action was called with is the caller's (a test may pass a URL).
            *(item for item in seen if item[0] not in ("log", "event call_service")),
        ]
        if any(webhook_id in text for webhook_id in webhook_ids)
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
