"""Telnyx client contract tests against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
    PROVIDERS,
    CallNotFoundError,
    ForbiddenError,
    InvalidAuthError,
    InvalidOptionError,
    InvalidRequestError,
    LiveCall,
    ProviderError,
    TelnyxClient,
    TransferLegs,
    TransferRequest,
    UnexpectedResponseError,
)
from custom_components.call_transfer.providers.base import key_fingerprint
from sandbox import (
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CALL_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TELNYX_SECOND_CALL_ID,
    Fault,
    FaultKind,
    Sandbox,
)

from .conftest import ErrorAnswer, RequestCounter, assert_read_as, failed_transfer

NUMBER = "+14155550100"
SIP = "sip:alice@pbx.example.com;transport=tls"
SECRETS = (SANDBOX_TELNYX_API_KEY,)
TRANSFER_PATH = f"/telnyx/v2/calls/{SANDBOX_TELNYX_CALL_ID}/actions/transfer"


def client_for(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    *,
    api_key: str = SANDBOX_TELNYX_API_KEY,
    connection_id: str | None = SANDBOX_TELNYX_CONNECTION_ID,
    **options: Any,
) -> TelnyxClient:
    """Return a client for the sandbox's Telnyx key."""
    return TelnyxClient(
        session,
        api_key=api_key,
        connection_id=connection_id,
        base_url=sandbox.telnyx_base_url,
        timeout=2,
        **options,
    )


def transfer_to(to: str | None = NUMBER, **changes: Any) -> TransferRequest:
    """Return a transfer of the seeded call."""
    return TransferRequest(**({"call_id": SANDBOX_TELNYX_CALL_ID, "to": to} | changes))


def test_registered_with_its_capabilities() -> None:
    """Telnyx is one registry entry: numbers and SIP URIs in the request, no URLs."""
    assert PROVIDERS["telnyx"] is TelnyxClient
    assert TelnyxClient.capabilities.number_transfer == "in_request"
    assert TelnyxClient.capabilities.sip_destinations
    assert not TelnyxClient.capabilities.takes_xml_urls
    assert TelnyxClient.account_id_is_key_fingerprint


async def test_validate(session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """GET /balance checks the key (Bearer); the account id is the key's fingerprint."""
    account = await client_for(session, sandbox).async_validate()

    assert account.account_id == key_fingerprint("telnyx", SANDBOX_TELNYX_API_KEY)
    assert account.account_id != key_fingerprint("bland", SANDBOX_TELNYX_API_KEY)
    assert account.name == f"key …{account.account_id[:8]}"
    assert account.details == {"currency": "USD"}
    assert SANDBOX_TELNYX_API_KEY not in repr(account)
    [sent] = sandbox.requests
    assert (sent.method, sent.path) == ("GET", "/telnyx/v2/balance")
    assert sent.headers["authorization"] == "***"


@pytest.mark.parametrize(
    "fault",
    [
        None,
        Fault(
            kind=FaultKind.STATUS,
            status=403,
            body={"errors": [{"code": "10010", "title": "Authorization failed"}]},
        ),
    ],
)
async def test_validate_rejected_key(
    session: aiohttp.ClientSession, sandbox: Sandbox, fault: Fault | None
) -> None:
    """A wrong key (10009) or one refused (10010) is InvalidAuthError without the key."""
    api_key = SANDBOX_TELNYX_API_KEY
    if fault is None:
        api_key = "KEYwrong"
    else:
        sandbox.add_fault(fault)
    with pytest.raises(InvalidAuthError) as raised:
        await client_for(session, sandbox, api_key=api_key).async_validate()
    assert raised.value.status == (401 if fault is None else 403)
    assert "KEYwrong" not in str(raised.value)


async def test_validate_wrong_shape(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A balance that is not an object is not Telnyx's."""
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=200, body={"data": [1]}))
    with pytest.raises(UnexpectedResponseError):
        await client_for(session, sandbox).async_validate()


@pytest.mark.parametrize("to", [NUMBER, SIP])
async def test_transfer(
    session: aiohttp.ClientSession, sandbox: Sandbox, to: str
) -> None:
    """The documented JSON body to a number or SIP URI, with the account's from and timeout."""
    client = client_for(session, sandbox, caller_id="+13125550100", ring_timeout=25)

    result = await client.async_transfer(transfer_to(to))

    [sent] = sandbox.requests
    assert (sent.method, sent.path) == ("POST", TRANSFER_PATH)
    assert sent.json == {"to": to, "from": "+13125550100", "timeout_secs": 25}
    assert result.message == "transfer started, result ok"
    assert sandbox.calls[SANDBOX_TELNYX_CALL_ID].transferred_to == to


