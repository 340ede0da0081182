"""Plivo client contract tests against the sandbox."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
    PROVIDERS,
    CallNotFoundError,
    ForbiddenError,
    InvalidAuthError,
    InvalidRequestError,
    LiveCall,
    PlivoClient,
    ProviderError,
    TransferLegs,
    TransferRequest,
    XmlUrlMethod,
)
from custom_components.call_transfer.providers.http import basic_auth
from sandbox import (
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_PLIVO_CALL_ID,
    SANDBOX_PLIVO_SECOND_CALL_ID,
    CallStatus,
    Fault,
    FaultKind,
    Sandbox,
)

from .conftest import ErrorAnswer, RequestCounter, assert_read_as

ACCOUNT_PATH = f"/plivo/v1/Account/{SANDBOX_PLIVO_AUTH_ID}/"
CALL_PATH = f"{ACCOUNT_PATH}Call/{SANDBOX_PLIVO_CALL_ID}/"
XML_URL = "https://xml.example.com/plivo/transfer"
SECRETS = (
    SANDBOX_PLIVO_AUTH_TOKEN,
    basic_auth(SANDBOX_PLIVO_AUTH_ID, SANDBOX_PLIVO_AUTH_TOKEN).removeprefix("Basic "),
)


def client_for(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    *,
    token: str = SANDBOX_PLIVO_AUTH_TOKEN,
    **options: Any,
) -> PlivoClient:
    """Return a client for the sandbox's Plivo account, built from entry data."""
    credentials = {"auth_id": SANDBOX_PLIVO_AUTH_ID, "auth_token": token}
    return PlivoClient.from_credentials(
        session, credentials, options=options, base_url=sandbox.plivo_base_url
    )


def envelope(error: str) -> dict[str, str]:
    """Return Plivo's error envelope."""
    return {"api_id": "0a1b2c3d", "error": error}


def to_url(call_id: str = SANDBOX_PLIVO_CALL_ID, **changes: Any) -> TransferRequest:
    """Return a transfer of the A leg to an XML URL."""
    return TransferRequest(call_id=call_id, **({"aleg_url": XML_URL} | changes))


def test_registered_with_its_capabilities() -> None:
    """Plivo is one registry entry: legs to XML URLs, numbers through Dial XML."""
    assert PROVIDERS["plivo"] is PlivoClient
    capabilities = PlivoClient.capabilities
    assert capabilities.number_transfer == "dial_url"
    assert capabilities.takes_xml_urls
    assert capabilities.xml_url_legs == set(TransferLegs)
    assert not capabilities.sip_destinations
    assert not PlivoClient.account_id_is_key_fingerprint
    assert [field.key for field in PlivoClient.option_fields] == [
        "caller_id",
        "announcement",
        "ring_timeout",
        "application_id",
        "push_answer_first",
    ]
    assert PlivoClient.push is not None
    assert PlivoClient.push.reports_transfer_outcomes
    assert PlivoClient.push.registration_option == "application_id"


