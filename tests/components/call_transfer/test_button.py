"""Destination buttons: pressed with 0, 1 and 2 live calls; available while calls are live."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import (
    ATTR_ENTITY_ID,
    EVENT_CALL_SERVICE,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import Context, HomeAssistant, State
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.call_transfer.const import DOMAIN, EVENT_TRANSFER_SUCCEEDED
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_ORG_ID,
    Fault,
    FaultKind,
    Sandbox,
)
from tests.helpers.destinations import add_destination, button_entity_id, fields_of
from tests.helpers.entries import setup_entry
from tests.helpers.live_calls import LiveAccount
from tests.helpers.provider_cases import transfers_sent
from tests.helpers.snapshots import (
    add_snapshot_account,
    assert_platform_matches_snapshot,
)

from .test_services import assert_reads_well


async def set_up_with_reception(live: LiveAccount) -> str:
    """Set up the account with a destination Reception; return its button's entity id."""
    await live.set_up()
    subentry_id = await add_destination(
        live.hass, live.entry, "Reception", **fields_of(live.case)
    )
    entity_id = button_entity_id(live.hass, live.entry, subentry_id)
    assert entity_id is not None
    return entity_id


def button_state(hass: HomeAssistant, entity_id: str) -> State:
    """Return the button's state."""
    state = hass.states.get(entity_id)
    assert state is not None
    return state


async def press(
    hass: HomeAssistant, entity_id: str, context: Context | None = None
) -> None:
    """Press the button the way the dashboard does."""
    await hass.services.async_call(
        BUTTON_DOMAIN,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: entity_id},
        blocking=True,
        context=context,
    )


async def test_press_with_one_live_call_transfers_it(live: LiveAccount) -> None:
    """The one live call (from a fresh poll) goes to the destination; the event says so.

    The press is the only action called: the transfer does not call another one.
    """
    succeeded = async_capture_events(live.hass, EVENT_TRANSFER_SUCCEEDED)
    actions = async_capture_events(live.hass, EVENT_CALL_SERVICE)
    entity_id = await set_up_with_reception(live)
    [only] = live.leave_live(1)
    await live.poll()
    live.sandbox.requests.clear()
    context = Context()

    await press(live.hass, entity_id, context)
    await live.hass.async_block_till_done()

    [sent] = transfers_sent(live.sandbox)
    assert live.case.transfer_path in sent.path
    assert live.sandbox.calls[only].transferred_to is not None
    [event] = succeeded
    assert event.data["call_id"] == only
    assert event.data["destination"] == "Reception"
    assert event.context is context
    assert [(a.data["domain"], a.data["service"]) for a in actions] == [
        (BUTTON_DOMAIN, SERVICE_PRESS)
    ]
    # Polled before (to pick the call) and after (to show the transfer).
    listings = [r for r in live.sandbox.requests if live.case.is_listing(r)]
    assert len(listings) == 2


@pytest.mark.parametrize("live_calls", [0, 2])
async def test_press_without_exactly_one_live_call_sends_nothing(
    live: LiveAccount, live_calls: int
) -> None:
    """The last poll saw one call; the fresh one sees none, or two: a translated refusal."""
    entity_id = await set_up_with_reception(live)
    ids = live.leave_live(1)
    await live.poll()
    assert button_state(live.hass, entity_id).state != STATE_UNAVAILABLE
    if live_calls == 0:
        live.sandbox.end_call(ids[0])
    else:
        ids.append((await live.start_call(**{"from": "+14155550142"})).call_id)

    with pytest.raises(ServiceValidationError) as raised:
        await press(live.hass, entity_id)

    assert transfers_sent(live.sandbox) == []
    assert raised.value.translation_domain == DOMAIN
    message = str(raised.value)
    # The listed calls' ids are random: the wording is checked around them.
    calls = (raised.value.translation_placeholders or {}).get("calls", "")
    assert_reads_well(message.replace(calls, "…") if calls else message)
    if live_calls == 0:
        assert raised.value.translation_key == "no_live_call"
        return
    assert raised.value.translation_key == "several_live_calls_for_destination"
    assert message == (
        f"2 calls are live on {live.entry.title}, so none was transferred to "
        "Reception: choose one first under the account's Call to transfer"
    )


