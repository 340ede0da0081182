"""Actions that use the live calls: transfer without a call id, and list_calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.call_transfer.const import (
    DOMAIN,
    EVENT_CALL_STARTED,
    EVENT_TRANSFER_SUCCEEDED,
)
from sandbox import Fault, FaultKind, Sandbox
from tests.helpers.entries import setup_entry
from tests.helpers.hass import transfer
from tests.helpers.live_calls import LiveAccount
from tests.helpers.provider_cases import transfers_sent


async def list_calls(hass: HomeAssistant, **data: Any) -> Any:
    """Call list_calls the way a script does, for its response."""
    return await hass.services.async_call(
        DOMAIN, "list_calls", data, blocking=True, return_response=True
    )


async def test_without_call_id_the_one_live_call_is_transferred(
    live: LiveAccount,
) -> None:
    """One live call: it is the one, read from a fresh poll, and it is transferred."""
    succeeded = async_capture_events(live.hass, EVENT_TRANSFER_SUCCEEDED)
    await live.set_up()
    # The last poll listed two calls; the fresh one sees one.
    [only] = live.leave_live(1)
    live.sandbox.requests.clear()

    response = await transfer(live.hass, **live.case.destination)
    await live.hass.async_block_till_done()

    assert response["call_id"] == only
    [sent] = transfers_sent(live.sandbox)
    assert [call.call_id for call in live.calls() if call.transfers] == [only]
    assert succeeded[0].data["call_id"] == only
    # A poll before the transfer picks the call (it confirms that the other ended:
    # a lookup, or a second listing); one right after shows its effect.
    kinds = [
        "listing" if live.case.is_listing(r) else "transfer" if r is sent else "lookup"
        for r in live.sandbox.requests
    ]
    transferred = kinds.index("transfer")
    assert kinds[:transferred] in (["listing", "lookup"], ["listing", "listing"])
    assert kinds[transferred:] == ["transfer", "listing"]


@pytest.mark.parametrize("live_calls", [0, 2])
async def test_without_call_id_no_guess_is_made(
    live: LiveAccount, live_calls: int
) -> None:
    """No live call, or several: a translated error listing them, and nothing is sent."""
    succeeded = async_capture_events(live.hass, EVENT_TRANSFER_SUCCEEDED)
    await live.set_up()
    ids = live.leave_live(live_calls)

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(live.hass, **live.case.destination)
    await live.hass.async_block_till_done()

    assert transfers_sent(live.sandbox) == []
    assert succeeded == []
    assert raised.value.translation_domain == DOMAIN
    if live_calls == 0:
        assert raised.value.translation_key == "no_live_call"
        assert raised.value.translation_placeholders == {"title": live.entry.title}
        return
    assert raised.value.translation_key == "several_live_calls"
    placeholders = raised.value.translation_placeholders
    assert placeholders["count"] == "2"
    # Each call by its id and, where the provider names it, the caller's number.
    listed = [live.case.seen(live.sandbox.calls[call_id]) for call_id in ids]
    assert sorted(placeholders["calls"].split(", ")) == sorted(
        f"{call['call_id']} (from {call['from']})" if call["from"] else call["call_id"]
        for call in listed
    )
    assert str(raised.value) == (
        f"2 calls are live on {live.entry.title}, so nothing was transferred: "
        "choose one under the account's Call to transfer, or give its Call ID "
        f"({placeholders['calls']})"
    )


async def test_without_call_id_a_failing_poll_sends_nothing(live: LiveAccount) -> None:
    """When the calls cannot be listed, the action fails and nothing is transferred."""
    await live.set_up()
    live.leave_live(1)
    live.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=503), path_contains=live.case.listing_path
    )

    with pytest.raises(HomeAssistantError) as raised:
        await transfer(live.hass, **live.case.destination)

    assert raised.value.translation_key == "live_calls_unavailable"
    assert "HTTP 503" in str(raised.value)
    assert transfers_sent(live.sandbox) == []


async def test_accounts_that_do_not_list_calls_say_so(
    hass: HomeAssistant,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
    vobiz_entry: MockConfigEntry,
) -> None:
    """Bland without org id: call_id stays required and list_calls says why it cannot."""
    await setup_entry(hass, bland_entry)
    sandbox.requests.clear()

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, config_entry_id=bland_entry.entry_id, to="+14155550100")
    assert raised.value.translation_key == "call_id_required"
    assert "organization ID" in str(raised.value)
    with pytest.raises(ServiceValidationError) as raised:
        await list_calls(hass, config_entry_id=bland_entry.entry_id)
    assert raised.value.translation_key == "live_calls_not_supported"
    assert sandbox.requests == []
    response = await list_calls(hass, config_entry_id=vobiz_entry.entry_id)
    assert len(response["calls"]) == 2


async def test_a_transfer_refreshes_the_live_calls(live: LiveAccount) -> None:
    """Right after a transfer by call id the calls are listed again, without waiting."""
    await live.set_up()
    [call_id, _] = live.leave_live(2)
    live.sandbox.requests.clear()

    await transfer(live.hass, call_id=call_id, **live.case.destination)
    await live.hass.async_block_till_done()

    assert [r.method for r in live.sandbox.requests][:2] == ["POST", "GET"]
    assert live.case.listing_path in live.sandbox.requests[1].path


async def test_list_calls_returns_a_fresh_listing(live: LiveAccount) -> None:
    """list_calls polls now: a call that started since the last poll is in it."""
    started = async_capture_events(live.hass, EVENT_CALL_STARTED)
    await live.set_up()
    new_call = await live.start_call(
        **{"from": "+14155550142", "direction": "outbound"}
    )

    calls: list[dict[str, Any]] = (await list_calls(live.hass))["calls"]

    assert len(calls) == 3
    assert live.case.seen(new_call) in calls
    # The fresh poll is a poll: the new call was reported once, and the sensor follows.
    assert [event.data["call_id"] for event in started] == [new_call.call_id]
    assert live.state("active_calls").state == "3"


@pytest.mark.parametrize("provider", ["vobiz"])
async def test_list_calls_while_rate_limited_sends_nothing(live: LiveAccount) -> None:
    """Inside the provider's Retry-After the action says so instead of asking again."""
    await live.set_up()
    live.sandbox.add_fault(Fault(kind=FaultKind.RATE_LIMIT, retry_after="60"), times=1)
    with pytest.raises(HomeAssistantError):
        await list_calls(live.hass)
    live.sandbox.requests.clear()
    await live.poll(timedelta(seconds=20))

    with pytest.raises(HomeAssistantError) as raised:
        await list_calls(live.hass)

    assert "rate limiting" in str(raised.value)
    assert "listed again in 40 s" in str(raised.value)
    assert live.sandbox.requests == []
