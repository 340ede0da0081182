"""Telnyx's Call Control webhooks: Ed25519 signatures, what they tell, the webhook URL set.

Webhooks are signed by the sandbox's own signer (``cryptography``), verified by the
client's Ed25519; forgeries are built here the ways an attacker (or a broken proxy)
would send them.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
import json
from typing import Any

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
    InvalidOptionError,
    TelnyxClient,
    TransferRequest,
    UnexpectedResponseError,
)
from custom_components.call_transfer.providers.callbacks import (
    CallbackKind,
    CallbackRefusal,
    CallbackRefusedError,
    CallbackRequest,
    RegisteredCallback,
    ReplayGuard,
    UnansweredReason,
)
from sandbox import (
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CALL_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TELNYX_PUBLIC_KEY,
    Fault,
    FaultKind,
    Sandbox,
)
from sandbox.signing import ed25519_public_key, telnyx_ed25519
from sandbox.state import SANDBOX_TELNYX_SIGNING_SEED, SANDBOX_TELNYX_WEBHOOK_URL

SECRETS = (SANDBOX_TELNYX_API_KEY,)
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
URL = "https://hooks.example.com/api/webhook/abc"
OTHER_SEED = bytes(range(32))


def event(
    event_type: str = "call.hangup", event_id: str = "ev-1", **payload: Any
) -> bytes:
    """Return a webhook's JSON body as Telnyx writes it."""
    return json.dumps(
        {
            "data": {
                "record_type": "event",
                "event_type": event_type,
                "id": event_id,
                "occurred_at": "2026-01-02T03:04:00.000000Z",
                "payload": {
                    "call_control_id": "v3:call-1",
                    "connection_id": SANDBOX_TELNYX_CONNECTION_ID,
                    "from": "+13125550142",
                    "to": "+13125550100",
                    "direction": "incoming",
                    "state": "hangup",
                    **payload,
                },
            },
            "meta": {"attempt": 1, "delivered_to": URL},
        }
    ).encode()


def request(
    body: bytes,
    *,
    seed: bytes = SANDBOX_TELNYX_SIGNING_SEED,
    sent: datetime = NOW,
    url: str = URL,
    headers: dict[str, str] | None = None,
) -> CallbackRequest:
    """Return the request Telnyx sends with ``body``, signed at ``sent``, received at NOW."""
    timestamp = str(int(sent.timestamp()))
    signed = {
        "Content-Type": "application/json",
        "Telnyx-Signature-Ed25519": telnyx_ed25519(seed, timestamp, body),
        "Telnyx-Timestamp": timestamp,
    }
    return CallbackRequest(
        method="POST",
        url=url,
        headers=signed if headers is None else headers,
        body=body,
        received_at=NOW,
    )


def client(
    session: aiohttp.ClientSession,
    sandbox: Sandbox | None = None,
    *,
    public_key: str | None = SANDBOX_TELNYX_PUBLIC_KEY,
    connection_id: str | None = SANDBOX_TELNYX_CONNECTION_ID,
) -> TelnyxClient:
    """Return a Telnyx client with the sandbox's public key, built as Home Assistant does."""
    options = {"connection_id": connection_id, "webhook_public_key": public_key}
    return TelnyxClient.from_credentials(
        session,
        {"api_key": SANDBOX_TELNYX_API_KEY},
        options=options,
        base_url=sandbox.telnyx_base_url if sandbox else None,
    )


def refusal(telnyx: TelnyxClient, callback: CallbackRequest) -> CallbackRefusal:
    """Return why the client refuses a webhook (it must refuse it)."""
    with pytest.raises(CallbackRefusedError) as raised:
        telnyx.verify_callback(callback, ReplayGuard())
    return raised.value.reason


async def test_a_genuine_hangup_verifies_once(session: aiohttp.ClientSession) -> None:
    """Signed with the account's key: the call's end; its event id then is spent."""
    telnyx = client(session)
    guard = ReplayGuard()
    body = event(start_time="2026-01-02T03:00:00Z", hangup_cause="normal_clearing")

    verified = telnyx.verify_callback(request(body), guard)

    assert (verified.signature, verified.body_signed) == ("ed25519", True)
    [told] = verified.events
    assert told.kind is CallbackKind.CALL_ENDED
    assert told.call is not None
    assert (told.call.call_id, told.call.from_number, told.call.direction) == (
        "v3:call-1",
        "+13125550142",
        "incoming",
    )
    assert told.call.started == datetime(2026, 1, 2, 3, 0, tzinfo=UTC)
    assert told.ended_at == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    with pytest.raises(CallbackRefusedError) as replayed:
        telnyx.verify_callback(request(body, sent=NOW + timedelta(seconds=5)), guard)
    assert replayed.value.reason is CallbackRefusal.REPLAYED


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("call.initiated", CallbackKind.CALL_STARTED),
        ("call.answered", CallbackKind.CALL_ANSWERED),
        ("call.bridged", CallbackKind.IGNORED),
        ("call.playback.started", CallbackKind.IGNORED),
    ],
)
async def test_call_events(
    session: aiohttp.ClientSession, event_type: str, kind: CallbackKind
) -> None:
    """A start (at its start time, else when it occurred), an answer; the rest says nothing."""
    verified = client(session).verify_callback(
        request(event(event_type, state="parked")), ReplayGuard()
    )
    [told] = verified.events
    assert told.kind is kind
    if kind is CallbackKind.CALL_STARTED:
        assert told.call is not None
        assert told.call.started == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
        assert told.call.status == "parked"


