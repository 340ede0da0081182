"""The sandbox enforces Twilio's documented rules."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import pytest

from custom_components.call_transfer.providers.http import basic_auth
from sandbox import (
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_API_KEY_SECRET,
    SANDBOX_TWILIO_API_KEY_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_TWILIO_CALL_SID,
    SANDBOX_TWILIO_SECOND_CALL_SID,
    CallStatus,
    Sandbox,
)

from .conftest import TWILIO_HEADERS, call_api

ACCOUNT = f"/Accounts/{SANDBOX_TWILIO_ACCOUNT_SID}"
CALL = f"{ACCOUNT}/Calls/{SANDBOX_TWILIO_CALL_SID}.json"
KEY_HEADERS = {
    "Authorization": basic_auth(
        SANDBOX_TWILIO_API_KEY_SID, SANDBOX_TWILIO_API_KEY_SECRET
    )
}
OTHER_SID = "AC" + "b" * 32
TWIML = "<Response><Dial><Number>+14155550100</Number></Dial></Response>"


async def twilio(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    method: str,
    path: str,
    *,
    headers: dict[str, str] = TWILIO_HEADERS,
    **kwargs: Any,
) -> tuple[int, Any]:
    """Send a request to the Twilio API; check the request id; return status and body."""
    status, body, response_headers = await call_api(
        session, f"{sandbox.twilio_base_url}{path}", method, headers=headers, **kwargs
    )
    request_id = response_headers["Twilio-Request-Id"]
    assert request_id.startswith("RQ")
    assert len(request_id) == 34
    return status, body


def twilio_error(code: int, status: int, message: str) -> dict[str, Any]:
    """Return Twilio's documented error object."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


async def update(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    form: dict[str, str],
    call_sid: str = SANDBOX_TWILIO_CALL_SID,
) -> tuple[int, Any]:
    """Update a call with a form-encoded body."""
    return await twilio(
        session, sandbox, "POST", f"{ACCOUNT}/Calls/{call_sid}.json", data=form
    )


