"""The real moment of a call: choose which one, on the dashboard or by voice, never a dead end.

The account's *Call to transfer* select lists the live calls by caller (masked to the
last four digits); a destination button transfers the call chosen there, else the only
live call. Voice names a call by its caller or as the newest. A refusal is recorded on
the account's Transfers entity and in the logbook, and raised as a validation error.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.components.select import (
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er, intent
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.call_transfer.const import DOMAIN
from custom_components.call_transfer.phone import mask
from sandbox import Fault, FaultKind, Sandbox
from tests.helpers.destinations import add_destination
from tests.helpers.entries import add_entry, setup_entry
from tests.helpers.hass import transfer
from tests.helpers.live_calls import LiveAccount
from tests.helpers.provider_cases import transfers_sent
from tests.helpers.voice import say_intent, speech

from .test_button import press, set_up_with_reception

ONLY = "only_live_call"
CHOOSE = "choose_a_call"


def select_entity_id(live: LiveAccount) -> str:
    """Return the account's Call to transfer select."""
    entity_id = er.async_get(live.hass).async_get_entity_id(
        SELECT_DOMAIN, DOMAIN, f"{live.entry.entry_id}_call_to_transfer"
    )
    assert entity_id is not None
    return entity_id


def select_state(live: LiveAccount) -> State:
    """Return the select's state."""
    state = live.hass.states.get(select_entity_id(live))
    assert state is not None
    return state


def transfers_state(hass: HomeAssistant, entry_id: str) -> State:
    """Return the account's Transfers entity's state."""
    entity_id = er.async_get(hass).async_get_entity_id(
        "event", DOMAIN, f"{entry_id}_transfers"
    )
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    return state


async def choose(live: LiveAccount, option: str) -> None:
    """Choose an option of the select, as the dashboard does."""
    await live.hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: select_entity_id(live), "option": option},
        blocking=True,
    )


def label_of(live: LiveAccount, call_id: str) -> str:
    """Return how the select names a sandbox call: masked caller, and when it started."""
    call = live.sandbox.calls[call_id]
    started = dt_util.as_local(call.started).strftime("%H:%M")
    # The person on the call: whom an outbound call rang (it is from the account).
    outbound = live.case.lists_direction and call.direction.startswith("out")
    number = call.to_number if outbound else call.from_number
    who = mask(number) if live.case.lists_numbers else f"#{call_id[-6:]}"
    return f"{who} · {started}"


async def test_two_calls_choose_one_press_a_destination(live: LiveAccount) -> None:
    """The select lists both callers, masked, and asks to choose; the button transfers it.

    Then the choice goes back to none chosen.
    """
    button = await set_up_with_reception(live)
    first, second = live.leave_live(2)
    await live.poll()

    state = select_state(live)
    assert state.state == CHOOSE
    assert state.attributes["friendly_name"].endswith("Call to transfer")
    labels = [label_of(live, first), label_of(live, second)]
    assert state.attributes["options"][0] == CHOOSE
    assert sorted(state.attributes["options"]) == sorted([CHOOSE, *labels])
    # Masked to the last four digits, as diagnostics mask numbers.
    for call_id in (first, second):
        call = live.sandbox.calls[call_id]
        assert call.from_number not in str(state.attributes)
        assert call.to_number not in str(state.attributes)

    await choose(live, label_of(live, second))
    assert select_state(live).state == label_of(live, second)
    await press(live.hass, button)
    await live.hass.async_block_till_done()

    assert live.sandbox.calls[second].transferred_to is not None
    assert live.sandbox.calls[first].transferred_to is None
    assert len(transfers_sent(live.sandbox)) == 1
    assert select_state(live).state == CHOOSE


@pytest.mark.parametrize("provider", ["twilio"])
async def test_a_chosen_call_that_ended_is_refused_not_swapped(
    live: LiveAccount,
) -> None:
    """Chosen, then ended before the press: nothing is sent (the other call stays)."""
    button = await set_up_with_reception(live)
    first, second = live.leave_live(2)
    await live.poll()
    await choose(live, label_of(live, second))
    live.sandbox.end_call(second)

    with pytest.raises(ServiceValidationError) as raised:
        await press(live.hass, button)

    assert raised.value.translation_key == "chosen_call_ended"
    assert transfers_sent(live.sandbox) == []
    assert select_state(live).state == ONLY
    # The only live call now: the next press transfers it.
    await press(live.hass, button)
    assert live.sandbox.calls[first].transferred_to is not None


