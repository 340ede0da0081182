"""Bland AI client contract tests against the sandbox."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
    BlandClient,
    CallNotFoundError,
    CallTransferError,
    ForbiddenError,
    InvalidAuthError,
    InvalidOptionError,
    InvalidRequestError,
    ProviderError,
    TransferLegs,
    TransferRequest,
    UnexpectedResponseError,
)
from custom_components.call_transfer.providers.base import key_fingerprint
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_ORG_ID,
    Fault,
    FaultKind,
    Sandbox,
)

from .conftest import RequestCounter

NUMBER = "+14155550100"


def client_for(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    *,
    api_key: str = SANDBOX_BLAND_API_KEY,
    org_id: str | None = SANDBOX_BLAND_ORG_ID,
) -> BlandClient:
    """Return a client for the sandbox's Bland account."""
    return BlandClient(
        session,
        api_key=api_key,
        org_id=org_id,
        base_url=sandbox.bland_base_url,
        timeout=2,
    )


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Any:
    """Capture debug logs and check, after each test, that the key was never logged."""
    caplog.set_level(logging.DEBUG, logger="custom_components.call_transfer.providers")
    yield
    assert SANDBOX_BLAND_API_KEY not in caplog.text


async def test_validate(session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """GET /v1/me checks the key; the account id is a fingerprint, not the key."""
    account = await client_for(session, sandbox).async_validate()

    assert account.account_id == key_fingerprint("bland", SANDBOX_BLAND_API_KEY)
    assert SANDBOX_BLAND_API_KEY not in repr(account)
    assert account.details["status"] == "active"
    [sent] = sandbox.requests_to("/v1/me")
    assert sent.headers["authorization"] == "***"


def test_fingerprint_is_stable_and_not_the_key() -> None:
    """The same key always gives the same id; different keys differ."""
    assert key_fingerprint("bland", "a") == key_fingerprint("bland", "a")
    assert key_fingerprint("bland", "a") != key_fingerprint("bland", "b")
    assert "sk-" not in key_fingerprint("bland", SANDBOX_BLAND_API_KEY)


@pytest.mark.parametrize("api_key", ["sk-wrong", f"Bearer {SANDBOX_BLAND_API_KEY}"])
async def test_validate_rejected_key(
    session: aiohttp.ClientSession, sandbox: Sandbox, api_key: str
) -> None:
    """A wrong key (or a Bearer-prefixed one) is InvalidAuthError without the key in it."""
    with pytest.raises(InvalidAuthError) as raised:
        await client_for(session, sandbox, api_key=api_key).async_validate()
    assert raised.value.status == 401
    assert api_key not in str(raised.value)


async def test_validate_forbidden_is_invalid_auth(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Bland may answer a revoked key with 403: for a credential check that is invalid auth."""
    sandbox.add_fault(
        Fault(
            kind=FaultKind.STATUS,
            status=403,
            body={
                "data": None,
                "errors": [{"error": "FORBIDDEN", "message": "revoked"}],
            },
        )
    )
    with pytest.raises(InvalidAuthError, match="revoked"):
        await client_for(session, sandbox).async_validate()


async def test_validate_wrong_shape(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """An account object without a status is not Bland's."""
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=200, body={"hello": "world"}))
    with pytest.raises(UnexpectedResponseError):
        await client_for(session, sandbox).async_validate()