async def test_account_with_the_auth_token(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """GET /Accounts/{Sid}.json describes the account, its auth token included."""
    status, body = await twilio(session, sandbox, "GET", f"{ACCOUNT}.json")

    assert status == 200
    assert body["sid"] == SANDBOX_TWILIO_ACCOUNT_SID
    assert body["friendly_name"] == "Sandbox Twilio account"
    assert (body["status"], body["type"]) == ("active", "Full")
    assert body["auth_token"] == SANDBOX_TWILIO_AUTH_TOKEN
    assert body["uri"] == f"/2010-04-01{ACCOUNT}.json"


async def test_api_keys_may_not_read_the_account(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """An API key (as Twilio's Standard keys) is refused the Accounts resource."""
    status, body = await twilio(
        session, sandbox, "GET", f"{ACCOUNT}.json", headers=KEY_HEADERS
    )
    assert status == 403
    assert body == twilio_error(
        20403, 403, "API keys may not access the Accounts resource"
    )


@pytest.mark.parametrize(
    ("headers", "path"),
    [
        ({}, f"{ACCOUNT}.json"),
        ({"Authorization": "Basic not-base64!"}, f"{ACCOUNT}.json"),
        ({"Authorization": f"Bearer {SANDBOX_TWILIO_AUTH_TOKEN}"}, f"{ACCOUNT}.json"),
        (
            {"Authorization": basic_auth(SANDBOX_TWILIO_ACCOUNT_SID, "wrong")},
            f"{ACCOUNT}.json",
        ),
        (
            {
                "Authorization": basic_auth(
                    SANDBOX_TWILIO_API_KEY_SID, SANDBOX_TWILIO_AUTH_TOKEN
                )
            },
            f"{ACCOUNT}/Calls.json",
        ),
        (TWILIO_HEADERS, f"/Accounts/{OTHER_SID}.json"),
        (KEY_HEADERS, f"/Accounts/{OTHER_SID}/Calls.json"),
    ],
    ids=[
        "missing",
        "not base64",
        "bearer",
        "wrong token",
        "key with the token",
        "other account",
        "key of another account",
    ],
)
async def test_unauthenticated_requests_get_20003(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    headers: dict[str, str],
    path: str,
) -> None:
    """Only Basic auth with the path's account's token or API key is accepted."""
    sandbox.add_twilio_account(OTHER_SID, "other-token")
    status, body = await twilio(session, sandbox, "GET", path, headers=headers)
    assert status == 401
    assert body == twilio_error(20003, 401, "Authenticate")


async def test_calls_in_progress(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """The call list filters by Status, newest first, with Twilio's paging fields."""
    sandbox.end_call(SANDBOX_TWILIO_SECOND_CALL_SID)
    status, body = await twilio(
        session,
        sandbox,
        "GET",
        f"{ACCOUNT}/Calls.json",
        headers=KEY_HEADERS,
        params={"Status": "in-progress"},
    )

    assert status == 200
    [call] = body["calls"]
    seeded = sandbox.calls[SANDBOX_TWILIO_CALL_SID]
    assert call["sid"] == SANDBOX_TWILIO_CALL_SID
    assert call["account_sid"] == SANDBOX_TWILIO_ACCOUNT_SID
    assert (call["from"], call["to"]) == (seeded.from_number, seeded.to_number)
    assert (call["status"], call["direction"]) == ("in-progress", "inbound")
    assert parsedate_to_datetime(call["start_time"]) == seeded.started
    assert call["start_time"].endswith(" +0000")
    assert call["end_time"] is None
    assert body["next_page_uri"] is None
    assert (body["page"], body["page_size"], body["start"], body["end"]) == (
        0,
        50,
        0,
        0,
    )
    assert body["uri"].startswith(f"/2010-04-01{ACCOUNT}/Calls.json?")


async def test_calls_are_paged(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """PageSize splits the list; next_page_uri (Twilio-relative) gives the next page."""
    status, first = await twilio(
        session, sandbox, "GET", f"{ACCOUNT}/Calls.json", params={"PageSize": "1"}
    )
    assert status == 200
    assert [call["sid"] for call in first["calls"]] == [SANDBOX_TWILIO_SECOND_CALL_SID]
    next_page = first["next_page_uri"]
    assert next_page.startswith(f"/2010-04-01{ACCOUNT}/Calls.json?")
    assert "Page=1" in next_page
    assert f"PageToken=PA{SANDBOX_TWILIO_SECOND_CALL_SID}" in next_page

    query = next_page.removeprefix(f"/2010-04-01{ACCOUNT}/Calls.json")
    status, second = await twilio(
        session, sandbox, "GET", f"{ACCOUNT}/Calls.json{query}"
    )
    assert status == 200
    assert [call["sid"] for call in second["calls"]] == [SANDBOX_TWILIO_CALL_SID]
    assert (second["page"], second["start"], second["next_page_uri"]) == (1, 1, None)


async def test_page_size_limit(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """The account's page size limit caps PageSize, as Twilio caps it at 1000."""
    sandbox.twilio_accounts[SANDBOX_TWILIO_ACCOUNT_SID].page_size_limit = 1
    _, body = await twilio(
        session, sandbox, "GET", f"{ACCOUNT}/Calls.json", params={"PageSize": "1000"}
    )
    assert body["page_size"] == 1
    assert len(body["calls"]) == 1


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"Status": "live"}, 400, "Status must be one of"),
        ({"PageSize": "0"}, 400, "PageSize must be a whole number from 1 to 1000"),
        ({"PageSize": "1001"}, 400, "PageSize must be a whole number"),
        ({"Page": "x"}, 400, "Page must be a whole number"),
        ({"Page": "1"}, 21481, "Invalid PageToken"),
        ({"Page": "1", "PageToken": "PACAunknown"}, 21481, "Invalid PageToken"),
    ],
)
async def test_bad_list_queries(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    params: dict[str, str],
    code: int,
    message: str,
) -> None:
    """Unknown statuses, page sizes out of range and bad page tokens answer 400."""
    status, body = await twilio(
        session, sandbox, "GET", f"{ACCOUNT}/Calls.json", params=params
    )
    assert status == 400
    assert body["code"] == code
    assert body["message"].startswith(message)


async def test_fetch_a_call(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    """GET of one call describes it; an unknown call is 20404."""
    status, body = await twilio(session, sandbox, "GET", CALL)
    assert status == 200
    assert body["sid"] == SANDBOX_TWILIO_CALL_SID
    assert body["uri"] == f"/2010-04-01{CALL}"

    unknown = f"{ACCOUNT}/Calls/CA{'f' * 32}.json"
    status, body = await twilio(session, sandbox, "GET", unknown)
    assert status == 404
    assert body == twilio_error(
        20404, 404, f"The requested resource /2010-04-01{unknown} was not found"
    )


async def test_update_with_twiml(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Inline TwiML redirects the call; the sandbox records it and the numbers dialed."""
    status, body = await update(session, sandbox, {"Twiml": TWIML})

    assert status == 200
    assert (body["sid"], body["status"]) == (SANDBOX_TWILIO_CALL_SID, "in-progress")
    call = sandbox.calls[SANDBOX_TWILIO_CALL_SID]
    assert call.transfers == [{"Twiml": TWIML}]
    assert call.transferred_to == "+14155550100"
    assert call.live


async def test_update_with_a_url(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A TwiML URL and its method redirect the call."""
    form = {"Url": "https://twiml.example.com/t.xml", "Method": "GET"}
    status, _ = await update(session, sandbox, form)

    assert status == 200
    call = sandbox.calls[SANDBOX_TWILIO_CALL_SID]
    assert call.transfers == [form]
    assert call.transferred_to == form["Url"]


async def test_update_with_status_completed_hangs_up(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Status=completed ends the call; a further update is 21220."""
    status, body = await update(session, sandbox, {"Status": "completed"})
    assert (status, body["status"]) == (200, "completed")
    assert body["end_time"] is not None
    assert not sandbox.calls[SANDBOX_TWILIO_CALL_SID].live

    status, body = await update(session, sandbox, {"Twiml": TWIML})
    assert status == 400
    assert body == twilio_error(21220, 400, "Call is not in-progress. Cannot redirect.")


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "Url, Twiml or Status is required"),
        ({"Url": "https://x.example/t", "Twiml": TWIML}, "mutually exclusive"),
        ({"To": "+14155550100"}, "unknown parameter(s): To"),
        ({"Url": "/relative"}, "Url is not a valid URL"),
        ({"Url": "https://x.example/t", "Method": "PUT"}, "Method must be GET or POST"),
        ({"Status": "busy"}, "Status must be canceled or completed"),
        ({"Twiml": "<Response><Dial>"}, "Twiml is not well-formed XML"),
        ({"Twiml": "<Say>hi</Say>"}, "Twiml must be a <Response> document"),
    ],
)
async def test_invalid_updates_answer_400(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    form: dict[str, str],
    message: str,
) -> None:
    """Missing, conflicting, unknown or malformed parameters are refused."""
    status, body = await update(session, sandbox, form)
    assert status == 400
    assert body["code"] == 400
    assert message in body["message"]
    assert sandbox.calls[SANDBOX_TWILIO_CALL_SID].transfers == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"json": {"Twiml": TWIML}}, "Content-Type must be application/x-www-form"),
        (
            {
                "data": "Twiml",
                "headers": TWILIO_HEADERS
                | {"Content-Type": "application/x-www-form-urlencoded"},
            },
            "not valid form data",
        ),
    ],
)
async def test_bodies_must_be_form_encoded(
    sandbox: Sandbox, session: aiohttp.ClientSession, kwargs: Any, message: str
) -> None:
    """Twilio takes form-encoded parameters: JSON or broken form data is refused."""
    status, body = await twilio(session, sandbox, "POST", CALL, **kwargs)
    assert status == 400
    assert message in body["message"]


async def test_update_of_another_accounts_call(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A call of another account is not found for this one."""
    other = sandbox.add_twilio_account(OTHER_SID, "other-token")
    call = sandbox.add_call("twilio", other.sid)
    assert call.call_id.startswith("CA")
    assert len(call.call_id) == 34
    status, body = await update(session, sandbox, {"Twiml": TWIML}, call.call_id)
    assert status == 404
    assert body["code"] == 20404
    assert call.status is CallStatus.IN_PROGRESS


async def test_wrong_method_and_unknown_path(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """DELETE of a call is not served (405 with Allow); unknown paths are 20404."""
    status, body = await twilio(session, sandbox, "DELETE", CALL)
    assert status == 405
    assert body["code"] == 405
    status, body = await twilio(session, sandbox, "GET", f"{ACCOUNT}/Recordings.json")
    assert status == 404
    assert body["code"] == 20404
