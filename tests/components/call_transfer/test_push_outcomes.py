"""Whether the number a call was transferred to answered: events, the Transfers entity, the logbook.

With push on, the Dial XML Home Assistant serves asks Vobiz or Plivo to report the
dialled leg's outcome (``callbackUrl``, ``action``), the TwiML a Twilio transfer sends
asks Twilio (the Number's ``statusCallback``, the Dial's ``action``), and a Telnyx
transfer names a ``webhook_url`` for its new leg's webhooks; the sandbox's numbers
answer, are busy, do not answer or fail, as a test sets (``dial_behaviours``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
from yarl import URL

from custom_components.call_transfer.const import DOMAIN
from custom_components.call_transfer.providers import TransferLegs
from custom_components.call_transfer.providers.callbacks import (
    CallbackEvent,
    CallbackKind,
)
from custom_components.call_transfer.transfer_outcomes import (
    MAX_AWAITED,
    AwaitedOutcome,
    AwaitedOutcomes,
)
from sandbox import DialBehaviour, Fault, FaultKind
from sandbox.state import LegResult
from tests.helpers.hass import transfer
from tests.helpers.push import (
    APPS,
    DIAL_ACTION_PROVIDERS,
    DIAL_XML_PROVIDERS,
    OUTCOME_PROVIDERS,
    PushAccount,
)

from .test_device_trigger import (
    account_device,
    listed_triggers,
    set_up_device_automations,
)

NUMBER = "+14155550100"


@pytest.fixture(params=OUTCOME_PROVIDERS)
def push_provider(request: pytest.FixtureRequest) -> str:
    """Run a test once per provider whose callbacks tell transfers' outcomes."""
    provider: str = request.param
    return provider


def transfers_state(push: PushAccount) -> dict[str, Any]:
    """Return the attributes of the account's Transfers entity."""
    entity_id = er.async_get(push.hass).async_get_entity_id(
        "event", DOMAIN, f"{push.entry.entry_id}_transfers"
    )
    assert entity_id is not None
    state = push.hass.states.get(entity_id)
    assert state is not None
    return dict(state.attributes)


async def held_busy_transfer(push: PushAccount) -> None:
    """Set the account up, then transfer to NUMBER (busy), its reports held back."""
    await push.set_up()
    push.sandbox.callbacks_released.clear()  # the provider's own reports wait
    push.sandbox.dial_behaviours[NUMBER] = DialBehaviour.BUSY
    await transfer(push.hass, call_id=push.case.call_id, to=NUMBER)


async def transfer_to_number(
    push: PushAccount, does: DialBehaviour, **data: str
) -> None:
    """Transfer the seeded call to NUMBER, which does ``does``; wait for what follows."""
    push.sandbox.dial_behaviours[NUMBER] = does
    await transfer(push.hass, call_id=push.case.call_id, to=NUMBER, **data)
    await push.settle()


@pytest.mark.parametrize(
    ("does", "reason"),
    [
        (DialBehaviour.BUSY, "busy"),
        (DialBehaviour.NO_ANSWER, "no_answer"),
        (DialBehaviour.FAIL, "failed"),
    ],
)
async def test_a_number_that_does_not_answer(
    push: PushAccount, does: DialBehaviour, reason: str
) -> None:
    """Busy, no answer, failed: one unanswered event; the caller's leg then hangs up."""
    await push.set_up()

    await transfer_to_number(push, does)

    assert push.answered == []
    [event] = push.unanswered
    assert event.data == {
        "config_entry_id": push.entry.entry_id,
        "entity_id": event.data["entity_id"],
        "provider": push.provider,
        "call_id": push.case.call_id,
        "to": NUMBER,
        "destination": None,
        "legs": "aleg",
        "reason": reason,
    }
    assert event.data["entity_id"].startswith("event.")
    attributes = transfers_state(push)
    assert (attributes["event_type"], attributes["reason"]) == ("unanswered", reason)
    # Nothing follows the Dial in the XML: the call ends, and its hangup says so.
    # Telnyx keeps the call up, as it documents.
    assert [(e.data["call_id"], e.data["source"]) for e in push.ended] == (
        [] if push.json else [(push.case.call_id, "push")]
    )


async def test_a_number_that_answers(push: PushAccount) -> None:
    """Answered: one answered event, also when the Dial completes at the call's end."""
    await push.set_up()

    await transfer_to_number(push, DialBehaviour.ANSWER)
    [event] = push.answered
    assert event.data["call_id"] == push.case.call_id
    assert event.data["to"] == NUMBER
    assert "reason" not in event.data
    assert transfers_state(push)["event_type"] == "answered"

    push.sandbox.end_call(push.case.call_id)
    await push.settle()
    assert (len(push.answered), len(push.unanswered)) == (1, 0)
    assert {sent.status for sent in push.sandbox.callbacks_sent} == {200}
    assert len(push.sandbox.callbacks_sent) >= 3  # answered, the Dial's end, the call's


