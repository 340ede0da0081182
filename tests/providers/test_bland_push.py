"""Bland AI's post-call webhooks: hex HMAC-SHA256 signatures, what they tell, replays.

Webhooks are signed by the sandbox's own signer (``sandbox.signing.bland``) and verified
by the client; both are checked against RFC 4231's HMAC-SHA256 vector. Forgeries are
built here the ways an attacker (or a broken proxy) would send them.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
import json
from typing import Any

import aiohttp
import pytest

from custom_components.call_transfer.providers import BlandClient, OptionKind
from custom_components.call_transfer.providers.bland_callbacks import signature
from custom_components.call_transfer.providers.callbacks import (
    CallbackKind,
    CallbackRefusal,
    CallbackRefusedError,
    CallbackRequest,
    ReplayGuard,
)
from sandbox import SANDBOX_BLAND_API_KEY, SANDBOX_BLAND_SIGNING_SECRET
from sandbox.signing import bland

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
URL = "https://hooks.example.com/api/webhook/abc"
CALL_ID = "29f01d00-5197-4b83-bc0f-161e14533a78"
# RFC 4231, test case 2: HMAC-SHA256 of "what do ya want for nothing?" keyed "Jefe".
RFC_4231_KEY = "Jefe"
RFC_4231_DATA = b"what do ya want for nothing?"
RFC_4231_MAC = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def record(**fields: Any) -> bytes:
    """Return a post-call webhook's body as Bland writes it (compact JSON)."""
    return json.dumps(
        {
            "call_id": CALL_ID,
            "c_id": CALL_ID,
            "created_at": "2026-01-02T03:01:59.000Z",
            "started_at": "2026-01-02T03:02:00.000Z",
            "end_at": "2026-01-02T03:04:00.000Z",
            "call_length": 2.0,
            "to": "+12223334444",
            "from": "+14155550150",
            "inbound": True,
            "completed": True,
            "status": "completed",
            "queue_status": "complete",
            "transcripts": [],
        }
        | fields,
        separators=(",", ":"),
    ).encode()


def request(
    body: bytes,
    *,
    secret: str = SANDBOX_BLAND_SIGNING_SECRET,
    headers: dict[str, str] | None = None,
    received_at: datetime = NOW,
) -> CallbackRequest:
    """Return the request Bland sends with ``body``, signed with ``secret``."""
    signed = {"Content-Type": "application/json", "X-Webhook-Signature": ""}
    signed["X-Webhook-Signature"] = bland(secret, body)
    return CallbackRequest(
        method="POST",
        url=URL,
        headers=signed if headers is None else headers,
        body=body,
        received_at=received_at,
    )


def client(
    session: aiohttp.ClientSession, secret: str | None = SANDBOX_BLAND_SIGNING_SECRET
) -> BlandClient:
    """Return a Bland client with the sandbox's signing secret, built as Home Assistant does."""
    return BlandClient.from_credentials(
        session,
        {"api_key": SANDBOX_BLAND_API_KEY},
        options={"webhook_signing_secret": secret},
    )


def refusal(bland_client: BlandClient, callback: CallbackRequest) -> CallbackRefusal:
    """Return why the client refuses a webhook (it must refuse it)."""
    with pytest.raises(CallbackRefusedError) as raised:
        bland_client.verify_callback(callback, ReplayGuard())
    assert SANDBOX_BLAND_SIGNING_SECRET not in raised.value.message
    return raised.value.reason


def test_both_signers_match_rfc_4231() -> None:
    """The client's and the sandbox's HMAC-SHA256, in hex, give RFC 4231's value."""
    assert signature(RFC_4231_KEY, RFC_4231_DATA) == RFC_4231_MAC
    assert bland(RFC_4231_KEY, RFC_4231_DATA) == RFC_4231_MAC


def test_the_push_capabilities_bland_declares() -> None:
    """Ends only (no start webhook documented), no registration, a secret option verifies."""
    push = BlandClient.push
    assert push is not None
    assert not push.reports_call_starts
    assert not push.reports_transfer_outcomes
    assert push.registration_option is None
    assert push.verification_option == "webhook_signing_secret"
    [secret] = [
        field
        for field in BlandClient.option_fields
        if field.key == "webhook_signing_secret"
    ]
    assert secret.kind is OptionKind.SECRET


