"""The sandbox speaks Plivo's Voice API as documented, and reads its legs' Plivo XML."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.call_transfer.providers.http import basic_auth
from sandbox import (
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_PLIVO_CALL_ID,
    SANDBOX_PLIVO_SECOND_CALL_ID,
    LegResult,
    Sandbox,
)
from sandbox.callxml import CallXmlError, parse_call_xml
from sandbox.plivo import PLIVO_XML

from .conftest import PLIVO_HEADERS, call_api, is_uuid

ACCOUNT = f"/Account/{SANDBOX_PLIVO_AUTH_ID}/"
CALL = f"{ACCOUNT}Call/{SANDBOX_PLIVO_CALL_ID}/"
LIVE = {"status": "live"}
OTHER_AUTH_ID = "SAPLIVOSUBACCOUNT002"


def error_of(body: Any) -> str:
    """Check Plivo's ``{"api_id", "error"}`` envelope and return its error."""
    assert set(body) == {"api_id", "error"}
    assert is_uuid(body["api_id"])
    return str(body["error"])


async def test_account_describes_the_account(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """GET /Account/{auth_id}/ answers the documented Account object."""
    status, body, _ = await call_api(
        session, f"{sandbox.plivo_base_url}{ACCOUNT}", headers=PLIVO_HEADERS
    )

    assert status == 200
    assert is_uuid(body.pop("api_id"))
    assert body["auth_id"] == SANDBOX_PLIVO_AUTH_ID
    assert body["resource_uri"] == f"/v1{ACCOUNT}"
    assert set(body) == {
        "account_type",
        "address",
        "auth_id",
        "auto_recharge",
        "billing_mode",
        "cash_credits",
        "city",
        "name",
        "resource_uri",
        "state",
        "timezone",
    }


@pytest.mark.parametrize(
    ("authorization", "path"),
    [
        (None, ACCOUNT),
        (f"Bearer {SANDBOX_PLIVO_AUTH_TOKEN}", ACCOUNT),
        (basic_auth(SANDBOX_PLIVO_AUTH_ID, "wrong"), ACCOUNT),
        ("Basic not-base64!", ACCOUNT),
        (PLIVO_HEADERS["Authorization"], f"/Account/{OTHER_AUTH_ID}/"),
        (basic_auth(OTHER_AUTH_ID, "other"), ACCOUNT),
    ],
    ids=[
        "none",
        "bearer",
        "wrong token",
        "not basic",
        "path names another account",
        "credentials of another account",
    ],
)
async def test_unauthenticated_requests_get_401(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    authorization: str | None,
    path: str,
) -> None:
    """HTTP Basic must name the account of the path with its own Auth Token."""
    sandbox.add_plivo_account(OTHER_AUTH_ID, "other")
    headers = {"Authorization": authorization} if authorization else {}

    status, body, _ = await call_api(
        session, f"{sandbox.plivo_base_url}{path}", headers=headers
    )

    assert (status, error_of(body)) == (401, "Authentication failed")


@pytest.mark.parametrize(
    ("query", "status", "answer"),
    [
        (LIVE, 200, slice(0, 20)),
        (LIVE | {"limit": "5", "offset": "20"}, 200, slice(20, 25)),
        ({}, 400, "add status=live: the sandbox serves live calls only"),
        (LIVE | {"limit": "21"}, 400, "limit must be from 1 to 20"),
        (LIVE | {"limit": "0"}, 400, "limit must be from 1 to 20"),
        (LIVE | {"offset": "-1"}, 400, "offset must be a whole number"),
    ],
)
async def test_live_calls_come_twenty_at_a_time(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    query: dict[str, str],
    status: int,
    answer: slice | str,
) -> None:
    """Limit (1 to 20, 20 by default) and offset page the ids; a bad page is 400."""
    added = [sandbox.add_call("plivo", SANDBOX_PLIVO_AUTH_ID) for _ in range(20)]
    every_id = [
        SANDBOX_PLIVO_CALL_ID,
        SANDBOX_PLIVO_SECOND_CALL_ID,
        *(call.call_id for call in added),
    ]

    got, body, _ = await call_api(
        session,
        f"{sandbox.plivo_base_url}{ACCOUNT}Call/",
        headers=PLIVO_HEADERS,
        params=query,
    )

    assert got == status
    if isinstance(answer, slice):
        assert body["calls"] == every_id[answer]
    else:
        assert error_of(body) == answer


async def test_transfer_then_the_call_ends(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """202 with only the message (Vobiz adds call_uuid); once ended, 404 for everything."""
    url = f"{sandbox.plivo_base_url}{CALL}"
    accepted = await call_api(
        session,
        url,
        "POST",
        headers=PLIVO_HEADERS,
        json={"aleg_url": "https://x.example/a"},
    )
    sandbox.end_call(SANDBOX_PLIVO_CALL_ID)
    details = await call_api(session, url, headers=PLIVO_HEADERS, params=LIVE)
    again = await call_api(
        session,
        url,
        "POST",
        headers=PLIVO_HEADERS,
        json={"aleg_url": "https://x.example/b"},
    )

    status, body, _ = accepted
    assert status == 202
    assert is_uuid(body.pop("api_id"))
    assert body == {"message": "call transferred"}
    assert [details[0], again[0]] == [404, 404]
    assert error_of(again[1]) == "call not found or not in progress"
    assert sandbox.calls[SANDBOX_PLIVO_CALL_ID].transferred_to == "https://x.example/a"


async def test_a_call_record_once_the_call_ended(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Read without ``status``: 404 while the call is live, then its call detail record."""
    url = f"{sandbox.plivo_base_url}{CALL}"
    call = sandbox.calls[SANDBOX_PLIVO_CALL_ID]
    call.started = datetime(2025, 6, 1, 9, 30, 5, tzinfo=UTC)
    live_status, live_body, _ = await call_api(session, url, headers=PLIVO_HEADERS)
    sandbox.end_call(call.call_id)
    call.ended = datetime(2025, 6, 1, 9, 30, 50, tzinfo=UTC)

    status, body, _ = await call_api(session, url, headers=PLIVO_HEADERS)

    assert live_status == 404
    assert error_of(live_body) == "call not found or not in progress"
    assert status == 200
    assert is_uuid(body.pop("api_id"))
    assert body == {
        "answer_time": "2025-06-01 09:30:05+00:00",
        "bill_duration": 45,
        "billed_duration": 45,
        "call_direction": "inbound",
        "call_duration": 45,
        "call_state": "ANSWER",
        "call_uuid": SANDBOX_PLIVO_CALL_ID,
        "conference_uuid": None,
        "end_time": "2025-06-01 09:30:50+00:00",
        "from_number": "+14155550131",
        "hangup_cause_code": 4000,
        "hangup_cause_name": "Normal Hangup",
        "hangup_source": "Caller",
        "initiation_time": "2025-06-01 09:30:05+00:00",
        "parent_call_uuid": None,
        "resource_uri": f"/v1/{CALL[1:]}",
        "stir_verification": "Not Applicable",
        "to_number": "+14155550120",
        "total_amount": "0.00000",
        "total_rate": "0.00850",
        "voice_network_group": "",
        "source_ip": "",
    }


async def test_a_transferred_leg_reads_plivo_xml(sandbox: Sandbox) -> None:
    """The leg URL is fetched with the call's parameters and its answer read as Plivo XML."""
    seen: list[dict[str, str]] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(dict(await request.post()))
        return web.Response(
            text='<Response><Dial callerName="Front desk" redirect="false">'
            "<Number>+14155550100</Number></Dial></Response>",
            content_type="application/xml",
        )

    app = web.Application()
    app.router.add_post("/xml", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    leg_url = f"http://127.0.0.1:{runner.addresses[0][1]}/xml"
    try:
        async with aiohttp.ClientSession() as session:
            status, _, _ = await call_api(
                session,
                f"{sandbox.plivo_base_url}{CALL}",
                "POST",
                headers=PLIVO_HEADERS,
                json={"aleg_url": leg_url},
            )
        await sandbox.fetches_settled()
    finally:
        await runner.cleanup()

    assert status == 202
    [outcome] = sandbox.calls[SANDBOX_PLIVO_CALL_ID].outcomes
    assert outcome.result is LegResult.DIALING
    assert outcome.numbers == ("+14155550100",)
    assert seen[0]["CallUUID"] == SANDBOX_PLIVO_CALL_ID
    assert {"From", "To", "Direction", "CallStatus"} <= set(seen[0])


def test_plivo_xml_is_its_own_dialect() -> None:
    """Plivo's Dial has attributes Vobiz's lacks; what Plivo XML lacks is refused."""
    dial = (
        b'<Response><Dial callerName="Desk" confirmTimeout="10">'
        b"<Number>+14155550100</Number></Dial></Response>"
    )
    assert parse_call_xml(dial, PLIVO_XML).numbers == ("+14155550100",)
    with pytest.raises(CallXmlError, match="in Vobiz XML"):
        parse_call_xml(dial)
    with pytest.raises(CallXmlError, match="has no attribute colour in Plivo XML"):
        parse_call_xml(b'<Response><Speak colour="red">x</Speak></Response>', PLIVO_XML)
    with pytest.raises(CallXmlError, match="<Play> is not a Plivo XML element"):
        parse_call_xml(b"<Response><Play>x.mp3</Play></Response>", PLIVO_XML)
