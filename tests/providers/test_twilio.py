"""Twilio client contract tests against the sandbox."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import fromstring

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
    PROVIDERS,
    CallNotFoundError,
    ForbiddenError,
    InvalidAuthError,
    InvalidRequestError,
    ProviderError,
    TransferLegs,
    TransferRequest,
    TwilioClient,
    UnexpectedResponseError,
    XmlUrlMethod,
)
from sandbox import (
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_API_KEY_SECRET,
    SANDBOX_TWILIO_API_KEY_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_TWILIO_CALL_SID,
    SANDBOX_TWILIO_SECOND_CALL_SID,
    CallStatus,
    Fault,
    FaultKind,
    Sandbox,
)

from .conftest import ErrorAnswer, RequestCounter, assert_read_as, failed_transfer

NUMBER = "+14155550100"
TWIML_URL = "https://twiml.example.com/transfer.xml"
SECRETS = (SANDBOX_TWILIO_AUTH_TOKEN, SANDBOX_TWILIO_API_KEY_SECRET)
CALL_PATH = (
    f"/twilio/2010-04-01/Accounts/{SANDBOX_TWILIO_ACCOUNT_SID}"
    f"/Calls/{SANDBOX_TWILIO_CALL_SID}.json"
)


def client_for(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    *,
    secret: str = SANDBOX_TWILIO_AUTH_TOKEN,
    api_key_sid: str | None = None,
    timeout: float = 2.0,
    **options: Any,
) -> TwilioClient:
    """Return a client for the sandbox's Twilio account."""
    return TwilioClient(
        session,
        account_sid=SANDBOX_TWILIO_ACCOUNT_SID,
        secret=secret,
        api_key_sid=api_key_sid,
        base_url=sandbox.twilio_base_url,
        timeout=timeout,
        **options,
    )


def key_client(session: aiohttp.ClientSession, sandbox: Sandbox) -> TwilioClient:
    """Return a client that authenticates with the sandbox account's API key."""
    return client_for(
        session,
        sandbox,
        secret=SANDBOX_TWILIO_API_KEY_SECRET,
        api_key_sid=SANDBOX_TWILIO_API_KEY_SID,
    )


def to_number(
    call_id: str = SANDBOX_TWILIO_CALL_SID, **changes: Any
) -> TransferRequest:
    """Return a transfer of the call to a phone number."""
    return TransferRequest(call_id=call_id, **({"to": NUMBER} | changes))


def test_registered_with_its_capabilities() -> None:
    """Twilio is one registry entry that transfers to numbers and to TwiML URLs."""
    assert PROVIDERS["twilio"] is TwilioClient
    capabilities = TwilioClient.capabilities
    assert capabilities.number_transfer == "in_request"
    assert capabilities.takes_xml_urls
    assert capabilities.xml_url_legs == {TransferLegs.ALEG}
    assert not capabilities.sip_destinations
    assert not TwilioClient.account_id_is_key_fingerprint


