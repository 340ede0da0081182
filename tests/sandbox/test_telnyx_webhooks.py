"""The sandbox's Telnyx Call Control webhooks, applications and faults, over real HTTP.

Each webhook is checked the way Telnyx's SDKs check it (``cryptography`` here, the
integration's own Ed25519 elsewhere): the signature of ``timestamp|body`` with the
account's public key, served on the control plane.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
import json
from typing import Any

import aiohttp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
import pytest

from sandbox import (
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CALL_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TELNYX_PUBLIC_KEY,
    CallbackFault,
    DialBehaviour,
    Sandbox,
    TelnyxApplication,
)

from .conftest import call_api
from .test_callbacks import Receiver, receiver  # noqa: F401 - the loopback receiver

HEADERS = {"Authorization": f"Bearer {SANDBOX_TELNYX_API_KEY}"}
APP_PATH = f"/call_control_applications/{SANDBOX_TELNYX_CONNECTION_ID}"


def application(sandbox: Sandbox) -> TelnyxApplication:
    """Return the seeded account's Call Control application."""
    account = sandbox.telnyx_accounts[SANDBOX_TELNYX_API_KEY]
    return account.applications[SANDBOX_TELNYX_CONNECTION_ID]


def verified(
    received: dict[str, Any], public_key: str = SANDBOX_TELNYX_PUBLIC_KEY
) -> dict[str, Any]:
    """Check a webhook's signature as Telnyx's SDKs do; return its ``data``."""
    headers = received["headers"]
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
    key.verify(
        base64.b64decode(headers["telnyx-signature-ed25519"]),
        headers["telnyx-timestamp"].encode() + b"|" + received["body"],
    )
    assert headers["Content-Type"] == "application/json"
    data: dict[str, Any] = json.loads(received["body"])["data"]
    return data


async def test_a_call_starting_and_ending_is_told_to_its_application(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
) -> None:
    """call.initiated and call.answered when a call starts, call.hangup when it ends."""
    application(sandbox).webhook_event_url = receiver.url
    call = sandbox.add_call(
        "telnyx", SANDBOX_TELNYX_API_KEY, connection=SANDBOX_TELNYX_CONNECTION_ID
    )
    sandbox.end_call(call.call_id)
    await sandbox.callbacks_settled()

    events = [verified(received) for received in receiver.received]
    assert [e["event_type"] for e in events] == [
        "call.initiated",
        "call.answered",
        "call.hangup",
    ]
    assert len({e["id"] for e in events}) == 3
    initiated, _, hangup = events
    assert initiated["payload"]["call_control_id"] == call.call_id
    assert initiated["payload"]["start_time"] == call.started.isoformat().replace(
        "+00:00", "Z"
    )
    assert hangup["payload"]["hangup_cause"] == "normal_clearing"
    assert [sent.params["event_type"] for sent in sandbox.callbacks_sent] == [
        e["event_type"] for e in events
    ]


async def test_nothing_is_sent_beyond_loopback_or_in_api_v1(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
) -> None:
    """The seeded URL is not on loopback; an application on API v1 is not modelled."""
    sandbox.end_call(SANDBOX_TELNYX_CALL_ID)
    application(sandbox).webhook_event_url = receiver.url
    application(sandbox).webhook_api_version = "1"
    sandbox.add_call(
        "telnyx", SANDBOX_TELNYX_API_KEY, connection=SANDBOX_TELNYX_CONNECTION_ID
    )
    sandbox.add_call("telnyx", SANDBOX_TELNYX_API_KEY)  # on no connection
    await sandbox.callbacks_settled()
    assert receiver.received == []


@pytest.mark.parametrize(
    ("does", "events", "cause"),
    [
        (
            DialBehaviour.ANSWER,
            ["call.initiated", "call.answered", "call.bridged"],
            None,
        ),
        (DialBehaviour.BUSY, ["call.initiated", "call.hangup"], "user_busy"),
        (DialBehaviour.NO_ANSWER, ["call.initiated", "call.hangup"], "timeout"),
        (DialBehaviour.FAIL, ["call.initiated", "call.hangup"], "call_rejected"),
    ],
)
async def test_a_transfers_new_leg_is_told_to_its_webhook_url(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
    session: aiohttp.ClientSession,
    does: DialBehaviour,
    events: list[str],
    cause: str | None,
) -> None:
    """The number does what it is told; the call itself stays up."""
    sandbox.dial_behaviours["+13125550199"] = does
    status, _, _ = await call_api(
        session,
        f"{sandbox.telnyx_base_url}/calls/{SANDBOX_TELNYX_CALL_ID}/actions/transfer",
        "POST",
        headers=HEADERS,
        json={
            "to": "+13125550199",
            "from": "+13125550100",
            "webhook_url": f"{receiver.url}?transfer=t",
            "webhook_url_method": "POST",
        },
    )
    assert status == 200
    await sandbox.callbacks_settled()

    told = [verified(received) for received in receiver.received]
    assert [e["event_type"] for e in told] == events
    assert receiver.received[0]["url"].endswith("?transfer=t")
    leg = told[0]["payload"]
    assert leg["call_control_id"] != SANDBOX_TELNYX_CALL_ID
    assert (leg["from"], leg["to"], leg["direction"]) == (
        "+13125550100",
        "+13125550199",
        "outgoing",
    )
    assert told[-1]["payload"].get("hangup_cause") == cause
    assert sandbox.calls[SANDBOX_TELNYX_CALL_ID].live


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"to": "+13125550199", "webhook_url": "ftp://x"}, "http(s) URL"),
        (
            {
                "to": "+13125550199",
                "webhook_url": "http://127.0.0.1/",
                "webhook_url_method": "GET",
            },
            "POST only",
        ),
    ],
)
async def test_transfer_webhook_parameters_are_checked(
    sandbox: Sandbox, session: aiohttp.ClientSession, body: dict[str, str], detail: str
) -> None:
    """A webhook URL that is none, or a method the sandbox does not send: 422."""
    status, answer, _ = await call_api(
        session,
        f"{sandbox.telnyx_base_url}/calls/{SANDBOX_TELNYX_CALL_ID}/actions/transfer",
        "POST",
        headers=HEADERS,
        json=body,
    )
    assert status == 422
    assert detail in answer["errors"][0]["detail"]


