"""Twilio's callbacks: how they are signed, and what they tell.

Signature (twilio-python ``twilio/request_validator.py``, ``RequestValidator.validate``;
twilio.com/docs/usage/webhooks/webhooks-security): ``X-Twilio-Signature`` is
base64(HMAC-SHA1(auth token, URL + each POST parameter's name and value, sorted by
name, then value)). The URL is the one Twilio requested, query included; Twilio is not
consistent about an explicit port, so the SDK accepts the signature of the URL with
the port (the scheme's default added when absent) and without it: so does this. A JSON
body is not in the signed string: the URL carries ``bodySHA256``, the body's SHA-256
in hex, which the SDK compares with the body's.

Twilio sends no nonce. Call status callbacks carry ``Timestamp`` (RFC 2822, when the
event fired), ``CallbackSource`` (``call-progress-events``) and ``SequenceNumber``
(twilio.com/docs/voice/api/call-resource#statuscallbackevent, /docs/usage/webhooks/
voice-webhooks#call-status-callbacks): a status callback without a ``Timestamp``
within 5 minutes of now is refused (stale), and one whose call, status, source and
sequence were seen before is a replay. A ``<Dial action>`` request has no
``Timestamp``: it names the transfer (Home Assistant's one-time token in the URL) and
its dialled call (``DialCallSid``), and is remembered by those; a replay after the
replay window finds no transfer awaited.

A transfer's dialled ``<Number>`` reports its ``answered`` event to its own
``statusCallback`` (the child call's status callback, with ``ParentCallSid``): the
transfer answered, at once, where the Dial's ``action`` comes only when it ends.

A phone number's ``StatusCallback`` (the IncomingPhoneNumber resource has no
``StatusCallbackEvent``) is requested with Twilio's default event only: ``completed``
(and the other final statuses) of the calls to the number. Statuses of earlier events
(``initiated``, ``ringing``, ``in-progress``), sent where a call's own status callback
subscribes to them, are read all the same.

With answer-first, the number's ``VoiceUrl`` is the callback URL: each incoming call's
voice request (twilio.com/docs/usage/webhooks/voice-webhooks#incoming-voice-call:
``CallSid``, ``AccountSid``, ``From``, ``To``, ``CallStatus`` ``ringing``,
``Direction`` ``inbound``; no ``Timestamp``, ``CallbackSource`` or
``StatusCallbackEvent``) is the call's start. It carries nothing that makes it fresh:
it is remembered against replays like the others, but one replayed later verifies all
the same, so it is not ``fresh`` and its start counts only as Twilio confirms the call
live (``TwilioClient.async_confirm_call``).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
import hashlib
import hmac
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from .callbacks import (
    TRANSFER_TOKEN_PARAM,
    CallbackEvent,
    CallbackKind,
    CallbackRefusal,
    CallbackRefusedError,
    CallbackRequest,
    ReplayGuard,
    UnansweredReason,
    VerifiedCallback,
    first_values,
    form_fields,
    seconds,
    signature_matches,
)
from .models import LiveCall

SIGNATURE_HEADER: Final = "X-Twilio-Signature"
BODY_HASH_PARAM: Final = "bodySHA256"
FORM_MEDIA_TYPE: Final = "application/x-www-form-urlencoded"
JSON_MEDIA_TYPE: Final = "application/json"
# How far a status callback's Timestamp may be from now.
TIMESTAMP_WINDOW: Final = timedelta(minutes=5)
# A Call SID, as the REST API's path parameters take it.
_CALL_SID_PREFIX: Final = "CA"
_CALL_SID_LENGTH: Final = 34
# The statuses a voice request is made with: the call rings (inbound) or was answered.
_VOICE_REQUEST_STATUSES: Final = frozenset({"ringing", "in-progress"})
# What only a status callback carries (a voice request has none of them).
_STATUS_CALLBACK_ONLY: Final = ("Timestamp", "CallbackSource", "StatusCallbackEvent")
# A call's status and what it tells (twilio.com/docs/voice/api/call-resource#call-status-values).
_CALL_STATUSES: Final[Mapping[str, CallbackKind]] = {
    "queued": CallbackKind.CALL_STARTED,
    "initiated": CallbackKind.CALL_STARTED,
    "ringing": CallbackKind.CALL_STARTED,
    "in-progress": CallbackKind.CALL_ANSWERED,
    "answered": CallbackKind.CALL_ANSWERED,
    "completed": CallbackKind.CALL_ENDED,
    "busy": CallbackKind.CALL_ENDED,
    "failed": CallbackKind.CALL_ENDED,
    "no-answer": CallbackKind.CALL_ENDED,
    "canceled": CallbackKind.CALL_ENDED,
}
# A Dial's outcome (its action's DialCallStatus, twilio.com/docs/voice/twiml/dial#action):
# None is answered.
_DIAL_STATUSES: Final[Mapping[str, UnansweredReason | None]] = {
    "completed": None,
    "answered": None,
    "busy": UnansweredReason.BUSY,
    "no-answer": UnansweredReason.NO_ANSWER,
    "failed": UnansweredReason.FAILED,
    "canceled": UnansweredReason.FAILED,
}


def twilio_signature(key: str, url: str, params: Mapping[str, list[str]]) -> str:
    """Return what ``X-Twilio-Signature`` holds for a request to ``url`` with ``params``.

    Each parameter name once, sorted, each with its distinct values sorted, as the SDK.
    """
    signed = url + "".join(
        name + value for name in sorted(params) for value in sorted(set(params[name]))
    )
    digest = hmac.new(key.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_variants(url: str) -> tuple[str, str]:
    """Return the URL with its port (the scheme's default when absent) and without it.

    As the SDK's ``add_port`` and ``remove_port``.
    """
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    bare = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
    return (
        urlunsplit(parts._replace(netloc=f"{bare}:{port}")),
        urlunsplit(parts._replace(netloc=bare)),
    )


def check_signature(request: CallbackRequest, key: str) -> dict[str, list[str]]:
    """Verify ``X-Twilio-Signature`` with ``key``; return the signed form parameters.

    A JSON body is covered by ``bodySHA256`` instead (the parameters are then none).
    """
    signature = request.header(SIGNATURE_HEADER)
    if not signature:
        raise CallbackRefusedError(
            CallbackRefusal.MISSING_SIGNATURE,
            "The callback carries no X-Twilio-Signature",
        )
    params: dict[str, list[str]] = {}
    body_matches = True
    if request.media_type == JSON_MEDIA_TYPE:
        given = request.query.get(BODY_HASH_PARAM, [""])[0]
        body_matches = hmac.compare_digest(
            given.encode(), hashlib.sha256(request.body).hexdigest().encode()
        )
    elif request.media_type == FORM_MEDIA_TYPE or not request.body:
        params = form_fields(request.body)
    else:
        raise CallbackRefusedError(
            CallbackRefusal.MALFORMED,
            "The callback's body is neither form data nor JSON",
        )
    matched = False
    for url in url_variants(request.url):  # both compared: no early answer
        matched |= signature_matches(signature, twilio_signature(key, url, params))
    if not (matched and body_matches):
        raise CallbackRefusedError(
            CallbackRefusal.BAD_SIGNATURE, "The callback's Twilio signature is wrong"
        )
    return params


def verify(
    request: CallbackRequest, key: str, replay_guard: ReplayGuard
) -> VerifiedCallback:
    """Verify a callback, refuse a stale or replayed one, and read what it tells."""
    params = check_signature(request, key)
    fields = first_values(params)
    token = next(iter(request.query.get(TRANSFER_TOKEN_PARAM, ())), None)
    stamp = _timestamp(fields)
    voice_request = _is_voice_request(fields, token)
    if (
        "DialCallStatus" not in fields
        and not voice_request
        and (stamp is None or abs(request.received_at - stamp) > TIMESTAMP_WINDOW)
    ):
        # Only a Dial's action request, bound to a one-time transfer token, and a
        # voice request, confirmed with Twilio before it counts, have none.
        if params:
            raise CallbackRefusedError(
                CallbackRefusal.STALE,
                "The callback's Timestamp is missing or not within 5 minutes of now",
            )
        return VerifiedCallback(
            events=(CallbackEvent(kind=CallbackKind.IGNORED),),
            signature="X-Twilio-Signature",
            body_signed=True,
        )
    identity = "|".join(
        (
            fields.get("CallSid", ""),
            fields.get("CallStatus", ""),
            fields.get("DialCallStatus", ""),
            fields.get("DialCallSid", ""),
            fields.get("CallbackSource", ""),
            fields.get("SequenceNumber", ""),
            fields.get("Timestamp", ""),
            token or "",
        )
    )
    replay_guard.check_and_remember(f"twilio:{identity}", request.received_at)
    return VerifiedCallback(
        events=(_event(fields, token, stamp or request.received_at),),
        signature="X-Twilio-Signature",
        body_signed=True,
        fresh=not voice_request,
    )


def _is_voice_request(fields: Mapping[str, str], token: str | None) -> bool:
    """Whether a request is a call's voice request: its status, no status callback's fields."""
    return (
        token is None
        and fields.get("CallStatus") in _VOICE_REQUEST_STATUSES
        and "DialCallStatus" not in fields
        and "ParentCallSid" not in fields
        and not any(name in fields for name in _STATUS_CALLBACK_ONLY)
    )


def _event(
    fields: Mapping[str, str], token: str | None, stamp: datetime
) -> CallbackEvent:
    """Read a Dial's outcome, or a call's status."""
    if (dial_status := fields.get("DialCallStatus")) is not None:
        if dial_status not in _DIAL_STATUSES:
            return CallbackEvent(kind=CallbackKind.IGNORED)
        reason = _DIAL_STATUSES[dial_status]
        return CallbackEvent(
            kind=CallbackKind.TRANSFER_ANSWERED
            if reason is None
            else CallbackKind.TRANSFER_UNANSWERED,
            call=LiveCall(
                call_id=_call_sid(fields.get("CallSid")),
                from_number=None,
                to_number=None,
                started=None,
            ),
            transfer_token=token,
            unanswered_reason=reason,
        )
    kind = _CALL_STATUSES.get(fields.get("CallStatus", ""))
    if token is not None and (parent := fields.get("ParentCallSid")):
        # The dialled number's own status callback: it answered the transfer.
        if kind is not CallbackKind.CALL_ANSWERED:
            return CallbackEvent(kind=CallbackKind.IGNORED)
        return CallbackEvent(
            kind=CallbackKind.TRANSFER_ANSWERED,
            call=LiveCall(
                call_id=_call_sid(parent),
                from_number=None,
                to_number=fields.get("To") or None,
                started=None,
            ),
            transfer_token=token,
        )
    if kind is None:
        return CallbackEvent(kind=CallbackKind.IGNORED)
    started = None
    if kind is CallbackKind.CALL_ENDED and (
        duration := seconds(fields.get("CallDuration"))
    ):
        started = stamp - timedelta(seconds=duration)
    call = LiveCall(
        call_id=_call_sid(fields.get("CallSid")),
        from_number=fields.get("From") or None,
        to_number=fields.get("To") or None,
        started=started,
        status=fields.get("CallStatus") or None,
        direction=fields.get("Direction") or None,
    )
    if kind is CallbackKind.CALL_ENDED:
        return CallbackEvent(kind=kind, call=call, ended_at=stamp)
    return CallbackEvent(kind=kind, call=call)


def _timestamp(fields: Mapping[str, str]) -> datetime | None:
    """Read ``Timestamp`` (RFC 2822, UTC); None when absent or unreadable."""
    try:
        stamp = parsedate_to_datetime(fields.get("Timestamp", ""))
    except (TypeError, ValueError, IndexError):
        return None
    return stamp if stamp.tzinfo else None


def _call_sid(value: str | None) -> str:
    if (
        value is None
        or len(value) != _CALL_SID_LENGTH
        or not value.startswith(_CALL_SID_PREFIX)
        or not value[2:].isalnum()
        or not value.isascii()
    ):
        raise CallbackRefusedError(
            CallbackRefusal.MALFORMED, "The callback names no call it could be about"
        )
    return value