def forgeries() -> dict[str, CallbackRequest]:
    """Return requests a genuine webhook could be turned into, by what was done to it."""
    body = event()
    genuine = request(body)
    headers = dict(genuine.headers)
    signature = headers["Telnyx-Signature-Ed25519"]
    timestamp = headers["Telnyx-Timestamp"]
    return {
        "wrong key": request(body, seed=OTHER_SEED),
        "body altered": request(
            body.replace(b"v3:call-1", b"v3:call-2"), headers=headers
        ),
        "timestamp altered": request(
            body, headers=headers | {"Telnyx-Timestamp": str(int(timestamp) + 1)}
        ),
        "signature of another body": request(
            body,
            headers=headers
            | {
                "Telnyx-Signature-Ed25519": request(event(event_id="x")).headers[
                    "Telnyx-Signature-Ed25519"
                ]
            },
        ),
        "signature not base64": request(
            body, headers=headers | {"Telnyx-Signature-Ed25519": "#" * 88}
        ),
        "signature too short": request(
            body, headers=headers | {"Telnyx-Signature-Ed25519": signature[:-4]}
        ),
        "signature too long": request(
            body, headers=headers | {"Telnyx-Signature-Ed25519": signature + "AAAA"}
        ),
        "signature unpadded": request(
            body,
            headers=headers | {"Telnyx-Signature-Ed25519": signature.rstrip("=")},
        ),
        "timestamp not a number": request(
            body, headers=headers | {"Telnyx-Timestamp": "-1"}
        ),
        "timestamp far too long": request(
            body, headers=headers | {"Telnyx-Timestamp": "9" * 40}
        ),
        "timestamp not ASCII": request(
            body, headers=headers | {"Telnyx-Timestamp": "١٢٣"}
        ),
    }


@pytest.mark.parametrize("name", list(forgeries()))
async def test_forgeries_are_refused(session: aiohttp.ClientSession, name: str) -> None:
    """Each forgery is refused as a bad signature, and its event id is not spent."""
    guard = ReplayGuard()
    with pytest.raises(CallbackRefusedError) as raised:
        client(session).verify_callback(forgeries()[name], guard)
    assert raised.value.reason is CallbackRefusal.BAD_SIGNATURE
    forged = forgeries()[name]
    signature = forged.header("Telnyx-Signature-Ed25519") or "?"
    assert signature not in raised.value.message  # no signature in any message
    assert len(guard) == 0


@pytest.mark.parametrize(
    "missing", ["Telnyx-Signature-Ed25519", "Telnyx-Timestamp", "both"]
)
async def test_missing_headers(session: aiohttp.ClientSession, missing: str) -> None:
    """Without either header it is not signed."""
    genuine = request(event())
    headers = {
        name: value
        for name, value in genuine.headers.items()
        if missing not in (name, "both") or name == "Content-Type"
    }
    assert refusal(client(session), request(event(), headers=headers)) is (
        CallbackRefusal.MISSING_SIGNATURE
    )


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        (NOW - timedelta(minutes=5), None),
        (NOW + timedelta(minutes=5), None),
        (NOW - timedelta(minutes=5, seconds=1), CallbackRefusal.STALE),
        (NOW + timedelta(minutes=5, seconds=1), CallbackRefusal.STALE),
    ],
)
async def test_timestamps_within_five_minutes(
    session: aiohttp.ClientSession, sent: datetime, reason: CallbackRefusal | None
) -> None:
    """Signed more than five minutes before or after it arrived: stale."""
    callback = request(event(), sent=sent)
    if reason is None:
        client(session).verify_callback(callback, ReplayGuard())
    else:
        assert refusal(client(session), callback) is reason


@pytest.mark.parametrize(
    "key", [None, "", "not a key", base64.b64encode(bytes(32)).decode()]
)
async def test_without_a_usable_key_nothing_verifies(
    session: aiohttp.ClientSession, key: str | None
) -> None:
    """No public key (or none that is one): every webhook is refused as not configured."""
    assert refusal(client(session, public_key=key), request(event())) is (
        CallbackRefusal.NOT_CONFIGURED
    )


