"""Test controls of the listings: calls left out of them, and hooks between requests."""

from __future__ import annotations

import aiohttp
import pytest

from sandbox import (
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_CALL_ID,
    SANDBOX_TELNYX_CALL_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_CALL_SID,
    SANDBOX_VOBIZ_CALL_ID,
    Fault,
    FaultKind,
    RecordedRequest,
    Sandbox,
)

from .conftest import (
    ACCOUNT_PATH,
    BLAND_ORG_HEADERS,
    PLIVO_HEADERS,
    TWILIO_HEADERS,
    VOBIZ_HEADERS,
    call_api,
)
from .test_telnyx import TELNYX_HEADERS


async def listed_ids(
    session: aiohttp.ClientSession, sandbox: Sandbox, provider: str
) -> list[str]:
    """List the provider account's live calls as its API does; return their ids."""
    if provider == "vobiz":
        url = f"{sandbox.vobiz_base_url}{ACCOUNT_PATH}/Call/?status=live"
        _, body, _ = await call_api(session, url, headers=VOBIZ_HEADERS)
        return list(body["calls"])
    if provider == "plivo":
        url = f"{sandbox.plivo_base_url}/Account/{SANDBOX_PLIVO_AUTH_ID}/Call/?status=live"
        _, body, _ = await call_api(session, url, headers=PLIVO_HEADERS)
        return list(body["calls"])
    if provider == "bland":
        url = f"{sandbox.bland_base_url}/v1/calls/active"
        _, body, _ = await call_api(session, url, headers=BLAND_ORG_HEADERS)
        return [call["call_id"] for call in body["data"]]
    if provider == "twilio":
        url = (
            f"{sandbox.twilio_base_url}/Accounts/{SANDBOX_TWILIO_ACCOUNT_SID}"
            "/Calls.json?Status=in-progress"
        )
        _, body, _ = await call_api(session, url, headers=TWILIO_HEADERS)
        return [call["sid"] for call in body["calls"]]
    url = (
        f"{sandbox.telnyx_base_url}/connections/{SANDBOX_TELNYX_CONNECTION_ID}"
        "/active_calls"
    )
    _, body, _ = await call_api(session, url, headers=TELNYX_HEADERS)
    return [call["call_control_id"] for call in body["data"]]


@pytest.mark.parametrize(
    ("provider", "call_id"),
    [
        ("vobiz", SANDBOX_VOBIZ_CALL_ID),
        ("plivo", SANDBOX_PLIVO_CALL_ID),
        ("bland", SANDBOX_BLAND_CALL_ID),
        ("twilio", SANDBOX_TWILIO_CALL_SID),
        ("telnyx", SANDBOX_TELNYX_CALL_ID),
    ],
)
async def test_a_call_is_left_out_of_as_many_listings_as_asked(
    sandbox: Sandbox, session: aiohttp.ClientSession, provider: str, call_id: str
) -> None:
    """Each listing request leaves the call out until ``times`` are used up."""
    sandbox.omit_from_listings(call_id, times=2)

    assert call_id not in await listed_ids(session, sandbox, provider)
    assert call_id not in await listed_ids(session, sandbox, provider)
    assert call_id in await listed_ids(session, sandbox, provider)
    assert sandbox.omitted == {}


def test_omitting_needs_a_positive_count() -> None:
    """A call left out of no listing is refused."""
    with pytest.raises(ValueError, match="times"):
        Sandbox().omit_from_listings(SANDBOX_VOBIZ_CALL_ID, times=0)


async def test_hooks_see_each_request_before_it_is_answered(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A hook can change what the request's own answer says, and fault the next one."""
    seen: list[RecordedRequest] = []

    def hook(request: RecordedRequest) -> None:
        seen.append(request)
        if len(seen) == 1:
            sandbox.end_call(SANDBOX_VOBIZ_CALL_ID)
            sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=503), times=1)

    sandbox.request_hooks.append(hook)

    assert SANDBOX_VOBIZ_CALL_ID not in await listed_ids(session, sandbox, "vobiz")
    url = f"{sandbox.vobiz_base_url}{ACCOUNT_PATH}/Call/?status=live"
    status, _, _ = await call_api(session, url, headers=VOBIZ_HEADERS)
    assert status == 503
    assert [request.path for request in seen] == [
        f"/vobiz/api/v1{ACCOUNT_PATH}/Call/"
    ] * 2
