"""Vobiz client contract tests against the sandbox."""

from __future__ import annotations

from datetime import datetime
import logging
from typing import Any

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
    CallNotFoundError,
    CallTransferError,
    CannotConnectError,
    ForbiddenError,
    InvalidAuthError,
    InvalidBaseUrlError,
    InvalidRequestError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitedError,
    TransferLegs,
    TransferRequest,
    UnexpectedResponseError,
    VobizClient,
    XmlUrlMethod,
)
from sandbox import (
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_CALL_ID,
    Fault,
    FaultKind,
    Sandbox,
)

from .conftest import RequestCounter

ALEG_URL = "https://xml.example.com/aleg"
BLEG_URL = "https://xml.example.com/bleg"
SECRETS = (SANDBOX_VOBIZ_AUTH_TOKEN, SANDBOX_VOBIZ_AUTH_SECRET)


def client_for(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    *,
    token: str = SANDBOX_VOBIZ_AUTH_TOKEN,
    timeout: float = 2.0,
) -> VobizClient:
    """Return a client for the sandbox's Vobiz account."""
    return VobizClient(
        session,
        auth_id=SANDBOX_VOBIZ_AUTH_ID,
        auth_token=token,
        base_url=sandbox.vobiz_base_url,
        timeout=timeout,
    )


def record_waits(client: VobizClient) -> list[float]:
    """Record the waits between the client's retries instead of waiting them."""
    waits: list[float] = []

    async def recorded_sleep(seconds: float) -> None:
        waits.append(seconds)

    client._http._sleep = recorded_sleep  # noqa: SLF001
    return waits


def aleg_transfer(
    call_id: str = SANDBOX_VOBIZ_CALL_ID, **changes: Any
) -> TransferRequest:
    """Return a transfer of the A leg to an XML URL."""
    return TransferRequest(call_id=call_id, **({"aleg_url": ALEG_URL} | changes))


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Any:
    """Capture debug logs and check, after each test, that no secret was logged."""
    caplog.set_level(logging.DEBUG, logger="custom_components.call_transfer.providers")
    yield
    assert not any(secret in caplog.text for secret in SECRETS)


async def test_validate(session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """GET /auth/me identifies the account; auth_secret never leaves the client."""
    account = await client_for(session, sandbox).async_validate()

    assert account.account_id == SANDBOX_VOBIZ_AUTH_ID
    assert account.name
    assert set(account.details) <= {
        "is_active",
        "enabled",
        "concurrent_calls_limit",
        "cps_limit",
    }
    assert SANDBOX_VOBIZ_AUTH_SECRET not in repr(account)
    [sent] = sandbox.requests_to("/auth/me")
    assert sent.headers["x-auth-id"] == SANDBOX_VOBIZ_AUTH_ID
    assert sent.headers["x-auth-token"] == "***"  # recorded masked: it was sent


async def test_validate_wrong_token(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A 401 is InvalidAuthError, and the message does not echo the token."""
    with pytest.raises(InvalidAuthError) as raised:
        await client_for(session, sandbox, token="wrong-token-123").async_validate()
    assert raised.value.status == 401
    assert "wrong-token-123" not in str(raised.value)


async def test_validate_forbidden_is_invalid_auth(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A 403 on the credential check means the credentials cannot be used."""
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=403, body={"error": "disabled"})
    )
    with pytest.raises(InvalidAuthError, match="disabled"):
        await client_for(session, sandbox).async_validate()


async def test_unusable_auth_id_is_invalid_auth(session: aiohttp.ClientSession) -> None:
    """An auth id that cannot be a path segment can never authenticate."""
    with pytest.raises(InvalidAuthError):
        VobizClient(session, auth_id="../x", auth_token="t")


async def test_public_https_only(session: aiohttp.ClientSession) -> None:
    """Plain http is refused unless the host is loopback."""
    with pytest.raises(InvalidBaseUrlError):
        VobizClient(
            session,
            auth_id="MA_X",
            auth_token="t",
            base_url="http://api.vobiz.ai/api/v1",
        )


