"""Twilio's callbacks: X-Twilio-Signature, what status callbacks and Dial reports tell.

The integration's verifier and the sandbox's signer are separate code; both must
reproduce the vectors of Twilio's SDK (twilio-python ``tests/unit/test_request_validator.py``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
import hashlib
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
    ConfirmedCall,
    InvalidOptionError,
    TwilioClient,
)
from custom_components.call_transfer.providers.callbacks import (
    CallbackKind,
    CallbackRefusal,
    CallbackRefusedError,
    CallbackRequest,
    RegisteredCallback,
    ReplayGuard,
    UnansweredReason,
    VerifiedCallback,
)
from custom_components.call_transfer.providers.twilio_callbacks import (
    twilio_signature,
    url_variants,
)
from sandbox import (
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_API_KEY_SECRET,
    SANDBOX_TWILIO_API_KEY_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_TWILIO_CALL_SID,
    SANDBOX_TWILIO_NUMBER_SID,
    SANDBOX_TWILIO_SECOND_CALL_SID,
    Sandbox,
    signing,
)
from sandbox.callxml import parse_call_xml
from sandbox.twilio import TWIML

SECRETS = (SANDBOX_TWILIO_AUTH_TOKEN, SANDBOX_TWILIO_API_KEY_SECRET)
# The SDK's vectors.
SDK_TOKEN = "12345"  # noqa: S105
SDK_URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
SDK_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
SDK_BODY = b'{"property": "value", "boolean": true}'
SDK_BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"

URL = "https://hooks.example.com/api/webhook/abc123"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CALL_SID = "CA5a4db0c0000000000000000000000009"
CHILD_SID = "CA5a4db0c00000000000000000000000c1"
COMPLETED = {
    "AccountSid": SANDBOX_TWILIO_ACCOUNT_SID,
    "ApiVersion": "2010-04-01",
    "CallSid": CALL_SID,
    "CallStatus": "completed",
    "CallDuration": "42",
    "Direction": "inbound",
    "From": "+14155550142",
    "To": "+14155550111",
    "Timestamp": format_datetime(NOW),
    "CallbackSource": "call-progress-events",
    "SequenceNumber": "0",
}


def listed(params: dict[str, str]) -> dict[str, list[str]]:
    """Return form fields as parsed: each name with its list of values."""
    return {name: [value] for name, value in params.items()}


def signed(
    params: dict[str, str],
    *,
    url: str = URL,
    token: str = SANDBOX_TWILIO_AUTH_TOKEN,
    signed_url: str | None = None,
    received_at: datetime = NOW,
) -> CallbackRequest:
    """Return a form-encoded callback to ``url`` signed as Twilio signs it."""
    return CallbackRequest(
        method="POST",
        url=url,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signing.twilio(
                token, signed_url or url, listed(params)
            ),
        },
        body=urlencode(params).encode(),
        received_at=received_at,
    )


def client(session: aiohttp.ClientSession, **credentials: Any) -> TwilioClient:
    """Return a client of the sandbox's account (no request is sent to verify)."""
    return TwilioClient(
        session,
        account_sid=SANDBOX_TWILIO_ACCOUNT_SID,
        **({"secret": SANDBOX_TWILIO_AUTH_TOKEN} | credentials),
    )


def refusal(
    twilio: TwilioClient, request: CallbackRequest, guard: ReplayGuard | None = None
) -> CallbackRefusal:
    """Return why the client refuses a callback."""
    with pytest.raises(CallbackRefusedError) as refused:
        twilio.verify_callback(request, guard or ReplayGuard())
    assert SANDBOX_TWILIO_AUTH_TOKEN not in refused.value.message
    return refused.value.reason


def verify(twilio: TwilioClient, request: CallbackRequest) -> VerifiedCallback:
    """Verify a callback with a fresh replay guard."""
    return twilio.verify_callback(request, ReplayGuard())


