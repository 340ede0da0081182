"""The sandbox enforces Bland AI's documented rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_SECOND_CALL_ID,
    CallStatus,
    Sandbox,
)

from .conftest import BLAND_HEADERS, BLAND_ORG_HEADERS, bland_error, is_uuid

TRANSFER = "/v1/calls/active/transfer"
NOT_FOUND = "Call with id {} not found or has already been completed."
INVALID_NUMBER = "Transfer number is invalid: use E.164, for example +12223334444"
OTHER_KEY = "sk-other-0002"


async def request(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    method: str,
    path: str,
    *,
    headers: dict[str, str] = BLAND_HEADERS,
    **kwargs: Any,
) -> tuple[int, Any]:
    """Send a request to the Bland API; return the status and decoded body."""
    async with session.request(
        method, f"{sandbox.bland_base_url}{path}", headers=headers, **kwargs
    ) as response:
        assert is_uuid(response.headers["x-request-id"])
        return response.status, await response.json()


async def transfer(
    session: aiohttp.ClientSession, sandbox: Sandbox, body: Any
) -> tuple[int, Any]:
    """Ask for a transfer with the sandbox key."""
    return await request(session, sandbox, "POST", TRANSFER, json=body)


async def test_me_describes_the_key(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """GET /v1/me returns the status, billing and the number of calls."""
    status, body = await request(session, sandbox, "GET", "/v1/me")

    assert status == 200
    assert body == {
        "status": "active",
        "billing": {"current_balance": 25.0, "refill_to": None},
        "total_calls": 2,
    }


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": f"Bearer {SANDBOX_BLAND_API_KEY}"},
        {"authorization": "sk-wrong"},
        {"authorization": SANDBOX_BLAND_API_KEY.upper()},
    ],
    ids=["missing", "bearer prefix", "wrong key", "wrong case"],
)
async def test_unauthenticated_requests_get_401(
    sandbox: Sandbox, session: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    """Only the raw API key in the authorization header is accepted."""
    status, body = await request(session, sandbox, "GET", "/v1/me", headers=headers)

    assert status == 401
    assert body == bland_error(
        "UNAUTHORIZED", "Missing or invalid API key in the authorization header"
    )


@pytest.mark.parametrize(
    ("number", "normalized"),
    [("+12223334444", "+12223334444"), ("4155550100", "+14155550100")],
)
async def test_transfer_succeeds(
    sandbox: Sandbox, session: aiohttp.ClientSession, number: str, normalized: str
) -> None:
    """A transfer answers the documented body; ten digits are read as a US number."""
    status, body = await transfer(
        session, sandbox, {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": number}
    )

    assert status == 200
    assert body == {
        "data": {
            "message": f"Call {SANDBOX_BLAND_CALL_ID} transferred to {normalized} successfully"
        },
        "errors": None,
    }
    call = sandbox.calls[SANDBOX_BLAND_CALL_ID]
    assert call.transferred_to == normalized
    assert call.transfers == [{"transfer_number": normalized}]
    assert call.live


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"transfer_number": "+12223334444"}, "Call ID is required"),
        ({"call_id": "", "transfer_number": "+12223334444"}, "Call ID is required"),
        ({"call_id": 7, "transfer_number": "+12223334444"}, "Call ID is required"),
        ({"call_id": SANDBOX_BLAND_CALL_ID}, "Transfer number is required"),
        (
            {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": ""},
            "Transfer number is required",
        ),
        (
            {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": "12345"},
            INVALID_NUMBER,
        ),
        (
            {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": "+0123456789"},
            INVALID_NUMBER,
        ),
        (
            {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": "+1234567890123456"},
            INVALID_NUMBER,
        ),
        (
            {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": "(415) 555-0100"},
            INVALID_NUMBER,
        ),
        (
            {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": "1234567890"},
            INVALID_NUMBER,
        ),
        (
            {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": 4155550100},
            INVALID_NUMBER,
        ),
        (
            {
                "call_id": SANDBOX_BLAND_CALL_ID,
                "transfer_number": "+12223334444",
                "announce": True,
            },
            "unknown parameter(s): announce",
        ),
        ("+12223334444", "the request body must be a JSON object"),
    ],
)
async def test_transfer_validation_errors(
    sandbox: Sandbox, session: aiohttp.ClientSession, body: Any, message: str
) -> None:
    """Bad input answers 400 VALIDATION_ERROR and transfers nothing."""
    status, answer = await transfer(session, sandbox, body)

    assert status == 400
    assert answer == bland_error("VALIDATION_ERROR", message)
    assert sandbox.calls[SANDBOX_BLAND_CALL_ID].transfers == []


async def test_transfer_with_invalid_json(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A body that is not JSON answers 400 VALIDATION_ERROR."""
    status, body = await request(
        session,
        sandbox,
        "POST",
        TRANSFER,
        data="{call_id",
        headers=BLAND_HEADERS | {"Content-Type": "application/json"},
    )

    assert status == 400
    assert body == bland_error("VALIDATION_ERROR", "the request body is not valid JSON")


@pytest.mark.parametrize("case", ["unknown", "ended", "queued", "other account"])
async def test_transfer_of_a_call_not_in_progress_is_not_found(
    sandbox: Sandbox, session: aiohttp.ClientSession, case: str
) -> None:
    """Unknown, ended, queued or someone else's calls answer 404 NOT_FOUND."""
    sandbox.add_bland_account(OTHER_KEY)
    call_id = {
        "unknown": "00000000-0000-0000-0000-000000000000",
        "ended": SANDBOX_BLAND_CALL_ID,
        "queued": sandbox.add_call(
            "bland", SANDBOX_BLAND_API_KEY, status=CallStatus.QUEUED
        ).call_id,
        "other account": sandbox.add_call("bland", OTHER_KEY).call_id,
    }[case]
    sandbox.end_call(SANDBOX_BLAND_CALL_ID)

    status, body = await transfer(
        session, sandbox, {"call_id": call_id, "transfer_number": "+12223334444"}
    )

    assert status == 404
    assert body == bland_error("NOT_FOUND", NOT_FOUND.format(call_id))
    assert not any(call.transfers for call in sandbox.calls.values())


