"""Bland AI's call webhooks: how they are signed, and what they tell.

When a call completes, Bland POSTs the call's record as JSON (the call object of
``GET /v1/calls/{id}``, transcript included) to the call's ``webhook`` (``POST /v1/calls``)
or, for calls to an inbound number, to the number's ``webhook`` setting (docs.bland.ai
``tutorials/post-call-webhooks``, ``platform/agent-quickstart``, ``api-v1/get/calls-id``,
``api-v1/get/inbound-number``). It connected at ``started_at`` and lasted
``call_length`` minutes; ``end_at`` is only when ``max_duration`` would have cut it off. Bland documents no webhook
about a call starting that Home Assistant could read (``webhook_events`` adds live events
whose bodies it does not describe): they are verified, then ignored.

Each webhook is signed with the account's webhook signing secret (Dev Portal: Account
Settings → Keys): ``X-Webhook-Signature`` is the hex HMAC-SHA256 of the body
(``tutorials/webhook-signing``). Bland's example hashes the parsed body re-serialized
(``JSON.stringify(req.body)``), which is the body as sent for its compact JSON; the raw
body is what is checked here, so nothing of the body is read before it verified.

Bland sends no nonce or timestamp with the signature. A call ends once: its id is
remembered (``bland:<call_id>``) and a second end of it within the replay window is
refused as replayed; a call that ended (by its signed start and length) longer ago than
that window is refused as stale, so a webhook replayed later cannot report a finished
call again either.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
import hashlib
import hmac
import re
from typing import Any, Final

from .callbacks import (
    REPLAY_WINDOW,
    CallbackEvent,
    CallbackKind,
    CallbackRefusal,
    CallbackRefusedError,
    CallbackRequest,
    ReplayGuard,
    json_object,
    json_text,
    malformed,
    parse_time,
)
from .models import LiveCall

SIGNATURE_HEADER: Final = "X-Webhook-Signature"
SIGNATURE_NAME: Final = "hmac-sha256"
_HEX_SIGNATURE: Final = re.compile(r"[0-9a-fA-F]{64}")
_CALL_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
# How a completed call's status reads, where ``completed`` is not a boolean.
_COMPLETED_STATUSES: Final = frozenset({"completed", "complete"})
# The longest ``call_length`` read (minutes): a day; any other is no length.
_MAX_CALL_MINUTES: Final = 24 * 60


def signature(secret: str, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``body`` with ``secret`` (UTF-8), as Bland signs."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(request: CallbackRequest, secret: str) -> None:
    """Verify ``X-Webhook-Signature`` over the raw body; raise ``CallbackRefusedError``."""
    given = request.header(SIGNATURE_HEADER)
    if not given:
        raise CallbackRefusedError(
            CallbackRefusal.MISSING_SIGNATURE, "The webhook is not signed"
        )
    given = given.strip()
    if not _HEX_SIGNATURE.fullmatch(given):
        raise CallbackRefusedError(
            CallbackRefusal.BAD_SIGNATURE, "The webhook's signature is malformed"
        )
    if not hmac.compare_digest(given.lower(), signature(secret, request.body)):
        raise CallbackRefusedError(
            CallbackRefusal.BAD_SIGNATURE, "The webhook's signature does not match"
        )


def read_events(
    request: CallbackRequest, replay_guard: ReplayGuard
) -> tuple[CallbackEvent, ...]:
    """Read a verified webhook: a completed call ends it, once; anything else is ignored."""
    record = json_object(request.body, "a Bland call")
    if not _completed(record):
        return (CallbackEvent(kind=CallbackKind.IGNORED),)
    call_id = json_text(record.get("call_id"))
    if call_id is None or not _CALL_ID.fullmatch(call_id):
        raise malformed("The webhook names no call it could be about")
    started = parse_time(record.get("started_at")) or parse_time(
        record.get("created_at")
    )
    ended = _ended(started, record.get("call_length"))
    if ended is not None and request.received_at - ended > REPLAY_WINDOW:
        raise CallbackRefusedError(
            CallbackRefusal.STALE, "The webhook tells of a call that ended long ago"
        )
    replay_guard.check_and_remember(f"bland:{call_id}", request.received_at)
    inbound = record.get("inbound")
    call = LiveCall(
        call_id=call_id,
        from_number=json_text(record.get("from")),
        to_number=json_text(record.get("to")),
        started=started,
        status=json_text(record.get("status")),
        direction=("inbound" if inbound else "outbound")
        if isinstance(inbound, bool)
        else None,
    )
    return (
        CallbackEvent(
            kind=CallbackKind.CALL_ENDED,
            call=call,
            ended_at=ended or request.received_at,
        ),
    )


def _completed(record: Mapping[str, Any]) -> bool:
    """Whether the record is of a completed call (the post-call webhook's)."""
    completed = record.get("completed")
    if isinstance(completed, bool):
        return completed
    status = record.get("status") or record.get("queue_status")
    return str(status).lower() in _COMPLETED_STATUSES


def _ended(started: datetime | None, minutes: object) -> datetime | None:
    """When the call ended: ``minutes`` (``call_length``) after it connected, if both are known."""
    if (
        started is None
        or isinstance(minutes, bool)
        or not isinstance(minutes, int | float)
        or not 0 <= minutes <= _MAX_CALL_MINUTES  # NaN is not within either
    ):
        return None
    return started + timedelta(minutes=minutes)