def test_sdk_vectors() -> None:
    """Both implementations reproduce the SDK's signatures; repeated values count once."""
    params = listed(SDK_PARAMS)
    assert (
        twilio_signature(SDK_TOKEN, SDK_URI, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )
    assert signing.twilio(SDK_TOKEN, SDK_URI, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = {
        "Sid": ["CA123"],
        "SidAccount": ["AC123"],
        "Digits": ["5678", "1234", "1234"],
    }
    assert (
        twilio_signature(SDK_TOKEN, SDK_URI, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    )
    assert (
        signing.twilio(SDK_TOKEN, SDK_URI, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    )
    assert hashlib.sha256(SDK_BODY).hexdigest() == SDK_BODY_HASH


def test_url_variants_with_and_without_the_port() -> None:
    """As the SDK: the port added (the scheme's default) and removed."""
    assert url_variants("https://a.example.com/x?q=1") == (
        "https://a.example.com:443/x?q=1",
        "https://a.example.com/x?q=1",
    )
    assert url_variants("http://127.0.0.1:8123/api/webhook/h") == (
        "http://127.0.0.1:8123/api/webhook/h",
        "http://127.0.0.1/api/webhook/h",
    )
    assert url_variants("http://[::1]/h")[0] == "http://[::1]:80/h"


@pytest.mark.parametrize(
    ("url", "signed_url", "verifies"),
    [
        (SDK_URI, SDK_URI.replace(".com", ".com:443"), True),
        (SDK_URI.replace(".com", ".com:1234"), SDK_URI, True),
        (SDK_URI, SDK_URI.replace(".com", ".com:1234"), False),
    ],
)
async def test_the_port_is_signed_or_not(
    session: aiohttp.ClientSession, url: str, signed_url: str, verifies: bool
) -> None:
    """Signed with the URL's port or without it (Twilio is not consistent): both verify.

    A port the URL given out does not have makes it another URL.
    """
    request = signed(COMPLETED, url=url, signed_url=signed_url)
    if verifies:
        [event] = verify(client(session), request).events
        assert event.kind is CallbackKind.CALL_ENDED
    else:
        assert refusal(client(session), request) is CallbackRefusal.BAD_SIGNATURE


async def test_a_completed_call_verifies_and_ends_it(
    session: aiohttp.ClientSession,
) -> None:
    """Its start from the duration, its end the Timestamp; sent again, refused."""
    guard = ReplayGuard()
    request = signed(COMPLETED, received_at=NOW + timedelta(seconds=3))
    verified = client(session).verify_callback(request, guard)
    [event] = verified.events
    assert (verified.signature, verified.body_signed) == ("X-Twilio-Signature", True)
    assert event.kind is CallbackKind.CALL_ENDED
    assert event.ended_at == NOW
    assert event.call is not None
    assert event.call.call_id == CALL_SID
    assert event.call.started == NOW - timedelta(seconds=42)
    assert (event.call.from_number, event.call.to_number) == (
        "+14155550142",
        "+14155550111",
    )
    assert (event.call.status, event.call.direction) == ("completed", "inbound")
    assert refusal(client(session), request, guard) is CallbackRefusal.REPLAYED


async def test_each_forgery_is_refused(session: aiohttp.ClientSession) -> None:
    """Wrong key, body or URL altered, a parameter added, no header, a stale Timestamp."""
    ours = client(session)
    genuine = signed(COMPLETED)
    assert (
        refusal(ours, signed(COMPLETED, token="guessed"))
        is CallbackRefusal.BAD_SIGNATURE
    )
    altered = replace(
        genuine, body=urlencode(COMPLETED | {"CallDuration": "1"}).encode()
    )
    assert refusal(ours, altered) is CallbackRefusal.BAD_SIGNATURE
    added = replace(genuine, body=genuine.body + b"&Extra=1")
    assert refusal(ours, added) is CallbackRefusal.BAD_SIGNATURE
    for url in (f"{URL}?transfer=x", URL.replace("hooks.", "other."), f"{URL}/"):
        assert refusal(ours, replace(genuine, url=url)) is CallbackRefusal.BAD_SIGNATURE
    unsigned = replace(
        genuine, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert refusal(ours, unsigned) is CallbackRefusal.MISSING_SIGNATURE
    for minutes in (-6, 6):
        late = signed(COMPLETED, received_at=NOW + timedelta(minutes=minutes))
        assert refusal(ours, late) is CallbackRefusal.STALE
    for stamp in (None, "yesterday", "Fri, 02 Jan 2026 03:04:05 -0000"):
        fields = {k: v for k, v in COMPLETED.items() if k != "Timestamp"}
        if stamp is not None:
            fields["Timestamp"] = stamp
        assert refusal(ours, signed(fields)) is CallbackRefusal.STALE
    assert verify(ours, genuine).events[0].kind is CallbackKind.CALL_ENDED


async def test_api_key_accounts_need_the_auth_token(
    session: aiohttp.ClientSession,
) -> None:
    """An API key's secret cannot verify: without the auth token, NOT_CONFIGURED."""
    key = {
        "secret": SANDBOX_TWILIO_API_KEY_SECRET,
        "api_key_sid": SANDBOX_TWILIO_API_KEY_SID,
    }
    request = signed(COMPLETED)
    assert refusal(client(session, **key), request) is CallbackRefusal.NOT_CONFIGURED
    with_token = client(session, **key, auth_token=SANDBOX_TWILIO_AUTH_TOKEN)
    assert verify(with_token, request).events[0].kind is CallbackKind.CALL_ENDED
    # Signed with the key's secret (as nobody at Twilio does): refused.
    by_secret = signed(COMPLETED, token=SANDBOX_TWILIO_API_KEY_SECRET)
    assert refusal(with_token, by_secret) is CallbackRefusal.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("queued", CallbackKind.CALL_STARTED),
        ("initiated", CallbackKind.CALL_STARTED),
        ("ringing", CallbackKind.CALL_STARTED),
        ("in-progress", CallbackKind.CALL_ANSWERED),
        ("busy", CallbackKind.CALL_ENDED),
        ("no-answer", CallbackKind.CALL_ENDED),
        ("failed", CallbackKind.CALL_ENDED),
        ("canceled", CallbackKind.CALL_ENDED),
        ("paused", CallbackKind.IGNORED),
    ],
)
async def test_call_statuses(
    session: aiohttp.ClientSession, status: str, kind: CallbackKind
) -> None:
    """Each status of a call's progress events, as the callback tells it."""
    fields = COMPLETED | {"CallStatus": status, "CallDuration": "0"}
    [event] = verify(client(session), signed(fields)).events
    assert event.kind is kind
    if kind is not CallbackKind.IGNORED:
        assert event.call is not None
        assert event.call.started is None
        assert event.call.status == status


@pytest.mark.parametrize(
    ("status", "kind", "reason"),
    [
        ("completed", CallbackKind.TRANSFER_ANSWERED, None),
        ("answered", CallbackKind.TRANSFER_ANSWERED, None),
        ("busy", CallbackKind.TRANSFER_UNANSWERED, UnansweredReason.BUSY),
        ("no-answer", CallbackKind.TRANSFER_UNANSWERED, UnansweredReason.NO_ANSWER),
        ("failed", CallbackKind.TRANSFER_UNANSWERED, UnansweredReason.FAILED),
        ("canceled", CallbackKind.TRANSFER_UNANSWERED, UnansweredReason.FAILED),
        ("later", CallbackKind.IGNORED, None),
    ],
)
async def test_dial_outcomes(
    session: aiohttp.ClientSession,
    status: str,
    kind: CallbackKind,
    reason: UnansweredReason | None,
) -> None:
    """A Dial's action: DialCallStatus, about the call, for the transfer in the URL."""
    fields = {
        "CallSid": CALL_SID,
        "CallStatus": "in-progress",
        "DialCallStatus": status,
        "DialCallSid": CHILD_SID,
    }
    guard = ReplayGuard()
    request = signed(fields, url=f"{URL}?transfer=tok")
    [event] = client(session).verify_callback(request, guard).events
    assert event.kind is kind
    if kind is not CallbackKind.IGNORED:
        assert event.transfer_token == "tok"
        assert event.unanswered_reason is reason
        assert event.call is not None
        assert event.call.call_id == CALL_SID
    assert refusal(client(session), request, guard) is CallbackRefusal.REPLAYED


async def test_the_dialled_number_answering_reports_the_transfer(
    session: aiohttp.ClientSession,
) -> None:
    """The Number's status callback (a child call): answered is the transfer answered."""
    fields = COMPLETED | {
        "CallSid": CHILD_SID,
        "ParentCallSid": CALL_SID,
        "CallStatus": "in-progress",
        "Direction": "outbound-dial",
        "To": "+14155550100",
    }
    url = f"{URL}?transfer=tok"
    [event] = verify(client(session), signed(fields, url=url)).events
    assert event.kind is CallbackKind.TRANSFER_ANSWERED
    assert event.transfer_token == "tok"
    assert event.call is not None
    assert (event.call.call_id, event.call.to_number) == (CALL_SID, "+14155550100")
    ringing = fields | {"CallStatus": "ringing"}
    [event] = verify(client(session), signed(ringing, url=url)).events
    assert event.kind is CallbackKind.IGNORED


@pytest.mark.parametrize(
    "call_sid", [None, "", "CA12", "CA" + "é" * 32, "XX" + "0" * 32]
)
async def test_a_callback_naming_no_call_is_malformed(
    session: aiohttp.ClientSession, call_sid: str | None
) -> None:
    """Signed, but about no Call SID: malformed."""
    fields = {k: v for k, v in COMPLETED.items() if k != "CallSid"}
    if call_sid is not None:
        fields["CallSid"] = call_sid
    assert refusal(client(session), signed(fields)) is CallbackRefusal.MALFORMED


async def test_bodies_that_are_not_form_data(session: aiohttp.ClientSession) -> None:
    """JSON is covered by bodySHA256 (and tells nothing followed); anything else is refused."""
    url = f"{URL}?bodySHA256={hashlib.sha256(SDK_BODY).hexdigest()}"
    json = CallbackRequest(
        method="POST",
        url=url,
        headers={
            "Content-Type": "application/json",
            "X-Twilio-Signature": signing.twilio(SANDBOX_TWILIO_AUTH_TOKEN, url, {}),
        },
        body=SDK_BODY,
        received_at=NOW,
    )
    [event] = verify(client(session), json).events
    assert event.kind is CallbackKind.IGNORED
    assert (
        refusal(client(session), replace(json, body=b"{}"))
        is CallbackRefusal.BAD_SIGNATURE
    )
    empty = replace(json, headers=json.headers | {"Content-Type": ""}, body=b"")
    assert (
        verify(
            client(session),
            replace(
                empty,
                url=URL,
                headers={
                    "X-Twilio-Signature": signing.twilio(
                        SANDBOX_TWILIO_AUTH_TOKEN, URL, {}
                    )
                },
            ),
        )
        .events[0]
        .kind
        is CallbackKind.IGNORED
    )
    xml = replace(json, headers=json.headers | {"Content-Type": "text/xml"})
    assert refusal(client(session), xml) is CallbackRefusal.MALFORMED
    not_utf8 = replace(signed(COMPLETED), body=b"\xff=\xfe")
    assert refusal(client(session), not_utf8) is CallbackRefusal.MALFORMED


def test_push_is_declared_as_it_is() -> None:
    """Ends and transfer outcomes, registration on a number, answered with empty TwiML."""
    push = TwilioClient.push
    assert push is not None
    assert not push.reports_call_starts
    assert push.reports_transfer_outcomes
    assert push.registration_option == "phone_number_sid"
    assert push.answer_content_type == "text/xml"  # TwiML, as Twilio reads it
    assert push.answer_body.endswith("<Response></Response>")
    assert push.answer_first_option == "push_answer_first"
    assert "push_answer_first" in [f.key for f in TwilioClient.option_fields]
    assert "auth_token" in [c.key for c in TwilioClient.credential_fields if c.secret]


async def test_dial_twiml_asks_for_the_outcome(session: aiohttp.ClientSession) -> None:
    """With a report URL: the Dial's action, the Number's answered status callback."""
    twiml = client(session).dial_xml("+14155550100", report_url=f"{URL}?transfer=t")
    plan = parse_call_xml(twiml.encode(), TWIML)
    assert plan.numbers == ("+14155550100",)
    assert plan.report == {"action": f"{URL}?transfer=t", "method": "POST"}
    assert 'statusCallbackEvent="answered"' in twiml
    assert "action" not in client(session).dial_xml("+14155550100")


async def test_the_numbers_status_callback_restored_from_nothing(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A number whose status callback was not stored gets an empty one back (POST).

    Setting and restoring it: tests/providers/test_push_registration.py.
    """
    number = sandbox.twilio_accounts[SANDBOX_TWILIO_ACCOUNT_SID].numbers[
        SANDBOX_TWILIO_NUMBER_SID
    ]
    number.status_callback, number.status_callback_method = (URL, "GET")
    twilio = client(
        session,
        base_url=sandbox.twilio_base_url,
        phone_number_sid=SANDBOX_TWILIO_NUMBER_SID,
    )
    await twilio.async_validate_options()
    await twilio.async_restore_callback_url(
        RegisteredCallback(target=SANDBOX_TWILIO_NUMBER_SID, url=URL, previous={})
    )
    assert (number.status_callback, number.status_callback_method) == ("", "POST")


@pytest.mark.parametrize(
    "number_sid", [None, "PN12", "PN5a4db0c00000000000000000000000ff"]
)
async def test_an_unknown_or_missing_number_names_the_option(
    session: aiohttp.ClientSession, sandbox: Sandbox, number_sid: str | None
) -> None:
    """No number, a SID of another form, a number not the account's: the option refused."""
    twilio = client(
        session, base_url=sandbox.twilio_base_url, phone_number_sid=number_sid
    )
    if number_sid is None:
        await twilio.async_validate_options()  # nothing to check
    else:
        with pytest.raises(InvalidOptionError) as refused:
            await twilio.async_validate_options()
        assert refused.value.option == "phone_number_sid"
    with pytest.raises(InvalidOptionError) as refused:
        await twilio.async_register_callback_url(URL)
    assert refused.value.option == "phone_number_sid"


# A call's voice request (its number's VoiceUrl), as Twilio sends it: no Timestamp.
VOICE_REQUEST = {
    "AccountSid": SANDBOX_TWILIO_ACCOUNT_SID,
    "ApiVersion": "2010-04-01",
    "CallSid": CALL_SID,
    "CallStatus": "ringing",
    "Called": "+14155550111",
    "Caller": "+14155550142",
    "Direction": "inbound",
    "From": "+14155550142",
    "To": "+14155550111",
}


async def test_a_voice_request_is_a_start_that_needs_confirming(
    session: aiohttp.ClientSession,
) -> None:
    """Verified and read as the call's start, but not fresh: Twilio must confirm it.

    Sent again within the replay window, refused; later it would verify again (nothing
    in it says when it was sent), which is why it is not fresh.
    """
    guard = ReplayGuard()
    twilio = client(session)
    request = signed(VOICE_REQUEST)
    verified = twilio.verify_callback(request, guard)
    [event] = verified.events
    assert (verified.body_signed, verified.fresh) == (True, False)
    assert verified.needs_confirmation
    assert event.kind is CallbackKind.CALL_STARTED
    assert event.call is not None
    assert (event.call.call_id, event.call.from_number, event.call.direction) == (
        CALL_SID,
        "+14155550142",
        "inbound",
    )
    assert refusal(twilio, request, guard) is CallbackRefusal.REPLAYED
    later = replace(request, received_at=NOW + timedelta(hours=1))
    assert twilio.verify_callback(later, ReplayGuard()).needs_confirmation
    answered = verify(twilio, signed(VOICE_REQUEST | {"CallStatus": "in-progress"}))
    assert answered.events[0].kind is CallbackKind.CALL_ANSWERED
    assert not answered.fresh
    # A status callback stays one: fresh by its Timestamp, stale without it.
    assert verify(twilio, signed(COMPLETED)).fresh
    for status_only in ({"CallbackSource": "call-progress-events"}, {"Timestamp": ""}):
        stale = signed(VOICE_REQUEST | status_only)
        assert refusal(twilio, stale) is CallbackRefusal.STALE
    ended = signed(VOICE_REQUEST | {"CallStatus": "completed"})
    assert refusal(twilio, ended) is CallbackRefusal.STALE


async def test_twilio_confirms_a_call(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """The Call resource: live while in progress; ended, not live; unknown, None."""
    twilio = client(session, base_url=sandbox.twilio_base_url)
    sandbox.end_call(SANDBOX_TWILIO_SECOND_CALL_SID)
    live = sandbox.calls[SANDBOX_TWILIO_CALL_SID]

    confirmed = await twilio.async_confirm_call(SANDBOX_TWILIO_CALL_SID)
    assert confirmed is not None
    assert confirmed.live
    assert (confirmed.call.call_id, confirmed.call.from_number) == (
        SANDBOX_TWILIO_CALL_SID,
        live.from_number,
    )
    ended = await twilio.async_confirm_call(SANDBOX_TWILIO_SECOND_CALL_SID)
    assert isinstance(ended, ConfirmedCall)
    assert not ended.live
    assert ended.call.status == "completed"
    assert await twilio.async_confirm_call(f"CA{'0' * 32}") is None


def number_of(sandbox: Sandbox) -> Any:
    """Return the sandbox account's number (push registration's target)."""
    return sandbox.twilio_accounts[SANDBOX_TWILIO_ACCOUNT_SID].numbers[
        SANDBOX_TWILIO_NUMBER_SID
    ]


async def test_answer_first_sets_and_restores_the_voice_url(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """The VoiceUrl too (POST); the old one kept, redirected to, and put back."""
    number = number_of(sandbox)
    number.voice_url, number.voice_method = "https://mine.example.com/v?a=1&b=2", "GET"
    twilio = client(
        session,
        base_url=sandbox.twilio_base_url,
        phone_number_sid=SANDBOX_TWILIO_NUMBER_SID,
        push_answer_first=True,
    )
    assert twilio.push_reports_call_starts
    assert twilio.callback_fields == {
        "status_callback",
        "status_callback_method",
        "voice_url",
        "voice_method",
    }
    await twilio.async_validate_options()

    registered = await twilio.async_register_callback_url(URL)

    assert registered.previous == {
        "status_callback": "",
        "status_callback_method": "POST",
        "voice_url": "https://mine.example.com/v?a=1&b=2",
        "voice_method": "GET",
    }
    assert (number.voice_url, number.voice_method) == (URL, "POST")
    assert (number.status_callback, number.status_callback_method) == (URL, "POST")
    redirect = twilio.answer_redirect(registered)
    assert redirect == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Redirect method="GET">https://mine.example.com/v?a=1&amp;b=2</Redirect>'
        "</Response>"
    )

    await twilio.async_restore_callback_url(registered)

    assert (number.voice_url, number.voice_method) == (
        "https://mine.example.com/v?a=1&b=2",
        "GET",
    )
    assert (number.status_callback, number.status_callback_method) == ("", "POST")
    without = RegisteredCallback(
        target=SANDBOX_TWILIO_NUMBER_SID,
        url=URL,
        previous={"status_callback": "", "status_callback_method": "POST"},
    )
    assert twilio.answer_redirect(without) is None


@pytest.mark.parametrize(
    "number_setting",
    [{"voice_application_sid": f"AP{'1' * 32}"}, {"voice_url": ""}],
    ids=["twiml_app", "no_voice_url"],
)
async def test_a_number_that_cannot_be_answered_first(
    session: aiohttp.ClientSession, sandbox: Sandbox, number_setting: dict[str, str]
) -> None:
    """A TwiML App answers its calls, or it has no voice URL: refused, nothing changed."""
    number = number_of(sandbox)
    for name, value in number_setting.items():
        setattr(number, name, value)
    before = (number.voice_url, number.status_callback)
    twilio = client(
        session,
        base_url=sandbox.twilio_base_url,
        phone_number_sid=SANDBOX_TWILIO_NUMBER_SID,
        push_answer_first=True,
    )
    register = partial(twilio.async_register_callback_url, URL)
    for check in (twilio.async_validate_options, register):
        with pytest.raises(InvalidOptionError) as refused:
            await check()
        assert refused.value.option == "push_answer_first"
    assert (number.voice_url, number.status_callback) == before
    assert [r.method for r in sandbox.requests] == ["GET", "GET"]
    without = client(
        session,
        base_url=sandbox.twilio_base_url,
        phone_number_sid=SANDBOX_TWILIO_NUMBER_SID,
    )
    await without.async_validate_options()  # without answer-first, it is fine
    assert not without.push_reports_call_starts
