"""The callbacks the sandbox sends as Vobiz and Plivo do: when, where, signed how, faults.

A loopback server stands in for Home Assistant's callback URL and records what arrives;
the signatures are checked with the sandbox's own signing code (its vectors are checked
in tests/providers/test_push_signatures.py).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from sandbox import (
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_CALL_ID,
    Sandbox,
)
from sandbox.signing import plivo_v3, vobiz_v2, vobiz_v3
from sandbox.state import (
    SANDBOX_PLIVO_APP_ID,
    SANDBOX_VOBIZ_APP_ID,
    CallbackFault,
    DialBehaviour,
    SandboxApplication,
)

from .conftest import ACCOUNT_PATH, PLIVO_HEADERS, VOBIZ_HEADERS, set_callback_fault

ACCOUNTS = {"vobiz": SANDBOX_VOBIZ_AUTH_ID, "plivo": SANDBOX_PLIVO_AUTH_ID}
TOKENS = {"vobiz": SANDBOX_VOBIZ_AUTH_TOKEN, "plivo": SANDBOX_PLIVO_AUTH_TOKEN}
APPS = {"vobiz": SANDBOX_VOBIZ_APP_ID, "plivo": SANDBOX_PLIVO_APP_ID}
NUMBER = "+14155550100"


@dataclass
class Receiver:
    """A loopback server answering callbacks 200, recording each one."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)

    def forms(self) -> list[dict[str, str]]:
        """Return the form of each callback received, in order."""
        return [callback["form"] for callback in self.received]


@pytest.fixture
async def receiver(sandbox: Sandbox) -> AsyncGenerator[Receiver]:
    """Serve a callback URL on 127.0.0.1 (the sandbox fixture has enabled sockets)."""
    found = Receiver()

    async def handle(request: web.Request) -> web.Response:
        found.received.append(
            {
                "url": str(request.url),
                "headers": dict(request.headers),
                "body": await request.read(),
                "form": dict(await request.post()),
            }
        )
        return web.Response(text="<Response/>", content_type="application/xml")

    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/webhook/hook"
    try:
        yield found
    finally:
        await runner.cleanup()


def application(sandbox: Sandbox, provider: str) -> SandboxApplication:
    """Return the seeded application of a Vobiz or Plivo account."""
    app = sandbox.application(provider, ACCOUNTS[provider], APPS[provider])  # type: ignore[arg-type]
    assert app is not None
    return app


def verify(provider: str, received: dict[str, Any], url: str) -> None:
    """Check a received callback's signature the way the provider's docs say."""
    headers, form = received["headers"], received["form"]
    token = TOKENS[provider]
    if provider == "plivo":
        nonce = headers["X-Plivo-Signature-V3-Nonce"]
        params = {name: [value] for name, value in form.items()}
        assert headers["X-Plivo-Signature-V3"] == plivo_v3(
            token, "POST", url, params, nonce
        )
        return
    assert headers["X-Vobiz-Signature-V3"] == vobiz_v3(
        token, url, headers["X-Vobiz-Signature-V3-Nonce"]
    )
    assert headers["X-Vobiz-Signature-V2"] == vobiz_v2(
        token, url, headers["X-Vobiz-Signature-V2-Nonce"]
    )
    assert len(headers["X-Vobiz-Signature-V3-Nonce"]) == 20


@pytest.mark.parametrize("provider", ["vobiz", "plivo"])
async def test_a_call_starting_and_ending_is_told_to_its_application(
    sandbox: Sandbox, receiver: Receiver, provider: str
) -> None:
    """StartApp to the answer URL when a call starts, Hangup to the hangup URL at its end."""
    app = application(sandbox, provider)
    app.answer_url = f"{receiver.url}?answer=1"
    app.hangup_url = receiver.url

    call = sandbox.add_call(provider, ACCOUNTS[provider])  # type: ignore[arg-type]
    sandbox.end_call(call.call_id)
    await sandbox.callbacks_settled()

    started, ended = receiver.received
    assert started["form"]["Event"] == "StartApp"
    assert started["form"]["CallUUID"] == call.call_id
    assert started["url"].endswith("?answer=1")
    verify(provider, started, app.answer_url)
    assert ended["form"]["Event"] == "Hangup"
    assert ended["form"]["CallStatus"] == "completed"
    assert ended["form"]["Duration"].isdigit()
    assert ended["form"]["From"] == call.from_number
    # Vobiz documents StartTime/EndTime; Plivo's start is its SessionStart.
    assert ("StartTime" in ended["form"]) is (provider == "vobiz")
    assert ("SessionStart" in ended["form"]) is (provider == "plivo")
    verify(provider, ended, receiver.url)
    assert [sent.status for sent in sandbox.callbacks_sent] == [200, 200]


