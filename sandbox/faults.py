"""Faults a test can inject: canned failures, broken connections, hangs and delays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from aiohttp import web


class FaultKind(StrEnum):
    """How a faulty request is answered."""

    STATUS = "status"  # the given status, with an optional JSON body
    RATE_LIMIT = "rate_limit"  # 429, with Retry-After when retry_after is given
    MALFORMED_JSON = "malformed_json"  # truncated JSON labelled application/json
    HTML = "html"  # an HTML error page, as a proxy in front of the API sends
    EMPTY = "empty"  # the given status with an empty body
    RESET = "reset"  # the TCP connection is aborted, no response at all
    HANG = "hang"  # no response until the client gives up or the sandbox stops
    LATENCY = "latency"  # answered normally after a delay
    RAW = "raw"  # the given status and body bytes, sent as they are (headers say what they are)
    # The normal answer, status line and headers included, one byte every ``delay``
    # seconds: never silent long enough for a read timeout, never finished either.
    DRIP = "drip"


# The Fault fields each kind uses; giving any other is an error.
# A fault that answers may also take its time (``delay``): a slow error.
_FIELDS: Final[Mapping[FaultKind, frozenset[str]]] = {
    FaultKind.STATUS: frozenset({"status", "body", "headers", "delay"}),
    FaultKind.RATE_LIMIT: frozenset({"retry_after", "body", "headers", "delay"}),
    FaultKind.MALFORMED_JSON: frozenset({"status", "headers", "delay"}),
    FaultKind.HTML: frozenset({"status", "headers", "delay"}),
    FaultKind.EMPTY: frozenset({"status", "headers", "delay"}),
    FaultKind.RESET: frozenset(),
    FaultKind.HANG: frozenset(),
    FaultKind.LATENCY: frozenset({"delay"}),
    FaultKind.RAW: frozenset({"status", "body", "headers", "delay"}),
    FaultKind.DRIP: frozenset({"delay"}),
}
_DEFAULT_STATUS: Final[Mapping[FaultKind, int]] = {
    FaultKind.RATE_LIMIT: 429,
    FaultKind.MALFORMED_JSON: 200,
    FaultKind.HTML: 502,
    FaultKind.EMPTY: 200,
    FaultKind.RAW: 200,
}
MALFORMED_JSON_BODY: Final = '{"api_id": "6f1c2a9e", "message": "call transf'
HTML_PAGE: Final = (
    "<!DOCTYPE html><html><head><title>{status} Error</title></head>"
    "<body><h1>{status} Error</h1><p>The upstream server failed.</p></body></html>"
)


@dataclass(frozen=True, slots=True)
class Fault:
    """One failure: a kind and only the fields that kind uses."""

    kind: FaultKind
    status: int | None = None
    body: Any = None
    retry_after: str | None = None
    delay: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse fields the kind does not use, and a kind missing what it needs."""
        given = {
            name
            for name, is_set in (
                ("status", self.status is not None),
                ("body", self.body is not None),
                ("retry_after", self.retry_after is not None),
                ("delay", self.delay != 0),
                ("headers", bool(self.headers)),
            )
            if is_set
        }
        if unused := sorted(given - _FIELDS[self.kind]):
            raise ValueError(f"A {self.kind} fault takes no {', '.join(unused)}")
        if self.kind is FaultKind.STATUS and self.status is None:
            raise ValueError("A status fault needs a status")
        if self.delay < 0 or (
            self.kind in (FaultKind.LATENCY, FaultKind.DRIP) and self.delay == 0
        ):
            raise ValueError("A fault's delay must be positive")
        if self.kind is FaultKind.RAW and not isinstance(self.body, bytes):
            raise ValueError("A raw fault needs its body as bytes")

    @property
    def response_status(self) -> int:
        """The HTTP status a responding fault answers with."""
        return self.status or _DEFAULT_STATUS[self.kind]


@dataclass(slots=True)
class FaultRule:
    """A fault and which requests it hits; every given filter must match."""

    fault: Fault
    # The account the request authenticated as (ProviderApi.account_key).
    account: str | None = None
    call_id: str | None = None
    path_contains: str | None = None
    remaining: int | None = None  # None: every matching request

    def matches(self, account: str | None, call_id: str | None, path: str) -> bool:
        """Say whether a request falls under this rule."""
        return (
            (self.account is None or self.account == account)
            and (self.call_id is None or self.call_id == call_id)
            and (self.path_contains is None or self.path_contains in path)
        )


def canned_response(fault: Fault, rate_limit_body: Any) -> web.Response:
    """Build the response of a fault that answers (not RESET, HANG, LATENCY or DRIP).

    ``rate_limit_body`` is the provider's error envelope, used by a RATE_LIMIT fault
    that brings no body of its own.
    """
    status = fault.response_status
    match fault.kind:
        case FaultKind.STATUS:
            response = _json_or_empty(status, fault.body)
        case FaultKind.RATE_LIMIT:
            response = _json_or_empty(
                status, rate_limit_body if fault.body is None else fault.body
            )
            if fault.retry_after is not None:
                response.headers["Retry-After"] = fault.retry_after
        case FaultKind.MALFORMED_JSON:
            response = web.Response(
                status=status, text=MALFORMED_JSON_BODY, content_type="application/json"
            )
        case FaultKind.HTML:
            response = web.Response(
                status=status,
                text=HTML_PAGE.format(status=status),
                content_type="text/html",
            )
        case FaultKind.EMPTY:
            response = web.Response(status=status)
        case FaultKind.RAW:
            response = web.Response(status=status, body=fault.body)
        case _:
            raise ValueError(f"A {fault.kind} fault has no canned response")
    response.headers.update(fault.headers)
    return response


def _json_or_empty(status: int, body: Any) -> web.Response:
    if body is None:
        return web.Response(status=status)
    return web.json_response(body, status=status)
