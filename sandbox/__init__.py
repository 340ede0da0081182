"""A local stand-in for the providers' APIs, for tests and development.

One aiohttp server on a loopback port speaks each API as its docs describe it:
Vobiz under ``/vobiz/api/v1``, Bland AI under ``/bland``, Twilio under
``/twilio/2010-04-01``, Telnyx under ``/telnyx/v2``, Plivo under ``/plivo/v1``. It is
seeded with documented test credentials and live calls, records every request
(credentials masked), counts TCP connections, and injects faults on demand. After a
Vobiz or Plivo transfer it fetches each transferred leg's URL as the provider does
(loopback addresses only) and records on the call what the leg did with the XML
(``sandbox.legfetch``). Vobiz and Plivo accounts have applications whose URLs get the
providers' signed callbacks when a call starts and ends, and a Dial that asks for it
hears what the dialled number did (``sandbox.callbacks``; loopback only, with faults on
demand: forged, unsigned, tampered, replayed, held). Run it with ``python -m sandbox``;
in tests use the ``sandbox`` fixture from ``sandbox.pytest_plugin``.

It is strict on purpose, so client bugs show. Where the docs are silent it chooses:
- Vobiz and Plivo errors use the ``{"api_id", "error"}`` envelope (a STATUS fault
  sends Vobiz's other documented shapes); Bland errors use ``{"data": null, "errors": [...]}``;
  Twilio errors are ``{"code", "message", "more_info", "status"}``; Telnyx errors
  ``{"errors": [{"code", "title", "detail"}]}``.
- A request body must be of the API's media type, labelled so (JSON; form-encoded for
  Twilio); a transfer parameter the provider does not document is refused with 400.
- Vobiz and Plivo call reads need ``?status=live`` (there are no records of finished calls).
- Paths are exact, trailing slashes included; a wrong method answers 405.
- Recorded header names are lower-cased; credential header values are ``***``.
- A transferred leg's URL gets 5 s to answer; only loopback IP addresses are fetched,
  redirects are not followed, and the XML must use E.164 numbers and plain-text Speak.
"""

from .faults import Fault, FaultKind, FaultRule
from .server import Sandbox, require_loopback
from .state import (
    DEFAULT_BLOCKED_PREFIXES,
    SANDBOX_ANSWER_URL,
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_NUMBER,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_BLAND_SECOND_CALL_ID,
    SANDBOX_BLAND_SIGNING_SECRET,
    SANDBOX_BLAND_WEBHOOK_URL,
    SANDBOX_PLIVO_APP_ID,
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_PLIVO_CALL_ID,
    SANDBOX_PLIVO_SECOND_CALL_ID,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CALL_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TELNYX_PUBLIC_KEY,
    SANDBOX_TELNYX_SECOND_CALL_ID,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_API_KEY_SECRET,
    SANDBOX_TWILIO_API_KEY_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_TWILIO_CALL_SID,
    SANDBOX_TWILIO_NUMBER,
    SANDBOX_TWILIO_NUMBER_SID,
    SANDBOX_TWILIO_SECOND_CALL_SID,
    SANDBOX_VOBIZ_APP_ID,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_CALL_ID,
    SANDBOX_VOBIZ_SECOND_CALL_ID,
    AnswerRedirect,
    BlandAccount,
    CallbackFault,
    CallStatus,
    DialBehaviour,
    LegOutcome,
    LegResult,
    Outage,
    PlivoAccount,
    ProviderName,
    RecordedRequest,
    SandboxApplication,
    SandboxCall,
    SentCallback,
    TelnyxAccount,
    TelnyxApplication,
    TwilioAccount,
    TwilioNumber,
    VobizAccount,
)

__all__ = [
    "AnswerRedirect",
    "SANDBOX_ANSWER_URL",
    "DEFAULT_BLOCKED_PREFIXES",
    "SANDBOX_BLAND_API_KEY",
    "SANDBOX_BLAND_CALL_ID",
    "SANDBOX_BLAND_NUMBER",
    "SANDBOX_BLAND_ORG_ID",
    "SANDBOX_BLAND_SECOND_CALL_ID",
    "SANDBOX_BLAND_SIGNING_SECRET",
    "SANDBOX_BLAND_WEBHOOK_URL",
    "SANDBOX_PLIVO_APP_ID",
    "SANDBOX_PLIVO_AUTH_ID",
    "SANDBOX_PLIVO_AUTH_TOKEN",
    "SANDBOX_PLIVO_CALL_ID",
    "SANDBOX_PLIVO_SECOND_CALL_ID",
    "SANDBOX_TELNYX_API_KEY",
    "SANDBOX_TELNYX_CALL_ID",
    "SANDBOX_TELNYX_CONNECTION_ID",
    "SANDBOX_TELNYX_PUBLIC_KEY",
    "SANDBOX_TELNYX_SECOND_CALL_ID",
    "SANDBOX_TWILIO_ACCOUNT_SID",
    "SANDBOX_TWILIO_API_KEY_SECRET",
    "SANDBOX_TWILIO_API_KEY_SID",
    "SANDBOX_TWILIO_AUTH_TOKEN",
    "SANDBOX_TWILIO_CALL_SID",
    "SANDBOX_TWILIO_NUMBER",
    "SANDBOX_TWILIO_NUMBER_SID",
    "SANDBOX_TWILIO_SECOND_CALL_SID",
    "SANDBOX_VOBIZ_APP_ID",
    "SANDBOX_VOBIZ_AUTH_ID",
    "SANDBOX_VOBIZ_AUTH_SECRET",
    "SANDBOX_VOBIZ_AUTH_TOKEN",
    "SANDBOX_VOBIZ_CALL_ID",
    "SANDBOX_VOBIZ_SECOND_CALL_ID",
    "BlandAccount",
    "CallStatus",
    "CallbackFault",
    "DialBehaviour",
    "Fault",
    "FaultKind",
    "FaultRule",
    "LegOutcome",
    "LegResult",
    "Outage",
    "PlivoAccount",
    "ProviderName",
    "RecordedRequest",
    "Sandbox",
    "SandboxApplication",
    "SandboxCall",
    "SentCallback",
    "TelnyxAccount",
    "TelnyxApplication",
    "TwilioAccount",
    "TwilioNumber",
    "VobizAccount",
    "require_loopback",
]
