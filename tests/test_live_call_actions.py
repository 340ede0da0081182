"""Actions that use the live calls: transfer without a call id, and list_calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.call_transfer.const import (
    DOMAIN,
    EVENT_CALL_STARTED,
    EVENT_TRANSFER_SUCCEEDED,
)
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_VOBIZ_AUTH_ID,
    Fault,
    FaultKind,
    ProviderName,
    RecordedRequest,
    Sandbox,
)

from .conftest import setup_entry, transfer

ACCOUNT = {"vobiz": SANDBOX_VOBIZ_AUTH_ID, "bland": SANDBOX_BLAND_API_KEY}
LISTING_PATH = {"vobiz": "/Call/", "bland": "/v1/calls/active"}
# What a transfer needs besides the call id.
DESTINATION: dict[str, dict[str, str]] = {
    "vobiz": {"aleg_url": "https://xml.example.com/transfer/aleg"},
    "bland": {"to": "+14155550100"},
}


@pytest.fixture(params=["vobiz", "bland"])
def provider(request: pytest.FixtureRequest) -> ProviderName:
    """Run a test once per provider."""
    provider: ProviderName = request.param
    return provider


@pytest.fixture
async def live_entry(
    hass: HomeAssistant, request: pytest.FixtureRequest, provider: ProviderName
) -> MockConfigEntry:
    """Set up the provider's entry (the only one), listing live calls."""
    entry: MockConfigEntry = request.getfixturevalue(f"{provider}_entry")
    if provider == "bland":
        hass.config_entries.async_update_entry(
            entry, options={"org_id": SANDBOX_BLAND_ORG_ID}
        )
    await setup_entry(hass, entry)
    return entry


def transfers_sent(sandbox: Sandbox) -> list[RecordedRequest]:
    """Return the transfer requests the sandbox received (both APIs transfer with POST)."""
    return [request for request in sandbox.requests if request.method == "POST"]


def leave_live(sandbox: Sandbox, provider: ProviderName, count: int) -> list[str]:
    """End calls until ``count`` are live on the provider's account; return their ids."""
    calls = sandbox.account_calls(provider, ACCOUNT[provider])
    for call in calls[count:]:
        sandbox.end_call(call.call_id)
    return [call.call_id for call in calls[:count]]


async def test_without_call_id_the_one_live_call_is_transferred(
    hass: HomeAssistant,
    sandbox: Sandbox,
    provider: ProviderName,
    live_entry: MockConfigEntry,
) -> None:
    """One live call: it is the one, read from a fresh poll, and it is transferred."""
    succeeded = async_capture_events(hass, EVENT_TRANSFER_SUCCEEDED)
    # The cache still lists two calls; the fresh poll sees one.
    [only] = leave_live(sandbox, provider, 1)
    sandbox.requests.clear()

    response = await transfer(hass, **DESTINATION[provider])
    await hass.async_block_till_done()

    assert response["call_id"] == only
    [sent] = transfers_sent(sandbox)
    assert only in sent.path or sent.json.get("call_id") == only
    assert sandbox.calls[only].transferred_to is not None
    assert succeeded[0].data["call_id"] == only
    # A poll before the transfer picks the call; one right after shows its effect.
    listings = [r for r in sandbox.requests if r.method == "GET"]
    assert len([r for r in listings if LISTING_PATH[provider] in r.path]) == 2
    assert sandbox.requests.index(sent) == 1


@pytest.mark.parametrize("live", [0, 2])
async def test_without_call_id_no_guess_is_made(
    hass: HomeAssistant,
    sandbox: Sandbox,
    provider: ProviderName,
    live_entry: MockConfigEntry,
    live: int,
) -> None:
    """No live call, or several: a translated error listing them, and nothing is sent."""
    succeeded = async_capture_events(hass, EVENT_TRANSFER_SUCCEEDED)
    ids = leave_live(sandbox, provider, live)

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, **DESTINATION[provider])
    await hass.async_block_till_done()

    assert transfers_sent(sandbox) == []
    assert succeeded == []
    assert raised.value.translation_domain == DOMAIN
    if live == 0:
        assert raised.value.translation_key == "no_live_call"
        assert raised.value.translation_placeholders == {"title": live_entry.title}
        return
    assert raised.value.translation_key == "several_live_calls"
    placeholders = raised.value.translation_placeholders
    assert placeholders["count"] == "2"
    assert placeholders["calls"] == ", ".join(
        f"{call_id} (from {sandbox.calls[call_id].from_number})" for call_id in ids
    )
    assert str(raised.value) == (
        f"2 calls are live on {live_entry.title}, so nothing was transferred: "
        f"choose one with call_id: {placeholders['calls']}"
    )