async def test_transfer_without_options(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Without options only the destination is sent: Telnyx's defaults apply."""
    await client_for(session, sandbox).async_transfer(transfer_to())
    assert sandbox.requests[0].json == {"to": NUMBER}


async def test_transfer_of_a_call_that_has_ended(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """90018 (call has already ended) is CallNotFoundError, whatever the status."""
    sandbox.end_call(SANDBOX_TELNYX_CALL_ID)
    error = await failed_transfer(client_for(session, sandbox), transfer_to())
    assert (type(error), error.status) == (CallNotFoundError, 422)
    assert "(Telnyx error 90018)" in error.message


@pytest.mark.parametrize(
    "request_",
    [
        transfer_to(None),
        transfer_to("4155550100"),
        transfer_to("sip:alice"),
        transfer_to('sip:a@b"><x'),
        transfer_to(aleg_url="https://x.example/a"),
        transfer_to(legs=TransferLegs.BOTH),
        transfer_to(call_id="v3:../../balance"),
        transfer_to(call_id="a/b"),
    ],
)
async def test_invalid_transfer_is_never_sent(
    session: aiohttp.ClientSession, counter: RequestCounter, request_: TransferRequest
) -> None:
    """Bad destinations, leg fields and call ids that could change the path: nothing is sent."""
    error = await failed_transfer(TelnyxClient(session, api_key="KEY"), request_)
    assert (type(error), error.status) == (InvalidRequestError, None)
    assert counter.attempts == 0


def telnyx_errors(*errors: dict[str, str]) -> dict[str, Any]:
    """Return Telnyx's error envelope."""
    return {"errors": list(errors)}


ERROR_ENVELOPES: list[ErrorAnswer] = [
    (
        422,
        telnyx_errors({"code": "90018", "title": "Call has already ended"}),
        CallNotFoundError,
        "Call has already ended (Telnyx error 90018)",
    ),
    (
        422,
        telnyx_errors({"code": "10016", "detail": "Not +E.164"}, {"code": "x"}),
        InvalidRequestError,
        "Not +E.164 (Telnyx error 10016)",
    ),
    (404, telnyx_errors({"code": "10005"}), CallNotFoundError, "Telnyx error 10005"),
    (401, telnyx_errors({"code": "10009"}), InvalidAuthError, "Telnyx error 10009"),
    (403, telnyx_errors({"code": "10010"}), ForbiddenError, "Telnyx error 10010"),
    (400, telnyx_errors({"title": "Bad Request"}), InvalidRequestError, "Bad Request"),
    (422, {"errors": []}, InvalidRequestError, "HTTP 422"),
    (500, {"errors": ["not an object"]}, ProviderError, "HTTP 500"),
    (502, None, ProviderError, "HTTP 502"),
]


@pytest.mark.parametrize("answer", ERROR_ENVELOPES)
async def test_error_envelopes(
    session: aiohttp.ClientSession, sandbox: Sandbox, answer: ErrorAnswer
) -> None:
    """The first error of the envelope is read by its code, then by status (422: invalid)."""
    await assert_read_as(client_for(session, sandbox), transfer_to(), sandbox, answer)


@pytest.mark.parametrize("body", [{"data": {"result": 1}}, {"data": "ok"}])
async def test_success_without_a_result(
    session: aiohttp.ClientSession, sandbox: Sandbox, body: dict[str, object]
) -> None:
    """A 200 without the command's result may still have transferred."""
    fault = Fault(kind=FaultKind.STATUS, status=200, body=body)
    error = await failed_transfer(
        client_for(session, sandbox), transfer_to(), sandbox, fault
    )
    assert isinstance(error, UnexpectedResponseError)
    assert error.outcome_unknown


async def test_active_calls(session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """The connection's active calls: ids and a start time from their duration."""
    other = sandbox.add_call("telnyx", SANDBOX_TELNYX_API_KEY, connection="other")
    sandbox.end_call(SANDBOX_TELNYX_SECOND_CALL_ID)

    calls = await client_for(session, sandbox).async_live_calls()

    [call] = calls
    assert call.call_id == SANDBOX_TELNYX_CALL_ID
    assert other.call_id not in {c.call_id for c in calls}
    assert call.started is not None
    started = sandbox.calls[SANDBOX_TELNYX_CALL_ID].started
    assert abs(call.started - started) <= timedelta(seconds=2)
    assert (call.from_number, call.to_number, call.status) == (None, None, None)
    [sent] = sandbox.requests
    assert sent.path == (
        f"/telnyx/v2/connections/{SANDBOX_TELNYX_CONNECTION_ID}/active_calls"
    )
    assert sent.query == {"page[number]": "1", "page[size]": "100"}


async def test_active_calls_keep_known_details(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A call listed before keeps its details: its start does not drift between polls."""
    known = LiveCall(
        call_id=SANDBOX_TELNYX_CALL_ID,
        from_number="+13125550142",
        to_number=None,
        started=datetime(2026, 1, 1, tzinfo=UTC),
    )
    calls = await client_for(session, sandbox).async_live_calls(
        {SANDBOX_TELNYX_CALL_ID: known}
    )
    assert calls[0] is known
    assert calls[1].call_id == SANDBOX_TELNYX_SECOND_CALL_ID


async def test_active_calls_follow_the_pages(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Pages are read by page[number] until meta.total_pages."""
    sandbox.telnyx_accounts[SANDBOX_TELNYX_API_KEY].page_size_limit = 1
    new = sandbox.add_call(
        "telnyx", SANDBOX_TELNYX_API_KEY, connection=SANDBOX_TELNYX_CONNECTION_ID
    )

    calls = await client_for(session, sandbox).async_live_calls()

    assert [c.call_id for c in calls][-1] == new.call_id
    assert len(calls) == 3
    assert [r.query["page[number]"] for r in sandbox.requests] == ["1", "2", "3"]


async def test_active_calls_read_at_most_ten_pages(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A listing that claims more pages than it has stops after ten."""
    page = {
        "data": [{"call_control_id": "v3:x", "call_duration": True}, {"x": 1}],
        "meta": {"page_number": 1, "total_pages": 99},
    }
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=200, body=page))

    calls = await client_for(session, sandbox).async_live_calls()

    assert len(calls) == len(sandbox.requests) == 10
    assert all(call.started is None for call in calls)


@pytest.mark.parametrize("body", [{"data": "none"}, {"data": [1]}, {"meta": {}}])
async def test_active_calls_wrong_shape(
    session: aiohttp.ClientSession, sandbox: Sandbox, body: Any
) -> None:
    """An active-call list of another shape is UnexpectedResponseError."""
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=200, body=body))
    with pytest.raises(UnexpectedResponseError):
        await client_for(session, sandbox).async_live_calls()


async def test_connection_decides_live_calls(
    session: aiohttp.ClientSession, sandbox: Sandbox, counter: RequestCounter
) -> None:
    """Only a client with a connection id lists live calls; without, nothing is sent."""
    client = client_for(session, sandbox, connection_id=None)
    assert client_for(session, sandbox).supports_live_calls
    assert not client.supports_live_calls
    with pytest.raises(InvalidRequestError):
        await client.async_live_calls()
    await client.async_validate_options()
    assert counter.attempts == 0


@pytest.mark.parametrize("connection_id", ["999", "../balance"])
async def test_validate_options_checks_the_connection(
    session: aiohttp.ClientSession, sandbox: Sandbox, connection_id: str
) -> None:
    """An unknown (or impossible) connection id names the option."""
    await client_for(session, sandbox).async_validate_options()
    client = client_for(session, sandbox, connection_id=connection_id)
    with pytest.raises(InvalidOptionError) as raised:
        await client.async_validate_options()
    assert raised.value.option == "connection_id"


def test_options_come_from_the_options_mapping(session: aiohttp.ClientSession) -> None:
    """from_credentials passes the declared options; unset ones keep the defaults."""
    client = TelnyxClient.from_credentials(
        session,
        {"api_key": SANDBOX_TELNYX_API_KEY, "provider": "telnyx"},
        options={
            "connection_id": None,
            "caller_id": "+13125550100",
            "scan_interval": 9,
        },
    )
    assert not client.supports_live_calls