@pytest.mark.parametrize("number", ["+88212345678", "+8816123456"])
async def test_transfer_to_a_blocked_destination_is_forbidden(
    sandbox: Sandbox, session: aiohttp.ClientSession, number: str
) -> None:
    """International satellite numbers are refused with 403 FORBIDDEN."""
    status, body = await transfer(
        session, sandbox, {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": number}
    )

    assert status == 403
    assert body == bland_error(
        "FORBIDDEN",
        "Transfer blocked by international restrictions for your account type.",
    )
    assert sandbox.calls[SANDBOX_BLAND_CALL_ID].transferred_to is None


async def test_blocked_prefixes_belong_to_the_account(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Tests can change which destinations an account may not reach."""
    sandbox.bland_accounts[SANDBOX_BLAND_API_KEY].blocked_prefixes = {"+44"}

    blocked, _ = await transfer(
        session,
        sandbox,
        {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": "+442071838750"},
    )
    allowed, _ = await transfer(
        session,
        sandbox,
        {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": "+88212345678"},
    )

    assert (blocked, allowed) == (403, 200)


@pytest.mark.parametrize(
    "headers",
    [BLAND_HEADERS, BLAND_HEADERS | {"x-bland-org-id": "org-someone-else"}],
    ids=["missing", "another organization"],
)
async def test_active_calls_need_the_org_header(
    sandbox: Sandbox, session: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    """Listing active calls without the account's organization id is forbidden."""
    status, body = await request(
        session, sandbox, "GET", "/v1/calls/active", headers=headers
    )

    assert status == 403
    assert body == bland_error(
        "FORBIDDEN",
        "The x-bland-org-id header is missing or names another organization",
    )


async def test_active_calls(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    """Queued and in-progress calls of the account are listed; ended ones are not."""
    sandbox.add_bland_account(OTHER_KEY)
    sandbox.add_call("bland", OTHER_KEY)
    sandbox.end_call(SANDBOX_BLAND_SECOND_CALL_ID)
    queued = sandbox.add_call(
        "bland",
        SANDBOX_BLAND_API_KEY,
        from_number="+15550001111",
        to_number="+15550002222",
        started=datetime(2025, 6, 1, 9, 31, tzinfo=UTC),
        status=CallStatus.QUEUED,
    )
    sandbox.calls[SANDBOX_BLAND_CALL_ID].started = datetime(
        2025, 6, 1, 9, 30, 5, tzinfo=UTC
    )

    status, body = await request(
        session, sandbox, "GET", "/v1/calls/active", headers=BLAND_ORG_HEADERS
    )

    assert status == 200
    assert body == {
        "data": [
            {
                "call_id": SANDBOX_BLAND_CALL_ID,
                "from": "+14155550150",
                "to": "+12223334444",
                "status": "IN_PROGRESS",
                "start_time": "2025-06-01T09:30:05.000Z",
            },
            {
                "call_id": queued.call_id,
                "from": "+15550001111",
                "to": "+15550002222",
                "status": "QUEUED",
                "start_time": "2025-06-01T09:31:00.000Z",
            },
        ],
        "errors": None,
    }


async def test_call_details_follow_the_call(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Call details show the queue status, completion and the transfer destination."""
    path = f"/v1/calls/{SANDBOX_BLAND_CALL_ID}"
    _, started = await request(session, sandbox, "GET", path)
    await transfer(
        session,
        sandbox,
        {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": "+12223334444"},
    )
    sandbox.end_call(SANDBOX_BLAND_CALL_ID)
    status, completed = await request(session, sandbox, "GET", path)

    expected = {
        "call_id": SANDBOX_BLAND_CALL_ID,
        "queue_status": "started",
        "status": "in-progress",
        "completed": False,
        "transferred_to": None,
        "from": "+14155550150",
        "to": "+12223334444",
    }
    assert started == expected
    assert status == 200
    assert completed == expected | {
        "queue_status": "complete",
        "status": "completed",
        "completed": True,
        "transferred_to": "+12223334444",
    }


async def test_call_details_of_another_accounts_call(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Another key's call is not found."""
    sandbox.add_bland_account(OTHER_KEY)
    call = sandbox.add_call("bland", OTHER_KEY)

    status, body = await request(session, sandbox, "GET", f"/v1/calls/{call.call_id}")

    assert status == 404
    assert body == bland_error("NOT_FOUND", f"Call with id {call.call_id} not found.")


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/v1/agents", 404, bland_error("NOT_FOUND", "resource not found")),
        ("GET", "/v1/me/", 404, bland_error("NOT_FOUND", "resource not found")),
        (
            "GET",
            TRANSFER,
            405,
            bland_error("METHOD_NOT_ALLOWED", "method not allowed on this path"),
        ),
    ],
)
async def test_unknown_paths_and_methods(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    status: int,
    error: dict[str, Any],
) -> None:
    """Errors keep Bland's envelope; a wrong method names the allowed one."""
    async with session.request(
        method, f"{sandbox.bland_base_url}{path}", headers=BLAND_HEADERS
    ) as response:
        assert response.status == status
        assert await response.json() == error
        assert response.headers.get("Allow") == ("POST" if status == 405 else None)