async def test_without_a_hangup_url_the_hangup_goes_to_the_answer_url(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    """An application without a hangup URL gets the hangup at its answer URL."""
    application(sandbox, "vobiz").answer_url = receiver.url
    sandbox.end_call(SANDBOX_VOBIZ_CALL_ID)
    await sandbox.callbacks_settled()
    assert [form["Event"] for form in receiver.forms()] == ["Hangup"]


async def test_nothing_is_sent_beyond_loopback(sandbox: Sandbox) -> None:
    """The seeded applications answer at https://app.example.com: never contacted."""
    sandbox.end_call(SANDBOX_VOBIZ_CALL_ID)
    await sandbox.callbacks_settled()
    assert sandbox.callbacks_sent == []


@pytest.mark.parametrize("provider", ["vobiz", "plivo"])
async def test_application_api(
    session: aiohttp.ClientSession, sandbox: Sandbox, provider: str
) -> None:
    """GET an application; POST changes the fields given (202 on Plivo, 200 on Vobiz)."""
    base = sandbox.vobiz_base_url if provider == "vobiz" else sandbox.plivo_base_url
    headers = VOBIZ_HEADERS if provider == "vobiz" else PLIVO_HEADERS
    path = f"{base}/Account/{ACCOUNTS[provider]}/Application/{APPS[provider]}/"
    async with session.get(path, headers=headers) as response:
        assert response.status == 200
        described = await response.json()
    assert described["app_id"] == APPS[provider]
    assert described["hangup_url"] == ""
    async with session.post(
        path,
        json={"hangup_url": "https://x.example.com/h", "hangup_method": "GET"},
        headers=headers,
    ) as response:
        assert response.status == (202 if provider == "plivo" else 200)
        assert (await response.json())["message"] == "changed"
    app = application(sandbox, provider)
    assert (app.hangup_url, app.hangup_method) == ("https://x.example.com/h", "GET")
    for body in (
        {"hangup_url": "ftp://x"},
        {"hangup_method": "PUT"},
        {"sms_url": "https://x.example.com"},
        {"hangup_url": 3},
    ):
        async with session.post(path, json=body, headers=headers) as response:
            assert response.status == 400
    async with session.get(path.replace(APPS[provider], "404"), headers=headers) as r:
        assert r.status == 404
    async with session.post(
        path.replace(APPS[provider], "404"), json={}, headers=headers
    ) as response:
        assert response.status == 404


async def transfer_to_dial(
    session: aiohttp.ClientSession, sandbox: Sandbox, xml_url: str
) -> None:
    """Point the seeded Vobiz call's A leg at a URL answering Dial XML."""
    async with session.post(
        f"{sandbox.vobiz_base_url}{ACCOUNT_PATH}/Call/{SANDBOX_VOBIZ_CALL_ID}/",
        json={"aleg_url": xml_url},
        headers=VOBIZ_HEADERS,
    ) as response:
        assert response.status == 202
    await sandbox.fetches_settled()
    await sandbox.callbacks_settled()


@pytest.fixture
async def dial_xml_url(receiver: Receiver) -> AsyncGenerator[str]:
    """Serve Dial XML that reports its outcome to the receiver."""
    xml = (
        '<Response><Dial callerId="+14155550123" redirect="false" method="POST" '
        f'action="{receiver.url}?transfer=tok" callbackUrl="{receiver.url}?transfer=tok" '
        f'callbackMethod="POST"><Number>{NUMBER}</Number></Dial></Response>'
    )

    async def handle(_: web.Request) -> web.Response:
        return web.Response(text=xml, content_type="application/xml")

    app = web.Application()
    app.router.add_route("*", "/xml", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/xml"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("does", "callbacks", "ends"),
    [
        (DialBehaviour.ANSWER, [("DialAnswer", "answer")], False),
        (
            DialBehaviour.BUSY,
            [("DialHangup", "hangup"), ("DialAction", "busy")],
            True,
        ),
        (
            DialBehaviour.NO_ANSWER,
            [("DialHangup", "hangup"), ("DialAction", "no-answer")],
            True,
        ),
        (DialBehaviour.FAIL, [("DialAction", "failed")], True),
    ],
)
async def test_dialled_numbers_report_their_outcome(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    receiver: Receiver,
    dial_xml_url: str,
    does: DialBehaviour,
    callbacks: list[tuple[str, str]],
    ends: bool,
) -> None:
    """The Dial's callbackUrl and action hear what the number did; unanswered, A hangs up."""
    sandbox.dial_behaviours[NUMBER] = does

    await transfer_to_dial(session, sandbox, dial_xml_url)

    forms = receiver.forms()
    assert [
        (form["Event"], form.get("DialStatus") or form["DialAction"]) for form in forms
    ] == callbacks
    for received in receiver.received:
        verify("vobiz", received, f"{receiver.url}?transfer=tok")
        assert received["url"].endswith("?transfer=tok")
    assert all(form["DialALegUUID"] == SANDBOX_VOBIZ_CALL_ID for form in forms)
    assert forms[0].get("DialBLegTo", NUMBER) == NUMBER
    assert sandbox.calls[SANDBOX_VOBIZ_CALL_ID].live is not ends


async def test_an_answered_dial_completes_when_the_call_ends(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    receiver: Receiver,
    dial_xml_url: str,
) -> None:
    """The dialled leg's hangup and the Dial's completed status come with the call's end."""
    await transfer_to_dial(session, sandbox, dial_xml_url)
    sandbox.end_call(SANDBOX_VOBIZ_CALL_ID)
    await sandbox.callbacks_settled()
    assert [(form["Event"], form.get("DialStatus")) for form in receiver.forms()] == [
        ("DialAnswer", None),
        ("DialHangup", None),
        ("DialAction", "completed"),
    ]


@pytest.mark.parametrize(
    "fault",
    [
        CallbackFault.FORGED,
        CallbackFault.UNSIGNED,
        CallbackFault.TAMPERED,
        CallbackFault.REPLAYED,
        CallbackFault.SDK_FORM,
    ],
)
async def test_callback_faults(
    sandbox: Sandbox, receiver: Receiver, fault: CallbackFault
) -> None:
    """Each fault changes the callback as it says; the control plane sets it."""
    application(sandbox, "vobiz").hangup_url = receiver.url
    await set_callback_fault(sandbox, "vobiz", fault.value)
    sandbox.end_call(SANDBOX_VOBIZ_CALL_ID)
    await sandbox.callbacks_settled()

    first = receiver.received[0]
    headers, form = first["headers"], first["form"]
    if fault is CallbackFault.FORGED:
        with pytest.raises(AssertionError):
            verify("vobiz", first, receiver.url)
    elif fault is CallbackFault.UNSIGNED:
        assert not [name for name in headers if "Signature" in name]
    elif fault is CallbackFault.TAMPERED:
        verify("vobiz", first, receiver.url)  # the documented form signs no body
        assert form["CallUUID"] != SANDBOX_VOBIZ_CALL_ID
    elif fault is CallbackFault.REPLAYED:
        assert receiver.received[1]["headers"] == headers
        assert receiver.received[1]["form"] == form
    else:
        nonce = headers["X-Vobiz-Signature-V3-Nonce"]
        params = {name: [value] for name, value in form.items()}
        assert headers["X-Vobiz-Signature-V3"] == plivo_v3(
            SANDBOX_VOBIZ_AUTH_TOKEN, "POST", receiver.url, params, nonce
        )
        assert "X-Vobiz-Signature-V2" not in headers
    assert len(receiver.received) == (2 if fault is CallbackFault.REPLAYED else 1)


async def test_held_callbacks_arrive_late(sandbox: Sandbox, receiver: Receiver) -> None:
    """Held, nothing arrives; released, everything does, in order."""
    application(sandbox, "plivo").hangup_url = receiver.url
    control = f"{sandbox.control_url}/callbacks"
    async with aiohttp.ClientSession() as session:
        async with session.post(control, json={"held": True}) as response:
            assert (await response.json())["held"] is True
        call = sandbox.add_call("plivo", SANDBOX_PLIVO_AUTH_ID)
        sandbox.end_call(call.call_id)
        with pytest.raises(TimeoutError):
            await sandbox.callbacks_settled(timeout=0.05)
        assert receiver.received == []
        async with session.post(control, json={"held": False}) as response:
            assert (await response.json())["held"] is False
        await sandbox.callbacks_settled()
        async with session.get(control) as response:
            listed = await response.json()
    assert [form["CallUUID"] for form in receiver.forms()] == [call.call_id]
    [sent] = listed["callbacks"]
    assert sent["to"] == receiver.url.split("/api/")[0]
    assert sent["status"] == 200


async def test_control_plane_refuses_what_it_cannot_do(sandbox: Sandbox) -> None:
    """Unknown faults, behaviours, accounts and fields are refused with 4xx."""
    async with aiohttp.ClientSession() as session:
        for path, body, status in (
            ("callback_faults", {"provider": "vobiz", "fault": "loud"}, 400),
            ("callback_faults", {"provider": "bland", "fault": "stale"}, 400),
            (
                "callback_faults",
                {"provider": "bland", "account": "nobody", "fault": "forged"},
                404,
            ),
            ("callback_faults", {"provider": "vobiz", "colour": 1}, 400),
            ("numbers", {"number": NUMBER, "does": "sing"}, 400),
            ("numbers", {"number": NUMBER}, 400),
            ("callbacks", {"held": "yes"}, 400),
        ):
            async with session.post(
                f"{sandbox.control_url}/{path}", json=body
            ) as response:
                assert response.status == status, (path, body)
        async with session.delete(f"{sandbox.control_url}/callbacks") as response:
            assert response.status == 405
        async with session.post(
            f"{sandbox.control_url}/numbers", json={"number": NUMBER, "does": "busy"}
        ) as response:
            assert response.status == 200
        async with session.post(
            f"{sandbox.control_url}/callback_faults",
            json={"provider": "plivo", "fault": None},
        ) as response:
            assert response.status == 200
    assert sandbox.dial_behaviours == {NUMBER: DialBehaviour.BUSY}
