"""Saving options, reconfiguring or reauthenticating an account replays no event.

A reload takes an account's entities away and brings them back: each event entity goes
``unavailable``, then back to its last event (restored), and the logbook, the history
and state triggers took that for new events (the "event received" trigger of newer
Home Assistant ignores changes from ``unavailable``). These changes are applied to the
loaded account instead, so its event entities keep their state; what users automate on
and read in the logbook is checked here with the real automation, recorder and logbook
components.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.util import find_spec
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
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
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.call_transfer.const import DOMAIN, EVENT_CALL_STARTED
from sandbox import (
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TWILIO_API_KEY_SECRET,
    SANDBOX_TWILIO_API_KEY_SID,
    Sandbox,
)
from tests.helpers.entries import add_entry, form_input, setup_entry
from tests.helpers.hass import transfer
from tests.helpers.provider_cases import PROVIDER_CASES, twilio_data

AUTOMATION_RAN = "call_transfer_test_automation_ran"
# Newer Home Assistant (2026.10 on the latest leg) offers "event received" triggers.
HAS_EVENT_RECEIVED_TRIGGER = find_spec("homeassistant.components.event.trigger")


def automations(
    hass: HomeAssistant, entry: MockConfigEntry, transfers: str, calls: str | None
) -> dict[str, dict[str, Any]]:
    """Return the triggers users put on the account's calls and transfers, by name.

    On the event entities: a state trigger as written by hand (also with ``not_from``,
    and with ``not_to`` too, ``unavailable``), the attribute trigger the automation
    editor builds from the entity's event type, and where Home Assistant has it, the
    editor's "event received" trigger. The account device's triggers.
    """
    [device] = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)

    def device_trigger(trigger_type: str) -> dict[str, str]:
        return {
            "platform": "device",
            "domain": DOMAIN,
            "device_id": device.id,
            "type": trigger_type,
        }

    triggers: dict[str, dict[str, Any]] = {
        "transfers state": {"platform": "state", "entity_id": transfers},
        "transfers state not from unavailable": {
            "platform": "state",
            "entity_id": transfers,
            "not_from": ["unavailable"],
        },
        "transfers state not from or to unavailable": {
            "platform": "state",
            "entity_id": transfers,
            "not_from": ["unavailable"],
            "not_to": ["unavailable"],
        },
        "transfers device trigger": device_trigger("transfer_succeeded"),
        "transfers event type": {
            "platform": "state",
            "entity_id": transfers,
            "attribute": "event_type",
            "to": "succeeded",
        },
    }
    if calls is not None:
        triggers["calls state"] = {"platform": "state", "entity_id": calls}
        triggers["calls device trigger"] = device_trigger("call_started")
    if HAS_EVENT_RECEIVED_TRIGGER:
        triggers["transfers event received"] = {
            "trigger": "event.received",
            "target": {"entity_id": transfers},
            "options": {"event_type": ["succeeded", "failed"]},
        }
        if calls is not None:
            triggers["calls event received"] = {
                "trigger": "event.received",
                "target": {"entity_id": calls},
                "options": {"event_type": ["started", "ended"]},
            }
    return triggers


async def set_up_automations(hass: HomeAssistant, triggers: dict[str, Any]) -> None:
    """Run one automation per trigger; each fires AUTOMATION_RAN with its name."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": name,
                    "trigger": trigger,
                    "action": {"event": AUTOMATION_RAN, "event_data": {"name": name}},
                }
                for name, trigger in triggers.items()
            ]
        },
    )
    await hass.async_block_till_done()


