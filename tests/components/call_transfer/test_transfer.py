"""A transfer: what the recorder writes for it (most of its cost), and its deadline.

The deadline's time is the frozen clock of the test's Home Assistant (``freezer``), which
the event loop runs on too: the sandbox's DRIP fault sends an answer one byte per 0.5 s
of that clock, and the test moves the clock on step by step.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.db_schema import (
    EventData,
    Events,
    StateAttributes,
    States,
)
from homeassistant.components.recorder.util import session_scope
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from sandbox import SANDBOX_BLAND_CALL_ID, Fault, FaultKind, Sandbox
from tests.helpers.entries import setup_entry
from tests.helpers.hass import transfer
from tests.helpers.live_calls import REQUEST_DEADLINE, STEP, advance
from tests.helpers.provider_cases import ProviderCase, transfer_arrives

TABLES = (Events, EventData, States, StateAttributes)


def count_rows(hass: HomeAssistant) -> dict[str, int]:
    """Count the rows of the tables a transfer can write to."""
    with session_scope(hass=hass, read_only=True) as session:
        return {table.__tablename__: session.query(table).count() for table in TABLES}


def last_transfers_attributes(hass: HomeAssistant) -> dict[str, object]:
    """Return the recorded attributes of the Transfers entity's last state."""
    with session_scope(hass=hass, read_only=True) as session:
        state = session.query(States).order_by(States.state_id.desc()).first()
        attributes = session.get(StateAttributes, state.attributes_id)
        return json.loads(attributes.shared_attrs)


async def test_each_transfer_writes_one_event_and_one_state(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
) -> None:
    """Per transfer: the action, the transfer's event with its data, the entity's state.

    The entity's per-transfer attributes (call, number, message, request id) stay out of
    its recorded history, which the event already holds: its attributes row is shared.
    """
    await setup_entry(hass, bland_entry)
    await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, to="+14155550100")
    await async_wait_recording_done(hass)
    before = await recorder_mock.async_add_executor_job(count_rows, hass)

    for _ in range(3):
        await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, to="+14155550100")
    await async_wait_recording_done(hass)

    after = await recorder_mock.async_add_executor_job(count_rows, hass)
    assert {table: after[table] - before[table] for table in after} == {
        "events": 6,  # call_service and call_transfer_succeeded, three times
        "event_data": 3,  # the outcome's (new request id); the action's data is shared
        "states": 3,
        "state_attributes": 0,
    }
    attributes = await recorder_mock.async_add_executor_job(
        last_transfers_attributes, hass
    )
    assert attributes["event_type"] == "succeeded"
    assert not {"call_id", "to", "message", "request_id"} & set(attributes)


async def test_a_transfer_answered_a_byte_at_a_time_ends_at_its_deadline(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,  # before the sandbox: its timers run on the clock
    sandbox: Sandbox,
    entry: MockConfigEntry,
    case: ProviderCase,
    events: dict[str, list[Any]],
) -> None:
    """Issue 21, 1: the provider dripping its answer (status line onwards) ends at 20 s.

    The request was sent, so the transfer may have happened: it fails as a timeout
    that says so, in one event.
    """
    await setup_entry(hass, entry)
    sandbox.add_fault(
        Fault(kind=FaultKind.DRIP, delay=STEP), call_id=case.call_id, times=1
    )
    sent = transfer_arrives(sandbox)
    sending = asyncio.ensure_future(
        transfer(hass, config_entry_id=entry.entry_id, **case.transfer)
    )
    # Before sending, the number may be read with metadata loaded off the event loop.
    await sent.wait()

    passed = await advance(freezer, sending.done, limit=3 * REQUEST_DEADLINE)

    assert abs(passed - REQUEST_DEADLINE) <= STEP
    with pytest.raises(HomeAssistantError) as raised:
        sending.result()
    assert raised.value.translation_key == "transfer_timeout"
    error = (raised.value.translation_placeholders or {})["error"]
    assert "did not finish answering within 20 s" in error
    assert "the transfer may have happened" in error
    [failed] = events["failed"]
    assert failed.data["error"] == "timeout"
    assert events["succeeded"] == []
