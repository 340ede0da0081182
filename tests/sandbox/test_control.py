"""The control plane under /_sandbox/: calls start and end while the sandbox runs."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_NUMBER,
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_TWILIO_NUMBER,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_CALL_ID,
    Fault,
    FaultKind,
    Sandbox,
)

from .conftest import ACCOUNT_PATH, BLAND_ORG_HEADERS, PLIVO_HEADERS, VOBIZ_HEADERS


async def test_started_call_is_live_on_the_provider_api(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A started Vobiz call is listed by Vobiz, with what the control request said."""
    body = {
        "provider": "vobiz",
        "from": "+14155550142",
        "to": "+918035735400",
        "direction": "outbound",
        "caller_name": "Front desk",
    }
    async with session.post(f"{sandbox.control_url}/calls", json=body) as response:
        assert response.status == 201
        call = await response.json()

    assert call["provider"] == "vobiz"
    assert (call["from"], call["to"], call["direction"]) == (
        "+14155550142",
        "+918035735400",
        "outbound",
    )
    assert (call["status"], call["live"]) == ("in-progress", True)
    async with session.get(
        f"{sandbox.vobiz_base_url}{ACCOUNT_PATH}/Call/{call['call_id']}/",
        headers=VOBIZ_HEADERS,
        params={"status": "live"},
    ) as response:
        details = await response.json()
    assert details["caller_name"] == "Front desk"
    assert sandbox.calls[call["call_id"]].account == SANDBOX_VOBIZ_AUTH_ID
    # Control requests are not provider requests.
    assert sandbox.requests_to("/_sandbox") == []


async def test_started_plivo_call_is_listed_by_plivo(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A call started for Plivo runs on its first account and shows in its listing."""
    async with session.post(
        f"{sandbox.control_url}/calls", json={"provider": "plivo"}
    ) as response:
        call = await response.json()
    async with session.get(
        f"{sandbox.plivo_base_url}/Account/{SANDBOX_PLIVO_AUTH_ID}/Call/",
        headers=PLIVO_HEADERS,
        params={"status": "live"},
    ) as response:
        listed = (await response.json())["calls"]

    assert sandbox.calls[call["call_id"]].account == SANDBOX_PLIVO_AUTH_ID
    assert listed[-1] == call["call_id"]


@pytest.mark.parametrize(
    ("provider", "body", "to"),
    [
        ("twilio", {}, SANDBOX_TWILIO_NUMBER),
        ("twilio", {"to": "+14155550177"}, "+14155550177"),
        ("twilio", {"direction": "outbound"}, "+14155550199"),
        ("bland", {}, SANDBOX_BLAND_NUMBER),
        ("bland", {"to": "+14155550177"}, "+14155550177"),
    ],
)
async def test_inbound_call_rings_the_number_that_reports_it(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    provider: str,
    body: dict[str, str],
    to: str,
) -> None:
    """Unless told otherwise, an inbound call rings the number that reports its end."""
    async with session.post(
        f"{sandbox.control_url}/calls", json={"provider": provider, **body}
    ) as response:
        call = await response.json()

    assert call["to"] == to


async def test_ended_call_leaves_the_bland_active_list(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A call started with defaults, then ended: Bland no longer lists it; twice is a 409."""
    calls = f"{sandbox.control_url}/calls"
    async with session.post(calls, json={"provider": "bland"}) as response:
        call = await response.json()
    assert sandbox.calls[call["call_id"]].account == SANDBOX_BLAND_API_KEY
    assert call["direction"] == "inbound"

    async with session.delete(f"{calls}/{call['call_id']}") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "completed"
    async with session.get(
        f"{sandbox.bland_base_url}/v1/calls/active", headers=BLAND_ORG_HEADERS
    ) as response:
        active = [c["call_id"] for c in (await response.json())["data"]]
    assert call["call_id"] not in active
    async with session.delete(f"{calls}/{call['call_id']}") as response:
        assert response.status == 409


async def test_list_shows_every_call_oldest_first(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """GET lists the seeded calls and ended ones, with their status."""
    sandbox.end_call(SANDBOX_VOBIZ_CALL_ID)
    async with session.get(f"{sandbox.control_url}/calls") as response:
        calls = (await response.json())["calls"]

    assert len(calls) == len(sandbox.calls)
    assert {c["provider"] for c in calls} == {
        "vobiz",
        "bland",
        "twilio",
        "telnyx",
        "plivo",
    }
    assert [c["started"] for c in calls] == sorted(c["started"] for c in calls)
    ended = next(c for c in calls if c["call_id"] == SANDBOX_VOBIZ_CALL_ID)
    assert (ended["status"], ended["live"]) == ("completed", False)


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        (
            "/calls",
            {"provider": "sinch"},
            400,
            "provider must be one of vobiz, bland, twilio, telnyx, plivo",
        ),
        ("/calls", {}, 400, "provider must be one of"),
        (
            "/calls",
            {"provider": "vobiz", "direction": "sideways"},
            400,
            "direction must be",
        ),
        ("/calls", {"provider": "vobiz", "colour": "red"}, 400, "unknown field(s)"),
        ("/calls", {"provider": "vobiz", "from": 14155550100}, 400, "a string"),
        ("/calls", {"provider": "bland", "account": "sk-x"}, 404, "no such bland"),
        (
            "/calls",
            {"provider": "vobiz", "call_id": SANDBOX_VOBIZ_CALL_ID},
            409,
            "already exists",
        ),
        ("/calls", ["provider", "vobiz"], 400, "JSON object"),
        ("/outages", {"provider": "sinch"}, 400, "provider must be one of"),
        ("/outages", {"provider": "vobiz", "status": 200}, 400, "(400 to 599)"),
        ("/outages", {"provider": "vobiz", "status": 503, "drop": True}, 400, "both"),
        ("/outages", {"provider": "vobiz", "drop": "yes"}, 400, "true or false"),
        ("/outages", {"provider": "vobiz", "for": 10}, 400, "unknown field(s): for"),
        ("/outages", {"provider": "bland", "account": "sk-x"}, 404, "no such bland"),
    ],
)
async def test_bad_start_requests_are_refused(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    path: str,
    body: Any,
    status: int,
    error: str,
) -> None:
    """A call or an outage that cannot be started says why, and starts nothing."""
    calls_before = len(sandbox.calls)

    async with session.post(f"{sandbox.control_url}{path}", json=body) as response:
        assert response.status == status
        assert error in (await response.json())["error"]
    assert len(sandbox.calls) == calls_before
    assert sandbox.outages == []


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("PUT", "/calls", 405),
        ("GET", f"/calls/{SANDBOX_VOBIZ_CALL_ID}", 405),
        ("DELETE", "/calls/no-such-call", 404),
        ("DELETE", "/calls/a/b", 404),
        ("GET", "", 404),
        ("GET", "/faults", 404),
        ("PUT", "/outages", 405),
        ("DELETE", "/outages/sinch", 404),
    ],
)
async def test_unknown_control_requests(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    status: int,
) -> None:
    """Wrong methods and paths are answered plainly."""
    async with session.request(method, f"{sandbox.control_url}{path}") as response:
        assert response.status == status
        assert "error" in await response.json()


