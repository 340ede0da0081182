"""After a transfer the sandbox fetches each leg's URL as the provider does, on loopback only.

Vobiz fetches each transferred leg's URL; Twilio the Url a call is redirected to.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
import logging
import socket
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from sandbox import (
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_CALL_SID,
    SANDBOX_VOBIZ_CALL_ID,
    Fault,
    FaultKind,
    LegOutcome,
    LegResult,
    Sandbox,
)

from .conftest import TWILIO_HEADERS, VOBIZ_HEADERS
from .test_vobiz import CALL_PATH

DIAL_XML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Speak>Please hold.</Speak>'
    '<Dial callerId="+14155550123" timeout="20"><Number>+14155550100</Number></Dial>'
    "</Response>"
)


@dataclass
class Target:
    """A loopback server answering leg URLs the way a test sets, recording each request."""

    url: str
    status: int = 200
    body: bytes = DIAL_XML.encode()
    content_type: str = "application/xml"
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
async def target(sandbox: Sandbox) -> AsyncGenerator[Target]:
    """Serve leg URLs on 127.0.0.1 (the sandbox fixture has enabled sockets)."""
    answer = Target(url="")

    async def handle(request: web.Request) -> web.Response:
        answer.requests.append(
            {
                "method": request.method,
                "query": dict(request.query),
                "form": dict(await request.post()),
                "content_type": request.content_type,
            }
        )
        return web.Response(
            status=answer.status,
            body=answer.body,
            content_type=answer.content_type,
            headers=answer.headers,
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    answer.url = f"http://127.0.0.1:{port}/transfer?token=abc"
    try:
        yield answer
    finally:
        await runner.cleanup()


async def transfer(sandbox: Sandbox, **body: str) -> list[LegOutcome]:
    """Transfer the seeded call, wait for the leg fetches, return the call's outcomes."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sandbox.vobiz_base_url}{CALL_PATH}", json=body, headers=VOBIZ_HEADERS
        ) as response,
    ):
        assert response.status == 202, await response.text()
    await sandbox.fetches_settled()
    return sandbox.calls[SANDBOX_VOBIZ_CALL_ID].outcomes


