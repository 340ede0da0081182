"""The sandbox's Bland post-call webhooks, inbound numbers' webhooks and faults, over real HTTP.

Each webhook is checked the way Bland's docs say (``hmac`` here, not the sandbox's
signer): the hex HMAC-SHA256 of the body with the account's signing secret.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import hashlib
import hmac
import json
from typing import Any

import aiohttp
import pytest

from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_NUMBER,
    SANDBOX_BLAND_SECOND_CALL_ID,
    SANDBOX_BLAND_SIGNING_SECRET,
    SANDBOX_BLAND_WEBHOOK_URL,
    BlandAccount,
    CallbackFault,
    Sandbox,
)

from .conftest import set_callback_fault
from .test_callbacks import Receiver, receiver  # noqa: F401 - the loopback receiver


def account(sandbox: Sandbox) -> BlandAccount:
    """Return the seeded Bland account."""
    return sandbox.bland_accounts[SANDBOX_BLAND_API_KEY]


def verified(received: dict[str, Any]) -> dict[str, Any]:
    """Check a webhook's signature as Bland's docs say; return its record."""
    headers = received["headers"]
    expected = hmac.new(
        SANDBOX_BLAND_SIGNING_SECRET.encode(), received["body"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(headers["X-Webhook-Signature"], expected)
    assert headers["Content-Type"] == "application/json"
    record: dict[str, Any] = json.loads(received["body"])
    return record


async def test_a_call_ending_posts_its_record_to_the_numbers_webhook(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
) -> None:
    """Nothing when a call starts; its signed record when it ends, once."""
    assert account(sandbox).inbound_numbers == {
        SANDBOX_BLAND_NUMBER: SANDBOX_BLAND_WEBHOOK_URL
    }
    account(sandbox).inbound_numbers[SANDBOX_BLAND_NUMBER] = receiver.url
    call = sandbox.add_call(
        "bland", SANDBOX_BLAND_API_KEY, to_number=SANDBOX_BLAND_NUMBER
    )
    await sandbox.callbacks_settled()
    assert receiver.received == []

    sandbox.end_call(call.call_id)
    await sandbox.callbacks_settled()

    [received] = receiver.received
    record = verified(received)
    assert received["body"] == json.dumps(record, separators=(",", ":")).encode()
    assert {key: record[key] for key in ("call_id", "to", "from", "inbound")} == {
        "call_id": call.call_id,
        "to": SANDBOX_BLAND_NUMBER,
        "from": call.from_number,
        "inbound": True,
    }
    assert (record["completed"], record["status"], record["queue_status"]) == (
        True,
        "completed",
        "complete",
    )
    # Connected at started_at, for call_length minutes; end_at is max_duration's cut-off.
    started = datetime.fromisoformat(record["started_at"])
    assert started == call.started
    assert call.ended is not None
    lasted = started + timedelta(minutes=record["call_length"])
    assert abs((lasted - call.ended).total_seconds()) < 0.001
    assert datetime.fromisoformat(record["end_at"]) == started + timedelta(
        minutes=record["max_duration"]
    )
    [sent] = sandbox.callbacks_sent
    assert (sent.provider, sent.status, sent.body) == ("bland", 200, received["body"])
    assert sent.params == {"event_type": "post-call", "call_id": call.call_id}


async def test_only_calls_to_a_number_with_a_loopback_webhook_report(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
) -> None:
    """Outbound calls, calls to other numbers and webhooks off this machine: nothing sent."""
    account(sandbox).inbound_numbers["+14155550177"] = receiver.url
    for call_id in (SANDBOX_BLAND_CALL_ID, SANDBOX_BLAND_SECOND_CALL_ID):
        sandbox.end_call(call_id)  # to the seeded number (example.com), an outbound
    other = sandbox.add_call("bland", SANDBOX_BLAND_API_KEY, to_number="+14155550100")
    sandbox.end_call(other.call_id)
    await sandbox.callbacks_settled()
    assert receiver.received == []
    assert sandbox.callbacks_sent == []


@pytest.mark.parametrize(
    "fault",
    [
        CallbackFault.FORGED,
        CallbackFault.UNSIGNED,
        CallbackFault.TAMPERED,
        CallbackFault.REPLAYED,
    ],
)
async def test_callback_faults(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
    fault: CallbackFault,
) -> None:
    """Each fault changes the webhook as it says; the control plane sets it."""
    account(sandbox).inbound_numbers[SANDBOX_BLAND_NUMBER] = receiver.url
    await set_callback_fault(sandbox, "bland", fault.value)
    sandbox.end_call(SANDBOX_BLAND_CALL_ID)
    await sandbox.callbacks_settled()

    first = receiver.received[0]
    headers, body = first["headers"], first["body"]
    if fault is CallbackFault.UNSIGNED:
        assert "X-Webhook-Signature" not in headers
    elif fault is CallbackFault.FORGED:
        with pytest.raises(AssertionError):
            verified(first)
        forged = hmac.new(
            f"not-{SANDBOX_BLAND_SIGNING_SECRET}".encode(), body, hashlib.sha256
        )
        assert headers["X-Webhook-Signature"] == forged.hexdigest()
    elif fault is CallbackFault.TAMPERED:
        with pytest.raises(AssertionError):
            verified(first)
        assert json.loads(body)["call_id"] == f"x{SANDBOX_BLAND_CALL_ID}"
    else:
        second = receiver.received[1]
        assert (second["headers"]["X-Webhook-Signature"], second["body"]) == (
            headers["X-Webhook-Signature"],
            body,
        )
        assert verified(first)["call_id"] == SANDBOX_BLAND_CALL_ID
    assert [sent.fault for sent in sandbox.callbacks_sent] == [fault] * len(
        receiver.received
    )


async def test_the_control_plane_sets_an_inbound_numbers_webhook(
    sandbox: Sandbox,
) -> None:
    """As Bland's Dev Portal does: set, added, or refused with 4xx."""
    url = f"{sandbox.control_url}/inbound_webhooks"
    async with aiohttp.ClientSession() as session:
        for body, status in (
            ({"number": SANDBOX_BLAND_NUMBER, "url": "http://127.0.0.1:1/h"}, 200),
            (
                {
                    "number": "+14155550100",
                    "url": "http://127.0.0.1:2/h",
                    "account": SANDBOX_BLAND_API_KEY,
                },
                200,
            ),
            ({"number": SANDBOX_BLAND_NUMBER}, 400),
            ({"number": 1, "url": "x"}, 400),
            ({"number": SANDBOX_BLAND_NUMBER, "url": "x", "colour": 1}, 400),
            ({"number": SANDBOX_BLAND_NUMBER, "url": "x", "account": "nobody"}, 404),
        ):
            async with session.post(url, json=body) as response:
                assert response.status == status, body
                if status == 200:
                    assert await response.json() == {
                        "number": body["number"],
                        "url": body["url"],
                    }
        async with session.get(url) as response:
            assert response.status == 405
    assert account(sandbox).inbound_numbers == {
        SANDBOX_BLAND_NUMBER: "http://127.0.0.1:1/h",
        "+14155550100": "http://127.0.0.1:2/h",
    }
