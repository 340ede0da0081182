"""The transfer action with ``destination``: a name instead of a number or a URL."""

from __future__ import annotations

from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.call_transfer.const import DOMAIN, EVENT_TRANSFER_SUCCEEDED
from sandbox import SANDBOX_BLAND_CALL_ID, SANDBOX_VOBIZ_CALL_ID, LegResult, Sandbox
from tests.helpers.destinations import add_destination, fields_of
from tests.helpers.entries import setup_entry
from tests.helpers.hass import transfer
from tests.helpers.live_calls import LiveAccount
from tests.helpers.provider_cases import ProviderCase, transfers_sent

from .test_services import assert_reads_well

QUEUE_URL = "https://xml.example.com/vobiz/queue.xml"


@pytest.fixture
async def bland_desks(hass: HomeAssistant, bland_entry: MockConfigEntry) -> None:
    """Set up the Bland AI account with two destinations: Reception and On-call."""
    await setup_entry(hass, bland_entry)
    await add_destination(hass, bland_entry, "Reception", number="+14155550100")
    await add_destination(hass, bland_entry, "On-call", number="+14155550111")


@pytest.mark.usefixtures("bland_desks")
async def test_bland_transfers_to_the_destination_number(
    hass: HomeAssistant, sandbox: Sandbox, events: dict[str, list[Any]]
) -> None:
    """The name, in any case, stands for its number; response and event carry both."""
    response = await transfer(
        hass, call_id=SANDBOX_BLAND_CALL_ID, destination="  rECEPTION "
    )

    [sent] = sandbox.requests_to("/v1/calls/active/transfer")
    assert sent.json == {
        "call_id": SANDBOX_BLAND_CALL_ID,
        "transfer_number": "+14155550100",
    }
    assert response["destination"] == "Reception"
    assert response["to"] == "+14155550100"
    [event] = events["succeeded"]
    assert event.data["destination"] == "Reception"
    assert event.data["to"] == "+14155550100"