async def test_a_leg_is_fetched_by_post_with_the_call_parameters(
    sandbox: Sandbox, target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    """POST sends CallUUID, From, To (and Direction, CallStatus) form-encoded."""
    with caplog.at_level(logging.INFO, logger="sandbox"):
        [outcome] = await transfer(sandbox, aleg_url=target.url)

    call = sandbox.calls[SANDBOX_VOBIZ_CALL_ID]
    [request] = target.requests
    assert request["method"] == "POST"
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert request["query"] == {"token": "abc"}
    assert request["form"] == {
        "CallUUID": SANDBOX_VOBIZ_CALL_ID,
        "From": call.from_number,
        "To": call.to_number,
        "Direction": "inbound",
        "CallStatus": "in-progress",
    }
    assert outcome.result is LegResult.DIALING
    assert outcome.status == 200
    assert outcome.leg == "aleg"
    assert outcome.params == request["form"]
    assert str(outcome) == (
        'dialing +14155550100 (caller id +14155550123) after "Please hold."'
    )
    assert outcome.ring_timeout == 20
    assert sandbox.leg_fetches == [outcome]
    # The request log names the leg and the outcome, never the URL's token.
    [logged] = [r.getMessage() for r in caplog.records if r.name == "sandbox"]
    assert logged.startswith(f"Vobiz POST {target.url.replace('abc', '***')} ")
    assert "abc" not in logged
    assert f"A leg of call {SANDBOX_VOBIZ_CALL_ID}: dialing +14155550100" in logged


async def test_b_leg_is_fetched_by_get_naming_its_a_leg(
    sandbox: Sandbox, target: Target
) -> None:
    """GET sends the parameters in the query; a B leg names its A leg (ALegUUID)."""
    [outcome] = await transfer(
        sandbox, legs="bleg", bleg_url=target.url, bleg_method="GET"
    )

    call = sandbox.calls[SANDBOX_VOBIZ_CALL_ID]
    [request] = target.requests
    assert request["method"] == "GET"
    assert request["form"] == {}
    assert request["query"] == {
        "token": "abc",
        "CallUUID": call.bleg_uuid,
        "From": call.from_number,
        "To": call.to_number,
        "Direction": "inbound",
        "CallStatus": "in-progress",
        "ALegUUID": SANDBOX_VOBIZ_CALL_ID,
        "ALegRequestUUID": call.request_uuid,
    }
    assert outcome.leg == "bleg"
    assert outcome.method == "GET"
    assert outcome.result is LegResult.DIALING


async def test_both_legs_are_fetched(sandbox: Sandbox, target: Target) -> None:
    """legs: both fetches both URLs; each outcome is recorded."""
    outcomes = await transfer(
        sandbox, legs="both", aleg_url=target.url, bleg_url=target.url
    )

    assert sorted(outcome.leg for outcome in outcomes) == ["aleg", "bleg"]
    assert len(target.requests) == 2


@pytest.mark.parametrize(
    "url",
    [
        "https://xml.example.com/transfer/aleg",
        "http://xml.example.invalid/no/such/name",
        "http://localhost:1/aleg",
        "http://127.0.0.1.nip.io/aleg",
        "http://10.0.0.1/aleg",
        "http://[2001:db8::1]/aleg",
    ],
)
async def test_only_loopback_addresses_are_fetched(sandbox: Sandbox, url: str) -> None:
    """Any other host is dropped without a name lookup or a connection."""
    with pytest.MonkeyPatch.context() as monkeypatch:

        def no_lookups(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("the sandbox looked up a name")

        monkeypatch.setattr(socket, "getaddrinfo", no_lookups)
        monkeypatch.setattr(aiohttp.ThreadedResolver, "resolve", no_lookups)
        monkeypatch.setattr(aiohttp.AsyncResolver, "resolve", no_lookups)
        [outcome] = await transfer(sandbox, aleg_url=url)

    assert str(outcome) == "dropped: unreachable (not a loopback address)"
    assert outcome.status is None


async def test_redirects_are_not_followed(sandbox: Sandbox, target: Target) -> None:
    """A redirect could lead off loopback: it counts as an HTTP error, as the leg is dropped."""
    target.status = 302
    target.headers = {"Location": "https://xml.example.com/elsewhere"}

    [outcome] = await transfer(sandbox, aleg_url=target.url)

    assert str(outcome) == "dropped: HTTP 302"
    assert outcome.status == 302


@pytest.mark.parametrize(
    ("status", "body", "content_type", "reason"),
    [
        (404, b"", "text/plain", "HTTP 404"),
        (500, DIAL_XML.encode(), "application/xml", "HTTP 500"),
        (200, b"", "application/octet-stream", "invalid XML (empty body)"),
        (200, DIAL_XML.encode(), "text/html", "invalid XML (Content-Type text/html)"),
        (200, b"<Response><Speak>hi</Speak>", "text/xml", "invalid XML (not well"),
        (
            200,
            b"<Response><Play>x.mp3</Play></Response>",
            "application/xml",
            "invalid XML (<Play> is not a Vobiz XML element)",
        ),
        (
            200,
            b"<Response><Speak>" + b"a" * 110_000 + b"</Speak></Response>",
            "application/xml",
            "invalid XML (larger than 100 KB)",
        ),
    ],
)
async def test_unusable_answers_drop_the_leg(
    sandbox: Sandbox,
    target: Target,
    status: int,
    body: bytes,
    content_type: str,
    reason: str,
) -> None:
    """An HTTP error or anything but valid Vobiz XML drops the leg, with the reason."""
    target.status, target.body, target.content_type = status, body, content_type

    [outcome] = await transfer(sandbox, aleg_url=target.url)

    assert outcome.result is LegResult.DROPPED
    assert str(outcome).startswith(f"dropped: {reason}")
    assert outcome.status == status


async def test_xml_without_dial_hangs_up(sandbox: Sandbox, target: Target) -> None:
    """Valid XML that dials nobody: the leg hears it and the call ends."""
    target.body = b"<Response><Speak>Goodbye.</Speak></Response>"

    [outcome] = await transfer(sandbox, aleg_url=target.url)

    assert outcome.result is LegResult.HUNG_UP
    assert str(outcome) == 'hung up after "Goodbye."'


async def test_unreachable_port(sandbox: Sandbox) -> None:
    """Nothing listening on the loopback port: the leg is dropped as unreachable."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    [outcome] = await transfer(sandbox, aleg_url=f"http://127.0.0.1:{port}/x")

    assert str(outcome) == "dropped: unreachable (ClientConnectorError)"


async def test_a_url_that_hangs_times_out_after_the_202(sandbox: Sandbox) -> None:
    """The 202 goes out at once; a leg URL that never answers is dropped on timeout."""
    sandbox.leg_fetcher.timeout = 0.2
    sandbox.add_fault(Fault(kind=FaultKind.HANG), path_contains="/hangs")
    url = f"{sandbox.vobiz_base_url}/hangs"

    [outcome] = await transfer(sandbox, aleg_url=url)

    assert str(outcome) == "dropped: timeout (no answer within 0.2 s)"


async def test_stopping_cancels_fetches_under_way(sandbox: Sandbox) -> None:
    """A fetch still waiting when the sandbox stops is abandoned without an error."""
    sandbox.add_fault(Fault(kind=FaultKind.HANG), path_contains="/hangs")
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sandbox.vobiz_base_url}{CALL_PATH}",
            json={"aleg_url": f"{sandbox.vobiz_base_url}/hangs"},
            headers=VOBIZ_HEADERS,
        ) as response,
    ):
        assert response.status == 202

    await sandbox.stop()

    await sandbox.fetches_settled(timeout=1)
    assert sandbox.calls[SANDBOX_VOBIZ_CALL_ID].outcomes == []


async def test_refused_transfer_fetches_nothing(
    sandbox: Sandbox, target: Target
) -> None:
    """Only an accepted transfer leads to a fetch."""
    sandbox.end_call(SANDBOX_VOBIZ_CALL_ID)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sandbox.vobiz_base_url}{CALL_PATH}",
            json={"aleg_url": target.url},
            headers=VOBIZ_HEADERS,
        ) as response,
    ):
        assert response.status == 404

    await sandbox.fetches_settled()
    assert target.requests == []
    assert sandbox.leg_fetches == []


async def redirect_twilio_call(sandbox: Sandbox, url: str, method: str) -> LegOutcome:
    """Point the seeded Twilio call at ``url``; return what the fetch of it did."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sandbox.twilio_base_url}/Accounts/{SANDBOX_TWILIO_ACCOUNT_SID}"
            f"/Calls/{SANDBOX_TWILIO_CALL_SID}.json",
            data={"Url": url, "Method": method},
            headers=TWILIO_HEADERS,
        ) as response,
    ):
        assert response.status == 200, await response.text()
    await sandbox.fetches_settled()
    [outcome] = sandbox.calls[SANDBOX_TWILIO_CALL_SID].outcomes
    return outcome