async def test_without_call_id_a_failing_poll_sends_nothing(
    hass: HomeAssistant,
    sandbox: Sandbox,
    provider: ProviderName,
    live_entry: MockConfigEntry,
) -> None:
    """When the calls cannot be listed, the action fails and nothing is transferred."""
    leave_live(sandbox, provider, 1)
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=503), path_contains=LISTING_PATH[provider]
    )

    with pytest.raises(HomeAssistantError) as raised:
        await transfer(hass, **DESTINATION[provider])

    assert raised.value.translation_key == "live_calls_unavailable"
    assert "HTTP 503" in str(raised.value)
    assert transfers_sent(sandbox) == []


async def test_without_call_id_and_no_org_id_bland_asks_for_one(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """A Bland account without org id cannot list calls: call_id stays required."""
    await setup_entry(hass, bland_entry)
    sandbox.requests.clear()

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, to="+14155550100")

    assert raised.value.translation_key == "call_id_required"
    assert "organization ID" in str(raised.value)
    assert sandbox.requests == []


async def test_a_transfer_refreshes_the_live_calls(
    hass: HomeAssistant,
    sandbox: Sandbox,
    provider: ProviderName,
    live_entry: MockConfigEntry,
) -> None:
    """Right after a transfer by call id the calls are listed again, without waiting."""
    [call_id, _] = leave_live(sandbox, provider, 2)
    sandbox.requests.clear()

    await transfer(hass, call_id=call_id, **DESTINATION[provider])
    await hass.async_block_till_done()

    assert [r.method for r in sandbox.requests][:2] == ["POST", "GET"]
    assert LISTING_PATH[provider] in sandbox.requests[1].path


async def test_list_calls_returns_a_fresh_listing(
    hass: HomeAssistant,
    sandbox: Sandbox,
    provider: ProviderName,
    live_entry: MockConfigEntry,
) -> None:
    """list_calls polls now: a call that started since the last poll is in it."""
    started = async_capture_events(hass, EVENT_CALL_STARTED)
    new_call = sandbox.add_call(
        provider, ACCOUNT[provider], from_number="+14155550142", direction="outbound"
    )

    response = await hass.services.async_call(
        DOMAIN, "list_calls", {}, blocking=True, return_response=True
    )

    calls: list[dict[str, Any]] = response["calls"]
    assert [call["call_id"] for call in calls][-1] == new_call.call_id
    assert len(calls) == 3
    assert calls[-1] == {
        "call_id": new_call.call_id,
        "from": "+14155550142",
        "to": "+14155550199",
        "direction": "outbound" if provider == "vobiz" else None,
        "status": "in-progress" if provider == "vobiz" else "IN_PROGRESS",
        "started": new_call.started.isoformat(),
    }
    # The fresh poll is a poll: the new call was reported once, and the sensor follows.
    assert [event.data["call_id"] for event in started] == [new_call.call_id]


async def test_list_calls_needs_an_account_that_lists_calls(
    hass: HomeAssistant,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    bland_entry: MockConfigEntry,
) -> None:
    """Several accounts: name one; a Bland account without org id says why it cannot."""
    await setup_entry(hass, vobiz_entry)

    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "list_calls", {}, blocking=True, return_response=True
        )
    assert raised.value.translation_key == "config_entry_required"

    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "list_calls",
            {"config_entry_id": bland_entry.entry_id},
            blocking=True,
            return_response=True,
        )
    assert raised.value.translation_key == "live_calls_not_supported"

    response = await hass.services.async_call(
        DOMAIN,
        "list_calls",
        {"config_entry_id": vobiz_entry.entry_id},
        blocking=True,
        return_response=True,
    )
    assert len(response["calls"]) == 2


async def test_list_calls_while_rate_limited_sends_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
) -> None:
    """Inside the provider's Retry-After the action says so instead of asking again."""
    await setup_entry(hass, vobiz_entry)
    sandbox.add_fault(
        Fault(kind=FaultKind.RATE_LIMIT, retry_after="60"), path_contains="/Call/"
    )
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN, "list_calls", {}, blocking=True, return_response=True
        )
    sandbox.clear_faults()
    sandbox.requests.clear()
    freezer.tick(timedelta(seconds=20))
    async_fire_time_changed(hass)

    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            DOMAIN, "list_calls", {}, blocking=True, return_response=True
        )

    assert "rate limiting" in str(raised.value)
    assert "listed again in 40 s" in str(raised.value)
    assert sandbox.requests == []
