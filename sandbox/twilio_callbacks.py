"""The callbacks Twilio sends about calls, as the sandbox builds them.

- A call to one of the account's numbers starting: its voice request to the number's
  ``VoiceUrl`` (unless a TwiML App answers the number), with the parameters of
  twilio.com/docs/usage/webhooks/voice-webhooks#incoming-voice-call (``CallStatus``
  ``ringing``; no ``Timestamp``: Twilio signs it all the same). Its answer is TwiML: a
  ``<Redirect>`` there is followed, as Twilio does.
- A call to one of the account's numbers ending: its final status to the number's
  ``StatusCallback`` (Twilio's default event, ``completed``: a number cannot subscribe
  to others), with the status callback parameters of
  twilio.com/docs/usage/webhooks/voice-webhooks#call-status-callbacks (``Timestamp``
  in RFC 2822, ``CallbackSource=call-progress-events``, ``SequenceNumber``,
  ``CallDuration``).
- A ``<Number statusCallbackEvent="answered" statusCallback=…>`` of a call's
  ``<Dial>``: when the number answers, the dialled (child) call's status callback,
  ``CallStatus=in-progress`` with ``ParentCallSid`` (twilio.com/docs/voice/twiml/number).
- A ``<Dial action>`` of a call's TwiML: when the dialled call ends, ``DialCallStatus``
  (completed, busy, no-answer, failed), ``DialCallSid``, ``DialCallDuration`` and the
  call's own parameters to ``action`` (twilio.com/docs/voice/twiml/dial#action).

The sender signs them with the account's auth token (``signing.twilio``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
import math
from typing import Final

from .state import DialBehaviour, SandboxCall

API_VERSION: Final = "2010-04-01"
DIAL_STATUS: Final[Mapping[DialBehaviour, str]] = {
    DialBehaviour.ANSWER: "completed",
    DialBehaviour.BUSY: "busy",
    DialBehaviour.NO_ANSWER: "no-answer",
    DialBehaviour.FAIL: "failed",
}


def call_params(call: SandboxCall, status: str) -> dict[str, str]:
    """Return the parameters Twilio sends with every request about a call."""
    return {
        "AccountSid": call.account,
        "ApiVersion": API_VERSION,
        "CallSid": call.call_id,
        "CallStatus": status,
        "Called": call.to_number,
        "Caller": call.from_number,
        "Direction": call.direction,
        "From": call.from_number,
        "To": call.to_number,
    }


def voice_params(call: SandboxCall) -> dict[str, str]:
    """Return the voice request of an incoming call: it rings, and asks what to do."""
    return call_params(call, "ringing")


def ended_params(call: SandboxCall) -> dict[str, str]:
    """Return a status callback telling that the call completed."""
    ended = call.ended or datetime.now(UTC)
    duration = max(0, int((ended - call.started).total_seconds()))
    return call_params(call, "completed") | {
        "CallDuration": str(duration),
        "Duration": str(math.ceil(duration / 60)),
        "SipResponseCode": "200",
        **_progress_event(ended),
    }


def answered_params(call: SandboxCall, dial: Mapping[str, str]) -> dict[str, str]:
    """Return the dialled call's status callback telling that it was answered."""
    return {
        "AccountSid": call.account,
        "ApiVersion": API_VERSION,
        "CallSid": dial["b_leg"],
        "ParentCallSid": call.call_id,
        "CallStatus": "in-progress",
        "Called": dial["to"],
        "Caller": dial["from"],
        "Direction": "outbound-dial",
        "From": dial["from"],
        "To": dial["to"],
        **_progress_event(datetime.now(UTC)),
    }


def _progress_event(moment: datetime) -> dict[str, str]:
    """Return the fields of a call progress event (status callback) sent at ``moment``."""
    return {
        "Timestamp": format_datetime(moment.astimezone(UTC)),
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "0",
    }


def action_params(
    call: SandboxCall, dial: Mapping[str, str], status: str
) -> dict[str, str]:
    """Return a Dial's action request: its outcome, and the call's own parameters."""
    params = call_params(call, "in-progress" if call.live else "completed") | {
        "DialCallStatus": status,
        "DialCallSid": dial["b_leg"],
        "DialBridged": "true" if status == "completed" else "false",
    }
    if status == "completed":
        answered = datetime.fromisoformat(dial["answered"])
        seconds = int((datetime.now(UTC) - answered).total_seconds())
        params["DialCallDuration"] = str(max(0, seconds))
    return params
