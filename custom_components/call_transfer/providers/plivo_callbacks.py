"""Callbacks of the Plivo-style APIs (Plivo, Vobiz): what they sign, and what they tell.

Both POST form fields: an application's ``hangup_url`` gets ``Hangup`` (the call's end,
with its start, end and duration), a ``<Dial>``'s ``callbackUrl`` gets the dialled
leg's events (``DialAction=answer`` when it answers) and its ``action`` one final
request (``DialStatus``: completed, busy, no-answer, timeout, failed, cancel).
Plivo's V3 signature covers the URL, the sorted parameters and a nonce
(plivo-python ``signature_v3.py``); Vobiz's documented V2/V3 cover only the URL
without its query and a nonce (docs.vobiz.ai/concepts/validating-callbacks).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
import json
import re
from typing import Final
from urllib.parse import parse_qs

from .callbacks import (
    TRANSFER_TOKEN_PARAM,
    CallbackEvent,
    CallbackKind,
    CallbackRefusal,
    CallbackRefusedError,
    CallbackRequest,
    UnansweredReason,
    first_values,
    form_fields,
    parse_time,
    seconds,
    url_without_query,
)
from .http import MAX_TEXT_LENGTH
from .models import LiveCall

FORM_MEDIA_TYPE: Final = "application/x-www-form-urlencoded"
JSON_MEDIA_TYPE: Final = "application/json"
# A call UUID as both providers write it (and as a request path may carry it).
_CALL_UUID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
# A Dial's final status (its ``action`` request) and what it means for the transfer.
_DIAL_STATUS: Final[Mapping[str, UnansweredReason | None]] = {
    "completed": None,  # answered
    "busy": UnansweredReason.BUSY,
    "no-answer": UnansweredReason.NO_ANSWER,
    "timeout": UnansweredReason.NO_ANSWER,
    "failed": UnansweredReason.FAILED,
    "cancel": UnansweredReason.FAILED,
}
# Call events by the ``Event`` field; an end also by a final ``CallStatus``.
_CALL_EVENTS: Final[Mapping[str, CallbackKind]] = {
    "StartApp": CallbackKind.CALL_STARTED,
    "Ring": CallbackKind.CALL_STARTED,
    "Hangup": CallbackKind.CALL_ENDED,
}
_ENDED_STATUSES: Final = frozenset(
    {"completed", "busy", "failed", "timeout", "no-answer"}
)
# The JSON events an older revision of Vobiz's docs shows, read for robustness only,
# and the form field each of their keys stands for.
_JSON_EVENTS: Final[Mapping[str, str]] = {
    "call.initiated": "StartApp",
    "call.answered": "Answer",
    "call.completed": "Hangup",
}
_JSON_FIELDS: Final[Mapping[str, str]] = {
    "event": "Event",
    "call_id": "CallUUID",
    "from": "From",
    "to": "To",
    "status": "CallStatus",
    "direction": "Direction",
    "duration": "Duration",
    "start_time": "StartTime",
    "end_time": "EndTime",
}


def plivo_v3_signed_string(
    method: str, url: str, params: Mapping[str, list[str]]
) -> str:
    """Return what Plivo's V3 signature signs, before ``"." + nonce``.

    The URL without its query, then for POST ``?`` + the URL's query sorted, ``.`` when
    both the query and the parameters are there, and each parameter as key + value
    sorted by key (then value); for GET the parameters join the query.
    """
    base = url_without_query(url)
    query = parse_qs(url.partition("?")[2].partition("#")[0], keep_blank_values=True)
    if method == "GET":
        merged = {key: list(values) for key, values in params.items()}
        for key, values in query.items():
            merged.setdefault(key, []).extend(values)
        sorted_query = _sorted_query(merged)
        return base + (f"?{sorted_query}" if sorted_query else "")
    sorted_query = _sorted_query(query)
    signed = base
    if sorted_query or params:
        signed += f"?{sorted_query}"
    if sorted_query and params:
        signed += "."
    return signed + "".join(
        f"{key}{value}" for key in sorted(params) for value in sorted(params[key])
    )


def _sorted_query(params: Mapping[str, list[str]]) -> str:
    return "&".join(
        f"{key}={value}" for key in sorted(params) for value in sorted(params[key])
    )


def signed_params(request: CallbackRequest) -> dict[str, list[str]]:
    """Return the form fields a signature covers; none for a body that is not a form."""
    if request.media_type != FORM_MEDIA_TYPE:
        return {}
    return form_fields(request.body)


def read_events(
    request: CallbackRequest, params: Mapping[str, list[str]]
) -> tuple[CallbackEvent, ...]:
    """Read what a verified callback tells: a call's start or end, a Dial's outcome."""
    if request.media_type == JSON_MEDIA_TYPE:
        fields = _json_fields(request.body)
    elif request.media_type == FORM_MEDIA_TYPE or not request.body:
        fields = first_values(params)
    else:
        raise CallbackRefusedError(
            CallbackRefusal.MALFORMED,
            "The callback's body is neither form data nor JSON",
        )
    token = next(iter(request.query.get(TRANSFER_TOKEN_PARAM, ())), None)
    if "DialStatus" in fields or "DialAction" in fields:
        return (_dial_outcome(fields, token),)
    event = fields.get("Event")
    kind = _CALL_EVENTS.get(event or "")
    if event == "Answer":
        kind = CallbackKind.CALL_ANSWERED
    elif event is None and _status(fields) in _ENDED_STATUSES:
        kind = CallbackKind.CALL_ENDED
    if kind is None:
        return (CallbackEvent(kind=CallbackKind.IGNORED),)
    call = _call(fields, request, ended=kind is CallbackKind.CALL_ENDED)
    if kind is not CallbackKind.CALL_ENDED:
        return (CallbackEvent(kind=kind, call=call),)
    ended_at = parse_time(fields.get("EndTime")) or request.received_at
    return (CallbackEvent(kind=kind, call=call, ended_at=ended_at),)


def _dial_outcome(fields: Mapping[str, str], token: str | None) -> CallbackEvent:
    """Read a Dial's ``action`` (DialStatus) or ``callbackUrl`` (DialAction) request.

    Answered: ``DialAction=answer``, or ``DialStatus=completed``. Not answered: the
    final ``DialStatus``. Any other Dial event (connected, hangup, digits) says
    nothing new: the final status follows it.
    """
    a_leg = fields.get("DialALegUUID") or fields.get("CallUUID")
    call = (
        LiveCall(
            call_id=_call_uuid(a_leg),
            from_number=None,
            to_number=fields.get("DialBLegTo") or None,
            started=None,
        )
        if a_leg
        else None
    )
    if (status := fields.get("DialStatus")) is not None:
        if status not in _DIAL_STATUS:
            return CallbackEvent(kind=CallbackKind.IGNORED)
        reason = _DIAL_STATUS[status]
        kind = (
            CallbackKind.TRANSFER_ANSWERED
            if reason is None
            else CallbackKind.TRANSFER_UNANSWERED
        )
        return CallbackEvent(
            kind=kind, call=call, transfer_token=token, unanswered_reason=reason
        )
    if fields.get("DialAction") == "answer":
        return CallbackEvent(
            kind=CallbackKind.TRANSFER_ANSWERED, call=call, transfer_token=token
        )
    return CallbackEvent(kind=CallbackKind.IGNORED)


def _call(
    fields: Mapping[str, str], request: CallbackRequest, *, ended: bool
) -> LiveCall:
    """Read the call a callback is about; its start from the first field that tells it.

    ``StartTime``, Plivo's ``SessionStart``, or the end (``EndTime``, else now) less
    ``Duration``.
    """
    started = parse_time(fields.get("StartTime")) or parse_time(
        fields.get("SessionStart")
    )
    if started is None and ended and (duration := seconds(fields.get("Duration"))):
        end = parse_time(fields.get("EndTime")) or request.received_at
        started = end - timedelta(seconds=duration)
    return LiveCall(
        call_id=_call_uuid(fields.get("CallUUID")),
        from_number=fields.get("From") or None,
        to_number=fields.get("To") or None,
        started=started,
        status=_status(fields) or None,
        direction=fields.get("Direction") or None,
    )


def _status(fields: Mapping[str, str]) -> str:
    # Vobiz's hangup example writes the status as Status, its table as CallStatus.
    return fields.get("CallStatus") or fields.get("Status") or ""


def _call_uuid(value: str | None) -> str:
    if value is None or not _CALL_UUID.fullmatch(value):
        raise CallbackRefusedError(
            CallbackRefusal.MALFORMED, "The callback names no call it could be about"
        )
    return value


def _json_fields(body: bytes) -> dict[str, str]:
    """Read a JSON event of the older Vobiz revision into the form fields it stands for."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise CallbackRefusedError(
            CallbackRefusal.MALFORMED, "The callback's JSON body is not an object"
        )
    fields = {
        _JSON_FIELDS[key]: str(value)[:MAX_TEXT_LENGTH]
        for key, value in data.items()
        if key in _JSON_FIELDS and isinstance(value, str | int | float)
    }
    if (event := fields.get("Event")) is not None:
        fields["Event"] = _JSON_EVENTS.get(event, event)
    return fields
