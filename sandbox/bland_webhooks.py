"""The post-call webhooks Bland sends, built and signed by the sandbox the same way.

When a Bland call to one of the account's inbound numbers ends, the call's record goes
to the number's ``webhook`` setting as JSON (the call object, as ``GET /v1/calls/{id}``
describes it, transcript included), signed: ``X-Webhook-Signature`` is the hex
HMAC-SHA256 of the body with the account's webhook signing secret. Nothing is sent when
a call starts (Bland documents no such webhook), nor for calls to other numbers (the
per-call ``webhook`` of ``POST /v1/calls`` is not modelled: the sandbox places no calls).
Sources: docs.bland.ai ``tutorials/post-call-webhooks``, ``tutorials/webhook-signing``,
``api-v1/get/calls-id``, ``api-v1/get/inbound-number``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any, Final

from .signing import bland
from .state import BlandAccount, CallbackFault, SandboxCall

SIGNATURE_HEADER: Final = "X-Webhook-Signature"
# Minutes a call may last (``max_duration``: 30 in Bland's examples).
MAX_DURATION: Final = 30


def post_call_record(call: SandboxCall) -> dict[str, Any]:
    """Return the record of an ended call, as Bland's post-call webhook carries it.

    ``started_at`` is when it connected and ``call_length`` how long it lasted, in
    minutes; ``end_at`` is when it would have been cut off (``max_duration``), as
    ``GET /v1/calls/{id}`` documents them.
    """
    ended = call.ended or datetime.now(UTC)
    return {
        "call_id": call.call_id,
        "c_id": call.call_id,
        "created_at": iso_time(call.started),
        "started_at": iso_time(call.started),
        "end_at": iso_time(call.started + timedelta(minutes=MAX_DURATION)),
        "max_duration": MAX_DURATION,
        "call_length": max(0.0, (ended - call.started).total_seconds()) / 60,
        "to": call.to_number,
        "from": call.from_number,
        "inbound": call.direction == "inbound",
        "completed": True,
        "status": "completed",
        "queue_status": "complete",
        "transferred_to": call.transferred_to,
        "answered_by": "human",
        "call_ended_by": "USER",
        "concatenated_transcript": "",
        "transcripts": [],
        "error_message": None,
    }


def webhook_body(record: dict[str, Any]) -> bytes:
    """Return the JSON body of a webhook: compact, as ``JSON.stringify`` writes it."""
    return json.dumps(record, separators=(",", ":")).encode()


def signed(
    account: BlandAccount, body: bytes, fault: CallbackFault | None
) -> tuple[dict[str, str], bytes]:
    """Return the headers of a webhook and the body sent, with the account's fault."""
    headers = {"Content-Type": "application/json"}
    if fault is CallbackFault.UNSIGNED:
        return headers, body
    secret = account.signing_secret
    if fault is CallbackFault.FORGED:
        secret = f"not-{secret}"
    headers[SIGNATURE_HEADER] = bland(secret, body)
    if fault is CallbackFault.TAMPERED:
        body = body.replace(b'"call_id":"', b'"call_id":"x', 1)
    return headers, body


def summary(body: bytes) -> dict[str, str]:
    """Return what a webhook tells, as the sandbox lists it: the call and its status."""
    record = json.loads(body)
    return {"event_type": "post-call", "call_id": record["call_id"]}


def iso_time(moment: datetime) -> str:
    """Write a time as Bland does (ISO 8601, UTC, milliseconds, ``Z``)."""
    return (
        moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
