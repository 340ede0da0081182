"""The sandbox enforces Vobiz's documented rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from sandbox import (
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_CALL_ID,
    SANDBOX_VOBIZ_SECOND_CALL_ID,
    CallStatus,
    Sandbox,
)

from .conftest import ACCOUNT_PATH, VOBIZ_HEADERS, assert_vobiz_error, is_uuid

CALL_PATH = f"{ACCOUNT_PATH}/Call/{SANDBOX_VOBIZ_CALL_ID}/"
LIVE = {"status": "live"}
ALEG_URL = "https://xml.example.com/transfer/aleg"
BLEG_URL = "http://xml.example.com/transfer/bleg"
OTHER_AUTH_ID = "MA_OTHER_0002"
OTHER_TOKEN = "other-token"


async def request(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    method: str,
    path: str,
    *,
    headers: dict[str, str] = VOBIZ_HEADERS,
    **kwargs: Any,
) -> tuple[int, Any]:
    """Send a request to the Vobiz API and return the status and decoded body."""
    async with session.request(
        method, f"{sandbox.vobiz_base_url}{path}", headers=headers, **kwargs
    ) as response:
        body = await response.read()
        return response.status, (await response.json()) if body else None


async def test_auth_me_describes_the_account(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """GET /auth/me returns the account, auth_secret included."""
    status, body = await request(session, sandbox, "GET", "/auth/me")

    assert status == 200
    assert is_uuid(body.pop("api_id"))
    assert body == {
        "auth_id": SANDBOX_VOBIZ_AUTH_ID,
        "name": "Sandbox Vobiz account",
        "is_active": True,
        "enabled": True,
        "concurrent_calls_limit": 10,
        "cps_limit": 2,
        "auth_secret": SANDBOX_VOBIZ_AUTH_SECRET,
    }


@pytest.mark.parametrize(
    ("headers", "path"),
    [
        ({}, "/auth/me"),
        ({"X-Auth-ID": SANDBOX_VOBIZ_AUTH_ID}, "/auth/me"),
        ({"X-Auth-Token": SANDBOX_VOBIZ_AUTH_TOKEN}, "/auth/me"),
        ({"X-Auth-ID": SANDBOX_VOBIZ_AUTH_ID, "X-Auth-Token": "wrong"}, "/auth/me"),
        (
            {"X-Auth-ID": "MA_UNKNOWN", "X-Auth-Token": SANDBOX_VOBIZ_AUTH_TOKEN},
            "/auth/me",
        ),
        (VOBIZ_HEADERS, f"/account/{SANDBOX_VOBIZ_AUTH_ID}/Call/"),
        (VOBIZ_HEADERS, f"{ACCOUNT_PATH}/call/"),
        (VOBIZ_HEADERS, f"/ACCOUNT/{SANDBOX_VOBIZ_AUTH_ID}/CALL/"),
        (VOBIZ_HEADERS, f"/Account/{OTHER_AUTH_ID}/Call/"),
        (
            {"X-Auth-ID": OTHER_AUTH_ID, "X-Auth-Token": OTHER_TOKEN},
            f"{ACCOUNT_PATH}/Call/",
        ),
    ],
    ids=[
        "no headers",
        "no token",
        "no auth id",
        "wrong token",
        "unknown auth id",
        "lowercase account",
        "lowercase call",
        "uppercase",
        "path names another account",
        "headers name another account",
    ],
)
async def test_unauthenticated_requests_get_401(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    headers: dict[str, str],
    path: str,
) -> None:
    """Missing or wrong headers, a misspelled path or someone else's path: 401."""
    sandbox.add_vobiz_account(OTHER_AUTH_ID, OTHER_TOKEN)

    status, body = await request(
        session, sandbox, "GET", path, headers=headers, params=LIVE
    )

    assert status == 401
    assert_vobiz_error(body, "authentication failed")