async def test_a_twilio_redirect_fetches_its_url_as_twiml(
    sandbox: Sandbox, target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    """Twilio requests the Url with its own parameters; the answer is read as TwiML."""
    target.body = (
        b'<Response><Say voice="alice">One moment.</Say><Dial callerId="+14155550123"'
        b' timeout="20" answerOnBridge="true"><Number>+14155550100</Number>'
        b"<Sip>sip:desk@pbx.example.com</Sip></Dial></Response>"
    )

    with caplog.at_level(logging.INFO, logger="sandbox"):
        outcome = await redirect_twilio_call(sandbox, target.url, "GET")

    call = sandbox.calls[SANDBOX_TWILIO_CALL_SID]
    [request] = target.requests
    assert (request["method"], request["form"]) == ("GET", {})
    assert request["query"] == {
        "token": "abc",
        "CallSid": SANDBOX_TWILIO_CALL_SID,
        "AccountSid": SANDBOX_TWILIO_ACCOUNT_SID,
        "From": call.from_number,
        "To": call.to_number,
        "CallStatus": "in-progress",
        "ApiVersion": "2010-04-01",
        "Direction": "inbound",
    }
    assert str(outcome) == (
        "dialing +14155550100, sip:desk@pbx.example.com (caller id +14155550123)"
        ' after "One moment."'
    )
    [logged] = [r.getMessage() for r in caplog.records if r.name == "sandbox"]
    assert logged.startswith(f"Twilio GET {target.url.replace('abc', '***')} ")


@pytest.mark.parametrize(
    ("twiml", "reason"),
    [
        (
            b"<Response><Speak>Hold on.</Speak></Response>",
            "<Speak> is not a TwiML element",
        ),
        (
            b'<Response><Say voice="WOMAN">Hold on.</Say></Response>',
            'voice="WOMAN" on <Say> is not one of alice, man, woman',
        ),
        (
            b"<Response><Dial><Sip>tel:+14155550100</Sip></Dial></Response>",
            "<Sip> 'tel:+14155550100' is not a sip: URI",
        ),
        (
            b"<Response><Dial/></Response>",
            "<Dial> has no <Client> or <Number> or <Sip> to dial",
        ),
    ],
)
async def test_a_twilio_url_answering_no_twiml_drops_the_call(
    sandbox: Sandbox, target: Target, twiml: bytes, reason: str
) -> None:
    """Vobiz XML, a voice Twilio does not have, a SIP URI that is not: refused."""
    target.body = twiml

    outcome = await redirect_twilio_call(sandbox, target.url, "POST")

    assert outcome.result is LegResult.DROPPED
    assert outcome.reason == f"invalid XML ({reason})"
    assert target.requests[0]["form"]["CallSid"] == SANDBOX_TWILIO_CALL_SID


async def test_held_fetches_wait_for_release(sandbox: Sandbox, target: Target) -> None:
    """hold() makes the provider fetch late: only release() lets the fetch go."""
    sandbox.leg_fetcher.hold()
    transferring = asyncio.ensure_future(transfer(sandbox, aleg_url=target.url))
    while not sandbox.requests:
        await asyncio.sleep(0.01)
    for _ in range(20):
        await asyncio.sleep(0)
    assert target.requests == []

    sandbox.leg_fetcher.release()

    [outcome] = await transferring
    assert outcome.result is LegResult.DIALING
    assert len(target.requests) == 1
