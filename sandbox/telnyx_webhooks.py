"""The Call Control webhooks Telnyx sends, built and signed by the sandbox the same way.

A Telnyx call starting sends ``call.initiated`` then ``call.answered``, its end
``call.hangup`` (``normal_clearing``), each to its application's ``webhook_event_url``
(API v2's format; an application set to API v1 is sent nothing: not modelled). A
transfer with a ``webhook_url`` sends the new leg's events there, as the number does
what ``dial_behaviours`` says: ``call.initiated``, then ``call.answered`` and
``call.bridged`` when it answers, else ``call.hangup`` with ``user_busy``, ``timeout``
or ``call_rejected``; the original call stays up either way, as Telnyx documents. A
transfer without one sends nothing about the new leg (not modelled).

Each is JSON, ``{"data": {"record_type": "event", "event_type", "id", "occurred_at",
"payload"}, "meta": {"attempt", "delivered_to"}}``, signed with the account's Ed25519 key:
``telnyx-signature-ed25519`` (base64 of the signature of ``f"{timestamp}|{body}"``) and
``telnyx-timestamp`` (Unix seconds when it was built: a callback held arrives with the
time it was sent). Sources: developers.telnyx.com ``api-reference/callbacks/call-hangup``,
``call-commands/transfer-call``; telnyx-python ``telnyx/webhook.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
import json
import secrets
from typing import Any, Final
import uuid

from .signing import telnyx_ed25519
from .state import CallbackFault, DialBehaviour, SandboxCall, TelnyxAccount

SIGNATURE_HEADER: Final = "telnyx-signature-ed25519"
TIMESTAMP_HEADER: Final = "telnyx-timestamp"
# How old a ``stale`` callback's timestamp is (Twilio's too).
STALE_BY: Final = timedelta(minutes=10)
# The hangup cause of a new leg that does not answer, by what the number does.
NEW_LEG_HANGUPS: Final[Mapping[DialBehaviour, tuple[str, str]]] = {
    DialBehaviour.BUSY: ("user_busy", "486"),
    DialBehaviour.NO_ANSWER: ("timeout", "408"),
    DialBehaviour.FAIL: ("call_rejected", "603"),
}
_DIRECTIONS: Final = {"inbound": "incoming", "outbound": "outgoing"}


def call_payload(call: SandboxCall, state: str) -> dict[str, Any]:
    """Return the payload of an event about a sandbox call."""
    session = call.call_id.removeprefix("v3:")
    return {
        "call_control_id": call.call_id,
        "connection_id": call.connection or "",
        "call_leg_id": f"leg-{session}",
        "call_session_id": f"session-{session}",
        "client_state": None,
        "from": call.from_number,
        "to": call.to_number,
        "direction": _DIRECTIONS.get(call.direction, call.direction),
        "state": state,
    }


def hangup_payload(call: SandboxCall) -> dict[str, Any]:
    """Return the payload of a call's ``call.hangup``: it hung up normally."""
    return call_payload(call, "hangup") | {
        "start_time": iso_time(call.started),
        "end_time": iso_time(call.ended or datetime.now(UTC)),
        "hangup_cause": "normal_clearing",
        "hangup_source": "caller",
        "sip_hangup_cause": "200",
    }


def new_leg_payloads(
    call: SandboxCall, to: str, caller_id: str | None, does: DialBehaviour
) -> list[tuple[str, dict[str, Any]]]:
    """Return the events of a transfer's new leg to ``to`` (event type, payload)."""
    leg_id = f"v3:{secrets.token_urlsafe(24)}"
    payload: dict[str, Any] = {
        "call_control_id": leg_id,
        "connection_id": call.connection or "",
        "call_leg_id": str(uuid.uuid4()),
        "call_session_id": f"session-{call.call_id.removeprefix('v3:')}",
        "client_state": None,
        "from": caller_id or call.to_number,
        "to": to,
        "direction": "outgoing",
    }
    events = [("call.initiated", payload | {"state": "bridging"})]
    if does is DialBehaviour.ANSWER:
        return [
            *events,
            ("call.answered", payload | {"state": "answered"}),
            ("call.bridged", payload | {"state": "bridged"}),
        ]
    cause, sip_cause = NEW_LEG_HANGUPS[does]
    return [
        *events,
        (
            "call.hangup",
            payload
            | {
                "state": "hangup",
                "hangup_cause": cause,
                "hangup_source": "callee",
                "sip_hangup_cause": sip_cause,
            },
        ),
    ]


def webhook_body(event_type: str, payload: Mapping[str, Any], url: str) -> bytes:
    """Return the JSON body of one webhook (a new event id each time)."""
    return json.dumps(
        {
            "data": {
                "record_type": "event",
                "event_type": event_type,
                "id": str(uuid.uuid4()),
                "occurred_at": iso_time(datetime.now(UTC)),
                "payload": dict(payload),
            },
            "meta": {"attempt": 1, "delivered_to": url},
        }
    ).encode()


def signed(
    account: TelnyxAccount, body: bytes, fault: CallbackFault | None
) -> tuple[dict[str, str], bytes]:
    """Return the headers of a webhook and the body sent, with the account's fault."""
    headers = {"Content-Type": "application/json"}
    if fault is CallbackFault.UNSIGNED:
        return headers, body
    seed = account.signing_seed
    if fault is CallbackFault.FORGED:
        seed = bytes(byte ^ 0x5A for byte in seed)
    sent_at = datetime.now(UTC) - (
        STALE_BY if fault is CallbackFault.STALE else timedelta()
    )
    timestamp = str(int(sent_at.timestamp()))
    headers |= {
        SIGNATURE_HEADER: telnyx_ed25519(seed, timestamp, body),
        TIMESTAMP_HEADER: timestamp,
    }
    if fault is CallbackFault.TAMPERED:
        body = body.replace(b'"call_control_id": "', b'"call_control_id": "x', 1)
    return headers, body


def summary(body: bytes) -> dict[str, str]:
    """Return what a webhook tells, as the sandbox lists it: event, call, hangup cause."""
    data = json.loads(body)["data"]
    payload = data["payload"]
    shown = {
        "event_type": data["event_type"],
        "call_control_id": payload["call_control_id"],
    }
    if cause := payload.get("hangup_cause"):
        shown["hangup_cause"] = cause
    return shown


def iso_time(moment: datetime) -> str:
    """Write a time as Telnyx does (ISO 8601, UTC, ``Z``)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
