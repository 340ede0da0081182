"""The full fault matrix, per provider.

Every status with every kind of body, and the network's own failures. Each fault ends
the transfer in exactly one event with its code,
after exactly as many requests as the retry rules allow (a 429 is retried twice within
the 5 s budget; nothing else after the request may have left).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_VOBIZ_AUTH_SECRET,
    Fault,
    FaultKind,
    Sandbox,
)
from tests.conftest import setup_entry, transfer, transfer_data

MAY_HAVE_HAPPENED = "the transfer may have happened"
# Every status class, the documented ones and some a proxy or a broken API may send.
STATUSES = (
    200, 201, 202, 204, 301, 302, 304, 307, 308,
    400, 401, 402, 403, 404, 405, 406, 408, 409, 410, 411, 413, 415, 418, 422,
    423, 425, 426, 428, 429, 431, 451,
    500, 501, 502, 503, 504, 505, 507, 508, 511, 520, 599,
)  # fmt: skip
BODIES = ("none", "envelope", "other json", "html", "malformed json")
# What each status means, whatever the body says (Bland's envelope codes agree here).
BY_STATUS = {
    400: "invalid_request",
    401: "invalid_auth",
    403: "forbidden",
    404: "call_not_found",
    429: "rate_limited",
}
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


def envelope(provider: str, status: int) -> dict[str, Any]:
    """Return the provider's documented error envelope for a status."""
    if provider == "vobiz":
        return {"api_id": "f-1", "error": f"failed with {status}"}
    code = {400: "VALIDATION_ERROR", 401: "UNAUTHORIZED", 403: "FORBIDDEN"}.get(
        status, "NOT_FOUND" if status == 404 else "INTERNAL_ERROR"
    )
    return {"data": None, "errors": [{"error": code, "message": f"failed {status}"}]}


def echoing_envelope(provider: str) -> dict[str, Any]:
    """Return a 400 envelope whose message repeats the account's secret."""
    if provider == "vobiz":
        return {"api_id": "f-2", "error": f"bad request {SANDBOX_VOBIZ_AUTH_SECRET}"}
    return {
        "data": None,
        "errors": [{"error": "VALIDATION_ERROR", "message": SANDBOX_BLAND_API_KEY}],
    }


def status_case(provider: str, status: int, body: str) -> Case:
    """Return the fault for one status and kind of body, and the code it must map to."""
    if body == "html":
        fault = Fault(kind=FaultKind.HTML, status=status)
    elif body == "malformed json":
        fault = Fault(kind=FaultKind.MALFORMED_JSON, status=status)
    elif body == "none":
        fault = Fault(kind=FaultKind.EMPTY, status=status)
    else:
        json = envelope(provider, status) if body == "envelope" else {"odd": [1, 2]}
        fault = Fault(kind=FaultKind.STATUS, status=status, body=json)
    if status == 429:
        error, requests = "rate_limited", 3  # Retry-After absent: 1 s each (patched)
    elif status in BY_STATUS:
        error, requests = BY_STATUS[status], 1
    elif status >= 500:
        error, requests = "provider_error", 1
    elif 200 <= status < 300 and body == "envelope" and provider == "bland":
        # Bland's error envelope with a success status: a refusal, nothing transferred.
        error, requests = "invalid_request", 1
    else:
        error, requests = "unexpected_response", 1
    return Case(f"{status} {body}", fault, error, requests)


def cases(provider: str) -> list[Case]:
    """Return every fault of the matrix for one provider."""
    matrix = [
        status_case(provider, status, body)
        for status in STATUSES
        for body in BODIES
        if not (status in (204, 304) and body != "none")  # bodiless by definition
    ]
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
            Fault(kind=FaultKind.STATUS, status=400, body=echoing_envelope(provider)),
            "invalid_request",
        ),
    ]
    return matrix


@pytest.mark.parametrize("provider", ["vobiz", "bland"])
async def test_every_fault_ends_in_one_event_with_its_code(
    hass: HomeAssistant,
    sandbox: Sandbox,
    request: pytest.FixtureRequest,
    events: dict[str, list[Any]],
    provider: str,
) -> None:
    """The matrix, case after case on one account; mismatches are reported together."""
    entry: MockConfigEntry = request.getfixturevalue(f"{provider}_entry")
    data = transfer_data(provider)
    path = "/v1/calls/active/transfer" if provider == "bland" else "/Call/"
    with (
        patch("custom_components.call_transfer.data.REQUEST_TIMEOUT", 0.3),
        patch("custom_components.call_transfer.providers.http.DEFAULT_RETRY_AFTER", 0),
    ):
        await setup_entry(hass, entry)
        mismatches = [
            f"{case.name}: {problem}"
            for case in cases(provider)
            if (
                problem := await run_case(
                    hass, sandbox, entry, events, data, path, case
                )
            )
        ]
    assert mismatches == []
    assert len(cases(provider)) > 200


async def run_case(
    hass: HomeAssistant,
    sandbox: Sandbox,
    entry: MockConfigEntry,
    events: dict[str, list[Any]],
    data: dict[str, str],
    path: str,
    case: Case,
) -> str | None:
    """Run one case; describe what went wrong, if anything."""
    sandbox.clear_faults()
    sandbox.add_fault(case.fault, path_contains=path)
    requests = len(sandbox.requests_to(path))
    before = {kind: len(fired) for kind, fired in events.items()}
    error: HomeAssistantError | None = None
    try:
        await transfer(hass, config_entry_id=entry.entry_id, **data)
    except HomeAssistantError as err:
        error = err
    fired = [
        (kind, event.data)
        for kind, kind_events in events.items()
        for event in kind_events[before[kind] :]
    ]
    sent = len(sandbox.requests_to(path)) - requests
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
