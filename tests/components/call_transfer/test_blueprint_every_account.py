"""Both blueprints, installed as the dev instance installs them, on every provider and account.

*Transfer each new call to a destination* passes the call that fired
``call_transfer_call_started`` to the destination chosen (a device: any account's);
*Transfer a live call by voice, in your own words* adds sentences for every account,
beside the custom sentences.
"""

from __future__ import annotations

from pathlib import Path
import sys

from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)

from custom_components.call_transfer.const import DOMAIN
from sandbox import SANDBOX_BLAND_ORG_ID, Fault, FaultKind, Sandbox
from tests.helpers.destinations import add_destination, fields_of
from tests.helpers.entries import add_entry, setup_entry
from tests.helpers.live_calls import LiveAccount
from tests.helpers.provider_cases import transfers_sent

from .test_blueprint import use_blueprint

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
import dev_instance  # noqa: E402

ON_TRIGGER = "call_transfer/transfer_call_on_trigger.yaml"
BY_VOICE = "call_transfer/voice_transfer.yaml"


def destination_device(hass: HomeAssistant, subentry_id: str) -> str:
    """Return the device id of a destination, as the blueprint's device picker gives it."""
    # Not async_get_device nor the registry's devices as a mapping: newer Home Assistant
    # releases deprecate both (identifiers are no longer unique across config entries)
    # and fail a test that uses them. The account's devices are looked up instead.
    [device_id] = [
        device.id
        for entry in hass.config_entries.async_entries(DOMAIN)
        if subentry_id in entry.subentries
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
        if (DOMAIN, subentry_id) in device.identifiers
    ]
    return device_id


@pytest.fixture
def installed(hass: HomeAssistant, tmp_path: Path) -> list[ServiceCall]:
    """Install the blueprints and sentences as the dev instance does; return notices."""
    dev_instance.prepare(tmp_path)
    hass.config.config_dir = str(tmp_path)
    return async_mock_service(hass, "test", "notify")


async def test_each_new_call_goes_to_the_destination(
    live: LiveAccount, installed: list[ServiceCall]
) -> None:
    """On every provider: the call that started is transferred there, no template written."""
    await live.set_up()
    reception = await add_destination(
        live.hass, live.entry, "Reception", **fields_of(live.case)
    )
    await use_blueprint(
        live.hass,
        ON_TRIGGER,
        {
            "destination": destination_device(live.hass, reception),
            "notify_action": "test.notify",
        },
    )

    call = await live.start_call(**{"from": "+14155550142"})
    await live.poll()

    assert live.sandbox.calls[call.call_id].transferred_to is not None
    [sent] = transfers_sent(live.sandbox)
    assert live.case.transfer_path in sent.path
    assert installed == []


async def test_a_second_accounts_destination_takes_its_accounts_calls_only(
    hass: HomeAssistant, sandbox: Sandbox, installed: list[ServiceCall]
) -> None:
    """A Bland AI destination: Bland's new call goes there, Vobiz's new call stays.

    Only while the switch is on; a failure is notified with the provider's reason.
    """
    vobiz = add_entry(hass, sandbox, "vobiz")
    bland = add_entry(hass, sandbox, "bland", options={"org_id": SANDBOX_BLAND_ORG_ID})
    await setup_entry(hass, vobiz)
    on_call = await add_destination(hass, bland, "On-call", number="+14155550102")
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"front_desk_closed": {}}}
    )
    await use_blueprint(
        hass,
        ON_TRIGGER,
        {
            "destination": destination_device(hass, on_call),
            "only_when_entity": "input_boolean.front_desk_closed",
            "notify_action": "test.notify",
        },
    )
    bland_runtime = bland.runtime_data
    vobiz_runtime = vobiz.runtime_data

    async def start_and_poll(provider: str, entry: MockConfigEntry) -> str:
        call = sandbox.add_call(provider, next(iter(sandbox.accounts[provider])))
        runtime = bland_runtime if entry is bland else vobiz_runtime
        assert runtime.coordinator is not None
        await runtime.coordinator.async_refresh()
        await hass.async_block_till_done()
        return call.call_id

    while_open = await start_and_poll("bland", bland)
    assert sandbox.calls[while_open].transferred_to is None
    await hass.services.async_call(
        "input_boolean",
        "turn_on",
        {"entity_id": "input_boolean.front_desk_closed"},
        blocking=True,
    )
    vobiz_call = await start_and_poll("vobiz", vobiz)
    bland_call = await start_and_poll("bland", bland)
    assert sandbox.calls[vobiz_call].transferred_to is None
    assert sandbox.calls[bland_call].transferred_to == "+14155550102"

    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=500), path_contains="/transfer"
    )
    failing = await start_and_poll("bland", bland)
    [notice] = installed
    assert notice.data["title"] == "Call transfer failed"
    assert notice.data["message"].startswith(
        f"The call {failing} could not be transferred to On-call: "
    )
    assert len(notice.data["message"]) > len(
        f"The call {failing} could not be transferred to On-call: "
    ) + len("see Settings")