@pytest.mark.parametrize(
    ("request_", "body"),
    [
        (
            aleg_transfer(),
            {"legs": "aleg", "aleg_url": ALEG_URL, "aleg_method": "POST"},
        ),
        (
            TransferRequest(
                call_id=SANDBOX_VOBIZ_CALL_ID,
                legs=TransferLegs.BLEG,
                bleg_url=BLEG_URL,
                bleg_method=XmlUrlMethod.GET,
            ),
            {"legs": "bleg", "bleg_url": BLEG_URL, "bleg_method": "GET"},
        ),
        (
            TransferRequest(
                call_id=SANDBOX_VOBIZ_CALL_ID,
                legs=TransferLegs.BOTH,
                aleg_url=ALEG_URL,
                bleg_url=BLEG_URL,
            ),
            {
                "legs": "both",
                "aleg_url": ALEG_URL,
                "aleg_method": "POST",
                "bleg_url": BLEG_URL,
                "bleg_method": "POST",
            },
        ),
    ],
)
async def test_transfer(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    request_: TransferRequest,
    body: dict[str, str],
) -> None:
    """The documented body goes to the PascalCase path; 202 is success."""
    result = await client_for(session, sandbox).async_transfer(request_)

    [sent] = sandbox.requests_to(f"/Call/{SANDBOX_VOBIZ_CALL_ID}/")
    assert sent.method == "POST"
    assert (
        sent.path
        == f"/vobiz/api/v1/Account/{SANDBOX_VOBIZ_AUTH_ID}/Call/{SANDBOX_VOBIZ_CALL_ID}/"
    )
    assert sent.json == body
    assert result.call_id == SANDBOX_VOBIZ_CALL_ID
    assert result.message == "call transferred"
    assert result.request_id


async def test_transfer_of_ended_call(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A call that is not in progress is CallNotFoundError (404)."""
    sandbox.end_call(SANDBOX_VOBIZ_CALL_ID)
    with pytest.raises(CallNotFoundError) as raised:
        await client_for(session, sandbox).async_transfer(aleg_transfer())
    assert raised.value.status == 404
    assert raised.value.request_id


@pytest.mark.parametrize(
    "request_",
    [
        TransferRequest(call_id=SANDBOX_VOBIZ_CALL_ID),
        TransferRequest(
            call_id=SANDBOX_VOBIZ_CALL_ID, legs=TransferLegs.BOTH, aleg_url=ALEG_URL
        ),
        TransferRequest(
            call_id=SANDBOX_VOBIZ_CALL_ID, legs=TransferLegs.BLEG, aleg_url=ALEG_URL
        ),
        aleg_transfer(aleg_url="javascript:alert(1)"),
        aleg_transfer(aleg_url="/relative"),
        aleg_transfer(to="+14155550100"),
        aleg_transfer(call_id="../../auth/me"),
        aleg_transfer(call_id="abc?status=live"),
        aleg_transfer(call_id="abc#x"),
        aleg_transfer(call_id="a/b"),
    ],
)
async def test_invalid_transfer_is_never_sent(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    counter: RequestCounter,
    request_: TransferRequest,
) -> None:
    """Missing leg URLs, bad URLs, numbers and path injection are refused before sending."""
    with pytest.raises(InvalidRequestError) as raised:
        await client_for(session, sandbox).async_transfer(request_)
    assert raised.value.status is None
    assert counter.attempts == 0
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("body", "message", "request_id"),
    [
        (
            {
                "api_id": "req-1",
                "error": "invalid_url",
                "message": "aleg_url is malformed",
            },
            "aleg_url is malformed",
            "req-1",
        ),
        ({"error": "aleg_url missing", "api_id": "req-2"}, "aleg_url missing", "req-2"),
        (
            {
                "status": "error",
                "error": {
                    "code": "BAD_URL",
                    "message": "URL not reachable",
                    "details": {},
                },
                "requestId": "req-3",
            },
            "URL not reachable",
            "req-3",
        ),
        ({"unexpected": True}, "HTTP 400", None),
    ],
)
async def test_error_envelopes(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    body: dict[str, Any],
    message: str,
    request_id: str | None,
) -> None:
    """All three documented error shapes (and none) give a message and request id."""
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=400, body=body))
    with pytest.raises(InvalidRequestError) as raised:
        await client_for(session, sandbox).async_transfer(aleg_transfer())
    assert raised.value.message == message
    assert raised.value.status == 400
    assert raised.value.request_id == request_id


async def test_sandbox_rejects_a_malformed_url_with_400(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """The provider's own 400 (an URL our checks accept but Vobiz refuses) is mapped."""
    sandbox.add_fault(
        Fault(
            kind=FaultKind.STATUS,
            status=400,
            body={"api_id": "x", "error": "bad aleg_url"},
        ),
        call_id=SANDBOX_VOBIZ_CALL_ID,
    )
    with pytest.raises(InvalidRequestError, match="bad aleg_url"):
        await client_for(session, sandbox).async_transfer(aleg_transfer())


async def test_forbidden(session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """403 on a transfer is ForbiddenError."""
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=403, body={"error": "suspended"})
    )
    with pytest.raises(ForbiddenError, match="suspended"):
        await client_for(session, sandbox).async_transfer(aleg_transfer())