@pytest.mark.usefixtures("vobiz_entry")
async def test_vobiz_dials_the_destination_through_home_assistant(
    hass_url: str, hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """A number destination on Vobiz: the sandbox fetches the Dial XML Home Assistant serves."""
    [vobiz_entry] = hass.config_entries.async_entries(DOMAIN)
    await setup_entry(hass, vobiz_entry)
    await add_destination(hass, vobiz_entry, "Reception", number="+14155550100")

    response = await transfer(
        hass, call_id=SANDBOX_VOBIZ_CALL_ID, destination="reception"
    )
    await sandbox.fetches_settled()

    [outcome] = sandbox.calls[SANDBOX_VOBIZ_CALL_ID].outcomes
    assert outcome.result is LegResult.DIALING
    assert str(outcome).startswith("dialing +14155550100")
    assert outcome.url.startswith(f"{hass_url}/api/webhook/")
    assert response["destination"] == "Reception"
    assert response["legs"] == "aleg"


async def test_vobiz_url_destination_points_its_legs_at_the_url(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """A URL destination sends its URL and method for each of its legs."""
    await setup_entry(hass, vobiz_entry)
    await add_destination(
        hass,
        vobiz_entry,
        "Queue",
        transfer_url={"url": QUEUE_URL, "method": "GET", "legs": "both"},
    )

    response = await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, destination="Queue")

    [sent] = transfers_sent(sandbox)
    assert sent.json == {
        "legs": "both",
        "aleg_url": QUEUE_URL,
        "aleg_method": "GET",
        "bleg_url": QUEUE_URL,
        "bleg_method": "GET",
    }
    assert response["to"] is None
    assert response["destination"] == "Queue"


async def test_every_provider_transfers_to_a_destination(
    hass: HomeAssistant, case: ProviderCase, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """The destination stands for the provider's usual transfer (a number or a URL)."""
    succeeded = async_capture_events(hass, EVENT_TRANSFER_SUCCEEDED)
    await setup_entry(hass, entry)
    fields: dict[str, Any] = (
        {"number": case.transfer["to"]}
        if "to" in case.transfer
        else {"transfer_url": {"url": case.transfer["aleg_url"]}}
    )
    await add_destination(hass, entry, "Desk", **fields)

    response = await transfer(hass, call_id=case.call_id, destination="desk")

    [sent] = transfers_sent(sandbox)
    assert case.transfer_path in sent.path
    assert response["to"] == case.transfer.get("to")
    assert response["destination"] == "Desk"
    assert succeeded[0].data["destination"] == "Desk"


@pytest.mark.parametrize(
    ("data", "translation_key", "message"),
    [
        (
            {"destination": "Kitchen"},
            "destination_not_found",
            "has no destination named Kitchen. Its destinations are: Reception, On-call",
        ),
        (
            {"destination": "Reception", "to": "+14155550100"},
            "destination_with_to",
            "Fill in either the Destination field or the To field",
        ),
    ],
)
@pytest.mark.usefixtures("bland_desks")
async def test_unknown_or_doubled_destination_sends_nothing(
    hass: HomeAssistant,
    events: dict[str, list[Any]],
    data: dict[str, str],
    translation_key: str,
    message: str,
    sandbox: Sandbox,
) -> None:
    """A translated validation error naming the destinations; no request, no event."""
    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, **data)

    assert raised.value.translation_key == translation_key
    assert message in str(raised.value)
    assert_reads_well(str(raised.value))
    assert transfers_sent(sandbox) == []
    assert events == {"succeeded": [], "failed": []}


@pytest.mark.parametrize(
    "leg_field",
    [{"aleg_url": QUEUE_URL}, {"legs": "bleg"}, {"bleg_method": "GET"}],
)
async def test_destination_with_a_leg_field_sends_nothing(
    hass: HomeAssistant,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    leg_field: dict[str, str],
) -> None:
    """A destination already says which legs go where."""
    await setup_entry(hass, vobiz_entry)
    await add_destination(hass, vobiz_entry, "Queue", transfer_url={"url": QUEUE_URL})

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(
            hass, call_id=SANDBOX_VOBIZ_CALL_ID, destination="Queue", **leg_field
        )

    assert raised.value.translation_key == "destination_with_to"
    assert transfers_sent(sandbox) == []


async def test_an_account_without_destinations_says_where_to_add_them(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """No destination yet: the error says so instead of listing nothing."""
    await setup_entry(hass, bland_entry)

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, destination="Reception")

    assert raised.value.translation_key == "no_destinations"
    assert_reads_well(str(raised.value))
    assert transfers_sent(sandbox) == []


async def test_destination_without_call_id_transfers_the_one_live_call(
    live: LiveAccount,
) -> None:
    """With the live calls listed, the name is all a transfer needs."""
    await live.set_up()
    await add_destination(live.hass, live.entry, "Reception", **fields_of(live.case))
    [only] = live.leave_live(1)
    live.sandbox.requests.clear()

    response = await transfer(live.hass, destination="Reception")

    assert response["call_id"] == only
    assert live.sandbox.calls[only].transferred_to is not None


async def test_logbook_names_the_destination(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    bland_entry: MockConfigEntry,
) -> None:
    """A transfer to a destination reads "to Reception (+1 415-555-0100)" in the logbook."""
    assert await async_setup_component(hass, "logbook", {})
    await setup_entry(hass, vobiz_entry)
    await add_destination(hass, bland_entry, "Reception", number="+14155550100")
    await add_destination(hass, vobiz_entry, "Queue", transfer_url={"url": QUEUE_URL})
    start = dt_util.utcnow()
    for entry, call_id, name in (
        (bland_entry, SANDBOX_BLAND_CALL_ID, "Reception"),
        (vobiz_entry, SANDBOX_VOBIZ_CALL_ID, "Queue"),
    ):
        await transfer(
            hass, config_entry_id=entry.entry_id, call_id=call_id, destination=name
        )
    await async_wait_recording_done(hass)
    client = await hass_client()

    # The logbook's REST API, as an external dashboard would read it.
    async with client.get(f"/api/logbook/{start.isoformat()}") as response:
        lines = await response.json()

    assert [line["message"] for line in lines if line.get("domain") == DOMAIN] == [
        f"transferred call {SANDBOX_BLAND_CALL_ID} to Reception (+1 415-555-0100)",
        f"transferred call {SANDBOX_VOBIZ_CALL_ID} to Queue by redirecting the caller's leg",
    ]