def event_entity_id(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str:
    """Return the entity id of one of the account's event entities."""
    entity_id = er.async_get(hass).async_get_entity_id(
        "event", DOMAIN, f"{entry.entry_id}_{key}"
    )
    assert entity_id is not None
    return entity_id


async def save_options(
    hass: HomeAssistant, entry: MockConfigEntry, options: dict[str, Any]
) -> None:
    """Save the account's options through its options flow, as the UI does."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()


async def reconfigure_to_api_key(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """Move the Twilio account from its auth token to an API key, then revoke the token."""
    result = await entry.start_reconfigure_flow(hass)
    data = twilio_data(
        sandbox,
        api_key_sid=SANDBOX_TWILIO_API_KEY_SID,
        secret=SANDBOX_TWILIO_API_KEY_SECRET,
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(data)
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    sandbox.twilio_accounts[entry.data["account_sid"]].auth_token = "rolled-over"


async def roll_token_over(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """Roll the Twilio token over elsewhere; the next poll starts a reauth."""
    sandbox.twilio_accounts[entry.data["account_sid"]].auth_token = "rolled-over"
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


async def reauthenticate(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """Give the reauth flow the new token."""
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"secret": "rolled-over"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.runtime_data.coordinator.last_update_success


type Step = Callable[[HomeAssistant, MockConfigEntry, Sandbox], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class Change:
    """What a user changes on a loaded account (after what), and what is watched.

    The Calls entity is not watched where it comes or goes with the change, nor after
    a failed poll: it is unavailable until the next poll works.
    """

    provider: str
    options: dict[str, Any]
    apply: Step
    before: Step | None = None
    watch_calls: bool = True


CHANGES = {
    "options": Change(
        provider="twilio",
        options={},
        apply=lambda hass, entry, _: save_options(
            hass, entry, {"caller_id": "+14155550123", "scan_interval": 20}
        ),
    ),
    "reconfigure": Change(provider="twilio", options={}, apply=reconfigure_to_api_key),
    "reauth": Change(
        provider="twilio",
        options={},
        before=roll_token_over,
        apply=reauthenticate,
        watch_calls=False,
    ),
    "options of an account that lists no calls": Change(
        provider="bland",
        options={},
        apply=lambda hass, entry, _: save_options(hass, entry, {"scan_interval": 20}),
        watch_calls=False,
    ),
    # Develop's start, and a user making a Bland account list its calls.
    "org id set": Change(
        provider="bland",
        options={},
        apply=lambda hass, entry, _: save_options(
            hass, entry, {"org_id": SANDBOX_BLAND_ORG_ID, "scan_interval": 10}
        ),
        watch_calls=False,
    ),
    "org id cleared": Change(
        provider="bland",
        options={"org_id": SANDBOX_BLAND_ORG_ID},
        apply=lambda hass, entry, _: save_options(hass, entry, {"scan_interval": 10}),
        watch_calls=False,
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
async def test_account_changes_replay_no_event(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    sandbox: Sandbox,
    change: str,
) -> None:
    """No state change, no logbook line and no automation run for the event entities.

    The automations do run for transfers before and after the change (made with the
    new credentials where they changed).
    """
    case = CHANGES[change]
    assert await async_setup_component(hass, "logbook", {})
    entry = add_entry(hass, sandbox, case.provider)
    hass.config_entries.async_update_entry(entry, options=case.options)
    await setup_entry(hass, entry)
    transfers = event_entity_id(hass, entry, "transfers")
    calls = event_entity_id(hass, entry, "calls") if case.watch_calls else None
    triggers = automations(hass, entry, transfers, calls)
    await set_up_automations(hass, triggers)
    ran = async_capture_events(hass, AUTOMATION_RAN)
    provider_case = PROVIDER_CASES[case.provider]
    await transfer(hass, **provider_case.transfer)
    await hass.async_block_till_done()
    assert {event.data["name"] for event in ran} == {
        name for name in triggers if name.startswith("transfers")
    }
    ran.clear()
    watched = {transfers, calls} - {None}
    changed: list[Event] = []

    @callback
    def record(event: Event) -> None:
        if event.data["entity_id"] in watched:
            changed.append(event)

    if case.before is not None:
        await case.before(hass, entry, sandbox)
    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    start = dt_util.utcnow()

    await case.apply(hass, entry, sandbox)

    assert entry.state is ConfigEntryState.LOADED
    assert changed == []
    assert ran == []
    await async_wait_recording_done(hass)
    client = await hass_ws_client()
    await client.send_json_auto_id(
        {
            "type": "logbook/get_events",
            "start_time": start.isoformat(),
            "entity_ids": sorted(watched),
        }
    )
    response = await client.receive_json()
    assert response["success"]
    assert response["result"] == []

    # A failed transfer, then one that succeeds: each kind of trigger fires again.
    sandbox.end_call(provider_case.call_id)
    with pytest.raises(HomeAssistantError):
        await transfer(hass, **provider_case.transfer)
    call = sandbox.add_call(provider_case.provider, provider_case.account)
    await transfer(hass, **{**provider_case.transfer, "call_id": call.call_id})
    await hass.async_block_till_done()
    assert {
        event.data["name"]
        for event in ran
        if event.data["name"].startswith("transfers")
    } == {name for name in triggers if name.startswith("transfers")}


async def test_a_new_connection_is_a_new_baseline(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Another connection's calls did not just start, nor did the last one's end.

    Calls that start after the change are reported as usual.
    """
    account = sandbox.telnyx_accounts[SANDBOX_TELNYX_API_KEY]
    account.connections.add("other-connection")
    sandbox.add_call(
        "telnyx", SANDBOX_TELNYX_API_KEY, "v3:other", connection="other-connection"
    )
    entry = add_entry(hass, sandbox, "telnyx")
    hass.config_entries.async_update_entry(
        entry, options={"connection_id": SANDBOX_TELNYX_CONNECTION_ID}
    )
    await setup_entry(hass, entry)
    started = async_capture_events(hass, EVENT_CALL_STARTED)
    ended = async_capture_events(hass, "call_transfer_call_ended")
    calls = event_entity_id(hass, entry, "calls")
    before = hass.states.get(calls)

    await save_options(
        hass, entry, {"connection_id": "other-connection", "scan_interval": 10}
    )

    assert started == ended == []
    assert hass.states.get(calls) == before
    sensor = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}_active_calls"
    )
    assert hass.states.get(sensor).state == "1"

    sandbox.add_call(
        "telnyx", SANDBOX_TELNYX_API_KEY, "v3:newer", connection="other-connection"
    )
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert [event.data["call_id"] for event in started] == ["v3:newer"]


