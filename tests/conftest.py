"""Shared fixtures: the provider sandbox, and config entries that point at it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
import json
import logging
from typing import Any, Final
from unittest.mock import patch

import pytest

# Import this repository's integration before Home Assistant's test config directory
# (which ships its own custom_components package) can shadow it.
import custom_components.call_transfer  # noqa: F401  isort:skip

from homeassistant import block_async_io
from homeassistant.components import webhook
from homeassistant.const import MATCH_ALL
from homeassistant.core import Context, Event, HomeAssistant, ServiceRegistry, callback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.call_transfer import diagnostics
from custom_components.call_transfer.const import (
    DOMAIN,
    EVENT_TRANSFER_FAILED,
    EVENT_TRANSFER_SUCCEEDED,
)
from custom_components.call_transfer.providers import PROVIDERS, CallTransferError
from custom_components.call_transfer.providers.base import (
    key_fingerprint as fingerprint_of_key,
)
from custom_components.call_transfer.providers.http import basic_auth
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CALL_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_API_KEY_SECRET,
    SANDBOX_TWILIO_API_KEY_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_TWILIO_CALL_SID,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    ProviderName,
    RecordedRequest,
    Sandbox,
    SandboxCall,
)

pytest_plugins = ["sandbox.pytest_plugin", "tests.live_calls", "tests.push"]

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
    records = caplog.get_records("setup") + caplog.get_records("call")
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


def twilio_data(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """Entry data for the sandbox's Twilio account, authenticated by its auth token."""
    return {
        "provider": "twilio",
        "account_sid": SANDBOX_TWILIO_ACCOUNT_SID,
        "secret": SANDBOX_TWILIO_AUTH_TOKEN,
        "base_url": sandbox.twilio_base_url,
    } | overrides


