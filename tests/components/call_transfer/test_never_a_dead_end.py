"""Findings of a new user's first hour: every answer says what to do next.

list_calls of several accounts lists them all; a transfer with nowhere to go names To
and Destination; Assist takes the sentences people say; the config flow names the API
base URL only where there is one; the Active calls history is of whole calls.
"""

from __future__ import annotations

from pathlib import Path
import shutil
from unittest.mock import patch

from homeassistant import config_entries
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowHandler, FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import intent
from homeassistant.helpers.translation import async_get_translations
import pytest

from custom_components.call_transfer.const import DOMAIN
from sandbox import SANDBOX_BLAND_API_KEY, Fault, FaultKind, Sandbox
from tests.helpers.destinations import add_destination
from tests.helpers.entries import add_entry, setup_entry
from tests.helpers.hass import transfer
from tests.helpers.live_calls import LiveAccount
from tests.helpers.voice import CUSTOM_SENTENCES, say_intent, speech

from .test_intent_limits import account_with_desks
from .test_services_live_calls import list_calls


async def test_list_calls_of_every_account(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Without an account: every account that lists calls, each call with its account."""
    vobiz = add_entry(hass, sandbox, "vobiz")
    twilio = add_entry(hass, sandbox, "twilio")
    add_entry(hass, sandbox, "bland")  # no organization id: lists no calls
    await setup_entry(hass, vobiz)

    response = await list_calls(hass)

    accounts = [
        (call["config_entry_id"], call["account"]) for call in response["calls"]
    ]
    assert sorted(accounts) == sorted(
        [(vobiz.entry_id, vobiz.title)] * 2 + [(twilio.entry_id, twilio.title)] * 2
    )
    assert all("call_id" in call and "from" in call for call in response["calls"])
    # One account named: its calls as before, without the account repeated.
    [call, _] = (await list_calls(hass, config_entry_id=vobiz.entry_id))["calls"]
    assert "account" not in call


async def test_a_transfer_with_nowhere_to_go_names_destination_and_to(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Only the account: the refusal names the fields to fill, and the destinations."""
    vobiz = add_entry(hass, sandbox, "vobiz")
    await setup_entry(hass, vobiz)
    await add_destination(hass, vobiz, "Reception", number="+14155550100")

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, config_entry_id=vobiz.entry_id)

    assert str(raised.value) == (
        "Say where the call goes: fill in the Destination field (one of Reception) "
        "or the To field"
    )


async def test_a_destination_alone_finds_its_account(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Several accounts, a destination only one has: no account needed."""
    vobiz = add_entry(hass, sandbox, "vobiz")
    bland = add_entry(hass, sandbox, "bland")
    await setup_entry(hass, vobiz)
    await add_destination(hass, bland, "On-call", number="+14155550102")
    call_id = sandbox.account_calls("bland", SANDBOX_BLAND_API_KEY)[0].call_id

    response = await transfer(hass, call_id=call_id, destination="the on-call")

    assert response["destination"] == "On-call"
    assert sandbox.calls[call_id].transferred_to == "+14155550102"


@pytest.fixture
async def sentences(
    voice: None,  # noqa: F811 - the fixture imported above
    live: LiveAccount,
    tmp_path: Path,
) -> LiveAccount:
    """Give the built-in agent the documented custom sentences; Front desk, Reception."""
    shutil.copytree(CUSTOM_SENTENCES, tmp_path / "custom_sentences" / "en")
    live.hass.config.config_dir = str(tmp_path)
    await live.set_up()
    await add_destination(live.hass, live.entry, "Reception", number="+14155550100")
    await add_destination(live.hass, live.entry, "Front desk", number="+14155550103")
    return live


async def converse(hass: HomeAssistant, text: str) -> str:
    """Say something to the built-in agent; return its answer."""
    result = await conversation.async_converse(
        hass, text, None, Context(), language="en"
    )
    return str(result.response.speech["plain"]["speech"])


@pytest.mark.parametrize("provider", ["twilio"])
@pytest.mark.parametrize(
    ("said", "number"),
    [
        ("transfer call to reception", "+14155550100"),
        ("transfer the call to the front desk", "+14155550103"),
    ],
)
async def test_assist_takes_what_people_say(
    sentences: LiveAccount, said: str, number: str
) -> None:
    """No article, or "the" before the name: the destination is found."""
    [only] = sentences.leave_live(1)

    answer = await converse(sentences.hass, said)

    assert answer.startswith("The call was transferred to ")
    assert sentences.sandbox.calls[only].transferred_to == number


@pytest.mark.parametrize("provider", ["twilio"])
async def test_assist_picks_a_call_and_tells_the_calls(
    sentences: LiveAccount,
) -> None:
    """Answer "how many calls are live", "the call from 0142", "the newest call"."""
    live = sentences
    live.leave_live(0)
    older = await live.start_call(**{"from": "+14155550142"})
    live.freezer.tick(1)
    newer = await live.start_call(**{"from": "+14155550177"})

    assert await converse(live.hass, "how many calls are live") == (
        f"2 calls are live on {live.entry.title}, from …0142, …0177."
    )
    await converse(live.hass, "transfer the call from 0142 to reception")
    assert live.sandbox.calls[older.call_id].transferred_to == "+14155550100"
    assert live.sandbox.calls[newer.call_id].transferred_to is None
    await converse(live.hass, "send the newest call to the front desk")
    assert live.sandbox.calls[newer.call_id].transferred_to == "+14155550103"


# Newer Home Assistant releases deprecate advanced mode for flows: show_advanced_options
# is then always True (the deprecation wraps the property), so every field shows.
ADVANCED_ALWAYS = (
    getattr(FlowHandler.show_advanced_options.fget, "__wrapped__", None) is not None
)


async def start_bland_flow(hass: HomeAssistant, *, advanced: bool) -> str:
    """Open Add integration → Call Transfer → Bland AI; return the flow id."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={
            "source": config_entries.SOURCE_USER,
            "show_advanced_options": advanced,
        },
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "bland"}
    )
    assert result["type"] is FlowResultType.FORM
    has_base_url = "base_url" in map(str, result["data_schema"].schema)
    assert has_base_url is (advanced or ADVANCED_ALWAYS)
    return result["flow_id"]


