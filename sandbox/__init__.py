"""A local stand-in for the Vobiz and Bland AI APIs, for tests and development.

One aiohttp server on a loopback port speaks both APIs as their docs describe them:
Vobiz under ``/vobiz/api/v1``, Bland AI under ``/bland``. It is seeded with documented
test credentials and live calls, records every request (credentials masked), counts
TCP connections, and injects faults on demand. After a Vobiz transfer it fetches each
transferred leg's URL as Vobiz does (loopback addresses only) and records on the call
what the leg did with the XML (``sandbox.legfetch``). Run it with ``python -m sandbox``;
in tests use the ``sandbox`` fixture from ``sandbox.pytest_plugin``.

It is strict on purpose, so client bugs show. Where the docs are silent it chooses:
- Vobiz errors use the ``{"api_id", "error"}`` envelope (a STATUS fault sends the
  other documented shapes); Bland errors use ``{"data": null, "errors": [...]}``.
- A request body must be JSON labelled ``application/json``; a transfer parameter
  neither provider documents is refused with 400.
- Vobiz call reads need ``?status=live`` (there are no records of finished calls).
- Paths are exact, trailing slashes included; a wrong method answers 405.
- Recorded header names are lower-cased; credential header values are ``***``.
- A transferred leg's URL gets 5 s to answer; only loopback IP addresses are fetched,
  redirects are not followed, and the XML must use E.164 numbers and plain-text Speak.
"""

from .faults import Fault, FaultKind, FaultRule
from .server import Sandbox, require_loopback
from .state import (
    DEFAULT_BLOCKED_PREFIXES,
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_BLAND_SECOND_CALL_ID,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_CALL_ID,
    SANDBOX_VOBIZ_SECOND_CALL_ID,
    BlandAccount,
    CallStatus,
    LegOutcome,
    LegResult,
    ProviderName,
    RecordedRequest,
    SandboxCall,
    VobizAccount,
)

__all__ = [
    "DEFAULT_BLOCKED_PREFIXES",
    "SANDBOX_BLAND_API_KEY",
    "SANDBOX_BLAND_CALL_ID",
    "SANDBOX_BLAND_ORG_ID",
    "SANDBOX_BLAND_SECOND_CALL_ID",
    "SANDBOX_VOBIZ_AUTH_ID",
    "SANDBOX_VOBIZ_AUTH_SECRET",
    "SANDBOX_VOBIZ_AUTH_TOKEN",
    "SANDBOX_VOBIZ_CALL_ID",
    "SANDBOX_VOBIZ_SECOND_CALL_ID",
    "BlandAccount",
    "CallStatus",
    "Fault",
    "FaultKind",
    "FaultRule",
    "LegOutcome",
    "LegResult",
    "ProviderName",
    "RecordedRequest",
    "Sandbox",
    "SandboxCall",
    "VobizAccount",
    "require_loopback",
]
