"""The sandbox enforces Telnyx's documented rules."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from sandbox import (
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CALL_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TELNYX_SECOND_CALL_ID,
    Sandbox,
)

from .conftest import call_api

TELNYX_HEADERS = {"Authorization": f"Bearer {SANDBOX_TELNYX_API_KEY}"}
TRANSFER = f"/calls/{SANDBOX_TELNYX_CALL_ID}/actions/transfer"
ACTIVE_CALLS = f"/connections/{SANDBOX_TELNYX_CONNECTION_ID}/active_calls"


async def telnyx(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    method: str,
    path: str,
    *,
    headers: dict[str, str] = TELNYX_HEADERS,
    **kwargs: Any,
) -> tuple[int, Any]:
    """Send a request to the Telnyx API; return the status and decoded body."""
    status, body, _ = await call_api(
        session, f"{sandbox.telnyx_base_url}{path}", method, headers=headers, **kwargs
    )
    return status, body


def telnyx_error(code: str, title: str, detail: str) -> dict[str, Any]:
    """Return Telnyx's documented error envelope."""
    return {
        "errors": [
            {
                "code": code,
                "title": title,
                "detail": detail,
                "meta": {
                    "url": f"https://developers.telnyx.com/docs/overview/errors/{code}"
                },
            }
        ]
    }


async def test_balance(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    """GET /balance describes the account's money, nothing that names it."""
    status, body = await telnyx(session, sandbox, "GET", "/balance")
    assert status == 200
    assert body == {
        "data": {
            "record_type": "balance",
            "balance": "25.00",
            "credit_limit": "0.00",
            "available_credit": "25.00",
            "pending": "0.00",
            "currency": "USD",
        }
    }


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": SANDBOX_TELNYX_API_KEY},
        {"Authorization": f"bearer {SANDBOX_TELNYX_API_KEY}"},
        {"Authorization": "Bearer KEYwrong"},
    ],
    ids=["missing", "no scheme", "lower-case scheme", "wrong key"],
)
async def test_unauthenticated_requests_get_10009(
    sandbox: Sandbox, session: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    """Only ``Bearer`` and a known key are accepted."""
    status, body = await telnyx(session, sandbox, "GET", "/balance", headers=headers)
    assert status == 401
    assert body == telnyx_error(
        "10009",
        "Authentication failed",
        "The required authentication headers were either invalid or not included "
        "in the request.",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"to": "+14155550100"},
        {"to": "sip:alice@pbx.example.com", "from": "+13125550100", "timeout_secs": 5},
        {"to": "sips:bob@10.0.0.1:5061", "timeout_secs": 600, "command_id": "c-1"},
    ],
)
async def test_transfer(
    sandbox: Sandbox, session: aiohttp.ClientSession, body: dict[str, Any]
) -> None:
    """A transfer of an active call answers ``{"data": {"result": "ok"}}`` and is recorded."""
    status, answer = await telnyx(session, sandbox, "POST", TRANSFER, json=body)

    assert status == 200
    assert answer == {"data": {"result": "ok"}}
    call = sandbox.calls[SANDBOX_TELNYX_CALL_ID]
    assert call.transfers == [body]
    assert call.transferred_to == body["to"]


@pytest.mark.parametrize(
    ("body", "code", "detail"),
    [
        ({}, "10004", "The 'to' parameter is required."),
        ({"to": ""}, "10004", "The 'to' parameter is required."),
        ({"to": "4155550100"}, "10016", "'to' must be a +E.164 number or a SIP URI."),
        ({"to": 14155550100}, "10016", "'to' must be a +E.164 number or a SIP URI."),
        (
            {"to": "+14155550100", "from": "me"},
            "10016",
            "'from' must be a +E.164 number.",
        ),
        (
            {"to": "+14155550100", "timeout_secs": 4},
            "10015",
            "'timeout_secs' must be a whole number from 5 to 600.",
        ),
        (
            {"to": "+14155550100", "timeout_secs": True},
            "10015",
            "'timeout_secs' must be a whole number from 5 to 600.",
        ),
    ],
)
async def test_invalid_transfers_answer_422(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    body: dict[str, Any],
    code: str,
    detail: str,
) -> None:
    """Missing or malformed parameters are refused with Telnyx's 422 and codes."""
    status, answer = await telnyx(session, sandbox, "POST", TRANSFER, json=body)
    assert status == 422
    [error] = answer["errors"]
    assert (error["code"], error["detail"]) == (code, detail)
    assert sandbox.calls[SANDBOX_TELNYX_CALL_ID].transfers == []


