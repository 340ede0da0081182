"""Vobiz callbacks whose signature leaves the body out: nothing the body says is used unconfirmed.

Vobiz's documented signatures (V3 and V2, each with its nonce) cover the URL without
its query and the nonce, not the body. Whoever sees one signed callback (or sits
between Vobiz and Home Assistant) can send its headers with a body of their own. So
Home Assistant reads each call such a body names at Vobiz before anything else: a
call Vobiz does not know is refused (403), nothing changed, counted; a call it knows
is reported with Vobiz's own numbers. Bodies the signature covers (Vobiz's V3 as its
Go SDK computes it, Plivo's V3) are applied at once, with no request to the provider.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.call_transfer.const import DOMAIN
from sandbox import CallbackFault, Fault, FaultKind, RecordedRequest, SandboxCall
from tests.helpers.push import PushAccount

INVENTED_CALL = "4f9a0d7e-0000-4000-8000-00000000dead"


@pytest.fixture
def push_provider() -> str:
    """Vobiz: its documented signatures leave the body out."""
    return "vobiz"


def start_form(call_id: str, **fields: str) -> dict[str, str]:
    """Return a call's start (``StartApp``), as Vobiz posts it to an answer URL."""
    return {
        "Event": "StartApp",
        "CallUUID": call_id,
        "From": "+14155550999",
        "To": "+918035735400",
        "Direction": "inbound",
        "CallStatus": "in-progress",
    } | fields


def end_form(call_id: str) -> dict[str, str]:
    """Return a call's hangup, as Vobiz posts it to a hangup URL."""
    return start_form(call_id, Event="Hangup", CallStatus="completed", Duration="4")


def states(hass: HomeAssistant) -> dict[str, Any]:
    """Return every entity's state and attributes."""
    return {s.entity_id: (s.state, dict(s.attributes)) for s in hass.states.async_all()}


def call_reads(push: PushAccount, call_id: str) -> list[RecordedRequest]:
    """Return the sandbox's requests that read one call (its live details or record)."""
    return push.sandbox.requests_to(f"/Call/{call_id}/")


async def refused(push: PushAccount, hass_client: ClientSessionGenerator) -> Any:
    """Return the account's refused callbacks by reason, from its diagnostics."""
    diagnostics = await get_diagnostics_for_config_entry(
        push.hass, hass_client, push.entry
    )
    return diagnostics["push"]["refused"], diagnostics["push"]["verified"]


@pytest.mark.parametrize("form", [start_form, end_form], ids=["start", "end"])
async def test_an_invented_call_is_refused_with_nothing_changed(
    push: PushAccount, hass_client: ClientSessionGenerator, form: Any
) -> None:
    """Signed as documented, body swapped for a call Vobiz does not know: 403, nothing."""
    await push.set_up()
    await push.poll()
    before = states(push.hass)
    body = form(INVENTED_CALL)

    assert await push.post(push.signed(body), body) == (403, "")

    await push.hass.async_block_till_done(wait_background_tasks=True)
    assert push.started == push.ended == []
    assert states(push.hass) == before
    assert await refused(push, hass_client) == ({"unknown_call": 1}, 0)
    # Vobiz was asked: not live, no record.
    assert [r.query for r in call_reads(push, INVENTED_CALL)] == [
        {"status": "live"},
        {},
    ]