async def test_availability_follows_the_live_calls(live: LiveAccount) -> None:
    """Available while the calls are listed, a call live or not; not while polling fails.

    With no call live, a press says so (a button that does nothing is a dead end).
    """
    entity_id = await set_up_with_reception(live)
    ids = live.leave_live(2)
    assert button_state(live.hass, entity_id).state != STATE_UNAVAILABLE

    for call_id in ids:
        live.sandbox.end_call(call_id)
    await live.poll()
    assert button_state(live.hass, entity_id).state != STATE_UNAVAILABLE

    await live.start_call()
    await live.poll()
    assert button_state(live.hass, entity_id).state != STATE_UNAVAILABLE

    live.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=503), path_contains=live.case.listing_path
    )
    await live.poll()
    assert button_state(live.hass, entity_id).state == STATE_UNAVAILABLE

    live.sandbox.clear_faults()
    await live.poll(timedelta(seconds=10))
    assert button_state(live.hass, entity_id).state != STATE_UNAVAILABLE


async def test_an_account_that_lists_no_calls_has_an_unavailable_button(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """Bland AI without organization ID: the button exists, and stays unavailable.

    Until an organization ID makes the account list its calls (without a reload):
    available while one is live, and pressed, it transfers it. Cleared, unavailable.
    """
    await setup_entry(hass, bland_entry)
    subentry_id = await add_destination(
        hass, bland_entry, "Reception", number="+14155550100"
    )
    entity_id = button_entity_id(hass, bland_entry, subentry_id)
    assert entity_id is not None

    state = button_state(hass, entity_id)
    assert state.state == STATE_UNAVAILABLE
    assert state.attributes["friendly_name"] == "Reception Transfer call"

    sandbox.end_call(sandbox.account_calls("bland", SANDBOX_BLAND_API_KEY)[1].call_id)
    hass.config_entries.async_update_entry(
        bland_entry, options={"org_id": SANDBOX_BLAND_ORG_ID, "scan_interval": 10}
    )
    await hass.async_block_till_done()
    assert button_state(hass, entity_id).state != STATE_UNAVAILABLE
    await press(hass, entity_id)
    assert len(transfers_sent(sandbox)) == 1

    hass.config_entries.async_update_entry(bland_entry, options={"scan_interval": 10})
    await hass.async_block_till_done()
    assert button_state(hass, entity_id).state == STATE_UNAVAILABLE


async def test_buttons_come_back_after_a_restart(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """Destinations are stored with the entry: reloading keeps each button's entity id."""
    await add_destination(hass, vobiz_entry, "Reception", number="+14155550100")
    await add_destination(hass, vobiz_entry, "Front desk", number="+14155550111")
    await setup_entry(hass, vobiz_entry)
    entity_ids = {
        subentry_id: button_entity_id(hass, vobiz_entry, subentry_id)
        for subentry_id in vobiz_entry.subentries
    }

    assert await hass.config_entries.async_reload(vobiz_entry.entry_id)
    await hass.async_block_till_done()

    assert {
        subentry_id: button_entity_id(hass, vobiz_entry, subentry_id)
        for subentry_id in vobiz_entry.subentries
    } == entity_ids
    assert sorted(hass.states.async_entity_ids(BUTTON_DOMAIN)) == sorted(
        entity_id for entity_id in entity_ids.values() if entity_id
    )


async def test_entities(
    hass: HomeAssistant, sandbox: Sandbox, snapshot: SnapshotAssertion
) -> None:
    """One button per destination (a number, a URL): states and registry entries."""
    entry = add_snapshot_account(hass, sandbox)
    await assert_platform_matches_snapshot(hass, entry, Platform.BUTTON, snapshot)
