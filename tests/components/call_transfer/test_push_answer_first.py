"""Answer calls first: the calls' answer URL is Home Assistant's.

Registration also points the answer URL (Vobiz, Plivo: the application's; Twilio: the
number's voice URL) at the account's callback URL; each call's answer request then
tells Home Assistant the call started (no poll needed, short calls included) and is
answered with a Redirect to the answer URL that was there, which the sandbox fetches as
the provider would. Off, the old URL is back. Twilio's voice request carries no
timestamp or nonce: a start it tells counts only as Twilio confirms the call live.
"""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from sandbox import SANDBOX_ANSWER_URL, AnswerRedirect, CallbackFault
from tests.helpers.push import ANSWER_FIRST_PROVIDERS, FORM, PushAccount

from .test_push_options import push_fields, submit
from .test_push_polling import listings, listings_after_a_short_call
from .test_push_unsigned_body import INVENTED_CALL, start_form

ANSWER_FIRST = "push_answer_first"


@pytest.fixture(params=ANSWER_FIRST_PROVIDERS)
def push_provider(request: pytest.FixtureRequest) -> str:
    """Run once per provider whose client can answer calls first."""
    provider: str = request.param
    return provider


async def test_a_call_start_is_seen_at_once_and_sent_on(
    push: PushAccount, hass_client: ClientSessionGenerator
) -> None:
    """The answer request: the call started (push), then a Redirect to the old answer URL."""
    await push.set_up(**{ANSWER_FIRST: True})
    assert push.answer == (push.callback_url, "POST")
    call = await push.start_call()
    await push.settle()

    assert [(e.data["call_id"], e.data["source"]) for e in push.started] == [
        (call.call_id, "push")
    ]
    assert push.sandbox.answer_redirects == [
        AnswerRedirect(call.call_id, SANDBOX_ANSWER_URL, "POST", None)
    ]
    diagnostics = await get_diagnostics_for_config_entry(
        push.hass, hass_client, push.entry
    )
    assert diagnostics["push"]["reports_call_starts"] is True


async def test_polling_only_reconciles(push: PushAccount) -> None:
    """Calls start by push: while no call is live, one listing every 5 minutes, not 10 s."""
    for call in push.sandbox.account_calls(push.case.provider, push.case.account):
        push.sandbox.end_call(call.call_id)
    await push.set_up(**{ANSWER_FIRST: True})
    assert push.entry.runtime_data.client.push_reports_call_starts

    assert await listings_after_a_short_call(push) == 0
    assert [e.data["source"] for e in push.started + push.ended] == ["push", "push"]
    coordinator = push.entry.runtime_data.coordinator
    assert coordinator is not None
    assert coordinator.reconciling
    await push.poll(timedelta(minutes=5))
    assert listings(push) == 1


@pytest.mark.parametrize("reachable", [True, False])
async def test_the_redirect_is_followed_with_the_old_method(
    push: PushAccount, reachable: bool
) -> None:
    """The old answer URL fetched with GET as it was set (a refused connection: no status)."""
    old_url = (
        f"{push.sandbox.control_url}/answer-xml"
        if reachable
        else "http://127.0.0.1:9/answer-xml"  # nothing listens there
    )
    push.set_answer(old_url, "GET")
    await push.set_up(**{ANSWER_FIRST: True})
    call = await push.start_call()
    await push.settle()

    [redirect] = push.sandbox.answer_redirects
    assert (redirect.call_id, redirect.url, redirect.method) == (
        call.call_id,
        old_url,
        "GET",
    )
    # Fetched (the control plane has no such page), or the connection refused.
    assert (redirect.status is not None) is reachable


async def test_an_answer_url_pasted_by_hand_gets_no_redirect(
    push: PushAccount, hass: HomeAssistant
) -> None:
    """Answer URL set at the provider by hand (nothing replaced): the start, empty XML.

    Push off, the URL is any unknown webhook's (an empty 200): nothing follows either.
    """
    await push.set_up()
    url = push.callback_url
    hass.config_entries.async_update_entry(
        push.entry, options=push.entry.options | {"push_register": False}
    )
    await hass.async_block_till_done()
    push.set_answer(url)
    call = await push.start_call()
    await push.settle()
    assert [e.data["call_id"] for e in push.started] == [call.call_id]
    hass.config_entries.async_update_entry(push.entry, options={"scan_interval": 10})
    await hass.async_block_till_done()
    await push.start_call()
    await push.settle()

    assert [sent.answer for sent in push.sandbox.callbacks_sent] == [
        b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
        b"",
    ]
    assert push.sandbox.answer_redirects == []


async def test_a_call_shorter_than_a_poll_starts_and_ends_by_push(
    push: PushAccount,
) -> None:
    """Started and ended between two polls: both told by callbacks, once each."""
    await push.set_up(**{ANSWER_FIRST: True})
    call = await push.start_call()
    push.sandbox.end_call(call.call_id)
    await push.settle()

    events = [(e.event_type, e.data["source"]) for e in push.started + push.ended]
    assert events == [
        ("call_transfer_call_started", "push"),
        ("call_transfer_call_ended", "push"),
    ]


async def test_a_refused_answer_request_gets_no_redirect(push: PushAccount) -> None:
    """A forged answer request is refused without the user's answer URL; so is an invented call."""
    await push.set_up(**{ANSWER_FIRST: True})
    push.account.callback_fault = CallbackFault.FORGED
    await push.start_call()
    await push.settle()

    [sent] = push.sandbox.callbacks_sent
    assert (sent.status, sent.answer) == (401, b"")
    assert push.sandbox.answer_redirects == push.started == []
    if push.provider == "vobiz":  # its signature leaves the body out
        push.account.callback_fault = None
        body = start_form(INVENTED_CALL)
        assert await push.post(push.signed(body), body) == (403, "")


