"""Vobiz and Plivo: setting an application's hangup URL, and Dial XML that reports its outcome."""

from __future__ import annotations

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
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
    SANDBOX_ANSWER_URL,
    SANDBOX_PLIVO_APP_ID,
    SANDBOX_VOBIZ_APP_ID,
    SandboxApplication,
)

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


@pytest.mark.parametrize("provider", ["vobiz", "plivo"])
async def test_register_and_restore(
    session: aiohttp.ClientSession, sandbox: Sandbox, provider: str
) -> None:
    """The hangup URL is set (POST), what it was is returned, and put back on restore."""
    app = application(sandbox, provider)
    app.hangup_url, app.hangup_method = "https://mine.example.com/hangup", "GET"
    client = client_for(session, sandbox, provider, APPS[provider])

    registered = await client.async_register_callback_url(HOOK)

    assert registered == RegisteredCallback(
        target=APPS[provider],
        url=HOOK,
        previous={
            "hangup_url": "https://mine.example.com/hangup",
            "hangup_method": "GET",
        },
    )
    assert (app.hangup_url, app.hangup_method) == (HOOK, "POST")
    assert app.answer_url == SANDBOX_ANSWER_URL  # the answer URL is never touched
    [update] = [r for r in sandbox.requests if r.method == "POST"]
    assert update.json == {"hangup_url": HOOK, "hangup_method": "POST"}

    await client.async_restore_callback_url(registered)

    assert (app.hangup_url, app.hangup_method) == (
        "https://mine.example.com/hangup",
        "GET",
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