async def test_a_genuine_end_verifies_once(session: aiohttp.ClientSession) -> None:
    """A signed post-call webhook ends its call, with what it says; once only."""
    bland_client = client(session)
    guard = ReplayGuard()
    verified = bland_client.verify_callback(request(record()), guard)
    assert (verified.signature, verified.body_signed) == ("hmac-sha256", True)
    [event] = verified.events
    assert event.kind is CallbackKind.CALL_ENDED
    assert event.ended_at == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert event.call is not None
    assert (event.call.call_id, event.call.from_number, event.call.to_number) == (
        CALL_ID,
        "+14155550150",
        "+12223334444",
    )
    assert event.call.started == datetime(2026, 1, 2, 3, 2, tzinfo=UTC)
    assert event.call.direction == "inbound"
    assert len(guard) == 1

    # The same webhook again, or another of the same call's end: replayed.
    for again in (record(), record(call_length=3.0)):
        with pytest.raises(CallbackRefusedError) as raised:
            bland_client.verify_callback(request(again), guard)
        assert raised.value.reason is CallbackRefusal.REPLAYED
    assert len(guard) == 1


@pytest.mark.parametrize(
    ("fields", "started", "direction", "ended_at"),
    [
        # An outbound call, its start from created_at (end_at is only max_duration's
        # cut-off: never the end).
        (
            {"inbound": False, "started_at": None, "end_at": "2026-01-02T03:03:00Z"},
            datetime(2026, 1, 2, 3, 1, 59, tzinfo=UTC),
            "outbound",
            datetime(2026, 1, 2, 3, 3, 59, tzinfo=UTC),
        ),
        # No direction, no start: no end time but when it arrived; status alone.
        (
            {
                "inbound": None,
                "started_at": None,
                "created_at": "soon",
                "completed": None,
                "status": "Completed",
            },
            None,
            None,
            NOW,
        ),
        # A start without a zone is UTC; a length of half a minute.
        (
            {
                "started_at": "2026-01-02 03:00:00",
                "call_length": 0.5,
                "completed": "yes",
                "status": None,
                "queue_status": "completed",
            },
            datetime(2026, 1, 2, 3, 0, tzinfo=UTC),
            "inbound",
            datetime(2026, 1, 2, 3, 0, 30, tzinfo=UTC),
        ),
        # A length that is no number of minutes: when it arrived.
        *(
            (
                {"call_length": length},
                datetime(2026, 1, 2, 3, 2, tzinfo=UTC),
                "inbound",
                NOW,
            )
            for length in (True, "2", None, -1, 10**12, float("nan"), float("inf"))
        ),
    ],
)
async def test_what_an_end_tells(
    session: aiohttp.ClientSession,
    fields: dict[str, Any],
    started: datetime | None,
    direction: str | None,
    ended_at: datetime,
) -> None:
    """Fields Bland may leave out or spell otherwise are read as far as they go."""
    [event] = (
        client(session).verify_callback(request(record(**fields)), ReplayGuard()).events
    )
    assert event.kind is CallbackKind.CALL_ENDED
    assert event.call is not None
    assert (event.call.started, event.call.direction, event.ended_at) == (
        started,
        direction,
        ended_at,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"completed": False, "status": "in-progress"},
        {"completed": None, "status": "queued", "queue_status": "queued"},
        {"completed": None, "status": None, "queue_status": None},
    ],
)
async def test_a_webhook_of_a_call_not_completed_is_ignored(
    session: aiohttp.ClientSession, fields: dict[str, Any]
) -> None:
    """Verified, but no completed call's record (a live event): ignored, nothing spent."""
    guard = ReplayGuard()
    verified = client(session).verify_callback(request(record(**fields)), guard)
    assert [event.kind for event in verified.events] == [CallbackKind.IGNORED]
    assert len(guard) == 0