async def test_refused_credentials_changed_without_a_check_ask_for_reauth(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Credentials no flow checked, which the provider refuses: the setup's reauth.

    The account is reloaded, so its setup tells as usual (reauthenticate, or retry
    while the provider cannot be reached).
    """
    entry = add_entry(hass, sandbox, "twilio")
    await setup_entry(hass, entry)

    hass.config_entries.async_update_entry(
        entry, data=twilio_data(sandbox, secret="not-the-token")
    )
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.SETUP_ERROR
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == "reauth"


async def test_a_reload_asked_for_is_seen_by_state_triggers_only(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """The account's Reload (its menu) still takes the entities away and back.

    As for every integration: state triggers on the event entities see it (unless they
    leave out both ``unavailable`` transitions); the device triggers, and the "event
    received" triggers of newer Home Assistant, do not.
    """
    entry = add_entry(hass, sandbox, "twilio")
    await setup_entry(hass, entry)
    await transfer(hass, **PROVIDER_CASES["twilio"].transfer)
    transfers = event_entity_id(hass, entry, "transfers")
    calls = event_entity_id(hass, entry, "calls")
    await set_up_automations(hass, automations(hass, entry, transfers, calls))
    ran = async_capture_events(hass, AUTOMATION_RAN)

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    assert {event.data["name"] for event in ran} == {
        "transfers state",
        "transfers state not from unavailable",
        "transfers event type",
        "calls state",
    }