async def test_turning_it_off_puts_the_answer_url_back(
    push: PushAccount, hass: HomeAssistant
) -> None:
    """Off: the old answer URL (the hangup URL, Twilio: status callback, stays Home Assistant's).

    Removed: both back.
    """
    push.set_answer(SANDBOX_ANSWER_URL, "GET")
    await push.set_up(**{ANSWER_FIRST: True})
    assert push.answer[0] == push.target[0] == push.callback_url

    hass.config_entries.async_update_entry(
        push.entry,
        options={k: v for k, v in push.entry.options.items() if k != ANSWER_FIRST},
    )
    await hass.async_block_till_done()
    assert push.answer == (SANDBOX_ANSWER_URL, "GET")
    assert push.target[0] == push.callback_url
    call = await push.start_call()
    await push.settle()
    assert push.started == []  # the answer request went to the user's URL

    hass.config_entries.async_update_entry(
        push.entry, options=push.entry.options | {ANSWER_FIRST: True}
    )
    await hass.async_block_till_done()
    assert push.answer[0] == push.callback_url
    await hass.config_entries.async_remove(push.entry.entry_id)
    await hass.async_block_till_done()
    assert push.answer == (SANDBOX_ANSWER_URL, "GET")
    assert push.target == ("", "POST")
    assert call.live


async def test_answer_first_needs_registration(push: PushAccount) -> None:
    """The switch without *Set the callback URL for me*: the form says so, nothing saved."""
    await push.set_up(push=False, push_register=False)
    result = await submit(push, push_fields(push) | {ANSWER_FIRST: True})

    assert result["errors"] == {ANSWER_FIRST: "answer_first_needs_registration"}
    assert push.answer[0] == SANDBOX_ANSWER_URL


@pytest.mark.parametrize("push_provider", ["twilio"])
@pytest.mark.parametrize(
    ("number_setting", "why"),
    [
        ({"voice_application_sid": f"AP{'1' * 32}"}, "A TwiML App answers"),
        ({"voice_url": ""}, "no voice URL"),
    ],
    ids=["twiml_app", "no_voice_url"],
)
async def test_a_number_that_cannot_be_answered_first(
    push: PushAccount,
    hass_client: ClientSessionGenerator,
    number_setting: dict[str, str],
    why: str,
) -> None:
    """A TwiML App answers the number's calls, or it has no voice URL: the form says so.

    Nothing is saved, nothing changed at Twilio; set by other means, the registration
    fails (diagnostics tell) and changes nothing either.
    """
    for name, value in number_setting.items():
        setattr(push.number, name, value)
    before = (push.answer, push.target)
    await push.set_up(push=False, push_register=False)
    result = await submit(
        push,
        push_fields(push)
        | {"push_register": True, "phone_number_sid": push.number.sid}
        | {ANSWER_FIRST: True},
    )

    assert result["errors"] == {ANSWER_FIRST: "invalid_push_answer_first"}
    assert ANSWER_FIRST not in push.entry.options
    assert (push.answer, push.target) == before

    push.hass.config_entries.async_update_entry(
        push.entry,
        options=push.entry.options
        | {"push": True, "push_register": True, "phone_number_sid": push.number.sid}
        | {ANSWER_FIRST: True},
    )
    await push.hass.async_block_till_done()
    assert (push.answer, push.target) == before
    diagnostics = await get_diagnostics_for_config_entry(
        push.hass, hass_client, push.entry
    )
    assert why in diagnostics["push"]["registration_error"]


@pytest.mark.parametrize("push_provider", ["twilio"])
async def test_a_replayed_voice_request_never_brings_a_call_back(
    push: PushAccount,
) -> None:
    """A captured voice request sent again: refused at once; later, Twilio says the call ended.

    It verifies again once the replay window is over (nothing in it says when it was
    sent), but the call is over at Twilio: no start, no redirect to the user's URL.
    """
    await push.set_up(**{ANSWER_FIRST: True})
    call = await push.start_call()
    await push.settle()
    [captured] = push.sandbox.callbacks_sent
    assert captured.params["CallStatus"] == "ringing"
    assert b"<Redirect" in captured.answer
    replay = (FORM | captured.headers, captured.params, captured.url)

    assert await push.post(*replay) == (401, "")
    push.sandbox.end_call(call.call_id)
    await push.settle()
    assert [e.data["call_id"] for e in push.ended] == [call.call_id]

    push.freezer.tick(timedelta(minutes=11))
    status, answer = await push.post(*replay)
    await push.hass.async_block_till_done(wait_background_tasks=True)

    assert (status, answer) == (200, push.entry.runtime_data.client.push.answer_body)
    assert len(push.started) == len(push.ended) == 1
    assert len(push.sandbox.answer_redirects) == 1
    coordinator = push.entry.runtime_data.coordinator
    assert coordinator is not None
    assert call.call_id not in coordinator.record.calls


@pytest.mark.parametrize("push_provider", ["twilio"])
async def test_a_voice_request_of_a_call_twilio_does_not_know_is_refused(
    push: PushAccount,
) -> None:
    """Signed but naming a call Twilio does not know (a replay of a deleted one): 403."""
    await push.set_up(**{ANSWER_FIRST: True})
    body = {
        "AccountSid": push.account.sid,
        "CallSid": f"CA{'d' * 32}",
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": "+14155550999",
        "To": push.number.phone_number,
    }

    assert await push.post(push.signed(body), body) == (403, "")
    assert push.started == []