async def test_live_calls_are_listed_per_account(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Each account sees only its own calls that are in progress."""
    sandbox.add_vobiz_account(OTHER_AUTH_ID, OTHER_TOKEN)
    other_call = sandbox.add_call("vobiz", OTHER_AUTH_ID)
    sandbox.add_call("vobiz", SANDBOX_VOBIZ_AUTH_ID, status=CallStatus.QUEUED)
    sandbox.end_call(SANDBOX_VOBIZ_SECOND_CALL_ID)

    status, body = await request(
        session, sandbox, "GET", f"{ACCOUNT_PATH}/Call/", params=LIVE
    )
    other_status, other_body = await request(
        session,
        sandbox,
        "GET",
        f"/Account/{OTHER_AUTH_ID}/Call/",
        headers={"X-Auth-ID": OTHER_AUTH_ID, "X-Auth-Token": OTHER_TOKEN},
        params=LIVE,
    )

    assert (status, other_status) == (200, 200)
    assert is_uuid(body["api_id"])
    assert body["calls"] == [SANDBOX_VOBIZ_CALL_ID]
    assert other_body["calls"] == [other_call.call_id]


@pytest.mark.parametrize(
    ("path", "query"),
    [(f"{ACCOUNT_PATH}/Call/", {}), (CALL_PATH, {"status": "queued"})],
)
async def test_call_reads_need_status_live(
    sandbox: Sandbox, session: aiohttp.ClientSession, path: str, query: dict[str, str]
) -> None:
    """The listing is of live calls only; a call read by another status is refused."""
    status, body = await request(session, sandbox, "GET", path, params=query)

    assert status == 400
    assert_vobiz_error(body, "add status=live: the sandbox serves live calls only")


@pytest.mark.parametrize("ended", [False, True])
async def test_call_record_of_a_call_live_or_ended(
    sandbox: Sandbox, session: aiohttp.ClientSession, ended: bool
) -> None:
    """Read without ``status``: the call's record, as "Retrieve a Call (CDR)" shows it."""
    call = sandbox.calls[SANDBOX_VOBIZ_CALL_ID]
    call.started = datetime(2025, 6, 1, 9, 30, 5, tzinfo=UTC)
    if ended:
        sandbox.end_call(call.call_id)
        call.ended = datetime(2025, 6, 1, 9, 32, 5, tzinfo=UTC)

    status, body = await request(session, sandbox, "GET", CALL_PATH)

    assert status == 200
    assert is_uuid(body.pop("api_id"))
    duration = body.pop("duration")
    assert duration == 120 if ended else duration > 120
    assert body.pop("billed_duration") == duration
    assert body == {
        "call_uuid": SANDBOX_VOBIZ_CALL_ID,
        "request_uuid": call.request_uuid,
        "from": "+14155550123",
        "to": "+918035735400",
        "status": "completed" if ended else "in-progress",
        "direction": "inbound",
        "call_rate": "0.02",
        "total_cost": "0.00",
        "created_at": "2025-06-01T09:30:05Z",
        "answered_at": "2025-06-01T09:30:05Z",
    }


@pytest.mark.parametrize("case", ["unknown", "other account"])
async def test_call_record_404_unless_own(
    sandbox: Sandbox, session: aiohttp.ClientSession, case: str
) -> None:
    """A call the account never had has no record."""
    sandbox.add_vobiz_account(OTHER_AUTH_ID, OTHER_TOKEN)
    call_id = {
        "unknown": "00000000-0000-0000-0000-000000000000",
        "other account": sandbox.add_call("vobiz", OTHER_AUTH_ID).call_id,
    }[case]

    status, body = await request(
        session, sandbox, "GET", f"{ACCOUNT_PATH}/Call/{call_id}/"
    )

    assert status == 404
    assert_vobiz_error(body, "call not found or not in progress")


async def test_live_call_details(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """One live call is a flat object with the documented fields."""
    call = sandbox.calls[SANDBOX_VOBIZ_CALL_ID]
    call.started = datetime(2025, 6, 1, 9, 30, 5, tzinfo=UTC)

    status, body = await request(session, sandbox, "GET", CALL_PATH, params=LIVE)

    assert status == 200
    assert is_uuid(body.pop("api_id"))
    assert body == {
        "call_uuid": SANDBOX_VOBIZ_CALL_ID,
        "call_status": "in-progress",
        "direction": "inbound",
        "from": "+14155550123",
        "to": "+918035735400",
        "caller_name": "Sandbox Caller",
        "session_start": "2025-06-01 09:30:05",
        "request_uuid": call.request_uuid,
    }


@pytest.mark.parametrize("case", ["ended", "queued", "unknown", "other account"])
async def test_live_call_details_404_unless_live_and_own(
    sandbox: Sandbox, session: aiohttp.ClientSession, case: str
) -> None:
    """A call that is not in progress, or not this account's, is not found."""
    sandbox.add_vobiz_account(OTHER_AUTH_ID, OTHER_TOKEN)
    call_id = {
        "ended": SANDBOX_VOBIZ_CALL_ID,
        "queued": sandbox.add_call(
            "vobiz", SANDBOX_VOBIZ_AUTH_ID, status=CallStatus.QUEUED
        ).call_id,
        "unknown": "00000000-0000-0000-0000-000000000000",
        "other account": sandbox.add_call("vobiz", OTHER_AUTH_ID).call_id,
    }[case]
    sandbox.end_call(SANDBOX_VOBIZ_CALL_ID)

    status, body = await request(
        session, sandbox, "GET", f"{ACCOUNT_PATH}/Call/{call_id}/", params=LIVE
    )

    assert status == 404
    assert_vobiz_error(body, "call not found or not in progress")


async def test_transfer_is_accepted(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A transfer answers 202 with the documented body and is recorded on the call."""
    status, body = await request(
        session, sandbox, "POST", CALL_PATH, json={"aleg_url": ALEG_URL}
    )

    assert status == 202
    assert is_uuid(body.pop("api_id"))
    assert body == {"message": "call transferred", "call_uuid": SANDBOX_VOBIZ_CALL_ID}
    call = sandbox.calls[SANDBOX_VOBIZ_CALL_ID]
    assert call.transferred_to == ALEG_URL
    assert call.transfers == [
        {"legs": "aleg", "aleg_url": ALEG_URL, "aleg_method": "POST"}
    ]
    assert call.live


@pytest.mark.parametrize(
    ("sent", "recorded", "transferred_to"),
    [
        (
            {"legs": "bleg", "bleg_url": BLEG_URL, "bleg_method": "GET"},
            {"legs": "bleg", "bleg_url": BLEG_URL, "bleg_method": "GET"},
            BLEG_URL,
        ),
        (
            {"legs": "both", "aleg_url": ALEG_URL, "bleg_url": BLEG_URL},
            {
                "legs": "both",
                "aleg_url": ALEG_URL,
                "aleg_method": "POST",
                "bleg_url": BLEG_URL,
                "bleg_method": "POST",
            },
            f"{ALEG_URL}, {BLEG_URL}",
        ),
        (
            {"legs": "aleg", "aleg_url": ALEG_URL, "bleg_url": BLEG_URL},
            {"legs": "aleg", "aleg_url": ALEG_URL, "aleg_method": "POST"},
            ALEG_URL,
        ),
    ],
    ids=["bleg", "both", "aleg ignores bleg_url"],
)
async def test_transfer_records_the_legs_it_moved(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    sent: dict[str, str],
    recorded: dict[str, str],
    transferred_to: str,
) -> None:
    """Each transferred leg's URL and method is recorded, with the POST default."""
    status, _ = await request(session, sandbox, "POST", CALL_PATH, json=sent)

    assert status == 202
    call = sandbox.calls[SANDBOX_VOBIZ_CALL_ID]
    assert call.transfers == [recorded]
    assert call.transferred_to == transferred_to


@pytest.mark.parametrize(
    ("sent", "error"),
    [
        ({}, "aleg_url is required when legs is aleg"),
        ({"legs": "cleg", "aleg_url": ALEG_URL}, "legs must be aleg, bleg or both"),
        (
            {"legs": "bleg", "aleg_url": ALEG_URL},
            "bleg_url is required when legs is bleg",
        ),
        (
            {"legs": "both", "aleg_url": ALEG_URL},
            "bleg_url is required when legs is both",
        ),
        (
            {"legs": "both", "bleg_url": BLEG_URL},
            "aleg_url is required when legs is both",
        ),
        ({"aleg_url": "/transfer/aleg"}, "aleg_url is not an absolute http(s) URL"),
        (
            {"aleg_url": "ftp://xml.example.com/a"},
            "aleg_url is not an absolute http(s) URL",
        ),
        (
            {"aleg_url": "javascript:alert(1)"},
            "aleg_url is not an absolute http(s) URL",
        ),
        ({"aleg_url": "https://"}, "aleg_url is not an absolute http(s) URL"),
        (
            {"aleg_url": "https://a b.example/x"},
            "aleg_url is not an absolute http(s) URL",
        ),
        ({"aleg_url": "http://[::1/x"}, "aleg_url is not an absolute http(s) URL"),
        (
            {"aleg_url": ALEG_URL, "bleg_url": "xml.example.com/b"},
            "bleg_url is not an absolute http(s) URL",
        ),
        (
            {"aleg_url": ALEG_URL, "aleg_method": "PUT"},
            "aleg_method must be GET or POST",
        ),
        (
            {"aleg_url": ALEG_URL, "aleg_method": "post"},
            "aleg_method must be GET or POST",
        ),
        (
            {"aleg_url": ALEG_URL, "bleg_method": "DELETE"},
            "bleg_method must be GET or POST",
        ),
        (
            {"aleg_url": ALEG_URL, "aleg_uri": ALEG_URL},
            "unknown parameter(s): aleg_uri",
        ),
        (
            {"legs": None, "aleg_url": ALEG_URL},
            "every transfer parameter must be a string",
        ),
        ([ALEG_URL], "the request body must be a JSON object"),
    ],
)
async def test_transfer_rejects_bad_bodies(
    sandbox: Sandbox, session: aiohttp.ClientSession, sent: Any, error: str
) -> None:
    """Every documented (and stricter) body rule answers 400, and nothing moves."""
    status, body = await request(session, sandbox, "POST", CALL_PATH, json=sent)

    assert status == 400
    assert_vobiz_error(body, error)
    assert sandbox.calls[SANDBOX_VOBIZ_CALL_ID].transfers == []


@pytest.mark.parametrize(
    ("data", "content_type", "error"),
    [
        ('{"aleg_url": ', "application/json", "the request body is not valid JSON"),
        ("null", "application/json", "the request body must be a JSON object"),
        (
            f"aleg_url={ALEG_URL}",
            "application/x-www-form-urlencoded",
            "Content-Type must be application/json",
        ),
    ],
)
async def test_transfer_needs_a_json_body(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    data: str,
    content_type: str,
    error: str,
) -> None:
    """A body that is not a JSON object, or not labelled as JSON, answers 400."""
    status, body = await request(
        session,
        sandbox,
        "POST",
        CALL_PATH,
        headers=VOBIZ_HEADERS | {"Content-Type": content_type},
        data=data,
    )

    assert status == 400
    assert_vobiz_error(body, error)


async def test_transfer_of_another_accounts_call_is_not_found(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A live call of another account cannot be transferred through this one."""
    sandbox.add_vobiz_account(OTHER_AUTH_ID, OTHER_TOKEN)
    other_call = sandbox.add_call("vobiz", OTHER_AUTH_ID)

    status, body = await request(
        session,
        sandbox,
        "POST",
        f"{ACCOUNT_PATH}/Call/{other_call.call_id}/",
        json={"aleg_url": ALEG_URL},
    )

    assert status == 404
    assert_vobiz_error(body, "call not found or not in progress")
    assert other_call.transfers == []


async def test_transfer_after_end_call_is_not_found(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Once a call has ended, transferring it answers 404."""
    sandbox.end_call(SANDBOX_VOBIZ_CALL_ID)

    status, body = await request(
        session, sandbox, "POST", CALL_PATH, json={"aleg_url": ALEG_URL}
    )

    assert status == 404
    assert_vobiz_error(body, "call not found or not in progress")


async def test_hang_up_ends_the_call(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """DELETE answers 204 with no body; the call is then gone for every request."""
    async with session.delete(
        f"{sandbox.vobiz_base_url}{CALL_PATH}", headers=VOBIZ_HEADERS
    ) as response:
        assert response.status == 204
        assert await response.read() == b""

    assert sandbox.calls[SANDBOX_VOBIZ_CALL_ID].status is CallStatus.COMPLETED
    for method, params, json in (
        ("GET", LIVE, None),
        ("POST", None, {"aleg_url": ALEG_URL}),
        ("DELETE", None, None),
    ):
        status, _ = await request(
            session, sandbox, method, CALL_PATH, params=params, json=json
        )
        assert status == 404


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/auth/me/", 404, "resource not found"),
        ("GET", f"{ACCOUNT_PATH}/Call", 404, "resource not found"),
        ("GET", f"{ACCOUNT_PATH}/Recording/", 404, "resource not found"),
        ("PUT", CALL_PATH, 405, "method not allowed on this path"),
    ],
)
async def test_unknown_paths_and_methods(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    status: int,
    error: str,
) -> None:
    """Paths are exact (trailing slashes too); errors keep Vobiz's envelope."""
    answer_status, body = await request(session, sandbox, method, path, params=LIVE)

    assert answer_status == status
    assert_vobiz_error(body, error)