@pytest.mark.parametrize("push_provider", DIAL_XML_PROVIDERS)
async def test_a_b_leg_transfer_reports_its_outcome(push: PushAccount) -> None:
    """A number dialled from the callee's leg: the Dial's leg is not the call, the token is."""
    await push.set_up()
    await transfer_to_number(push, DialBehaviour.BUSY, legs="bleg")
    [event] = push.unanswered
    assert (event.data["call_id"], event.data["legs"]) == (push.case.call_id, "bleg")


@pytest.mark.parametrize("push_provider", DIAL_ACTION_PROVIDERS)
async def test_outcomes_for_another_call_or_token_change_nothing(
    push: PushAccount,
) -> None:
    """A signed report naming another call, or an unknown token, fires nothing."""
    await held_busy_transfer(push)
    await push.sandbox.fetches_settled()
    action = push.dial_report(push.case.call_id)["action"]
    for url, call_id in (
        (action, "CA4f9a0d7e00004000800000000000bad0"),
        (str(URL(action).with_query(transfer="guessed")), push.case.call_id),
    ):
        form = push.dial_status(call_id, "busy")
        assert (await push.post(push.signed(form, url=url), form, url=url))[0] == 200
    assert push.unanswered == []

    push.sandbox.callbacks_released.set()
    await push.settle()
    assert [e.data["reason"] for e in push.unanswered] == ["busy"]


@pytest.mark.parametrize("push_provider", DIAL_ACTION_PROVIDERS)
async def test_without_push_the_dial_asks_for_nothing(push: PushAccount) -> None:
    """Push off: the Dial XML (TwiML) is as before, and no outcome is reported."""
    await push.set_up(push=False, push_register=False)
    await transfer_to_number(push, DialBehaviour.BUSY)
    if push.provider in DIAL_XML_PROVIDERS:
        [fetched] = push.sandbox.leg_fetches
        assert fetched.result is LegResult.DIALING
    assert push.dial_report(push.case.call_id) == {}
    assert push.sandbox.callbacks_sent == []
    assert push.unanswered == []


@pytest.mark.parametrize(
    ("status", "message", "awaited"),
    [(404, "not in progress", 0), (500, "may have happened", 1)],
)
async def test_a_refused_transfer_awaits_no_outcome(
    push: PushAccount, status: int, message: str, awaited: int
) -> None:
    """The provider refuses the transfer: its outcome is not awaited any more.

    A transfer that may have happened (an error after it reached the provider) still
    awaits it: the provider may report it.
    """
    await push.set_up()
    push.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=status),
        path_contains=push.case.transfer_path,
        times=1,
    )
    with pytest.raises(Exception, match=message):
        await transfer(push.hass, call_id=push.case.call_id, to=NUMBER)
    runtime = push.entry.runtime_data.push
    assert runtime is not None
    assert len(runtime.account.outcomes) == awaited


@pytest.fixture
async def logbook_served(recorder_mock: Recorder, hass: HomeAssistant) -> None:
    """Set the logbook up before Home Assistant's HTTP app is served (it adds routes)."""
    assert await async_setup_component(hass, "logbook", {})