async def test_transfer(session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """The documented body; the success message and the request id come back."""
    result = await client_for(session, sandbox).async_transfer(
        TransferRequest(call_id=SANDBOX_BLAND_CALL_ID, to=NUMBER)
    )

    [sent] = sandbox.requests_to("/v1/calls/active/transfer")
    assert sent.method == "POST"
    assert sent.path == "/bland/v1/calls/active/transfer"
    assert sent.json == {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": NUMBER}
    assert (
        result.message
        == f"Call {SANDBOX_BLAND_CALL_ID} transferred to {NUMBER} successfully"
    )
    assert result.request_id
    assert sandbox.calls[SANDBOX_BLAND_CALL_ID].transferred_to == NUMBER


@pytest.mark.parametrize(
    ("call_id", "number", "error"),
    [
        ("no-such-call", NUMBER, CallNotFoundError),
        (SANDBOX_BLAND_CALL_ID, "+88212345678", ForbiddenError),
    ],
)
async def test_transfer_errors_from_the_api(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    call_id: str,
    number: str,
    error: type[CallTransferError],
) -> None:
    """NOT_FOUND and FORBIDDEN envelopes map to their errors with the API's message."""
    with pytest.raises(error) as raised:
        await client_for(session, sandbox).async_transfer(
            TransferRequest(call_id=call_id, to=number)
        )
    assert raised.value.message
    assert raised.value.status in (403, 404)
    assert raised.value.request_id


async def test_transfer_of_completed_call(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A completed call is NOT_FOUND."""
    sandbox.end_call(SANDBOX_BLAND_CALL_ID)
    with pytest.raises(
        CallNotFoundError, match="not found or has already been completed"
    ):
        await client_for(session, sandbox).async_transfer(
            TransferRequest(call_id=SANDBOX_BLAND_CALL_ID, to=NUMBER)
        )


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (
            400,
            {
                "data": None,
                "errors": [
                    {"error": "VALIDATION_ERROR", "message": "Call ID is required"}
                ],
            },
            InvalidRequestError,
            "Call ID is required",
        ),
        (
            200,
            {
                "data": None,
                "errors": [{"error": "VALIDATION_ERROR", "message": "bad number"}],
            },
            InvalidRequestError,
            "bad number",
        ),
        (
            404,
            {"data": None, "errors": [{"error": "NOT_FOUND", "message": "gone"}]},
            CallNotFoundError,
            "gone",
        ),
        (
            422,
            {"data": None, "errors": [{"error": "FORBIDDEN", "message": "no intl"}]},
            ForbiddenError,
            "no intl",
        ),
        (
            401,
            {"data": None, "errors": [{"error": "UNAUTHORIZED", "message": "bad key"}]},
            InvalidAuthError,
            "bad key",
        ),
        (
            400,
            {"status": "error", "message": "legacy envelope"},
            InvalidRequestError,
            "legacy envelope",
        ),
        (
            200,
            {"status": "error", "message": "legacy on 200"},
            InvalidRequestError,
            "legacy on 200",
        ),
        (
            500,
            {"data": None, "errors": [{"error": "INTERNAL", "message": "db down"}]},
            ProviderError,
            "db down",
        ),
        (500, {"data": None, "errors": ["not an object"]}, ProviderError, "HTTP 500"),
        (503, None, ProviderError, "HTTP 503"),
    ],
)
async def test_error_envelopes(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    status: int,
    body: Any,
    error: type[CallTransferError],
    message: str,
) -> None:
    """Both Bland envelopes, with or without a matching HTTP status, map by error code."""
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=status, body=body))
    with pytest.raises(error) as raised:
        await client_for(session, sandbox).async_transfer(
            TransferRequest(call_id=SANDBOX_BLAND_CALL_ID, to=NUMBER)
        )
    assert message in raised.value.message
    assert raised.value.status == status


async def test_message_echoing_the_key_is_scrubbed(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """If the provider echoes the key in an error, it never reaches our message."""
    sandbox.add_fault(
        Fault(
            kind=FaultKind.STATUS,
            status=400,
            body={"status": "error", "message": f"key {SANDBOX_BLAND_API_KEY} invalid"},
        )
    )
    with pytest.raises(InvalidRequestError) as raised:
        await client_for(session, sandbox).async_transfer(
            TransferRequest(call_id=SANDBOX_BLAND_CALL_ID, to=NUMBER)
        )
    assert SANDBOX_BLAND_API_KEY not in str(raised.value)
    assert "***" in str(raised.value)


@pytest.mark.parametrize(
    "request_",
    [
        TransferRequest(call_id=SANDBOX_BLAND_CALL_ID),
        TransferRequest(call_id=SANDBOX_BLAND_CALL_ID, to="4155550100"),
        TransferRequest(
            call_id=SANDBOX_BLAND_CALL_ID, to=NUMBER, aleg_url="https://x.example/a"
        ),
        TransferRequest(
            call_id=SANDBOX_BLAND_CALL_ID, to=NUMBER, legs=TransferLegs.BOTH
        ),
        TransferRequest(call_id="../v1/me", to=NUMBER),
        TransferRequest(call_id="", to=NUMBER),
    ],
)
async def test_invalid_transfer_is_never_sent(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    counter: RequestCounter,
    request_: TransferRequest,
) -> None:
    """A non-E.164 number, leg fields or a bad call id are refused before sending."""
    with pytest.raises(InvalidRequestError):
        await client_for(session, sandbox).async_transfer(request_)
    assert counter.attempts == 0


@pytest.mark.parametrize(
    "fault",
    [
        Fault(kind=FaultKind.MALFORMED_JSON),
        Fault(kind=FaultKind.EMPTY, status=200),
        Fault(
            kind=FaultKind.STATUS,
            status=200,
            body={"data": {"no": "message"}, "errors": None},
        ),
    ],
)
async def test_unreadable_success(
    session: aiohttp.ClientSession, sandbox: Sandbox, fault: Fault
) -> None:
    """A 200 we cannot read may still have transferred: UnexpectedResponseError, outcome unknown."""
    sandbox.add_fault(fault)
    with pytest.raises(UnexpectedResponseError) as raised:
        await client_for(session, sandbox).async_transfer(
            TransferRequest(call_id=SANDBOX_BLAND_CALL_ID, to=NUMBER)
        )
    assert raised.value.outcome_unknown


async def test_active_calls(session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Active calls need the org id header and come back with numbers and start time."""
    calls = await client_for(session, sandbox).async_live_calls()

    by_id = {call.call_id: call for call in calls}
    assert SANDBOX_BLAND_CALL_ID in by_id
    assert by_id[SANDBOX_BLAND_CALL_ID].status == "IN_PROGRESS"
    assert by_id[SANDBOX_BLAND_CALL_ID].started is not None
    [sent] = sandbox.requests_to("/v1/calls/active")
    assert sent.headers["x-bland-org-id"] == SANDBOX_BLAND_ORG_ID


async def test_active_calls_without_org_id(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Without the org id header the sandbox (like Bland) refuses the listing."""
    with pytest.raises(ForbiddenError):
        await client_for(session, sandbox, org_id=None).async_live_calls()


async def test_active_calls_wrong_shape(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A listing that is not a list of calls is UnexpectedResponseError."""
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=200, body={"data": "nope", "errors": None})
    )
    with pytest.raises(UnexpectedResponseError):
        await client_for(session, sandbox).async_live_calls()


@pytest.mark.parametrize(
    ("start_time", "expected"),
    [
        ("2026-11-22T10:15:00+00:00", "2026-11-22T10:15:00+00:00"),
        ("not a time", None),
        (None, None),
    ],
)
async def test_active_call_start_time(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    start_time: str | None,
    expected: str | None,
) -> None:
    """ISO start times are parsed; missing or unreadable ones are left out."""
    body = {
        "data": [
            {
                "call_id": "c-1",
                "from": "+14155550100",
                "to": "+14155550101",
                "status": "IN_PROGRESS",
                "start_time": start_time,
            },
            {"no": "id"},
        ],
        "errors": None,
    }
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=200, body=body))
    [call] = await client_for(session, sandbox).async_live_calls()
    assert (call.started.isoformat() if call.started else None) == expected