def telnyx_data(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """Entry data for the sandbox's Telnyx API key."""
    return {
        "provider": "telnyx",
        "api_key": SANDBOX_TELNYX_API_KEY,
        "base_url": sandbox.telnyx_base_url,
    } | overrides


def plivo_data(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """Entry data for the sandbox's Plivo account."""
    credentials = {
        "auth_id": SANDBOX_PLIVO_AUTH_ID,
        "auth_token": SANDBOX_PLIVO_AUTH_TOKEN,
    }
    return (
        {"provider": "plivo"}
        | credentials
        | {"base_url": sandbox.plivo_base_url}
        | overrides
    )


def revoke_vobiz(sandbox: Sandbox) -> None:
    """Rotate the Vobiz token elsewhere: the entry's token is rejected."""
    sandbox.vobiz_accounts[SANDBOX_VOBIZ_AUTH_ID].auth_token = "rotated-elsewhere"


def revoke_bland(sandbox: Sandbox) -> None:
    """Revoke the Bland key."""
    del sandbox.bland_accounts[SANDBOX_BLAND_API_KEY]


def revoke_twilio(sandbox: Sandbox) -> None:
    """Roll the Twilio auth token over elsewhere."""
    sandbox.twilio_accounts[SANDBOX_TWILIO_ACCOUNT_SID].auth_token = "rolled-over"


def revoke_telnyx(sandbox: Sandbox) -> None:
    """Delete the Telnyx API key."""
    del sandbox.telnyx_accounts[SANDBOX_TELNYX_API_KEY]


def revoke_plivo(sandbox: Sandbox) -> None:
    """Regenerate the Plivo Auth Token elsewhere."""
    sandbox.plivo_accounts[SANDBOX_PLIVO_AUTH_ID].auth_token = "regenerated"


def dialed_in_request(sandbox: Sandbox, call_id: str) -> tuple[str, ...]:
    """Return the numbers a transfer request sent the call to (or its TwiML dials)."""
    return tuple(
        filter(None, (sandbox.calls[call_id].transferred_to or "").split(", "))
    )


def dialed_through_xml(sandbox: Sandbox, call_id: str) -> tuple[str, ...]:
    """Return the numbers the call XML its transferred leg fetched last dials."""
    outcomes = sandbox.calls[call_id].outcomes
    return outcomes[-1].numbers if outcomes else ()


@dataclass(frozen=True, kw_only=True)
class ProviderCase:
    """One provider's sandbox account, for tests that run on every provider."""

    provider: ProviderName
    title: str
    unique_id: str
    data: Callable[..., dict[str, Any]]  # entry data: data(sandbox, **overrides)
    transfer: dict[str, str]  # action data of a valid transfer of its seeded live call
    transfer_path: str  # a fragment of the path of its transfer request
    ended_status: int  # the HTTP status of a transfer of a call that has ended
    revoke: Callable[[Sandbox], None]  # make the sandbox reject the credentials
    # Where a transfer to a number sends the call, as the sandbox recorded it.
    dialed: Callable[[Sandbox, str], tuple[str, ...]]
    # Live calls: the sandbox account's key, a fragment of the listing's path, the
    # options an entry needs to list calls, and what the listing tells of a call.
    account: str
    listing_path: str
    live_options: dict[str, str] = field(default_factory=dict)
    live_status: str | None = "in-progress"
    lists_numbers: bool = True
    lists_direction: bool = True
    # The status and body of the provider accepting a transfer of a call, with a text in
    # every field the client reads from it: accepted(call_id, text).
    accepted: Callable[[str, str], tuple[int, dict[str, Any]]]
    # A secret the account knows that the provider may echo (a credential, or one the
    # credential check tells, such as Vobiz's auth_secret).
    known_secret: str

    def is_listing(self, request: RecordedRequest) -> bool:
        """Whether a request lists the live calls (not one call's details: a lookup)."""
        return request.method == "GET" and request.path.endswith(self.listing_path)

    @property
    def call_id(self) -> str:
        """The seeded live call the transfer is for."""
        return self.transfer["call_id"]

    @property
    def destination(self) -> dict[str, str]:
        """Where the valid transfer goes: its action data besides the call id."""
        return {key: value for key, value in self.transfer.items() if key != "call_id"}

    def seen(self, call: SandboxCall) -> dict[str, Any]:
        """Return a sandbox call as Home Assistant describes it from this provider's listing."""
        return {
            "call_id": call.call_id,
            "from": call.from_number if self.lists_numbers else None,
            "to": call.to_number if self.lists_numbers else None,
            "direction": call.direction if self.lists_direction else None,
            "status": self.live_status,
            "started": call.started.isoformat(),
        }


# The sandbox's documented accounts and calls, as every sandbox starts with them.
SEEDED: Final = Sandbox()


def plivo_style_case(
    provider: ProviderName,
    title: str,
    data: Callable[..., dict[str, Any]],
    revoke: Callable[[Sandbox], None],
    known_secret: str,
) -> ProviderCase:
    """Return the case of a Plivo-style call API (Vobiz, Plivo): what they share is here.

    Transfers point the seeded call's A leg at an XML URL; live calls are listed as ids
    under /Call/; a call that has ended is not found (404); numbers are dialed through
    the Dial XML Home Assistant serves.
    """
    auth_id = next(iter(SEEDED.accounts[provider]))
    call_id = SEEDED.account_calls(provider, auth_id)[0].call_id  # the first seeded
    return ProviderCase(
        provider=provider,
        account=auth_id,
        listing_path="/Call/",
        unique_id=f"{provider}_{auth_id}",
        transfer_path="/Call/",
        dialed=dialed_through_xml,
        title=title,
        data=data,
        revoke=revoke,
        ended_status=404,
        transfer={
            "call_id": call_id,
            "aleg_url": f"https://xml.example.com/transfer/{provider}",
        },
        accepted=lambda _call_id, text: (202, {"api_id": text, "message": text}),
        known_secret=known_secret,
    )


_BLAND_FINGERPRINT = fingerprint_of_key("bland", SANDBOX_BLAND_API_KEY)
TELNYX_FINGERPRINT = fingerprint_of_key("telnyx", SANDBOX_TELNYX_API_KEY)
PROVIDER_CASES: dict[str, ProviderCase] = {
    case.provider: case
    for case in (
        plivo_style_case(
            "vobiz",
            f"Vobiz ({SANDBOX_VOBIZ_AUTH_ID})",
            vobiz_data,
            revoke_vobiz,
            SANDBOX_VOBIZ_AUTH_SECRET,  # learnt at setup, never configured
        ),
        ProviderCase(
            provider="bland",
            title=f"Bland AI (key …{_BLAND_FINGERPRINT[:8]})",
            unique_id=f"bland_{_BLAND_FINGERPRINT}",
            data=bland_data,
            transfer={"call_id": SANDBOX_BLAND_CALL_ID, "to": "+14155550100"},
            transfer_path="/transfer",
            ended_status=404,
            revoke=revoke_bland,
            dialed=dialed_in_request,
            account=SANDBOX_BLAND_API_KEY,
            listing_path="/v1/calls/active",
            live_options={"org_id": SANDBOX_BLAND_ORG_ID},
            live_status="IN_PROGRESS",
            lists_direction=False,
            accepted=lambda _call_id, text: (200, {"data": {"message": text}}),
            known_secret=SANDBOX_BLAND_API_KEY,
        ),
        ProviderCase(
            provider="twilio",
            title="Twilio (Sandbox Twilio account)",
            unique_id=f"twilio_{SANDBOX_TWILIO_ACCOUNT_SID}",
            data=twilio_data,
            transfer={"call_id": SANDBOX_TWILIO_CALL_SID, "to": "+14155550100"},
            transfer_path="/Calls/CA",
            ended_status=400,
            revoke=revoke_twilio,
            dialed=dialed_in_request,
            account=SANDBOX_TWILIO_ACCOUNT_SID,
            listing_path="/Calls.json",
            # Twilio and Telnyx: the call status or result the message is made of.
            accepted=lambda call_id, text: (200, {"sid": call_id, "status": text}),
            known_secret=SANDBOX_TWILIO_AUTH_TOKEN,
        ),
        ProviderCase(
            provider="telnyx",
            title=f"Telnyx (key …{TELNYX_FINGERPRINT[:8]})",
            unique_id=f"telnyx_{TELNYX_FINGERPRINT}",
            data=telnyx_data,
            transfer={"call_id": SANDBOX_TELNYX_CALL_ID, "to": "+14155550100"},
            transfer_path="/actions/transfer",
            ended_status=422,
            revoke=revoke_telnyx,
            dialed=dialed_in_request,
            account=SANDBOX_TELNYX_API_KEY,
            listing_path="/active_calls",
            live_options={"connection_id": SANDBOX_TELNYX_CONNECTION_ID},
            live_status=None,
            lists_numbers=False,
            lists_direction=False,
            accepted=lambda _call_id, text: (200, {"data": {"result": text}}),
            known_secret=SANDBOX_TELNYX_API_KEY,
        ),
        plivo_style_case(
            "plivo",
            "Plivo (Sandbox Plivo account)",
            plivo_data,
            revoke_plivo,
            SANDBOX_PLIVO_AUTH_TOKEN,
        ),
    )
}


def add_entry(
    hass: HomeAssistant, sandbox: Sandbox, provider: str, **entry_fields: Any
) -> MockConfigEntry:
    """Add (not set up) an entry for the provider's sandbox account.

    ``entry_fields`` are more of the entry's fields (options, subentries_data).
    """
    case = PROVIDER_CASES[provider]
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=case.title,
        unique_id=case.unique_id,
        data=case.data(sandbox),
        **entry_fields,
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
def vobiz_entry(hass: HomeAssistant, sandbox: Sandbox) -> MockConfigEntry:
    """Return a Vobiz entry for the sandbox account, added but not set up."""
    return add_entry(hass, sandbox, "vobiz")


@pytest.fixture
def bland_entry(hass: HomeAssistant, sandbox: Sandbox) -> MockConfigEntry:
    """Return a Bland AI entry for the sandbox account, added but not set up."""
    return add_entry(hass, sandbox, "bland")


@pytest.fixture(params=list(PROVIDER_CASES))
def provider(request: pytest.FixtureRequest) -> ProviderName:
    """Run a test once per provider, unless it names the providers it runs on."""
    provider: ProviderName = request.param
    return provider


@pytest.fixture
def case(provider: ProviderName) -> ProviderCase:
    """Return what tests need to know about the provider's sandbox account."""
    return PROVIDER_CASES[provider]


@pytest.fixture
def entry(hass: HomeAssistant, sandbox: Sandbox, case: ProviderCase) -> MockConfigEntry:
    """Return an entry for the sandbox account of the parametrized provider."""
    return add_entry(hass, sandbox, case.provider)


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


def transfer_arrives(sandbox: Sandbox) -> asyncio.Event:
    """Return an event set when the sandbox receives a transfer (a POST).

    Waiting on it needs no timer: it works on a frozen clock too.
    """
    arrived = asyncio.Event()
    sandbox.request_hooks.append(
        lambda request: request.method == "POST" and arrived.set()
    )
    return arrived


def transfers_sent(sandbox: Sandbox) -> list[RecordedRequest]:
    """Return the transfer requests the sandbox received.

    Both APIs transfer with POST; everything else the integration sends (account checks,
    live-call polls) is a GET.
    """
    return [request for request in sandbox.requests if request.method == "POST"]


@pytest.fixture
async def hass_url(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> str:
    """Serve Home Assistant's HTTP app on 127.0.0.1 and make it the external URL.

    The webhook integration (with the HTTP one) is set up first: a served app takes
    no new routes.
    """
    assert await async_setup_component(hass, "webhook", {})
    client = await hass_client_no_auth()
    url = f"http://{client.host}:{client.port}"
    await hass.config.async_update(external_url=url)
    return url


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up an entry (and with it the integration) and wait until it settles."""
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