@pytest.mark.parametrize(
    ("kwargs", "detail"),
    [
        ({"json": {"to": "+14155550100", "audio": "x"}}, "unknown parameter(s): audio"),
        ({"data": "to=%2B14155550100"}, "Content-Type must be application/json"),
        ({"json": ["+14155550100"]}, "the request body must be a JSON object"),
    ],
)
async def test_bad_bodies_answer_400(
    sandbox: Sandbox, session: aiohttp.ClientSession, kwargs: Any, detail: str
) -> None:
    """Unknown parameters and bodies that are not a JSON object are refused (10015)."""
    status, answer = await telnyx(session, sandbox, "POST", TRANSFER, **kwargs)
    assert status == 400
    assert answer == telnyx_error("10015", "Bad Request", detail)


async def test_transfer_of_a_call_that_has_ended(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A call that has ended answers 90018."""
    sandbox.end_call(SANDBOX_TELNYX_CALL_ID)
    status, answer = await telnyx(
        session, sandbox, "POST", TRANSFER, json={"to": "+14155550100"}
    )
    assert status == 422
    assert answer == telnyx_error(
        "90018",
        "Call has already ended",
        "This call is no longer active and can't receive commands.",
    )


@pytest.mark.parametrize("call_id", ["v3:unknown", "v3:of-another-key"])
async def test_transfer_of_an_unknown_call(
    sandbox: Sandbox, session: aiohttp.ClientSession, call_id: str
) -> None:
    """A call that is not this key's is not found (10005)."""
    other = sandbox.add_telnyx_account("KEYother")
    sandbox.add_call("telnyx", other.api_key, "v3:of-another-key")
    status, answer = await telnyx(
        session,
        sandbox,
        "POST",
        f"/calls/{call_id}/actions/transfer",
        json={"to": "+14155550100"},
    )
    assert status == 404
    assert answer["errors"][0]["code"] == "10005"


async def test_active_calls(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    """A connection lists its active calls with their durations, and paging meta."""
    sandbox.end_call(SANDBOX_TELNYX_SECOND_CALL_ID)
    status, body = await telnyx(session, sandbox, "GET", ACTIVE_CALLS)

    assert status == 200
    [call] = body["data"]
    assert call["record_type"] == "call"
    assert call["call_control_id"] == SANDBOX_TELNYX_CALL_ID
    assert call["call_leg_id"]
    assert call["call_session_id"]
    assert 149 <= call["call_duration"] <= 160
    assert body["meta"] == {
        "page_number": 1,
        "page_size": 20,
        "total_pages": 1,
        "total_results": 1,
    }


async def test_active_calls_are_paged(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """page[size] and page[number] split the list."""
    status, body = await telnyx(
        session,
        sandbox,
        "GET",
        ACTIVE_CALLS,
        params={"page[size]": "1", "page[number]": "2"},
    )
    assert status == 200
    assert [c["call_control_id"] for c in body["data"]] == [
        SANDBOX_TELNYX_SECOND_CALL_ID
    ]
    assert body["meta"]["total_pages"] == 2


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/connections/999/active_calls", {}, 404),
        (ACTIVE_CALLS, {"page[size]": "0"}, 400),
        (ACTIVE_CALLS, {"page[number]": "x"}, 400),
    ],
)
async def test_bad_listings(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    path: str,
    params: dict[str, str],
    status: int,
) -> None:
    """Another key's or an unknown connection is not found; bad paging is refused."""
    answer_status, answer = await telnyx(session, sandbox, "GET", path, params=params)
    assert answer_status == status
    assert answer["errors"][0]["code"] == {404: "10005", 400: "10015"}[status]


async def test_wrong_method(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    """A method the path does not serve answers 405 in Telnyx's envelope."""
    status, answer = await telnyx(session, sandbox, "DELETE", "/balance")
    assert status == 405
    assert answer["errors"][0]["code"] == "10015"