async def test_validate(session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """GET /Account/{auth_id}/ with HTTP Basic names the account; its credits stay out."""
    account = await client_for(session, sandbox).async_validate()

    assert account.account_id == SANDBOX_PLIVO_AUTH_ID
    assert account.name == "Sandbox Plivo account"
    assert account.details == {
        "account_type": "standard",
        "billing_mode": "prepaid",
        "auto_recharge": False,
        "timezone": "America/New_York",
    }
    [sent] = sandbox.requests
    assert (sent.method, sent.path) == ("GET", ACCOUNT_PATH)
    assert sent.headers["authorization"] == "***"


@pytest.mark.parametrize(
    ("token", "fault", "status", "message"),
    [
        ("wrong-token-99", None, 401, "Authentication failed"),
        (
            SANDBOX_PLIVO_AUTH_TOKEN,
            Fault(kind=FaultKind.STATUS, status=403, body=envelope("suspended")),
            403,
            "suspended",
        ),
    ],
    ids=["wrong token", "forbidden"],
)
async def test_refused_credentials_are_invalid_auth(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    token: str,
    fault: Fault | None,
    status: int,
    message: str,
) -> None:
    """A 401, or a 403 on the credential check, means the credentials cannot be used."""
    if fault is not None:
        sandbox.add_fault(fault)
    with pytest.raises(InvalidAuthError, match=message) as raised:
        await client_for(session, sandbox, token=token).async_validate()
    assert (raised.value.status, bool(raised.value.request_id)) == (status, True)
    assert token not in str(raised.value)


@pytest.mark.parametrize(
    "auth_id",
    ["MA_SANDBOX_0001", "AC5a4db0c0000000000000000000000001", "MA123", "../Account"],
)
def test_auth_ids_that_can_never_authenticate(
    session: aiohttp.ClientSession, auth_id: str
) -> None:
    """An Auth ID that is not MA or SA and 18 letters or digits is refused at once."""
    with pytest.raises(InvalidAuthError):
        PlivoClient(session, auth_id=auth_id, auth_token="t")


def test_a_subaccount_auth_id_is_one(session: aiohttp.ClientSession) -> None:
    """Subaccounts (SA…) authenticate the same way."""
    assert PlivoClient(session, auth_id="SA" + "X" * 18, auth_token="t").auth_id


async def test_transfer_of_both_legs(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """The documented JSON body goes to …/Call/{uuid}/; 202 "call transferred" is success."""
    both = TransferRequest(
        call_id=SANDBOX_PLIVO_CALL_ID,
        legs=TransferLegs.BOTH,
        aleg_url=XML_URL,
        bleg_url=f"{XML_URL}/b",
        bleg_method=XmlUrlMethod.GET,
    )
    client = client_for(session, sandbox)

    results = [await client.async_transfer(to_url()), await client.async_transfer(both)]

    assert [(sent.method, sent.path) for sent in sandbox.requests] == [
        ("POST", CALL_PATH)
    ] * 2
    assert {sent.headers["content-type"] for sent in sandbox.requests} == {
        "application/json"
    }
    assert sandbox.calls[SANDBOX_PLIVO_CALL_ID].transfers == [
        {"legs": "aleg", "aleg_url": XML_URL, "aleg_method": "POST"},
        {
            "legs": "both",
            "aleg_url": XML_URL,
            "aleg_method": "POST",
            "bleg_url": f"{XML_URL}/b",
            "bleg_method": "GET",
        },
    ]
    assert {result.message for result in results} == {"call transferred"}
    assert all(result.request_id for result in results)


@pytest.mark.parametrize("message", ["call transfered", "call transferred"])
async def test_both_spellings_of_the_acceptance(
    session: aiohttp.ClientSession, sandbox: Sandbox, message: str
) -> None:
    """Plivo's docs show the answer spelled both ways; either is an acceptance."""
    sandbox.add_fault(
        Fault(
            kind=FaultKind.STATUS,
            status=202,
            body={"message": message, "api_id": "08c94608"},
        )
    )
    result = await client_for(session, sandbox).async_transfer(to_url())
    assert (result.message, result.request_id) == (message, "08c94608")


async def test_a_number_is_never_in_the_request(
    session: aiohttp.ClientSession, sandbox: Sandbox, counter: RequestCounter
) -> None:
    """Plivo dials a number through Dial XML at a URL: a number in the request is refused."""
    with pytest.raises(
        InvalidRequestError, match="Plivo transfers redirect a call leg"
    ):
        await client_for(session, sandbox).async_transfer(to_url(to="+14155550100"))
    assert counter.attempts == 0


ERROR_ENVELOPES: list[ErrorAnswer] = [
    (400, envelope("aleg_url is not a valid URL"), InvalidRequestError, "valid URL"),
    (401, envelope("Authentication failed"), InvalidAuthError, "Authentication"),
    (403, envelope("not permitted"), ForbiddenError, "not permitted"),
    (404, envelope("call not found"), CallNotFoundError, "call not found"),
    (500, envelope("server error"), ProviderError, "server error"),
    (502, None, ProviderError, "HTTP 502"),
]


@pytest.mark.parametrize("answer", ERROR_ENVELOPES)
async def test_error_envelopes(
    session: aiohttp.ClientSession, sandbox: Sandbox, answer: ErrorAnswer
) -> None:
    """``{"api_id", "error"}`` gives the message; the HTTP status gives the error."""
    await assert_read_as(client_for(session, sandbox), to_url(), sandbox, answer)


async def test_live_calls(session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """The ids (20 a page), then each live call's details; the start is read in UTC."""
    ended = sandbox.add_call(
        "plivo", SANDBOX_PLIVO_AUTH_ID, status=CallStatus.COMPLETED
    )

    calls = await client_for(session, sandbox).async_live_calls()

    seeded = [
        sandbox.calls[SANDBOX_PLIVO_CALL_ID],
        sandbox.calls[SANDBOX_PLIVO_SECOND_CALL_ID],
    ]
    assert calls == [
        LiveCall(
            call_id=call.call_id,
            from_number=call.from_number,
            to_number=call.to_number,
            started=call.started,
            status="in-progress",
            direction=call.direction,
        )
        for call in seeded
    ]
    assert ended.call_id not in {call.call_id for call in calls}
    listing, *details = sandbox.requests
    assert listing.query == {"status": "live", "limit": "20", "offset": "0"}
    assert [(request.path, request.query) for request in details] == [
        (f"{ACCOUNT_PATH}Call/{call.call_id}/", {"status": "live"}) for call in seeded
    ]


async def test_live_calls_follow_the_pages(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A full page of 20 ids asks for the next one; a shorter page is the last."""
    for number in range(38):
        sandbox.add_call(
            "plivo", SANDBOX_PLIVO_AUTH_ID, from_number=f"+1415555{number:04d}"
        )

    calls = await client_for(session, sandbox).async_live_calls()

    assert len({call.call_id for call in calls}) == 40
    listings = sandbox.requests_to(f"{ACCOUNT_PATH}Call/")
    listings = [request for request in listings if request.path.endswith("/Call/")]
    assert [request.query["offset"] for request in listings] == ["0", "20", "40"]


async def test_live_calls_read_at_most_ten_pages(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A listing that keeps answering full pages stops after ten."""
    page = {"api_id": "x", "calls": [f"call-{n}" for n in range(20)]}
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=200, body=page), path_contains="/Call/"
    )

    with patch.object(PlivoClient, "_live_call", return_value=None):
        calls = await client_for(session, sandbox).async_live_calls()

    assert calls == []
    assert len(sandbox.requests) == 10


def test_dial_xml_is_plivo_xml(session: aiohttp.ClientSession) -> None:
    """The account's dial options shape its Dial XML: Speak, callerId, timeout."""
    client = PlivoClient.from_credentials(
        session,
        {"auth_id": SANDBOX_PLIVO_AUTH_ID, "auth_token": SANDBOX_PLIVO_AUTH_TOKEN},
        options={
            "caller_id": "+14155550123",
            "announcement": "One moment.",
            "ring_timeout": 45,
        },
    )
    assert client.dial_xml("+14155550100").endswith(
        "<Response><Speak>One moment.</Speak>"
        '<Dial callerId="+14155550123" timeout="45">'
        "<Number>+14155550100</Number></Dial></Response>"
    )