def forgeries() -> dict[str, CallbackRequest]:
    """Return webhooks only someone without the signing secret would send, by name."""
    body = record()
    genuine = request(body)
    mac = bland(SANDBOX_BLAND_SIGNING_SECRET, body)

    def signed_as(value: str) -> CallbackRequest:
        return request(body, headers={"X-Webhook-Signature": value})

    return {
        "wrong secret": request(body, secret="guessed-secret"),
        "the API key as secret": request(body, secret=SANDBOX_BLAND_API_KEY),
        "body altered": CallbackRequest(
            method="POST",
            url=URL,
            headers=dict(genuine.headers),
            body=body.replace(b'"to":"+1', b'"to":"+4', 1),
            received_at=NOW,
        ),
        "body reformatted": CallbackRequest(
            method="POST",
            url=URL,
            headers=dict(genuine.headers),
            body=json.dumps(json.loads(body)).encode(),
            received_at=NOW,
        ),
        "signature truncated": signed_as(mac[:-1]),
        "signature extended": signed_as(mac + "0"),
        "signature not hex": signed_as("g" + mac[1:]),
        "signature in base64": signed_as(base64.b64encode(bytes.fromhex(mac)).decode()),
        "signature prefixed": signed_as(f"sha256={mac}"),
        "two signatures": signed_as(f"{mac},{mac}"),
        "a digit changed": signed_as(("1" if mac[0] == "0" else "0") + mac[1:]),
    }


@pytest.mark.parametrize("name", list(forgeries()))
async def test_forgeries_are_refused(session: aiohttp.ClientSession, name: str) -> None:
    """Each forgery is refused as a bad signature; the message holds no secret."""
    assert refusal(client(session), forgeries()[name]) is CallbackRefusal.BAD_SIGNATURE


async def test_the_signature_is_read_in_either_case(
    session: aiohttp.ClientSession,
) -> None:
    """Hex is hex: an upper-case signature (and padding blanks) verify the same."""
    body = record()
    mac = bland(SANDBOX_BLAND_SIGNING_SECRET, body)
    verified = client(session).verify_callback(
        request(body, headers={"x-webhook-signature": f" {mac.upper()} "}),
        ReplayGuard(),
    )
    assert [event.kind for event in verified.events] == [CallbackKind.CALL_ENDED]


@pytest.mark.parametrize("headers", [{}, {"X-Webhook-Signature": ""}])
async def test_a_missing_signature(
    session: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    """No header, or an empty one: refused as unsigned."""
    assert (
        refusal(client(session), request(record(), headers=headers))
        is CallbackRefusal.MISSING_SIGNATURE
    )


@pytest.mark.parametrize("secret", [None, ""])
async def test_without_a_secret_nothing_verifies(
    session: aiohttp.ClientSession, secret: str | None
) -> None:
    """No signing secret set: every webhook is refused as not verifiable."""
    assert (
        refusal(client(session, secret), request(record()))
        is CallbackRefusal.NOT_CONFIGURED
    )


async def test_an_end_long_ago_is_stale(session: aiohttp.ClientSession) -> None:
    """Signed, but its call ended more than 10 minutes before it arrived: refused, not spent."""
    bland_client = client(session)
    guard = ReplayGuard()
    late = request(record(), received_at=NOW + timedelta(minutes=10, seconds=1))
    with pytest.raises(CallbackRefusedError) as raised:
        bland_client.verify_callback(late, guard)
    assert raised.value.reason is CallbackRefusal.STALE
    assert len(guard) == 0
    # Within the 10 minutes it is the call's end.
    timely = request(record(), received_at=NOW + timedelta(minutes=9))
    assert bland_client.verify_callback(timely, guard).events[0].call is not None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe",
        b"[1, 2]",
        b"null",
        b"[" * 100_000,
        record(call_id=None),
        record(call_id=""),
        record(call_id=7),
        record(call_id="../../etc/passwd"),
        record(call_id="x" * 200),
    ],
)
async def test_signed_but_unreadable_is_malformed(
    session: aiohttp.ClientSession, body: bytes
) -> None:
    """Signed with the secret, but no Bland call's record: refused as malformed."""
    assert refusal(client(session), request(body)) is CallbackRefusal.MALFORMED