@pytest.mark.parametrize("provider", ["plivo"])
async def test_the_choice_can_go_back_and_a_failing_poll_hides_it(
    live: LiveAccount,
) -> None:
    """Back to the only live call; while polling fails the select is unavailable."""
    await set_up_with_reception(live)
    _, second = live.leave_live(2)
    await live.poll()
    await choose(live, label_of(live, second))
    await choose(live, CHOOSE)
    assert live.entry.runtime_data.chosen_call_id is None

    live.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=503), path_contains=live.case.listing_path
    )
    await live.poll()
    assert select_state(live).state == STATE_UNAVAILABLE


@pytest.mark.parametrize("provider", ["vobiz"])
async def test_none_chosen_reads_the_only_call_or_choose_a_call(
    live: LiveAccount,
) -> None:
    """None chosen: "the only live call" while at most one is live, else "choose a call".

    So the dashboard never shows "the only live call" while a press would be refused
    for the two calls live.
    """
    await live.set_up()
    live.leave_live(0)
    await live.poll()
    assert select_state(live).state == ONLY
    assert select_state(live).attributes["options"] == [ONLY]

    first = live.sandbox.add_call(
        "vobiz", live.case.account, from_number="+14155550142"
    )
    await live.poll()
    assert select_state(live).state == ONLY
    assert select_state(live).attributes["options"] == [
        ONLY,
        label_of(live, first.call_id),
    ]

    second = live.sandbox.add_call(
        "vobiz", live.case.account, from_number="+14155550143"
    )
    await live.poll()
    assert select_state(live).state == CHOOSE
    assert select_state(live).attributes["options"][0] == CHOOSE

    await choose(live, label_of(live, second.call_id))
    live.sandbox.end_call(first.call_id)
    await live.poll()
    # The chosen call stays chosen; the first option follows the calls left.
    assert select_state(live).state == label_of(live, second.call_id)
    assert select_state(live).attributes["options"][0] == ONLY


@pytest.mark.parametrize("provider", ["vobiz"])
async def test_callers_with_the_same_label_are_numbered(live: LiveAccount) -> None:
    """Two calls from one number in the same minute stay two options."""
    await live.set_up()
    live.leave_live(0)
    first = live.sandbox.add_call(
        "vobiz", live.case.account, from_number="+14155550142"
    )
    live.sandbox.add_call(
        "vobiz", live.case.account, from_number="+14155550142", started=first.started
    )
    await live.poll()

    options: list[Any] = select_state(live).attributes["options"]
    label = label_of(live, first.call_id)
    assert label in options
    assert f"{label} (2)" in options


@pytest.mark.parametrize("provider", ["bland"])
async def test_a_refusal_is_recorded_raised_and_logged_once(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    live: LiveAccount,
) -> None:
    """No call live: the press is refused (a validation error), recorded as refused.

    The Transfers entity shows ``refused`` with the reason, the logbook one line; a
    transfer that fails at the provider stays a failure only.
    """
    assert await async_setup_component(hass, "logbook", {})
    button = await set_up_with_reception(live)
    [only] = live.leave_live(1)
    await live.poll()
    live.sandbox.end_call(only)
    start = dt_util.utcnow()
    live.freezer.tick(1)

    with pytest.raises(ServiceValidationError) as raised:
        await press(hass, button)

    state = transfers_state(hass, live.entry.entry_id)
    assert state.attributes["event_type"] == "refused"
    assert state.attributes["error"] == "no_live_call"
    assert state.attributes["error_message"] == str(raised.value)
    assert state.attributes["destination"] == "Reception"
    # A call the provider says has ended: failed, not refused as well.
    with pytest.raises(ServiceValidationError):
        await transfer(hass, call_id=only, destination="Reception")
    assert transfers_state(hass, live.entry.entry_id).attributes["event_type"] == (
        "failed"
    )
    live.freezer.tick(1)
    await async_wait_recording_done(hass)
    client = await hass_ws_client()
    await client.send_json_auto_id(
        {"type": "logbook/get_events", "start_time": start.isoformat()}
    )
    response = await client.receive_json()
    lines = [
        (line["message"], line["icon"])
        for line in response["result"]
        if line.get("domain") == DOMAIN
    ]
    assert lines == [
        (str(raised.value).rstrip("."), "mdi:phone-cancel"),
        (
            (
                f"Call {only} is not in progress (it has ended, or it belongs to "
                "another account), so it was not transferred"
            ),
            "mdi:phone-alert",
        ),
    ]