async def test_rate_limit_retried_then_success(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A 429 is retried after Retry-After, at most twice."""
    sandbox.add_fault(Fault(kind=FaultKind.RATE_LIMIT, retry_after="0.1"), times=2)
    result = await client_for(session, sandbox).async_transfer(aleg_transfer())
    assert result.message == "call transferred"
    assert len(sandbox.requests_to("/Call/")) == 3


async def test_rate_limit_gives_up_after_two_retries(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A third 429 is RateLimitedError with the provider's Retry-After."""
    sandbox.add_fault(Fault(kind=FaultKind.RATE_LIMIT, retry_after="0.1"))
    with pytest.raises(RateLimitedError) as raised:
        await client_for(session, sandbox).async_transfer(aleg_transfer())
    assert raised.value.retry_after == 0.1
    assert raised.value.status == 429
    assert len(sandbox.requests_to("/Call/")) == 3


async def test_rate_limit_longer_than_budget_is_not_waited(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A Retry-After beyond the 5 s budget fails at once instead of waiting."""
    sandbox.add_fault(Fault(kind=FaultKind.RATE_LIMIT, retry_after="30"))
    with pytest.raises(RateLimitedError) as raised:
        await client_for(session, sandbox).async_validate()
    assert raised.value.retry_after == 30
    assert len(sandbox.requests) == 1


async def test_rate_limit_budget_counts_all_waits(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Two waits that together exceed 5 s: only the first is waited for."""
    sandbox.add_fault(Fault(kind=FaultKind.RATE_LIMIT, retry_after="3"))
    client = client_for(session, sandbox, timeout=10)
    waits = record_waits(client)
    with pytest.raises(RateLimitedError):
        await client.async_validate()
    assert waits == [3.0]
    assert len(sandbox.requests) == 2


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_error_on_transfer_is_never_retried(
    session: aiohttp.ClientSession, sandbox: Sandbox, status: int
) -> None:
    """A 5xx on a transfer may have transferred the call: not retried, and said so."""
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=status, body={"error": "oops"})
    )
    with pytest.raises(ProviderError) as raised:
        await client_for(session, sandbox).async_transfer(aleg_transfer())
    assert raised.value.outcome_unknown
    assert "may have happened" in str(raised.value)
    assert raised.value.status == status
    assert len(sandbox.requests_to("/Call/")) == 1