async def test_validate_with_the_auth_token(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """GET /Accounts/{Sid}.json names the account; its auth token never leaves the client."""
    account = await client_for(session, sandbox).async_validate()

    assert account.account_id == SANDBOX_TWILIO_ACCOUNT_SID
    assert account.name == "Sandbox Twilio account"
    assert account.details == {"status": "active", "type": "Full"}
    assert SANDBOX_TWILIO_AUTH_TOKEN not in repr(account)
    [sent] = sandbox.requests
    assert (sent.method, sent.path) == (
        "GET",
        f"/twilio/2010-04-01/Accounts/{SANDBOX_TWILIO_ACCOUNT_SID}.json",
    )
    assert sent.headers["authorization"] == "***"


async def test_validate_with_an_api_key(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """An API key may not read the Account resource: it is checked with the call list."""
    account = await key_client(session, sandbox).async_validate()

    assert account.account_id == SANDBOX_TWILIO_ACCOUNT_SID
    assert account.name == SANDBOX_TWILIO_ACCOUNT_SID
    [sent] = sandbox.requests
    assert sent.path.endswith(f"/Accounts/{SANDBOX_TWILIO_ACCOUNT_SID}/Calls.json")
    assert sent.query == {"PageSize": "1"}


@pytest.mark.parametrize(
    ("secret", "api_key_sid"),
    [
        ("wrong-token", None),
        (SANDBOX_TWILIO_API_KEY_SECRET, None),
        (SANDBOX_TWILIO_AUTH_TOKEN, SANDBOX_TWILIO_API_KEY_SID),
        (SANDBOX_TWILIO_API_KEY_SECRET, "SK" + "0" * 32),
    ],
)
async def test_validate_rejected_credentials(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    secret: str,
    api_key_sid: str | None,
) -> None:
    """A wrong token or key is InvalidAuthError (20003, HTTP 401), without the secret."""
    client = client_for(session, sandbox, secret=secret, api_key_sid=api_key_sid)
    with pytest.raises(InvalidAuthError) as raised:
        await client.async_validate()
    assert raised.value.status == 401
    assert "20003" in raised.value.message
    assert secret not in str(raised.value)


async def test_validate_forbidden_is_invalid_auth(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A 403 on the credential check means the credentials cannot be used."""
    sandbox.add_fault(
        Fault(
            kind=FaultKind.STATUS,
            status=403,
            body={"code": 20403, "message": "Account suspended", "status": 403},
        )
    )
    with pytest.raises(InvalidAuthError, match="Account suspended"):
        await client_for(session, sandbox).async_validate()


async def test_validate_account_of_another_sid(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """An account object that is not the one asked for is not read as it."""
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=200, body={"sid": "AC" + "1" * 32})
    )
    with pytest.raises(UnexpectedResponseError):
        await client_for(session, sandbox).async_validate()


@pytest.mark.parametrize(
    ("account_sid", "api_key_sid"),
    [
        ("MA_SANDBOX_0001", None),
        ("../Accounts", None),
        (SANDBOX_TWILIO_ACCOUNT_SID, "AC" + "0" * 32),
    ],
)
def test_sids_that_can_never_authenticate(
    session: aiohttp.ClientSession, account_sid: str, api_key_sid: str | None
) -> None:
    """An Account SID or API key SID that is not one is refused before any request."""
    with pytest.raises(InvalidAuthError):
        TwilioClient(
            session, account_sid=account_sid, secret="s", api_key_sid=api_key_sid
        )


async def test_transfer_to_a_number(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A number is dialed by inline TwiML, form-encoded, with the account's dial options."""
    client = client_for(
        session,
        sandbox,
        caller_id="+14155550123",
        announcement='Please hold <Hangup/> & "wait"',
        ring_timeout=25,
    )

    result = await client.async_transfer(to_number())

    [sent] = sandbox.requests
    assert (sent.method, sent.path) == ("POST", CALL_PATH)
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent.form is not None
    assert set(sent.form) == {"Twiml"}
    twiml = fromstring(sent.form["Twiml"])  # noqa: S314 - our own request
    assert [child.tag for child in twiml] == ["Say", "Dial"]
    assert twiml[0].text == 'Please hold <Hangup/> & "wait"'
    assert twiml[1].attrib == {"callerId": "+14155550123", "timeout": "25"}
    assert [number.text for number in twiml[1]] == [NUMBER]
    assert result.message == "call updated, status in-progress"
    assert result.request_id
    assert result.request_id.startswith("RQ")
    assert sandbox.calls[SANDBOX_TWILIO_CALL_SID].transferred_to == NUMBER


async def test_transfer_to_a_number_without_options(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Without options the TwiML only dials: the caller's own number is passed on."""
    await client_for(session, sandbox).async_transfer(to_number())
    assert sandbox.requests[0].form == {
        "Twiml": '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Dial><Number>{NUMBER}</Number></Dial></Response>"
    }


@pytest.mark.parametrize("method", list(XmlUrlMethod))
async def test_transfer_to_a_twiml_url(
    session: aiohttp.ClientSession, sandbox: Sandbox, method: XmlUrlMethod
) -> None:
    """aleg_url redirects the call to TwiML at that URL, fetched with its method."""
    await key_client(session, sandbox).async_transfer(
        TransferRequest(
            call_id=SANDBOX_TWILIO_CALL_SID, aleg_url=TWIML_URL, aleg_method=method
        )
    )
    [sent] = sandbox.requests
    assert sent.form == {"Url": TWIML_URL, "Method": method.value}
    assert sandbox.calls[SANDBOX_TWILIO_CALL_SID].transferred_to == TWIML_URL


async def test_transfer_of_a_call_not_in_progress(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Twilio's 21220 (HTTP 400) means the call is not in progress: CallNotFoundError."""
    sandbox.end_call(SANDBOX_TWILIO_CALL_SID)
    with pytest.raises(CallNotFoundError) as raised:
        await client_for(session, sandbox).async_transfer(to_number())
    assert raised.value.status == 400
    assert "21220" in raised.value.message
    assert raised.value.request_id


async def test_transfer_of_an_unknown_call(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """An unknown Call SID is 20404 (HTTP 404): CallNotFoundError."""
    with pytest.raises(CallNotFoundError) as raised:
        await client_for(session, sandbox).async_transfer(
            to_number(call_id="CA" + "f" * 32)
        )
    assert raised.value.status == 404
    assert "20404" in raised.value.message


@pytest.mark.parametrize(
    "request_",
    [
        TransferRequest(call_id=SANDBOX_TWILIO_CALL_SID),
        to_number(aleg_url=TWIML_URL),
        to_number(to="4155550100"),
        to_number(to="sip:alice@pbx.example.com"),
        to_number(bleg_url=TWIML_URL),
        to_number(legs=TransferLegs.BOTH),
        TransferRequest(call_id=SANDBOX_TWILIO_CALL_SID, aleg_url="/relative.xml"),
        to_number(call_id="3a1c6f2e-8b4d-4e0f-9a7b-000000000001"),
        to_number(call_id="../../Accounts"),
        to_number(call_id=SANDBOX_TWILIO_CALL_SID + "?x=1"),
    ],
)
async def test_invalid_transfer_is_never_sent(
    session: aiohttp.ClientSession, counter: RequestCounter, request_: TransferRequest
) -> None:
    """Neither or both destinations, leg fields, bad numbers, URLs and SIDs: nothing is sent."""
    client = TwilioClient(session, account_sid=SANDBOX_TWILIO_ACCOUNT_SID, secret="s")
    error = await failed_transfer(client, request_)
    assert (type(error), error.status) == (InvalidRequestError, None)
    assert counter.attempts == 0


def error_object(code: int | str | None, message: str | None = None) -> dict[str, Any]:
    """Return Twilio's error object (what it has of it)."""
    return {
        key: value
        for key, value in (("code", code), ("message", message))
        if value is not None
    }


ERROR_OBJECTS: list[ErrorAnswer] = [
    (
        400,
        error_object(21220, "Not in-progress"),
        CallNotFoundError,
        "(Twilio error 21220)",
    ),
    (
        400,
        error_object(21205, "Bad Url"),
        InvalidRequestError,
        "Bad Url (Twilio error 21205)",
    ),
    (403, error_object(20003, "Authenticate"), InvalidAuthError, "Authenticate"),
    (403, error_object(20403, "Forbidden"), ForbiddenError, "(Twilio error 20403)"),
    (404, error_object(20404), CallNotFoundError, "Twilio error 20404"),
    (400, error_object(None, "no code"), InvalidRequestError, "no code"),
    (500, error_object("x", "db down"), ProviderError, "db down"),
    (503, None, ProviderError, "HTTP 503"),
]


@pytest.mark.parametrize("answer", ERROR_OBJECTS)
async def test_error_objects(
    session: aiohttp.ClientSession, sandbox: Sandbox, answer: ErrorAnswer
) -> None:
    """Twilio's error object is read by its code first, then by the HTTP status."""
    await assert_read_as(client_for(session, sandbox), to_number(), sandbox, answer)


@pytest.mark.parametrize(
    "body", [{"sid": SANDBOX_TWILIO_CALL_SID}, {"status": "in-progress"}]
)
async def test_success_without_the_call(
    session: aiohttp.ClientSession, sandbox: Sandbox, body: dict[str, str]
) -> None:
    """A 200 without the call's SID and status may still have redirected it."""
    fault = Fault(kind=FaultKind.STATUS, status=200, body=body)
    error = await failed_transfer(
        client_for(session, sandbox), to_number(), sandbox, fault
    )
    assert isinstance(error, UnexpectedResponseError)
    assert error.outcome_unknown


async def test_live_calls(session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Calls in progress, newest first, with numbers, direction and start time."""
    sandbox.add_call("twilio", SANDBOX_TWILIO_ACCOUNT_SID, status=CallStatus.COMPLETED)

    calls = await key_client(session, sandbox).async_live_calls()

    assert [call.call_id for call in calls] == [
        SANDBOX_TWILIO_SECOND_CALL_SID,
        SANDBOX_TWILIO_CALL_SID,
    ]
    seeded = sandbox.calls[SANDBOX_TWILIO_CALL_SID]
    first = calls[1]
    assert (first.from_number, first.to_number) == (
        seeded.from_number,
        seeded.to_number,
    )
    assert first.started == seeded.started
    assert (first.status, first.direction) == ("in-progress", "inbound")
    assert calls[0].direction == "outbound-api"
    [sent] = sandbox.requests
    assert sent.query == {"Status": "in-progress", "PageSize": "200"}


async def test_live_calls_follow_the_pages(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Each next page is asked for at our own base URL with the query Twilio gave."""
    sandbox.twilio_accounts[SANDBOX_TWILIO_ACCOUNT_SID].page_size_limit = 1
    new = sandbox.add_call("twilio", SANDBOX_TWILIO_ACCOUNT_SID)

    calls = await client_for(session, sandbox).async_live_calls()

    assert [call.call_id for call in calls] == [
        new.call_id,
        SANDBOX_TWILIO_SECOND_CALL_SID,
        SANDBOX_TWILIO_CALL_SID,
    ]
    assert [request.query.get("Page") for request in sandbox.requests] == [
        None,
        "1",
        "2",
    ]
    assert {request.path for request in sandbox.requests} == {
        f"/twilio/2010-04-01/Accounts/{SANDBOX_TWILIO_ACCOUNT_SID}/Calls.json"
    }


async def test_live_calls_read_at_most_ten_pages(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A listing that never ends stops after ten pages."""
    page = {
        "calls": [{"sid": SANDBOX_TWILIO_CALL_SID, "status": "in-progress"}],
        "next_page_uri": "https://elsewhere.example/2010-04-01/x.json?Page=1",
    }
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=200, body=page))

    calls = await client_for(session, sandbox).async_live_calls()

    assert len(calls) == len(sandbox.requests) == 10
    assert all(request.query == {"Page": "1"} for request in sandbox.requests[1:])


@pytest.mark.parametrize(
    "body",
    [
        {"calls": "none"},
        {"calls": [1]},
        {"next_page_uri": None},
    ],
)
async def test_live_calls_wrong_shape(
    session: aiohttp.ClientSession, sandbox: Sandbox, body: Any
) -> None:
    """A call list of another shape is UnexpectedResponseError."""
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=200, body=body))
    with pytest.raises(UnexpectedResponseError):
        await client_for(session, sandbox).async_live_calls()


@pytest.mark.parametrize(
    ("start_time", "expected"),
    [
        ("Tue, 31 Aug 2010 20:36:29 +0000", "2010-08-31T20:36:29+00:00"),
        ("Tue, 31 Aug 2010 20:36:29 -0000", "2010-08-31T20:36:29+00:00"),
        ("yesterday", None),
        (None, None),
    ],
)
async def test_live_call_start_time(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    start_time: str | None,
    expected: str | None,
) -> None:
    """RFC 2822 start times are read in UTC; unreadable ones are left out."""
    body = {
        "calls": [{"sid": SANDBOX_TWILIO_CALL_SID, "start_time": start_time}, {}],
        "next_page_uri": None,
    }
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=200, body=body))
    [call] = await client_for(session, sandbox).async_live_calls()
    assert (call.started.isoformat() if call.started else None) == expected


def test_credentials_from_entry_data(session: aiohttp.ClientSession) -> None:
    """The API key SID is optional: absent or empty, the auth token authenticates."""
    data = {"account_sid": SANDBOX_TWILIO_ACCOUNT_SID, "secret": "token"}
    for extra in ({}, {"api_key_sid": ""}, {"api_key_sid": None}):
        client = TwilioClient.from_credentials(session, data | extra)
        assert client.supports_live_calls
    with pytest.raises(InvalidAuthError):
        TwilioClient.from_credentials(session, data | {"api_key_sid": "SK-typo"})


async def test_looking_a_call_up(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A call is live while in progress; ended, or unknown to Twilio (404), it is not."""
    client = client_for(session, sandbox)
    assert TwilioClient.looks_up_calls
    sandbox.end_call(SANDBOX_TWILIO_SECOND_CALL_SID)

    assert await client.async_call_is_live(SANDBOX_TWILIO_CALL_SID)
    assert not await client.async_call_is_live(SANDBOX_TWILIO_SECOND_CALL_SID)
    assert not await client.async_call_is_live(f"CA{'0' * 32}")
    requests = len(sandbox.requests)
    with pytest.raises(InvalidRequestError):
        await client.async_call_is_live("not-a-call-sid")
    assert len(sandbox.requests) == requests