async def test_call_control_applications(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """GET and PATCH as documented: the name and URL required, errors as Telnyx's."""
    url = f"{sandbox.telnyx_base_url}{APP_PATH}"
    status, got, _ = await call_api(session, url, headers=HEADERS)
    assert status == 200
    assert got["data"]["id"] == SANDBOX_TELNYX_CONNECTION_ID
    assert got["data"]["webhook_api_version"] == "2"

    change = {
        "application_name": "mine",
        "webhook_event_url": "https://hooks.example.com/t",
        "webhook_api_version": "1",
        "webhook_event_failover_url": "https://failover.example.com/t",
    }
    status, patched, _ = await call_api(
        session, url, "PATCH", headers=HEADERS, json=change
    )
    assert status == 200
    assert {k: patched["data"][k] for k in change} == change

    for body, code in (
        ({"webhook_event_url": "https://x.example.com"}, "10004"),
        ({"application_name": "a", "webhook_event_url": ""}, "10004"),
        (change | {"webhook_api_version": "3"}, "10015"),
        (change | {"anchorsite_override": "Latency"}, "10015"),
    ):
        status, refused, _ = await call_api(
            session, url, "PATCH", headers=HEADERS, json=body
        )
        assert (status, refused["errors"][0]["code"]) in ((422, code), (400, code)), (
            body
        )
    for method in ("GET", "PATCH"):
        status, missing, _ = await call_api(
            session,
            f"{sandbox.telnyx_base_url}/call_control_applications/404404",
            method,
            headers=HEADERS,
            json=change,
        )
        assert (status, missing["errors"][0]["code"]) == (404, "10005")
    status, _, _ = await call_api(
        session, url, headers={"Authorization": "Bearer nope"}
    )
    assert status == 401


@pytest.mark.parametrize("fault", sorted(set(CallbackFault) - {CallbackFault.SDK_FORM}))
async def test_callback_faults(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
    session: aiohttp.ClientSession,
    fault: CallbackFault,
) -> None:
    """Each fault changes the webhook as it says; the control plane sets it."""
    application(sandbox).webhook_event_url = receiver.url
    async with session.post(
        f"{sandbox.control_url}/callback_faults",
        json={"provider": "telnyx", "fault": fault.value},
    ) as response:
        assert response.status == 200
    sandbox.end_call(SANDBOX_TELNYX_CALL_ID)
    await sandbox.callbacks_settled()

    first = receiver.received[0]
    if fault is CallbackFault.UNSIGNED:
        assert "telnyx-signature-ed25519" not in first["headers"]
    elif fault in (CallbackFault.FORGED, CallbackFault.TAMPERED):
        with pytest.raises(InvalidSignature):
            verified(first)
    elif fault is CallbackFault.REPLAYED:
        assert receiver.received[1]["body"] == first["body"]
        assert (
            receiver.received[1]["headers"]["telnyx-timestamp"]
            == first["headers"]["telnyx-timestamp"]
        )
    else:
        verified(first)
        sent = int(first["headers"]["telnyx-timestamp"])
        assert sandbox.callbacks_sent[0].body == first["body"]
        # Signed ten minutes before it was sent.
        assert abs(sent + 600 - datetime.now(UTC).timestamp()) < 60
    assert len(receiver.received) == (2 if fault is CallbackFault.REPLAYED else 1)


async def test_the_control_plane_serves_the_public_key(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """The key to verify with, by account connections; faults only where they apply."""
    async with session.get(f"{sandbox.control_url}/public_keys") as response:
        assert await response.json() == {
            "public_keys": [
                {
                    "provider": "telnyx",
                    "connections": [SANDBOX_TELNYX_CONNECTION_ID],
                    "public_key": SANDBOX_TELNYX_PUBLIC_KEY,
                }
            ]
        }
    async with session.post(f"{sandbox.control_url}/public_keys") as response:
        assert response.status == 405
    for provider, fault in (("telnyx", "sdk-form"), ("plivo", "stale")):
        async with session.post(
            f"{sandbox.control_url}/callback_faults",
            json={"provider": provider, "fault": fault},
        ) as response:
            assert response.status == 400
            assert "cannot be" in (await response.json())["error"]