async def test_cannot_connect_names_the_base_url_only_where_it_is_shown(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Advanced mode off: no API base URL field, so the error does not send you to it.

    (The provider's public API is the sandbox here, down: nothing leaves loopback.)
    """
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=503))
    with patch(
        "custom_components.call_transfer.providers.bland.BLAND_API_URL",
        sandbox.bland_base_url,
    ):
        flow_id = await start_bland_flow(hass, advanced=False)
        plain = await hass.config_entries.flow.async_configure(
            flow_id, {"api_key": SANDBOX_BLAND_API_KEY}
        )
        flow_id = await start_bland_flow(hass, advanced=True)
        with_url = await hass.config_entries.flow.async_configure(
            flow_id,
            {"api_key": SANDBOX_BLAND_API_KEY, "base_url": sandbox.bland_base_url},
        )

    texts = await async_get_translations(hass, "en", "config", {DOMAIN})
    errors = f"component.{DOMAIN}.config.error"
    assert plain["errors"] == {"base": "cannot_connect"}
    assert "base URL" not in texts[f"{errors}.cannot_connect"]
    assert with_url["errors"] == {"base": "cannot_connect_base_url"}
    assert "API base URL" in texts[f"{errors}.cannot_connect_base_url"]


@pytest.mark.parametrize("provider", ["vobiz"])
async def test_active_calls_is_a_count_not_a_measurement(live: LiveAccount) -> None:
    """No state class: the history draws whole calls, not 5-minute means of them."""
    await live.set_up()

    state = live.state("active_calls")

    assert state.state == "2"
    assert "state_class" not in state.attributes
    assert "unit_of_measurement" not in state.attributes


@pytest.mark.usefixtures("voice")
async def test_how_many_calls_when_none_can_be_told(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """No account lists its calls, or listing them fails: the answer says so."""
    bland = add_entry(hass, sandbox, "bland")  # no organization id
    await setup_entry(hass, bland)

    response = await intent.async_handle(
        hass, "conversation", "CallTransferLiveCalls", {}, language="en"
    )
    assert response.response_type is intent.IntentResponseType.ERROR
    assert speech(response) == "No Call Transfer account lists its live calls."

    vobiz = add_entry(hass, sandbox, "vobiz")
    await setup_entry(hass, vobiz)
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=503), path_contains="/Call/")
    response = await intent.async_handle(
        hass, "conversation", "CallTransferLiveCalls", {}, language="en"
    )
    assert speech(response).startswith(
        f"Could not list the live calls of {vobiz.title}, so nothing was done"
    )


@pytest.mark.usefixtures("voice")
async def test_the_destinations_said_stay_ten_across_accounts(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """An unknown name: each account's destinations after it, ten names in all."""
    bland = account_with_desks(hass, sandbox, "bland", 12)
    vobiz = account_with_desks(hass, sandbox, "vobiz", 3)
    await setup_entry(hass, bland)

    response = await say_intent(hass, destination="Kitchen")

    assert speech(response) == (
        f"There is no destination called Kitchen. The destinations are: {bland.title}: "
        f"{', '.join(f'Desk {i}' for i in range(1, 11))}, …; …."
    )
    assert vobiz.title not in speech(response)
