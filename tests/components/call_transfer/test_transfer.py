"""What the recorder writes per transfer: the recorder's share is most of a transfer's cost."""

from __future__ import annotations

import json

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.db_schema import (
    EventData,
    Events,
    StateAttributes,
    States,
)
from homeassistant.components.recorder.util import session_scope
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from sandbox import SANDBOX_BLAND_CALL_ID, Sandbox
from tests.helpers.entries import setup_entry
from tests.helpers.hass import transfer

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