@pytest.mark.parametrize("provider", ["vobiz"])
async def test_every_refusal_of_the_action_is_recorded_too(live: LiveAccount) -> None:
    """The action's refusals of a known account (here: no destination named so)."""
    await set_up_with_reception(live)

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(live.hass, destination="Kitchen")

    attributes = transfers_state(live.hass, live.entry.entry_id).attributes
    assert attributes["event_type"] == "refused"
    assert (
        attributes["error"] == raised.value.translation_key == ("destination_not_found")
    )


@pytest.mark.parametrize("provider", ["bland"])
async def test_a_press_with_no_live_call_is_available_and_says_why(
    live: LiveAccount,
) -> None:
    """A button with nothing to transfer is not a dead end: pressed, it says why."""
    button = await set_up_with_reception(live)
    live.leave_live(0)
    await live.poll()
    assert live.hass.states.get(button).state != STATE_UNAVAILABLE  # type: ignore[union-attr]

    with pytest.raises(ServiceValidationError) as raised:
        await press(live.hass, button)

    assert str(raised.value) == (
        f"No call is live on {live.entry.title}, so nothing was transferred"
    )


@pytest.fixture
async def three_calls(
    voice: None,  # noqa: F811 - the fixture imported above
    live: LiveAccount,
) -> tuple[LiveAccount, list[str]]:
    """Set up Reception and Front desk, and calls from …0142, …0177 and another …0142."""
    await live.set_up()
    await add_destination(live.hass, live.entry, "Reception", number="+14155550100")
    await add_destination(live.hass, live.entry, "Front desk", number="+14155550103")
    live.leave_live(0)
    ids = [
        (await live.start_call(**{"from": number})).call_id
        for number in ("+14155550142", "+14155550177", "+13125550142")
    ]
    return live, ids


@pytest.mark.parametrize("provider", ["bland"])
@pytest.mark.parametrize(
    ("slots", "transferred"),
    [
        ({"caller": "0177"}, 1),
        ({"caller": "+1 415 555 0142"}, 0),
        ({"newest": "true"}, 2),
    ],
)
async def test_voice_names_the_call_by_caller_or_as_the_newest(
    three_calls: tuple[LiveAccount, list[str]],
    slots: dict[str, str],
    transferred: int,
) -> None:
    """Name the call: "the call from 0177", "the newest call"; that one goes, only it."""
    live, ids = three_calls

    response = await say_intent(live.hass, destination="reception", **slots)

    assert speech(response) == "The call was transferred to Reception."
    assert [live.sandbox.calls[i].transferred_to is not None for i in ids] == [
        index == transferred for index in range(3)
    ]


@pytest.mark.parametrize("provider", ["bland"])
@pytest.mark.parametrize(
    ("caller", "said"),
    [
        ("0100", "No call live on {title} is from 0100, so nothing was transferred."),
        (
            "0142",
            (
                "2 calls live on {title} are from 0142, so nothing was transferred: "
                "say more of the number."
            ),
        ),
    ],
)
async def test_a_caller_that_names_no_single_call_is_refused(
    three_calls: tuple[LiveAccount, list[str]], caller: str, said: str
) -> None:
    """No call from that number, or several: nothing is sent, and the answer says so."""
    live, _ = three_calls

    response = await say_intent(live.hass, destination="Reception", caller=caller)

    assert response.response_type is intent.IntentResponseType.ERROR
    assert speech(response) == said.format(title=live.entry.title)
    assert transfers_sent(live.sandbox) == []


@pytest.mark.parametrize("provider", ["bland"])
async def test_how_many_calls_are_live(
    three_calls: tuple[LiveAccount, list[str]], sandbox: Sandbox
) -> None:
    """Every account that lists calls says its count and callers' last digits."""
    live, ids = three_calls
    hass = live.hass
    vobiz = add_entry(hass, sandbox, "vobiz")
    await setup_entry(hass, vobiz)
    add_entry(hass, sandbox, "telnyx")  # no connection id: lists no calls
    for call in sandbox.account_calls("vobiz", "MA_SANDBOX_0001")[1:]:
        sandbox.end_call(call.call_id)
    vobiz_caller = sandbox.account_calls("vobiz", "MA_SANDBOX_0001")[0].from_number

    response = await intent.async_handle(
        hass, "conversation", "CallTransferLiveCalls", {}, language="en"
    )

    assert speech(response) == (
        f"3 calls are live on {live.entry.title}, from …0142, …0177, …0142. "
        f"One call is live on {vobiz.title}, from …{vobiz_caller[-4:]}."
    )
    for call_id in ids:
        sandbox.end_call(call_id)
    response = await intent.async_handle(
        hass, "conversation", "CallTransferLiveCalls", {}, language="en"
    )
    assert speech(response).startswith(f"No call is live on {live.entry.title}.")