async def test_control_plane_is_not_under_a_provider_prefix_nor_faulted(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Under a provider's prefix /_sandbox/ is that provider's 401; faults never hit it."""
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=500))
    async with session.get(f"{sandbox.vobiz_base_url}/_sandbox/calls") as response:
        assert response.status == 500  # a provider request, faulted like any other
    sandbox.clear_faults()
    async with session.get(f"{sandbox.bland_base_url}/_sandbox/calls") as response:
        assert response.status == 401
    async with session.get(f"{sandbox.vobiz_base_url}/_sandbox/calls") as response:
        assert response.status == 401

    sandbox.add_fault(Fault(kind=FaultKind.RESET))
    async with session.get(f"{sandbox.control_url}/calls") as response:
        assert response.status == 200


async def test_outage_takes_a_provider_down_until_it_ends(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Vobiz answers 503 with an error page; the others and the control plane do not."""
    outages = f"{sandbox.control_url}/outages"
    vobiz_account = f"{sandbox.vobiz_base_url}/auth/me"
    async with session.post(outages, json={"provider": "vobiz"}) as response:
        assert response.status == 201
        assert await response.json() == {
            "provider": "vobiz",
            "account": None,
            "status": 503,
            "drop": False,
        }

    async with session.get(vobiz_account, headers=VOBIZ_HEADERS) as response:
        assert response.status == 503
        assert response.content_type == "text/html"
    async with session.get(
        f"{sandbox.plivo_base_url}/Account/{SANDBOX_PLIVO_AUTH_ID}/",
        headers=PLIVO_HEADERS,
    ) as response:
        assert response.status == 200
    async with session.get(outages) as response:
        assert [o["provider"] for o in (await response.json())["outages"]] == ["vobiz"]

    async with session.delete(f"{outages}/vobiz") as response:
        assert response.status == 200
        assert [o["provider"] for o in (await response.json())["outages"]] == ["vobiz"]
    async with session.get(vobiz_account, headers=VOBIZ_HEADERS) as response:
        assert response.status == 200
    async with session.delete(f"{outages}/vobiz") as response:
        assert response.status == 404
        assert (await response.json())["error"] == "vobiz has no outage"


async def test_outage_of_one_account_that_drops_connections(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Only the Vobiz account named loses its connections; DELETE ends every outage."""
    other = sandbox.add_vobiz_account(auth_id="MA_SANDBOX_0002", auth_token="t-0002")
    outages = f"{sandbox.control_url}/outages"
    async with session.post(
        outages,
        json={"provider": "vobiz", "account": SANDBOX_VOBIZ_AUTH_ID, "drop": True},
    ) as response:
        assert (await response.json())["status"] is None

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await session.get(f"{sandbox.vobiz_base_url}/auth/me", headers=VOBIZ_HEADERS)
    async with session.get(
        f"{sandbox.vobiz_base_url}/auth/me",
        headers={"X-Auth-ID": other.auth_id, "X-Auth-Token": "t-0002"},
    ) as response:
        assert response.status == 200

    async with session.delete(outages) as response:
        assert len((await response.json())["outages"]) == 1
    assert sandbox.outages == []