async def test_logbook_lines_of_transfer_outcomes(
    logbook_served: None,
    push: PushAccount,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """One line per outcome, under the Transfers entity; a reason of another version reads too."""
    await push.set_up()
    # The clock is frozen: read from well before it (the database is the test's own).
    start = dt_util.utcnow() - timedelta(hours=1)
    second = [c for c in push.sandbox.calls.values() if c.provider == push.provider][1]
    await transfer_to_number(push, DialBehaviour.ANSWER)
    push.sandbox.dial_behaviours[NUMBER] = DialBehaviour.NO_ANSWER
    await transfer(push.hass, call_id=second.call_id, to=NUMBER)
    await push.settle()
    push.hass.bus.async_fire(
        "call_transfer_transfer_unanswered",
        {
            "config_entry_id": push.entry.entry_id,
            "call_id": "c1",
            "to": NUMBER,
            "destination": "Reception",
            "reason": "voicemail",
        },
    )
    await async_wait_recording_done(push.hass)
    push.freezer.tick(1)  # the logbook reads up to now: after the events
    client = await hass_ws_client()
    await client.send_json_auto_id(
        {"type": "logbook/get_events", "start_time": start.isoformat()}
    )
    response = await client.receive_json()

    lines = [
        (entry["message"], entry.get("icon"))
        for entry in response["result"]
        if entry.get("domain") == DOMAIN and "transfer of call" in entry["message"]
    ]
    assert lines == [
        (
            f"+1 415-555-0100 answered the transfer of call {push.case.call_id}",
            "mdi:phone-in-talk",
        ),
        (
            f"+1 415-555-0100 did not answer the transfer of call {second.call_id}",
            "mdi:phone-missed",
        ),
        (
            "Reception (+1 415-555-0100) did not take the transfer of call c1",
            "mdi:phone-missed",
        ),
    ]


async def test_device_triggers_for_outcomes(push: PushAccount) -> None:
    """The account's device offers the outcomes as triggers, and they run automations."""
    await push.set_up()
    device_id = account_device(push.hass, push.entry)
    listed = await listed_triggers(push.hass, device_id)
    assert listed[-2:] == ["transfer_answered", "transfer_unanswered"]
    ran = await set_up_device_automations(
        push.hass, device_id, "transfer_answered", "transfer_unanswered"
    )

    await transfer_to_number(push, DialBehaviour.BUSY)

    [run] = ran
    assert run.data["type"] == "transfer_unanswered"
    assert run.data["call_id"] == push.case.call_id


async def test_an_outcome_reported_too_late_is_ignored(push: PushAccount) -> None:
    """An outcome is awaited 15 minutes; one that comes later changes nothing."""
    await held_busy_transfer(push)
    await push.sandbox.fetches_settled()
    push.freezer.tick(timedelta(minutes=16))

    push.sandbox.callbacks_released.set()
    await push.settle()

    # Telnyx's are refused as well: their timestamp is more than 5 minutes old.
    statuses = [sent.status for sent in push.sandbox.callbacks_sent][:2]
    assert statuses == ([401, 401] if push.json else [200, 200])
    assert push.unanswered == []


def test_awaited_outcomes_are_bounded() -> None:
    """At most 1,000 transfers are awaited per account: the oldest gives way."""
    outcomes = AwaitedOutcomes()
    now = dt_util.utcnow()
    tokens = [
        outcomes.add(
            AwaitedOutcome(
                call_id=f"c{index}",
                to=NUMBER,
                destination=None,
                legs=TransferLegs.ALEG,
                since=now,
            )
        )
        for index in range(MAX_AWAITED + 10)
    ]
    assert len(outcomes) == MAX_AWAITED
    told = CallbackEvent(kind=CallbackKind.TRANSFER_ANSWERED, transfer_token=tokens[0])
    assert outcomes.take(told, now) is None
    newest = replace(told, transfer_token=tokens[-1])
    taken = outcomes.take(newest, now)
    assert taken is not None
    assert taken.call_id == f"c{MAX_AWAITED + 9}"
    assert outcomes.take(newest, now) is None  # once


@pytest.mark.parametrize("push_provider", ["telnyx"])
async def test_telnyx_transfers_name_the_report_url(push: PushAccount) -> None:
    """Telnyx: the transfer names a webhook URL with its token; without push, none."""
    await push.set_up()
    await transfer_to_number(push, DialBehaviour.ANSWER)
    sent = push.sandbox.calls[push.case.call_id].transfers[-1]
    assert sent["webhook_url"].startswith(push.callback_url + "?transfer=")
    assert sent["webhook_url_method"] == "POST"
    # The new leg's events reached Home Assistant, signed; the leg is no call of its own.
    assert [c.params["event_type"] for c in push.sandbox.callbacks_sent] == [
        "call.initiated",
        "call.answered",
        "call.bridged",
    ]
    assert push.started == []

    push.hass.config_entries.async_update_entry(
        push.entry, options={"scan_interval": 10, "connection_id": APPS["telnyx"]}
    )
    await push.hass.async_block_till_done()
    second = [c for c in push.sandbox.calls.values() if c.provider == "telnyx"][1]
    await transfer(push.hass, call_id=second.call_id, to=NUMBER)
    assert "webhook_url" not in second.transfers[-1]


@pytest.mark.parametrize("push_provider", ["telnyx"])
async def test_telnyx_outcomes_of_a_guessed_token_change_nothing(
    push: PushAccount,
) -> None:
    """A signed webhook to a URL whose token is not one awaited fires nothing."""
    await held_busy_transfer(push)
    guessed = f"{push.callback_url}?transfer=guessed"
    body = (
        b'{"data": {"event_type": "call.hangup", "id": "e-guessed", '
        b'"payload": {"call_control_id": "v3:x", "hangup_cause": "user_busy"}}}'
    )
    assert (await push.post(push.signed(body), body, url=guessed))[0] == 200
    assert push.unanswered == []

    push.sandbox.callbacks_released.set()
    await push.settle()
    assert [e.data["reason"] for e in push.unanswered] == ["busy"]