async def test_timeout_on_transfer_is_never_retried(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A transfer that times out is reported once, with the outcome unknown."""
    sandbox.add_fault(Fault(kind=FaultKind.HANG))
    with pytest.raises(ProviderTimeoutError) as raised:
        await client_for(session, sandbox, timeout=0.3).async_transfer(aleg_transfer())
    assert raised.value.outcome_unknown
    assert len(sandbox.requests_to("/Call/")) == 1


async def test_timeout_on_a_read_is_not_a_transfer_risk(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A timed-out credential check does not talk about transfers."""
    sandbox.add_fault(Fault(kind=FaultKind.LATENCY, delay=1.0))
    with pytest.raises(ProviderTimeoutError) as raised:
        await client_for(session, sandbox, timeout=0.3).async_validate()
    assert not raised.value.outcome_unknown
    assert "may have happened" not in str(raised.value)


async def test_connection_reset(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A connection broken after sending is CannotConnectError, not retried."""
    sandbox.add_fault(Fault(kind=FaultKind.RESET))
    with pytest.raises(CannotConnectError) as raised:
        await client_for(session, sandbox).async_transfer(aleg_transfer())
    assert raised.value.outcome_unknown
    assert len(sandbox.requests_to("/Call/")) == 1


async def test_connection_refused_is_retried_once(
    session: aiohttp.ClientSession, sandbox: Sandbox, counter: RequestCounter
) -> None:
    """Nothing was sent when the connection is refused: one retry, then CannotConnectError."""
    base_url = sandbox.vobiz_base_url
    await sandbox.stop()
    client = VobizClient(
        session, auth_id=SANDBOX_VOBIZ_AUTH_ID, auth_token="t", base_url=base_url
    )
    with pytest.raises(CannotConnectError) as raised:
        await client.async_transfer(aleg_transfer())
    assert not raised.value.outcome_unknown
    assert counter.attempts == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(kind=FaultKind.MALFORMED_JSON), UnexpectedResponseError),
        (Fault(kind=FaultKind.EMPTY, status=202), UnexpectedResponseError),
        (Fault(kind=FaultKind.HTML, status=200), UnexpectedResponseError),
        (Fault(kind=FaultKind.HTML, status=502), ProviderError),
        (
            Fault(kind=FaultKind.STATUS, status=202, body=["not", "an", "object"]),
            UnexpectedResponseError,
        ),
        (
            Fault(kind=FaultKind.STATUS, status=202, body={"api_id": "r"}),
            UnexpectedResponseError,
        ),
        (Fault(kind=FaultKind.STATUS, status=302, body={}), UnexpectedResponseError),
    ],
)
async def test_unreadable_answers(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    fault: Fault,
    error: type[CallTransferError],
) -> None:
    """Non-JSON, HTML, empty and wrongly shaped answers map to typed errors."""
    sandbox.add_fault(fault)
    with pytest.raises(error) as raised:
        await client_for(session, sandbox).async_transfer(aleg_transfer())
    assert type(raised.value) is error


async def test_unreadable_account(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A credential check answered with HTML is UnexpectedResponseError, outcome known."""
    sandbox.add_fault(Fault(kind=FaultKind.HTML, status=200))
    with pytest.raises(UnexpectedResponseError) as raised:
        await client_for(session, sandbox).async_validate()
    assert not raised.value.outcome_unknown
    assert "not JSON" in str(raised.value)


async def test_live_calls(session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Live calls are listed with their numbers and start time."""
    calls = await client_for(session, sandbox).async_live_calls()

    by_id = {call.call_id: call for call in calls}
    assert SANDBOX_VOBIZ_CALL_ID in by_id
    call = by_id[SANDBOX_VOBIZ_CALL_ID]
    seeded = sandbox.calls[SANDBOX_VOBIZ_CALL_ID]
    assert call.from_number == seeded.from_number
    assert call.to_number == seeded.to_number
    assert isinstance(call.started, datetime)
    assert call.status == "in-progress"
    assert all(sandbox.calls[c.call_id].provider == "vobiz" for c in calls)


async def test_live_calls_skip_a_call_that_just_ended(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A call that ends between the listing and its details is left out."""
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=404, body={"error": "not found"}),
        call_id=SANDBOX_VOBIZ_CALL_ID,
    )
    calls = await client_for(session, sandbox).async_live_calls()
    assert SANDBOX_VOBIZ_CALL_ID not in {call.call_id for call in calls}


async def test_live_calls_wrong_shape(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A listing that is not a list of ids is UnexpectedResponseError."""
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=200, body={"api_id": "x", "calls": [1, 2]}),
        path_contains="/Call/",
    )
    with pytest.raises(UnexpectedResponseError):
        await client_for(session, sandbox).async_live_calls()


@pytest.mark.parametrize(
    ("session_start", "expected"),
    [
        ("2026-11-22 10:15:00", "2026-11-22T10:15:00+00:00"),
        ("2026-11-22T10:15:00+01:00", "2026-11-22T10:15:00+01:00"),
        ("yesterday", None),
        (1732270500, None),
    ],
)
async def test_live_call_start_time(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    session_start: object,
    expected: str | None,
) -> None:
    """Vobiz's zone-less start time is read as UTC; anything unreadable is left out."""
    detail = {
        "call_uuid": SANDBOX_VOBIZ_CALL_ID,
        "call_status": "in-progress",
        "session_start": session_start,
    }
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=200, body=detail),
        call_id=SANDBOX_VOBIZ_CALL_ID,
    )
    calls = {
        call.call_id: call
        for call in await client_for(session, sandbox).async_live_calls()
    }
    started = calls[SANDBOX_VOBIZ_CALL_ID].started
    assert (started.isoformat() if started else None) == expected
    assert calls[SANDBOX_VOBIZ_CALL_ID].from_number is None