async def test_another_accounts_key_does_not_verify(
    session: aiohttp.ClientSession,
) -> None:
    """A key pair of another account: the signature does not match."""
    telnyx = client(session, public_key=ed25519_public_key(OTHER_SEED))
    assert refusal(telnyx, request(event())) is CallbackRefusal.BAD_SIGNATURE


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"data": "x"}',
        b'{"data": {"event_type": "call.hangup", "payload": {}}}',
        b'{"data": {"id": "bad id!", "payload": {}}}',
        b'{"data": {"id": "e1", "event_type": "call.hangup"}}',
        b'{"data": {"id": "e1", "event_type": "call.hangup", "payload": {}}}',
        (
            b'{"data": {"id": "e1", "event_type": "call.hangup",'
            b' "payload": {"call_control_id": "../x"}}}'
        ),
        b"[" * 100_000,
    ],
)
async def test_signed_but_unreadable_is_malformed(
    session: aiohttp.ClientSession, body: bytes
) -> None:
    """A body that is no call event, signed all the same: malformed, nothing read."""
    assert refusal(client(session), request(body)) is CallbackRefusal.MALFORMED


@pytest.mark.parametrize(
    ("event_type", "cause", "kind", "reason"),
    [
        ("call.answered", None, CallbackKind.TRANSFER_ANSWERED, None),
        ("call.bridged", None, CallbackKind.TRANSFER_ANSWERED, None),
        ("call.initiated", None, CallbackKind.IGNORED, None),
        (
            "call.hangup",
            "user_busy",
            CallbackKind.TRANSFER_UNANSWERED,
            UnansweredReason.BUSY,
        ),
        (
            "call.hangup",
            "timeout",
            CallbackKind.TRANSFER_UNANSWERED,
            UnansweredReason.NO_ANSWER,
        ),
        (
            "call.hangup",
            "no_answer",
            CallbackKind.TRANSFER_UNANSWERED,
            UnansweredReason.NO_ANSWER,
        ),
        (
            "call.hangup",
            "originator_cancel",
            CallbackKind.TRANSFER_UNANSWERED,
            UnansweredReason.NO_ANSWER,
        ),
        (
            "call.hangup",
            "call_rejected",
            CallbackKind.TRANSFER_UNANSWERED,
            UnansweredReason.FAILED,
        ),
        (
            "call.hangup",
            None,
            CallbackKind.TRANSFER_UNANSWERED,
            UnansweredReason.FAILED,
        ),
        ("call.hangup", "normal_clearing", CallbackKind.IGNORED, None),
    ],
)
async def test_a_transfers_new_leg(
    session: aiohttp.ClientSession,
    event_type: str,
    cause: str | None,
    kind: CallbackKind,
    reason: UnansweredReason | None,
) -> None:
    """At the transfer's report URL: answered or bridged, or hung up and why (after an answer: nothing)."""
    payload = {"hangup_cause": cause} if cause else {}
    callback = request(event(event_type, **payload), url=f"{URL}?transfer=tok")
    [told] = client(session).verify_callback(callback, ReplayGuard()).events
    assert told.kind is kind
    assert told.unanswered_reason is reason
    if kind is not CallbackKind.IGNORED:
        assert told.transfer_token == "tok"
        assert told.call is None  # the new leg is not the call transferred


async def test_restore_without_a_version(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """What was stored without a version writes the URL back alone.

    Setting and restoring the URL: tests/providers/test_push_registration.py.
    """
    app = sandbox.telnyx_accounts[SANDBOX_TELNYX_API_KEY].applications[
        SANDBOX_TELNYX_CONNECTION_ID
    ]
    app.webhook_api_version = "1"
    telnyx = client(session, sandbox)
    await telnyx.async_restore_callback_url(
        RegisteredCallback(
            target=SANDBOX_TELNYX_CONNECTION_ID,
            url=URL,
            previous={"webhook_event_url": SANDBOX_TELNYX_WEBHOOK_URL},
        )
    )
    assert (app.webhook_event_url, app.webhook_api_version) == (
        SANDBOX_TELNYX_WEBHOOK_URL,
        "1",
    )


@pytest.mark.parametrize("connection_id", [None, "404404"])
async def test_an_unknown_or_missing_connection_names_the_option(
    session: aiohttp.ClientSession, sandbox: Sandbox, connection_id: str | None
) -> None:
    """No connection, or one Telnyx does not know: the option is refused, nothing set."""
    telnyx = client(session, sandbox, connection_id=connection_id)
    with pytest.raises(InvalidOptionError) as raised:
        await telnyx.async_register_callback_url(URL)
    assert raised.value.option == "connection_id"
    assert not [r for r in sandbox.requests if r.method == "PATCH"]


async def test_an_application_of_an_unexpected_shape(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """An answer without the application: nothing is set."""
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=200, body={"data": []}),
        path_contains="/call_control_applications/",
        times=1,
    )
    with pytest.raises(UnexpectedResponseError):
        await client(session, sandbox).async_register_callback_url(URL)


async def test_a_transfer_names_its_report_url(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """With a report URL, the transfer asks for the new leg's webhooks there (POST)."""
    await client(session, sandbox).async_transfer(
        TransferRequest(
            call_id=SANDBOX_TELNYX_CALL_ID,
            to="+13125550199",
            report_url=f"{URL}?transfer=tok",
        )
    )
    [sent] = sandbox.calls[SANDBOX_TELNYX_CALL_ID].transfers
    assert sent == {
        "to": "+13125550199",
        "webhook_url": f"{URL}?transfer=tok",
        "webhook_url_method": "POST",
    }
