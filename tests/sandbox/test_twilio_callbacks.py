"""The callbacks the sandbox sends as Twilio does, and its IncomingPhoneNumbers resource.

A loopback server stands in for Home Assistant's callback URL (``test_callbacks``'s
receiver); signatures are checked with the sandbox's signing code (checked against the
SDK's vectors in tests/providers/test_twilio_callbacks.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import pytest

from sandbox import (
    SANDBOX_ANSWER_URL,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_TWILIO_CALL_SID,
    SANDBOX_TWILIO_NUMBER,
    SANDBOX_TWILIO_NUMBER_SID,
    SANDBOX_TWILIO_SECOND_CALL_SID,
    Sandbox,
    TwilioNumber,
)
from sandbox.signing import twilio
from sandbox.state import CallbackFault, DialBehaviour

from .conftest import TWILIO_HEADERS, call_api, set_callback_fault
from .test_callbacks import Receiver, receiver  # noqa: F401 - the fixture

NUMBER_PATH = (
    f"/Accounts/{SANDBOX_TWILIO_ACCOUNT_SID}"
    f"/IncomingPhoneNumbers/{SANDBOX_TWILIO_NUMBER_SID}.json"
)
DIALLED = "+14155550100"


def number(sandbox: Sandbox) -> TwilioNumber:
    """Return the sandbox account's phone number."""
    return sandbox.twilio_accounts[SANDBOX_TWILIO_ACCOUNT_SID].numbers[
        SANDBOX_TWILIO_NUMBER_SID
    ]


def verify(received: dict[str, Any], url: str) -> None:
    """Check a received callback's X-Twilio-Signature as Twilio's docs say."""
    params = {name: [value] for name, value in received["form"].items()}
    assert received["headers"]["X-Twilio-Signature"] == twilio(
        SANDBOX_TWILIO_AUTH_TOKEN, url, params
    )


