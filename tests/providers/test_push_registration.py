"""Setting the callback URL at the provider, and Vobiz's and Plivo's Dial XML that reports its outcome.

Registration runs on every client whose ``push`` names a ``registration_option``: the
application's hangup URL (Vobiz, Plivo), the number's StatusCallback (Twilio), the
Call Control application's webhook URL (Telnyx).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
    PROVIDERS,
    InvalidOptionError,
    PlivoClient,
    VobizClient,
)
from custom_components.call_transfer.providers.callbacks import RegisteredCallback
from custom_components.call_transfer.providers.plivo_style import PlivoStyleClient
from sandbox import (
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    Sandbox,
)
from sandbox.callxml import parse_call_xml
from sandbox.plivo import PLIVO_XML
from sandbox.state import (
    SANDBOX_PLIVO_APP_ID,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_NUMBER_SID,
    SANDBOX_VOBIZ_APP_ID,
    RecordedRequest,
    SandboxApplication,
)
from tests.helpers.provider_cases import PROVIDER_CASES

SECRETS = (SANDBOX_VOBIZ_AUTH_TOKEN, SANDBOX_PLIVO_AUTH_TOKEN)
HOOK = "https://hooks.example.com/api/webhook/abc"
APPS = {"vobiz": SANDBOX_VOBIZ_APP_ID, "plivo": SANDBOX_PLIVO_APP_ID}


def client_for(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    provider: str,
    application_id: str | None = None,
) -> PlivoStyleClient:
    """Return a client for the sandbox's Vobiz or Plivo account."""
    if provider == "vobiz":
        return VobizClient(
            session,
            auth_id=SANDBOX_VOBIZ_AUTH_ID,
            auth_token=SANDBOX_VOBIZ_AUTH_TOKEN,
            base_url=sandbox.vobiz_base_url,
            application_id=application_id,
        )
    return PlivoClient(
        session,
        auth_id=SANDBOX_PLIVO_AUTH_ID,
        auth_token=SANDBOX_PLIVO_AUTH_TOKEN,
        base_url=sandbox.plivo_base_url,
        application_id=application_id,
    )


def application(sandbox: Sandbox, provider: str) -> SandboxApplication:
    """Return the sandbox account's application."""
    account = next(iter(sandbox.accounts[provider]))
    found = sandbox.application(provider, account, APPS[provider])  # type: ignore[arg-type]
    assert found is not None
    return found


@dataclass(frozen=True)
class Registration:
    """Where a provider's client sets the callback URL, as the sandbox holds it."""

    target: str  # the application's id (Twilio: the number's SID)
    holder: Callable[[Sandbox], Any]  # the sandbox's application or number
    # Its URL's attribute and its method's (Telnyx: API version's), as ``previous``
    # names them; the user's method, the one registration sets.
    fields: tuple[str, str]
    users: str
    ours: str
    # The update request: its method, and its body as the provider documents it.
    update: Callable[[Any], tuple[str, dict[str, str]]]
    untouched: str | None = None  # the attribute registration never touches


def hangup_url_of(provider: str) -> Registration:
    """Vobiz, Plivo: the application's hangup URL."""
    return Registration(
        APPS[provider],
        lambda sandbox: application(sandbox, provider),
        ("hangup_url", "hangup_method"),
        "GET",
        "POST",
        lambda _: ("POST", {"hangup_url": HOOK, "hangup_method": "POST"}),
        "answer_url",
    )


REGISTRATIONS = {
    "vobiz": hangup_url_of("vobiz"),
    "plivo": hangup_url_of("plivo"),
    "twilio": Registration(
        SANDBOX_TWILIO_NUMBER_SID,
        lambda sandbox: sandbox.twilio_accounts[SANDBOX_TWILIO_ACCOUNT_SID].numbers[
            SANDBOX_TWILIO_NUMBER_SID
        ],
        ("status_callback", "status_callback_method"),
        "GET",
        "POST",
        lambda _: ("POST", {"StatusCallback": HOOK, "StatusCallbackMethod": "POST"}),
        "voice_url",
    ),
    "telnyx": Registration(
        SANDBOX_TELNYX_CONNECTION_ID,
        lambda sandbox: sandbox.telnyx_accounts[SANDBOX_TELNYX_API_KEY].applications[
            SANDBOX_TELNYX_CONNECTION_ID
        ],
        ("webhook_event_url", "webhook_api_version"),
        "1",
        "2",
        lambda app: (
            "PATCH",
            {
                "application_name": app.application_name,
                "webhook_event_url": HOOK,
                "webhook_api_version": "2",
            },
        ),
    ),
}