async def test_repeated_invented_calls_raise_the_repair_issue(
    push: PushAccount, issue_registry: ir.IssueRegistry
) -> None:
    """Five within 10 minutes: the issue says the content could not be confirmed."""
    await push.set_up()
    for count in range(5):
        body = start_form(f"{INVENTED_CALL[:-1]}{count}")
        assert (await push.post(push.signed(body), body))[0] == 403

    issue = issue_registry.async_get_issue(
        DOMAIN, f"push_refused_{push.entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_key == "push_refused_unknown_call"


async def test_a_genuine_call_starts_and_ends_once_with_vobiz_numbers(
    push: PushAccount,
) -> None:
    """Vobiz's own start and hangup (bodies unsigned): confirmed, one event each.

    A copy of the start with other numbers in its body changes nothing: the numbers
    reported are Vobiz's.
    """
    await push.set_up()
    push.app.answer_url = push.callback_url  # Home Assistant hears calls start
    call = await push.start_call(**{"from": "+14155550142", "to": "+918035735411"})
    await push.settle()
    altered = start_form(call.call_id, From="+19005550000", To="+19005550001")
    assert (await push.post(push.signed(altered), altered))[0] == 200
    await push.hass.async_block_till_done(wait_background_tasks=True)

    [started] = push.started
    assert (started.data["call_id"], started.data["source"]) == (call.call_id, "push")
    assert (started.data["from"], started.data["to"]) == (
        "+14155550142",
        "+918035735411",
    )
    push.sandbox.end_call(call.call_id)
    await push.settle()
    await push.poll()
    [ended] = push.ended
    assert (ended.data["call_id"], ended.data["source"]) == (call.call_id, "push")
    assert ended.data["from"] == "+14155550142"
    assert [sent.status for sent in push.sandbox.callbacks_sent] == [200, 200]


@pytest.mark.parametrize("form", [end_form, start_form], ids=["hangup", "late start"])
async def test_a_call_shorter_than_a_poll_is_told_by_its_record(
    push: PushAccount, form: Any
) -> None:
    """A call never seen live, told by its hangup or by a start that comes once it ended.

    Vobiz's record starts and ends it, with its numbers (the body's From is not the call's).
    """
    await push.set_up()
    call = await push.start_call(**{"from": "+14155550142"})
    push.sandbox.callbacks_released.clear()  # Vobiz's own hangup comes late
    push.sandbox.end_call(call.call_id)
    body = form(call.call_id)

    assert (await push.post(push.signed(body), body))[0] == 200
    await push.hass.async_block_till_done(wait_background_tasks=True)
    assert [r.query for r in call_reads(push, call.call_id)] == [{"status": "live"}, {}]
    assert [(e.event_type, e.data["from"]) for e in push.started + push.ended] == [
        ("call_transfer_call_started", "+14155550142"),
        ("call_transfer_call_ended", "+14155550142"),
    ]
    push.sandbox.callbacks_released.set()
    await push.settle()
    assert (len(push.started), len(push.ended)) == (1, 1)


@pytest.mark.parametrize("push_provider", ["vobiz", "plivo"])
async def test_bodies_the_signature_covers_need_no_confirmation(
    push: PushAccount,
) -> None:
    """Vobiz's V3 in its SDK's form, Plivo's V3: applied as told, nothing asked."""
    await push.set_up()
    push.account.callback_fault = (
        CallbackFault.SDK_FORM if push.provider == "vobiz" else None
    )
    push.app.answer_url = push.callback_url
    await push.poll()
    push.sandbox.requests.clear()
    call = await push.start_call()
    await push.settle()
    push.sandbox.end_call(call.call_id)
    await push.settle()

    assert [e.data["call_id"] for e in push.started + push.ended] == [
        call.call_id,
        call.call_id,
    ]
    assert {e.data["source"] for e in push.started + push.ended} == {"push"}
    assert call_reads(push, call.call_id) == []


async def test_a_provider_error_while_confirming_applies_nothing(
    push: PushAccount, hass_client: ClientSessionGenerator
) -> None:
    """Vobiz failing to answer (503): the callback gets 503 (it may be sent again), no event.

    It is neither accepted nor refused; the polls find the call as ever.
    """
    await push.set_up()
    push.app.answer_url = push.callback_url
    push.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=503), path_contains="/Call/", times=1
    )
    call = await push.start_call()
    await push.settle()

    assert [sent.status for sent in push.sandbox.callbacks_sent] == [503]
    assert push.started == []
    assert await refused(push, hass_client) == ({}, 0)
    await push.poll()
    assert [(e.data["call_id"], e.data["source"]) for e in push.started] == [
        (call.call_id, "poll")
    ]


async def a_start_answered_503(
    push: PushAccount,
) -> tuple[SandboxCall, dict[str, str], dict[str, str]]:
    """Send a call's signed start while Vobiz cannot confirm it: 503. Its call, headers, body."""
    await push.set_up()
    call = await push.start_call()
    body = start_form(call.call_id)
    headers = push.signed(body)
    push.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=503), path_contains="/Call/", times=1
    )
    assert (await push.post(headers, body))[0] == 503
    return call, headers, body


async def test_vobizs_retry_of_a_callback_it_could_not_confirm_is_taken(
    push: PushAccount, hass_client: ClientSessionGenerator
) -> None:
    """The same callback sent again after a 503 (same nonces) is taken, once.

    Its nonces were remembered as it verified; the 503 gives them back, so the retry is
    not refused as a replay. Once taken, the same request again is one.
    """
    call, headers, body = await a_start_answered_503(push)
    assert push.started == []
    assert (await push.post(headers, body))[0] == 200
    await push.settle()
    assert [(e.data["call_id"], e.data["source"]) for e in push.started] == [
        (call.call_id, "push")
    ]
    assert await refused(push, hass_client) == ({}, 1)
    assert (await push.post(headers, body))[0] == 401
    assert await refused(push, hass_client) == ({"replayed": 1}, 1)
    assert len(push.started) == 1


async def test_a_503s_headers_sent_again_with_another_body_change_nothing(
    push: PushAccount, hass_client: ClientSessionGenerator
) -> None:
    """The nonces a 503 gives back do not let its headers vouch for an invented call.

    Whoever saw the callback's headers sends them with a body of their own: Vobiz is
    asked about that call as about any, does not know it: 403, nothing changed.
    """
    _, headers, _ = await a_start_answered_503(push)
    before = states(push.hass)
    invented = start_form(INVENTED_CALL)

    assert (await push.post(headers, invented))[0] == 403

    await push.hass.async_block_till_done(wait_background_tasks=True)
    assert push.started == push.ended == []
    assert states(push.hass) == before
    assert await refused(push, hass_client) == ({"unknown_call": 1}, 0)


async def test_a_known_calls_start_is_not_asked_again(push: PushAccount) -> None:
    """A start of a call the polls already listed tells nothing new: no request, no event."""
    await push.set_up()
    call = await push.start_call()
    await push.poll()
    push.sandbox.requests.clear()
    body = start_form(call.call_id)

    assert (await push.post(push.signed(body), body))[0] == 200
    assert [e.data["source"] for e in push.started] == ["poll"]
    assert push.sandbox.requests == []


async def test_a_known_call_vobiz_no_longer_knows_ends(push: PushAccount) -> None:
    """A hangup of a call the polls listed, which Vobiz no longer knows: it ended."""
    await push.set_up()
    call = await push.start_call()
    await push.poll()
    del push.sandbox.calls[call.call_id]  # neither live nor recorded any more
    body = end_form(call.call_id)

    assert (await push.post(push.signed(body), body))[0] == 200
    await push.hass.async_block_till_done(wait_background_tasks=True)
    assert [(e.data["call_id"], e.data["source"]) for e in push.ended] == [
        (call.call_id, "push")
    ]
