"""The full fault matrix, per provider, in each provider's own words.

Every status with every kind of body (the provider's own error envelope among them),
the network's own failures, and the error codes each provider documents. Each fault ends
the transfer in exactly one event with its code, after exactly as many requests as the
retry rules allow (a 429 is retried twice within the 5 s budget; nothing else after the
request may have left).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from unittest.mock import patch

from homeassistant.exceptions import HomeAssistantError
import pytest

from sandbox import Fault, FaultKind, Sandbox
from tests.helpers.provider_cases import PROVIDER_CASES

from .conftest import MAY_HAVE_HAPPENED, Accounts, sent_per_call

# The reliability suite: over 200 faults per provider.
pytestmark = pytest.mark.slow

# Every status class, the documented ones and some a proxy or a broken API may send.
STATUSES = (
    200, 201, 202, 204, 301, 302, 304, 307, 308,
    400, 401, 402, 403, 404, 405, 406, 408, 409, 410, 411, 413, 415, 418, 422,
    423, 425, 426, 428, 429, 431, 451,
    500, 501, 502, 503, 504, 505, 507, 508, 511, 520, 599,
)  # fmt: skip
BODIES = ("none", "envelope", "other json", "html", "malformed json")
# What a status means on every provider, whatever the body says.
BY_STATUS = {
    400: "invalid_request",
    401: "invalid_auth",
    403: "forbidden",
    404: "call_not_found",
    429: "rate_limited",
}
# What a status means on one provider only, whatever the body says.
PROVIDER_STATUSES: dict[str, dict[int, str]] = {
    "telnyx": {422: "invalid_request"},  # Telnyx's status for invalid parameters
}
# Providers whose error envelope with a success status is a refusal (nothing
# transferred); elsewhere it is an acceptance that cannot be read.
ENVELOPE_WITH_SUCCESS_REFUSES = frozenset({"bland"})
# Unreadable, or the provider's own failure: the transfer may have happened.
OUTCOME_UNKNOWN = frozenset(
    {"unexpected_response", "provider_error", "timeout", "cannot_connect"}
)


@dataclass(frozen=True)
class Case:
    """One fault, and what the transfer must end in."""

    name: str
    fault: Fault
    error: str | None  # None: the transfer succeeds
    requests: int = 1


def provider_codes(provider: str) -> list[Case]:
    """Return the error codes a provider documents, each at a status that alone means else.

    The code decides: a Twilio 21220 (call not in progress) comes with HTTP 400, a Telnyx
    90018 (call ended) with 422, a Bland NOT_FOUND may come with any status.
    """

    def answer(status: int, body: dict[str, Any]) -> Fault:
        return Fault(kind=FaultKind.STATUS, status=status, body=body)

    def telnyx(code: str) -> dict[str, Any]:
        return {"errors": [{"code": code, "title": "t", "detail": f"code {code}"}]}

    def twilio(code: int, status: int) -> dict[str, Any]:
        return {"code": code, "message": "m", "more_info": "", "status": status}

    def bland(code: str) -> dict[str, Any]:
        return {"data": None, "errors": [{"error": code, "message": f"code {code}"}]}

    return {
        "twilio": [
            Case("21220 not in progress", answer(400, twilio(21220, 400)), "call_not_found"),
            Case("20404 not found", answer(400, twilio(20404, 400)), "call_not_found"),
            Case("20003 denied", answer(403, twilio(20003, 403)), "invalid_auth"),
            Case("20429 at 503", answer(503, twilio(20429, 503)), "provider_error"),
        ],
        "telnyx": [
            Case("90018 call ended", answer(422, telnyx("90018")), "call_not_found"),
            Case("10005 not found", answer(400, telnyx("10005")), "call_not_found"),
            Case("10009 auth failed", answer(403, telnyx("10009")), "invalid_auth"),
            Case("10010 not authorized", answer(400, telnyx("10010")), "forbidden"),
            Case("10015 at 422", answer(422, telnyx("10015")), "invalid_request"),
        ],
        "bland": [
            Case("NOT_FOUND at 400", answer(400, bland("NOT_FOUND")), "call_not_found"),
            Case("UNAUTHORIZED at 200", answer(200, bland("UNAUTHORIZED")), "invalid_auth"),
            Case("FORBIDDEN at 500", answer(500, bland("FORBIDDEN")), "forbidden"),
            Case(
                "status error envelope at 200",
                answer(200, {"status": "error", "message": "no"}),
                "invalid_request",
            ),
        ],
        "vobiz": [
            Case(
                "error object at 404",
                answer(404, {"error": {"code": "x", "message": "gone"}, "requestId": "r"}),
                "call_not_found",
            ),
            Case(
                "message beside the error at 400",
                answer(400, {"api_id": "r", "error": "bad", "message": "bad leg"}),
                "invalid_request",
            ),
        ],
    }.get(provider, [])  # fmt: skip


def status_case(sandbox: Sandbox, provider: str, status: int, body: str) -> Case:
    """Return the fault for one status and kind of body, and the code it must map to."""
    if body == "html":
        fault = Fault(kind=FaultKind.HTML, status=status)
    elif body == "malformed json":
        fault = Fault(kind=FaultKind.MALFORMED_JSON, status=status)
    elif body == "none":
        fault = Fault(kind=FaultKind.EMPTY, status=status)
    else:
        json = (
            sandbox.error_body(provider, status, f"failed with {status}")  # type: ignore[arg-type]
            if body == "envelope"
            else {"odd": [1, 2]}
        )
        fault = Fault(kind=FaultKind.STATUS, status=status, body=json)
    by_status = BY_STATUS | PROVIDER_STATUSES.get(provider, {})
    if status == 429:
        error, requests = "rate_limited", 3  # Retry-After absent: 1 s each (patched)
    elif status in by_status:
        error, requests = by_status[status], 1
    elif status >= 500:
        error, requests = "provider_error", 1
    elif (
        200 <= status < 300
        and body == "envelope"
        and provider in ENVELOPE_WITH_SUCCESS_REFUSES
    ):
        error, requests = "invalid_request", 1
    else:
        error, requests = "unexpected_response", 1
    return Case(f"{status} {body}", fault, error, requests)


def cases(sandbox: Sandbox, provider: str) -> list[Case]:
    """Return every fault of the matrix for one provider."""
    secret = PROVIDER_CASES[provider].known_secret
    matrix = [
        status_case(sandbox, provider, status, body)
        for status in STATUSES
        for body in BODIES
        if not (status in (204, 304) and body != "none")  # bodiless by definition
    ]
    matrix += provider_codes(provider)
    matrix += [
        Case("reset", Fault(kind=FaultKind.RESET), "cannot_connect"),
        Case("hang", Fault(kind=FaultKind.HANG), "timeout"),
        Case("slow answer", Fault(kind=FaultKind.LATENCY, delay=0.05), None),
        Case(
            "slow error",
            Fault(kind=FaultKind.STATUS, status=503, delay=0.05),
            "provider_error",
        ),
        Case(
            "429 with Retry-After in budget",
            Fault(kind=FaultKind.RATE_LIMIT, retry_after="0"),
            "rate_limited",
            3,
        ),
        Case(
            "429 asking for more than the budget",
            Fault(kind=FaultKind.RATE_LIMIT, retry_after="30"),
            "rate_limited",
        ),
        Case(
            "429 with an HTTP-date Retry-After in the past",
            Fault(
                kind=FaultKind.RATE_LIMIT, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"
            ),
            "rate_limited",
            3,
        ),
        Case(
            "429 with a meaningless Retry-After",
            Fault(kind=FaultKind.RATE_LIMIT, retry_after="soon"),
            "rate_limited",
            3,
        ),
        Case(
            "gzip that is not gzip",
            Fault(
                kind=FaultKind.RAW,
                body=b"{}",
                headers={
                    "Content-Type": "application/json",
                    "Content-Encoding": "gzip",
                },
            ),
            "unexpected_response",
        ),
        Case(
            "secret echoed in an error",
            Fault(
                kind=FaultKind.STATUS,
                status=400,
                body=sandbox.error_body(provider, 400, f"bad request {secret}"),  # type: ignore[arg-type]
            ),
            "invalid_request",
        ),
    ]
    return matrix


async def test_every_fault_ends_in_one_event_with_its_code(
    accounts: Accounts, provider: str
) -> None:
    """The matrix, case after case on one account; mismatches are reported together.

    Only the hang runs with a short timeout (it ends when the client gives up): with
    it, any answer slower than the timeout on a busy machine failed its case.
    """
    with patch("custom_components.call_transfer.providers.http.DEFAULT_RETRY_AFTER", 0):
        matrix = cases(accounts.sandbox, provider)
        hangs = [case for case in matrix if case.fault.kind is FaultKind.HANG]
        mismatches = await run_cases(
            accounts, provider, [case for case in matrix if case not in hangs]
        )
        with patch("custom_components.call_transfer.data.DEFAULT_TIMEOUT", 0.3):
            await accounts.hass.config_entries.async_reload(
                accounts.entry(provider).entry_id
            )  # with the short timeout
            mismatches += await run_cases(accounts, provider, hangs)
    assert mismatches == []
    assert len(matrix) > 200


async def run_cases(accounts: Accounts, provider: str, matrix: list[Case]) -> list[str]:
    """Run the cases one after the other; return what went wrong in each."""
    return [
        f"{case.name}: {problem}"
        for case in matrix
        if (problem := await run_case(accounts, provider, case))
    ]


async def run_case(accounts: Accounts, provider: str, case: Case) -> str | None:
    """Run one case on the provider's seeded call; describe what went wrong, if anything."""
    sandbox, events = accounts.sandbox, accounts.events
    call_id = PROVIDER_CASES[provider].call_id
    sandbox.clear_faults()
    sandbox.add_fault(case.fault, call_id=call_id)
    requests = sent_per_call(sandbox, [call_id])[call_id]
    before = {kind: len(fired) for kind, fired in events.items()}
    error: HomeAssistantError | None = None
    try:
        await accounts.transfer(provider)
    except HomeAssistantError as err:
        error = err
    fired = [
        (kind, event.data)
        for kind, kind_events in events.items()
        for event in kind_events[before[kind] :]
    ]
    sent = sent_per_call(sandbox, [call_id])[call_id] - requests
    if len(fired) != 1:
        return f"{len(fired)} events"
    kind, event = fired[0]
    code = event.get("error") if kind == "failed" else None
    if code != case.error:
        return f"ended in {code or 'success'}, not {case.error or 'success'}"
    if (error is None) != (case.error is None) or (
        error is not None and error.translation_key != f"transfer_{code}"
    ):
        return f"the action raised {error!r}"
    if sent != case.requests:
        return f"{sent} requests, not {case.requests}"
    if code is not None and (MAY_HAVE_HAPPENED in event["error_message"]) != (
        code in OUTCOME_UNKNOWN
    ):
        return (
            f"outcome wrongly {'unknown' if code not in OUTCOME_UNKNOWN else 'known'}"
        )
    return None
