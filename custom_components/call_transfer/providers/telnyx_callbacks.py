"""Telnyx Call Control webhooks: how they are signed, and what they tell.

Telnyx POSTs JSON (``{"data": {"event_type", "id", "occurred_at", "payload": {…}}}``)
to the Call Control application's ``webhook_event_url``, and a transfer's new leg's
events to the transfer's ``webhook_url``. Each is signed with Ed25519:
``telnyx-signature-ed25519`` is base64 of the signature of ``f"{timestamp}|{body}"``
(the raw body), ``telnyx-timestamp`` the Unix time it was sent, checked with the
account's public key (base64, from the Mission Control portal). Sources: telnyx-python
``telnyx/webhook.py`` (``timestamp + b"|" + payload``, PyNaCl ``VerifyKey`` with a
base64 key, 300 s tolerance), telnyx-node ``lib/Webhooks.js`` (the same, 5 min),
developers.telnyx.com ``api-reference/callbacks/call-hangup`` (the headers, the
payload, ``hangup_cause``) and ``call-commands/transfer-call`` (the new leg's
``call.initiated``, ``call.bridged``, ``call.answered`` or ``call.hangup``).

The signature covers the body, not the URL: a transfer's outcome is tied to Home
Assistant's transfer by the 256-bit token in the ``webhook_url`` it gave (a secret, as
the URL is), and the event's id (``data.id``) is remembered against replays.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
import re
from typing import Any, Final

from . import ed25519
from .callbacks import (
    TRANSFER_TOKEN_PARAM,
    CallbackEvent,
    CallbackKind,
    CallbackRefusal,
    CallbackRefusedError,
    CallbackRequest,
    ReplayGuard,
    UnansweredReason,
    json_object,
    json_text,
    malformed,
    parse_time,
)
from .models import LiveCall

SIGNATURE_HEADER: Final = "telnyx-signature-ed25519"
TIMESTAMP_HEADER: Final = "telnyx-timestamp"
SIGNATURE_NAME: Final = "ed25519"
# How far a webhook's timestamp may be from the time it arrived (Telnyx's SDKs: 300 s).
TIMESTAMP_TOLERANCE: Final = timedelta(minutes=5)
_MAX_TIMESTAMP_DIGITS: Final = 12
_CALL_CONTROL_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:=+/-]{0,255}")
_EVENT_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
_CALL_EVENTS: Final[Mapping[str, CallbackKind]] = {
    "call.initiated": CallbackKind.CALL_STARTED,
    "call.answered": CallbackKind.CALL_ANSWERED,
    "call.hangup": CallbackKind.CALL_ENDED,
}
# A transfer's new leg: answered (or bridged to the call), or hung up before that.
_TRANSFER_ANSWERED: Final = frozenset({"call.answered", "call.bridged"})
# Why a new leg hung up, by ``hangup_cause``; None: after it answered (its answer
# came first). Any other cause is a failure.
_HANGUP_CAUSES: Final[Mapping[str, UnansweredReason | None]] = {
    "normal_clearing": None,
    "user_busy": UnansweredReason.BUSY,
    "timeout": UnansweredReason.NO_ANSWER,
    "no_answer": UnansweredReason.NO_ANSWER,
    "originator_cancel": UnansweredReason.NO_ANSWER,
}


def check_signature(request: CallbackRequest, public_key: bytes) -> None:
    """Verify the signature and timestamp; raise ``CallbackRefusedError`` otherwise.

    Headers of the wrong form are refused before any curve arithmetic.
    """
    signature_text = request.header(SIGNATURE_HEADER)
    timestamp = request.header(TIMESTAMP_HEADER)
    if not signature_text or not timestamp:
        raise CallbackRefusedError(
            CallbackRefusal.MISSING_SIGNATURE, "The callback is not signed"
        )
    signature = ed25519.decode_signature(signature_text)
    if (
        signature is None
        or not timestamp.isascii()
        or not timestamp.isdigit()
        or len(timestamp) > _MAX_TIMESTAMP_DIGITS
    ):
        raise CallbackRefusedError(
            CallbackRefusal.BAD_SIGNATURE,
            "The callback's signature headers are malformed",
        )
    if not ed25519.verify(
        public_key, signature, f"{timestamp}|".encode() + request.body
    ):
        raise CallbackRefusedError(
            CallbackRefusal.BAD_SIGNATURE, "The callback's signature does not match"
        )
    sent = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(request.received_at - sent) > TIMESTAMP_TOLERANCE:
        raise CallbackRefusedError(
            CallbackRefusal.STALE, "The callback's timestamp is outside five minutes"
        )


def read_events(
    request: CallbackRequest, replay_guard: ReplayGuard
) -> tuple[CallbackEvent, ...]:
    """Read a verified webhook; its event id is remembered (a second time: REPLAYED)."""
    data = _event(request.body)
    event_id = data.get("id")
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        raise malformed("The webhook has no event id")
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise malformed("The webhook has no payload")
    replay_guard.check_and_remember(f"telnyx:{event_id}", request.received_at)
    event_type = data.get("event_type")
    occurred = parse_time(data.get("occurred_at")) or request.received_at
    token = next(iter(request.query.get(TRANSFER_TOKEN_PARAM, ())), None)
    if token is not None:
        return (_transfer_outcome(str(event_type), payload, token),)
    kind = _CALL_EVENTS.get(str(event_type))
    if kind is None:
        return (CallbackEvent(kind=CallbackKind.IGNORED),)
    call = _call(
        payload, started=occurred if kind is CallbackKind.CALL_STARTED else None
    )
    if kind is CallbackKind.CALL_ENDED:
        return (CallbackEvent(kind=kind, call=call, ended_at=occurred),)
    return (CallbackEvent(kind=kind, call=call),)


def _transfer_outcome(
    event_type: str, payload: Mapping[str, Any], token: str
) -> CallbackEvent:
    """Read an event of a transfer's new leg: answered, or hung up before it answered."""
    if event_type in _TRANSFER_ANSWERED:
        return CallbackEvent(kind=CallbackKind.TRANSFER_ANSWERED, transfer_token=token)
    if event_type != "call.hangup":
        return CallbackEvent(kind=CallbackKind.IGNORED)
    cause = json_text(payload.get("hangup_cause")) or ""
    reason = _HANGUP_CAUSES.get(cause, UnansweredReason.FAILED)
    if reason is None:
        return CallbackEvent(kind=CallbackKind.IGNORED)
    return CallbackEvent(
        kind=CallbackKind.TRANSFER_UNANSWERED,
        transfer_token=token,
        unanswered_reason=reason,
    )


def _call(payload: Mapping[str, Any], *, started: datetime | None) -> LiveCall:
    """Read the call a webhook is about; its start as given, else when it started."""
    call_id = json_text(payload.get("call_control_id"))
    if call_id is None or not _CALL_CONTROL_ID.fullmatch(call_id):
        raise malformed("The webhook names no call it could be about")
    return LiveCall(
        call_id=call_id,
        from_number=json_text(payload.get("from")),
        to_number=json_text(payload.get("to")),
        started=parse_time(payload.get("start_time")) or started,
        status=json_text(payload.get("state")),
        direction=json_text(payload.get("direction")),
    )


def _event(body: bytes) -> Mapping[str, Any]:
    data = json_object(body, "a Telnyx event").get("data")
    if not isinstance(data, dict):
        raise malformed("The webhook's body is not a Telnyx event")
    return data