async def test_org_id_decides_live_calls(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Only a client with an org id says it can list live calls."""
    assert client_for(session, sandbox).supports_live_calls
    assert not client_for(session, sandbox, org_id=None).supports_live_calls


async def test_validate_options_checks_the_org_id(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """The org id is checked with the listing: another org's id names the option."""
    await client_for(session, sandbox).async_validate_options()
    with pytest.raises(InvalidOptionError) as raised:
        await client_for(session, sandbox, org_id="org-other").async_validate_options()
    assert raised.value.option == "org_id"
    assert raised.value.code == "invalid_option"
    assert len(sandbox.requests_to("/v1/calls/active")) == 2


async def test_validate_options_without_org_id_sends_nothing(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """With no org id there is nothing to check."""
    await client_for(session, sandbox, org_id=None).async_validate_options()
    assert sandbox.requests == []


def test_options_come_from_the_options_mapping(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """from_credentials takes declared options only, and skips unset ones."""
    client = BlandClient.from_credentials(
        session,
        {"api_key": SANDBOX_BLAND_API_KEY, "provider": "bland"},
        options={"org_id": None, "scan_interval": 10},
        base_url=sandbox.bland_base_url,
    )
    assert not client.supports_live_calls
    client = BlandClient.from_credentials(
        session,
        {"api_key": SANDBOX_BLAND_API_KEY},
        options={"org_id": SANDBOX_BLAND_ORG_ID},
    )
    assert client.supports_live_calls