async def test_the_number_resource(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """GET describes the number; POST sets its StatusCallback (empty clears it)."""
    url = f"{sandbox.twilio_base_url}{NUMBER_PATH}"
    status, body, headers = await call_api(session, url, headers=TWILIO_HEADERS)
    assert status == 200
    assert headers["Twilio-Request-Id"].startswith("RQ")
    assert (body["sid"], body["phone_number"]) == (
        SANDBOX_TWILIO_NUMBER_SID,
        SANDBOX_TWILIO_NUMBER,
    )
    assert (body["status_callback"], body["status_callback_method"]) == ("", "POST")

    form = {"StatusCallback": "http://127.0.0.1:1/cb", "StatusCallbackMethod": "GET"}
    status, body, _ = await call_api(
        session, url, "POST", headers=TWILIO_HEADERS, data=form
    )
    assert status == 200
    assert (body["status_callback"], body["status_callback_method"]) == (
        "http://127.0.0.1:1/cb",
        "GET",
    )
    status, body, _ = await call_api(
        session, url, "POST", headers=TWILIO_HEADERS, data={"StatusCallback": ""}
    )
    assert (status, body["status_callback"]) == (200, "")


@pytest.mark.parametrize(
    ("path", "form", "status", "code"),
    [
        (NUMBER_PATH, {"SmsUrl": "https://a.example.com"}, 400, 400),
        (NUMBER_PATH, {"StatusCallback": "not a url"}, 400, 400),
        (NUMBER_PATH, {"VoiceUrl": "ftp://a.example.com"}, 400, 400),
        (NUMBER_PATH, {"StatusCallbackMethod": "PUT"}, 400, 400),
        (NUMBER_PATH, {"VoiceApplicationSid": "AP12"}, 400, 400),
        (NUMBER_PATH.replace("0001.json", "00ff.json"), {}, 404, 20404),
        (NUMBER_PATH.replace("0001.json", "00ff.json"), None, 404, 20404),
    ],
)
async def test_number_errors(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    path: str,
    form: dict[str, str] | None,
    status: int,
    code: int,
) -> None:
    """Undocumented (or unsupported) fields, bad URLs and methods: 400; unknown: 404."""
    url = f"{sandbox.twilio_base_url}{path}"
    if form is None:
        answered, body, _ = await call_api(session, url, headers=TWILIO_HEADERS)
    else:
        answered, body, _ = await call_api(
            session, url, "POST", headers=TWILIO_HEADERS, data=form
        )
    assert (answered, body["code"], body["status"]) == (status, code, status)
    assert body["more_info"].endswith(str(code))
    assert number(sandbox).status_callback == ""


async def test_the_numbers_voice_settings(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Its VoiceUrl, VoiceMethod and VoiceApplicationSid are read and set as Twilio's."""
    url = f"{sandbox.twilio_base_url}{NUMBER_PATH}"
    _, body, _ = await call_api(session, url, headers=TWILIO_HEADERS)
    assert (body["voice_url"], body["voice_method"]) == (SANDBOX_ANSWER_URL, "POST")
    assert body["voice_application_sid"] is None

    app_sid = f"AP{'a' * 32}"
    form = {
        "VoiceUrl": "http://127.0.0.1:1/voice",
        "VoiceMethod": "GET",
        "VoiceApplicationSid": app_sid,
    }
    status, body, _ = await call_api(
        session, url, "POST", headers=TWILIO_HEADERS, data=form
    )
    assert status == 200
    assert (
        body["voice_url"],
        body["voice_method"],
        body["voice_application_sid"],
    ) == ("http://127.0.0.1:1/voice", "GET", app_sid)
    _, body, _ = await call_api(
        session, url, "POST", headers=TWILIO_HEADERS, data={"VoiceApplicationSid": ""}
    )
    assert body["voice_application_sid"] is None


async def test_an_incoming_call_requests_the_voice_url(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
) -> None:
    """Its voice request: signed, ringing, Twilio's parameters, and no Timestamp.

    Not for an outbound call, nor a number whose calls a TwiML App answers (its voice
    URL is then not requested), nor by GET (the sandbox sends POST only).
    """
    number(sandbox).voice_url = receiver.url
    call = sandbox.add_call(
        "twilio", SANDBOX_TWILIO_ACCOUNT_SID, to_number=SANDBOX_TWILIO_NUMBER
    )
    sandbox.add_call("twilio", SANDBOX_TWILIO_ACCOUNT_SID)  # outbound
    await sandbox.callbacks_settled()

    [received] = receiver.received
    verify(received, receiver.url)
    assert received["form"] == {
        "AccountSid": SANDBOX_TWILIO_ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call.call_id,
        "CallStatus": "ringing",
        "Called": SANDBOX_TWILIO_NUMBER,
        "Caller": call.from_number,
        "Direction": "inbound",
        "From": call.from_number,
        "To": SANDBOX_TWILIO_NUMBER,
    }
    # The answer (TwiML without a Redirect) is not followed.
    assert sandbox.answer_redirects == []

    number(sandbox).voice_application_sid = f"AP{'a' * 32}"
    sandbox.add_call(
        "twilio", SANDBOX_TWILIO_ACCOUNT_SID, to_number=SANDBOX_TWILIO_NUMBER
    )
    number(sandbox).voice_application_sid = ""
    number(sandbox).voice_method = "GET"
    sandbox.add_call(
        "twilio", SANDBOX_TWILIO_ACCOUNT_SID, to_number=SANDBOX_TWILIO_NUMBER
    )
    await sandbox.callbacks_settled()
    assert len(receiver.received) == 1


async def test_numbers_need_authentication(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Without the account's credentials: 401, Twilio's 20003."""
    status, body, _ = await call_api(
        session, f"{sandbox.twilio_base_url}{NUMBER_PATH}", headers={}
    )
    assert (status, body["code"]) == (401, 20003)


async def test_a_call_to_the_number_reports_its_end(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
) -> None:
    """Only the end (Twilio's default event), signed, with the status callback's fields."""
    number(sandbox).status_callback = receiver.url
    call = sandbox.add_call(
        "twilio", SANDBOX_TWILIO_ACCOUNT_SID, to_number=SANDBOX_TWILIO_NUMBER
    )
    await sandbox.callbacks_settled()
    assert receiver.received == []  # no start
    sandbox.end_call(call.call_id)
    # Calls the number's StatusCallback hears nothing of: another number, outbound.
    sandbox.end_call(SANDBOX_TWILIO_SECOND_CALL_SID)
    other = sandbox.add_call("twilio", SANDBOX_TWILIO_ACCOUNT_SID)
    sandbox.end_call(other.call_id)
    await sandbox.callbacks_settled()

    [received] = receiver.received
    verify(received, receiver.url)
    form = received["form"]
    assert form["CallSid"] == call.call_id
    assert (form["CallStatus"], form["Direction"]) == ("completed", "inbound")
    assert (form["AccountSid"], form["To"]) == (
        SANDBOX_TWILIO_ACCOUNT_SID,
        SANDBOX_TWILIO_NUMBER,
    )
    assert form["CallbackSource"] == "call-progress-events"
    assert parsedate_to_datetime(form["Timestamp"]).tzinfo is not None
    assert form["CallDuration"].isdigit()


async def test_a_get_status_callback_is_not_sent(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
) -> None:
    """The sandbox sends status callbacks by POST only."""
    number(sandbox).status_callback = receiver.url
    number(sandbox).status_callback_method = "GET"
    sandbox.end_call(SANDBOX_TWILIO_CALL_SID)
    await sandbox.callbacks_settled()
    assert receiver.received == []


def dial_twiml(url: str) -> str:
    """Return TwiML that dials DIALLED, reporting its outcome to ``url``."""
    return (
        f'<Response><Dial action="{url}" method="POST">'
        f'<Number statusCallbackEvent="answered" statusCallback="{url}">{DIALLED}'
        "</Number></Dial></Response>"
    )


async def update(sandbox: Sandbox, twiml: str) -> None:
    """Give the seeded call (to the number) new TwiML."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sandbox.twilio_base_url}/Accounts/{SANDBOX_TWILIO_ACCOUNT_SID}"
            f"/Calls/{SANDBOX_TWILIO_CALL_SID}.json",
            headers=TWILIO_HEADERS,
            data={"Twiml": twiml},
        ) as response,
    ):
        assert response.status == 200


@pytest.mark.parametrize(
    ("does", "status"),
    [
        (DialBehaviour.BUSY, "busy"),
        (DialBehaviour.NO_ANSWER, "no-answer"),
        (DialBehaviour.FAIL, "failed"),
    ],
)
async def test_a_dial_not_answered_reports_to_its_action(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
    does: DialBehaviour,
    status: str,
) -> None:
    """Its DialCallStatus to the action; nothing follows the Dial: the call ends."""
    sandbox.dial_behaviours[DIALLED] = does
    number(sandbox).status_callback = receiver.url
    action = f"{receiver.url}?transfer=t1"
    await update(sandbox, dial_twiml(action))
    await sandbox.callbacks_settled()

    action_request, ended = receiver.received
    verify(action_request, action)
    assert action_request["form"]["DialCallStatus"] == status
    assert action_request["form"]["CallSid"] == SANDBOX_TWILIO_CALL_SID
    assert ended["form"]["CallStatus"] == "completed"
    assert not sandbox.calls[SANDBOX_TWILIO_CALL_SID].live


async def test_an_answered_dial_reports_at_once_and_at_the_end(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
) -> None:
    """Answered: the Number's status callback now, the Dial's action when the call ends."""
    url = f"{receiver.url}?transfer=t2"
    await update(sandbox, dial_twiml(url))
    await sandbox.callbacks_settled()
    [answered] = receiver.received
    verify(answered, url)
    form = answered["form"]
    assert (form["CallStatus"], form["ParentCallSid"]) == (
        "in-progress",
        SANDBOX_TWILIO_CALL_SID,
    )
    assert (form["To"], form["Direction"]) == (DIALLED, "outbound-dial")

    sandbox.end_call(SANDBOX_TWILIO_CALL_SID)
    await sandbox.callbacks_settled()
    completed = receiver.received[1]["form"]
    assert (completed["DialCallStatus"], completed["DialCallSid"]) == (
        "completed",
        form["CallSid"],
    )
    assert completed["DialCallDuration"].isdigit()


async def test_twiml_the_sandbox_does_not_report(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
) -> None:
    """No action or status callback, a Dial of a SIP URI, no Dial: nothing is reported."""
    for twiml in (
        f"<Response><Dial><Number>{DIALLED}</Number></Dial></Response>",
        f'<Response><Dial action="{receiver.url}"><Sip>sip:a@b.example</Sip></Dial></Response>',
        "<Response><Say>Bye</Say></Response>",
        f'<Response><Dial action="{receiver.url}"><Number>{DIALLED}</Number></Dial></Response>',
    ):
        await update(sandbox, twiml)
    await sandbox.callbacks_settled()
    assert receiver.received == []  # the last one answered: reported at the end


@pytest.mark.parametrize(
    "fault", [f for f in CallbackFault if f is not CallbackFault.SDK_FORM]
)
async def test_callback_faults(
    sandbox: Sandbox,
    receiver: Receiver,  # noqa: F811
    fault: CallbackFault,
) -> None:
    """Each fault, set over the control plane, changes Twilio's callbacks as it says."""
    number(sandbox).status_callback = receiver.url
    await set_callback_fault(sandbox, "twilio", fault.value)
    sandbox.end_call(SANDBOX_TWILIO_CALL_SID)
    await sandbox.callbacks_settled()

    first = receiver.received[0]
    if fault is CallbackFault.FORGED:
        with pytest.raises(AssertionError):
            verify(first, receiver.url)
    elif fault is CallbackFault.UNSIGNED:
        assert "X-Twilio-Signature" not in first["headers"]
    elif fault is CallbackFault.TAMPERED:
        with pytest.raises(AssertionError):
            verify(first, receiver.url)
        assert first["form"]["CallSid"] != SANDBOX_TWILIO_CALL_SID
    elif fault is CallbackFault.STALE:  # signed, ten minutes old
        verify(first, receiver.url)
        sent = parsedate_to_datetime(first["form"]["Timestamp"])
        assert datetime.now(UTC) - sent >= timedelta(minutes=10)
    else:  # replayed (twice, the same)
        verify(first, receiver.url)
    assert len(receiver.received) == (2 if fault is CallbackFault.REPLAYED else 1)