async def test_rate_limit_without_retry_after_waits_a_second(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A 429 without Retry-After is retried after a default second."""
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=429, body={"error": "slow down"}), times=1
    )
    client = client_for(session, sandbox)
    waits = record_waits(client)
    await client.async_validate()
    assert waits == [1.0]
    assert len(sandbox.requests_to("/auth/me")) == 2


async def test_live_calls_fetch_details_of_new_calls_only(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Known calls keep their details: with every call known, a listing is one request."""
    client = client_for(session, sandbox)
    first = await client.async_live_calls()
    assert len(sandbox.requests) == 1 + len(first)
    assert {call.direction for call in first} == {"inbound", "outbound"}
    known = {call.call_id: call for call in first}
    sandbox.requests.clear()

    again = await client.async_live_calls(known)
    assert again == first
    assert len(sandbox.requests) == 1

    new = sandbox.add_call("vobiz", SANDBOX_VOBIZ_AUTH_ID)
    sandbox.end_call(SANDBOX_VOBIZ_CALL_ID)
    sandbox.requests.clear()
    calls = await client.async_live_calls(known)
    assert [call.call_id for call in calls] == [
        c.call_id for c in first if c.call_id != SANDBOX_VOBIZ_CALL_ID
    ] + [new.call_id]
    assert [r.path for r in sandbox.requests][1:] == [
        f"/vobiz/api/v1/Account/{SANDBOX_VOBIZ_AUTH_ID}/Call/{new.call_id}/"
    ]


def test_dial_xml_uses_the_account_options(session: aiohttp.ClientSession) -> None:
    """The options given to the client shape its Dial XML."""
    client = VobizClient.from_credentials(
        session,
        {"auth_id": SANDBOX_VOBIZ_AUTH_ID, "auth_token": SANDBOX_VOBIZ_AUTH_TOKEN},
        options={"caller_id": "+14155550123", "ring_timeout": 25},
    )
    assert client.capabilities.number_transfer == "dial_url"
    assert client.supports_live_calls
    assert client.dial_xml("+14155550100").endswith(
        '<Response><Dial callerId="+14155550123" timeout="25">'
        "<Number>+14155550100</Number></Dial></Response>"
    )


async def test_account_text_is_capped_and_the_auth_secret_masked_later(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Names and details pass through the text cap; auth_secret is masked from then on."""
    me = {
        "api_id": "r1",
        "auth_id": SANDBOX_VOBIZ_AUTH_ID,
        "name": "n" * 2000,
        "is_active": "yes",
        "cps_limit": 2,
        "auth_secret": SANDBOX_VOBIZ_AUTH_SECRET,
    }
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=200, body=me), path_contains="/auth/me"
    )
    client = client_for(session, sandbox)

    account = await client.async_validate()

    assert len(account.name) == 500
    assert account.details == {"is_active": "yes", "cps_limit": 2}
    sandbox.add_fault(
        Fault(
            kind=FaultKind.STATUS,
            status=404,
            body={"api_id": "r2", "error": f"no call {SANDBOX_VOBIZ_AUTH_SECRET}"},
        ),
        path_contains="/Call/",
    )
    with pytest.raises(CallNotFoundError) as raised:
        await client.async_transfer(aleg_transfer())
    assert raised.value.message == "no call ***"