async def converse(hass: HomeAssistant, text: str) -> str:
    """Say something to the built-in agent; return its answer."""
    result = await conversation.async_converse(
        hass, text, None, Context(), language="en"
    )
    return str(result.response.speech["plain"]["speech"])


@pytest.fixture
async def voice_everywhere(hass: HomeAssistant) -> None:
    """Set up what Assist needs: the intent and conversation integrations."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    assert await async_setup_component(hass, "intent", {})


@pytest.mark.usefixtures("voice_everywhere")
async def test_the_voice_blueprint_works_on_every_provider(
    live: LiveAccount, installed: list[ServiceCall]
) -> None:
    """Its own sentence transfers the live call; no account to choose."""
    await live.set_up()
    await add_destination(live.hass, live.entry, "Reception", **fields_of(live.case))
    await use_blueprint(live.hass, BY_VOICE, {})
    [only] = live.leave_live(1)

    answer = await converse(live.hass, "put the call through to reception")

    assert answer == "The call was transferred to Reception."
    assert live.sandbox.calls[only].transferred_to is not None


@pytest.mark.usefixtures("voice_everywhere")
async def test_the_voice_blueprint_covers_every_account(
    hass: HomeAssistant,
    sandbox: Sandbox,
    installed: list[ServiceCall],
    hass_url: str,  # Vobiz fetches the Dial XML of a number from Home Assistant
) -> None:
    """Made for no account in particular: a Bland AI and a Vobiz destination both work.

    The custom sentences keep working beside it, and each answer says why not.
    """
    vobiz = add_entry(hass, sandbox, "vobiz")
    bland = add_entry(hass, sandbox, "bland", options={"org_id": SANDBOX_BLAND_ORG_ID})
    await setup_entry(hass, vobiz)
    await add_destination(hass, bland, "On-call", number="+14155550102")
    await add_destination(hass, vobiz, "Reception", number="+14155550100")
    await use_blueprint(hass, BY_VOICE, {})

    answer = await converse(hass, "connect the caller to on-call")
    assert answer.startswith(
        f"I could not transfer the call to on-call: 2 calls are live on {bland.title}, "
        "so nothing was transferred: choose one under the account's Call to transfer"
    )
    [bland_call, second] = [
        c.call_id for c in sandbox.account_calls("bland", sandbox_key(sandbox))
    ]
    sandbox.end_call(second)
    # The blueprint's {destination} takes the rest of the sentence: the name is in it.
    assert await converse(hass, "connect the caller to on-call please") == (
        "The call was transferred to On-call."
    )
    assert sandbox.calls[bland_call].transferred_to == "+14155550102"
    assert await converse(hass, "put this call through to the kitchen") == (
        "I could not transfer the call to the kitchen: "
        "the kitchen is not a destination of any account."
    )
    # The built-in sentences still answer theirs, for the account that has the name.
    vobiz_calls = sandbox.account_calls("vobiz", next(iter(sandbox.accounts["vobiz"])))
    sandbox.end_call(vobiz_calls[1].call_id)
    assert await converse(hass, "transfer the call to reception") == (
        "The call was transferred to Reception."
    )
    assert sandbox.calls[vobiz_calls[0].call_id].transferred_to is not None


def sandbox_key(sandbox: Sandbox) -> str:
    """Return the sandbox's Bland AI account (its API key)."""
    return next(iter(sandbox.accounts["bland"]))