def body(request: RecordedRequest) -> Any:
    """Return a request's body: its form fields, or its JSON."""
    return dict(request.form) if request.form is not None else request.json


@pytest.mark.parametrize(
    "provider",
    [
        provider
        for provider, client in PROVIDERS.items()
        if client.push is not None and client.push.registration_option is not None
    ],
)
async def test_register_and_restore(
    session: aiohttp.ClientSession, sandbox: Sandbox, provider: str
) -> None:
    """The URL is set (POST; Telnyx: API v2), what it was is returned, and put back."""
    where = REGISTRATIONS[provider]
    holder = where.holder(sandbox)
    url_field, second_field = where.fields
    setattr(holder, url_field, "https://mine.example.com/h")
    setattr(holder, second_field, where.users)
    untouched = getattr(holder, where.untouched) if where.untouched else None
    push = PROVIDERS[provider].push
    assert push is not None
    data = PROVIDER_CASES[provider].data(sandbox)
    client = PROVIDERS[provider].from_credentials(
        session,
        data,
        options={str(push.registration_option): where.target},
        base_url=data["base_url"],
    )

    registered = await client.async_register_callback_url(HOOK)

    assert registered == RegisteredCallback(
        target=where.target,
        url=HOOK,
        previous={url_field: "https://mine.example.com/h", second_field: where.users},
    )
    assert (getattr(holder, url_field), getattr(holder, second_field)) == (
        HOOK,
        where.ours,
    )
    method, sent = where.update(holder)
    assert body(next(r for r in sandbox.requests if r.method == method)) == sent
    if where.untouched:  # the URL that answers calls is never touched
        assert getattr(holder, where.untouched) == untouched

    await client.async_restore_callback_url(registered)

    assert (getattr(holder, url_field), getattr(holder, second_field)) == (
        "https://mine.example.com/h",
        where.users,
    )


async def test_restore_of_an_empty_hangup_url(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """An application that had no hangup URL gets an empty one back (POST by default)."""
    client = client_for(session, sandbox, "plivo", SANDBOX_PLIVO_APP_ID)
    registered = await client.async_register_callback_url(HOOK)
    assert registered.previous == {"hangup_url": "", "hangup_method": "POST"}
    await client.async_restore_callback_url(
        RegisteredCallback(target=SANDBOX_PLIVO_APP_ID, url=HOOK, previous={})
    )
    app = application(sandbox, "plivo")
    assert (app.hangup_url, app.hangup_method) == ("", "POST")


@pytest.mark.parametrize("provider", ["vobiz", "plivo"])
@pytest.mark.parametrize("application_id", [None, "404404", "bad/id"])
async def test_an_unknown_or_missing_application_names_the_option(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    provider: str,
    application_id: str | None,
) -> None:
    """Registration and the option check refuse an application the provider does not have."""
    client = client_for(session, sandbox, provider, application_id)

    with pytest.raises(InvalidOptionError) as refused:
        await client.async_register_callback_url(HOOK)
    assert refused.value.option == "application_id"
    if application_id is None:
        await client.async_validate_options()  # nothing to check
        assert not sandbox.requests
    else:
        with pytest.raises(InvalidOptionError):
            await client.async_validate_options()
    assert not [r for r in sandbox.requests if r.method == "POST"]


async def test_known_application_passes_the_option_check(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """The option check reads the application once."""
    await client_for(
        session, sandbox, "vobiz", SANDBOX_VOBIZ_APP_ID
    ).async_validate_options()
    assert [r.path for r in sandbox.requests] == [
        f"/vobiz/api/v1/Account/{SANDBOX_VOBIZ_AUTH_ID}/Application/{SANDBOX_VOBIZ_APP_ID}/"
    ]


@pytest.mark.parametrize("provider", ["vobiz", "plivo"])
async def test_dial_xml_asks_for_the_outcome(
    session: aiohttp.ClientSession, sandbox: Sandbox, provider: str
) -> None:
    """With a report URL the Dial carries action (redirect off) and callbackUrl, POST."""
    client = client_for(session, sandbox, provider)
    report_url = f"{HOOK}?transfer=tok"

    xml = client.dial_xml("+14155550100", report_url=report_url)

    plan = parse_call_xml(xml.encode(), PLIVO_XML)
    assert plan.numbers == ("+14155550100",)
    assert plan.report == {
        "action": report_url,
        "method": "POST",
        "redirect": "false",
        "callbackUrl": report_url,
        "callbackMethod": "POST",
    }
    assert parse_call_xml(client.dial_xml("+14155550100").encode()).report == {}
