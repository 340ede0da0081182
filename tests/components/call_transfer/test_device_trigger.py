"""Device triggers: a call started or ended, a transfer succeeded or failed, per account.

Through the automation component, as the automation editor saves them: the trigger's
event data reaches the automation, and another account's calls and transfers do not.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_get_device_automations,
)

from custom_components.call_transfer.const import DOMAIN
from sandbox import SANDBOX_BLAND_CALL_ID, SANDBOX_BLAND_ORG_ID, Sandbox
from tests.helpers.entries import add_entry, setup_entry
from tests.helpers.hass import transfer
from tests.helpers.live_calls import LiveAccount
from tests.helpers.provider_cases import PROVIDER_CASES

AUTOMATION_RAN = "call_transfer_test_automation_ran"
# What each automation passes on from its trigger.
TRIGGER_VARIABLES = {
    "platform": "{{ trigger.platform }}",
    "event_type": "{{ trigger.event.event_type }}",
    "call_id": "{{ trigger.event.data.call_id }}",
    "error": "{{ trigger.event.data.error | default('') }}",
}


def account_device(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """Return the id of the account's service device."""
    [device] = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return device.id


async def set_up_device_automations(
    hass: HomeAssistant, device_id: str, *trigger_types: str
) -> list[Any]:
    """Run an automation per device trigger type, as the editor saves them.

    Return the events they fire, each with the trigger's variables and its type.
    """
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": trigger_type,
                    "trigger": {
                        "platform": "device",
                        "domain": DOMAIN,
                        "device_id": device_id,
                        "type": trigger_type,
                    },
                    "action": {
                        "event": AUTOMATION_RAN,
                        "event_data": {"type": trigger_type, **TRIGGER_VARIABLES},
                    },
                }
                for trigger_type in trigger_types
            ]
        },
    )
    await hass.async_block_till_done()
    return async_capture_events(hass, AUTOMATION_RAN)


async def listed_triggers(hass: HomeAssistant, device_id: str) -> list[str]:
    """Return the types of the integration's triggers the device offers."""
    triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, device_id
    )
    for trigger in triggers:
        if trigger["domain"] == DOMAIN:
            assert trigger == {
                "platform": "device",
                "domain": DOMAIN,
                "device_id": device_id,
                "type": trigger["type"],
                "metadata": {},
            }
    return [trigger["type"] for trigger in triggers if trigger["domain"] == DOMAIN]


async def test_calls_are_offered_where_they_are_listed(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """Transfers always; calls once an organization ID lists them, and not unloaded."""
    transfers = ["transfer_succeeded", "transfer_failed"]
    await setup_entry(hass, bland_entry)
    device_id = account_device(hass, bland_entry)
    assert await listed_triggers(hass, device_id) == transfers

    hass.config_entries.async_update_entry(
        bland_entry, options={"org_id": SANDBOX_BLAND_ORG_ID, "scan_interval": 10}
    )
    await hass.async_block_till_done()
    assert await listed_triggers(hass, device_id) == [
        "call_started",
        "call_ended",
        *transfers,
    ]

    assert await hass.config_entries.async_unload(bland_entry.entry_id)
    assert await listed_triggers(hass, device_id) == transfers


async def test_calls_starting_and_ending_run_the_automations(
    live: LiveAccount,
) -> None:
    """The call's id (and the rest of the event data) is the trigger's."""
    await live.set_up()
    ran = await set_up_device_automations(
        live.hass, account_device(live.hass, live.entry), "call_started", "call_ended"
    )

    call = await live.start_call()
    await live.poll()
    live.sandbox.end_call(call.call_id)
    await live.poll()

    assert [event.data for event in ran] == [
        {
            "type": "call_started",
            "platform": "device",
            "event_type": "call_transfer_call_started",
            "call_id": call.call_id,
            "error": "",
        },
        {
            "type": "call_ended",
            "platform": "device",
            "event_type": "call_transfer_call_ended",
            "call_id": call.call_id,
            "error": "",
        },
    ]


async def test_transfers_run_the_automations_of_their_account_only(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """A Bland transfer runs the Bland device's automations; a Vobiz one does not."""
    vobiz_entry = add_entry(hass, sandbox, "vobiz")
    await setup_entry(hass, bland_entry)
    ran = await set_up_device_automations(
        hass,
        account_device(hass, bland_entry),
        "transfer_succeeded",
        "transfer_failed",
    )

    vobiz, bland = PROVIDER_CASES["vobiz"], PROVIDER_CASES["bland"]
    await transfer(hass, config_entry_id=vobiz_entry.entry_id, **vobiz.transfer)
    await transfer(hass, config_entry_id=bland_entry.entry_id, **bland.transfer)
    sandbox.end_call(bland.call_id)
    with pytest.raises(HomeAssistantError):
        await transfer(hass, config_entry_id=bland_entry.entry_id, **bland.transfer)
    await hass.async_block_till_done()

    assert [event.data for event in ran] == [
        {
            "type": "transfer_succeeded",
            "platform": "device",
            "event_type": "call_transfer_succeeded",
            "call_id": SANDBOX_BLAND_CALL_ID,
            "error": "",
        },
        {
            "type": "transfer_failed",
            "platform": "device",
            "event_type": "call_transfer_failed",
            "call_id": SANDBOX_BLAND_CALL_ID,
            "error": "call_not_found",
        },
    ]


async def test_a_deleted_account_leaves_its_automation_off(
    hass: HomeAssistant, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Turned on again after its account was deleted, the automation says why it cannot."""
    entry = add_entry(hass, sandbox, "plivo")
    await setup_entry(hass, entry)
    device_id = account_device(hass, entry)
    await set_up_device_automations(hass, device_id, "transfer_failed")
    await hass.services.async_call(
        "automation", "turn_off", {"entity_id": "automation.transfer_failed"}, True
    )
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    await hass.services.async_call(
        "automation", "turn_on", {"entity_id": "automation.transfer_failed"}, True
    )

    assert f"Unknown device {device_id}" in caplog.text
