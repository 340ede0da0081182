"""The project's automation blueprint, installed as the dev instance installs it."""

from __future__ import annotations

from pathlib import Path
import sys
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)

from sandbox import SANDBOX_BLAND_CALL_ID, SANDBOX_VOBIZ_CALL_ID, Sandbox

from .conftest import setup_entry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import dev_instance  # noqa: E402

BLUEPRINT = "call_transfer/transfer_call_on_trigger.yaml"
LEG_URL = "https://xml.example.com/transfer/reception"


def test_prepare_installs_includes_and_blueprints(tmp_path: Path) -> None:
    """The dev configuration's !include files exist and the blueprints are installed."""
    dev_instance.prepare(tmp_path)
    (tmp_path / "automations.yaml").write_text("- id: kept\n")
    dev_instance.prepare(tmp_path)  # a second start keeps what the UI saved

    assert (tmp_path / "automations.yaml").read_text() == "- id: kept\n"
    assert (tmp_path / "scripts.yaml").read_text() == ""
    assert (tmp_path / "scenes.yaml").read_text() == ""
    installed = tmp_path / "blueprints" / "automation" / BLUEPRINT
    assert (
        installed.read_text()
        == (
            dev_instance.REPO_ROOT / "blueprints" / "automation" / BLUEPRINT
        ).read_text()
    )
    assert (tmp_path / ".storage" / "onboarding").exists()


@pytest.fixture
async def notifications(hass: HomeAssistant, tmp_path: Path) -> list[ServiceCall]:
    """Install the blueprint in a config dir and set up the helpers it reads."""
    dev_instance.prepare(tmp_path)
    hass.config.config_dir = str(tmp_path)
    assert await async_setup_component(
        hass,
        "input_text",
        {"input_text": {"current_call": {"name": "Current call"}}},
    )
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"front_desk_closed": {}}}
    )
    return async_mock_service(hass, "test", "notify")


async def run_blueprint(
    hass: HomeAssistant, entry: MockConfigEntry, call_id: str, **inputs: Any
) -> None:
    """Use the blueprint in an automation, then flip its trigger."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "use_blueprint": {
                    "path": BLUEPRINT,
                    "input": {
                        "trigger_entity": "input_boolean.front_desk_closed",
                        "account": entry.entry_id,
                        "call_id_entity": "input_text.current_call",
                        "notify_action": "test.notify",
                    }
                    | inputs,
                }
            }
        },
    )
    await hass.services.async_call(
        "input_text",
        "set_value",
        {"entity_id": "input_text.current_call", "value": call_id},
        blocking=True,
    )
    await hass.services.async_call(
        "input_boolean",
        "turn_on",
        {"entity_id": "input_boolean.front_desk_closed"},
        blocking=True,
    )
    await hass.async_block_till_done()


async def test_transfers_to_a_number(
    hass: HomeAssistant,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
    notifications: list[ServiceCall],
) -> None:
    """A provider that transfers to numbers gets the destination."""
    await setup_entry(hass, bland_entry)

    await run_blueprint(
        hass, bland_entry, SANDBOX_BLAND_CALL_ID, destination="+14155550100"
    )

    assert sandbox.calls[SANDBOX_BLAND_CALL_ID].transferred_to == "+14155550100"
    assert notifications == []


async def test_transfers_a_leg_to_a_url(
    hass: HomeAssistant,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    notifications: list[ServiceCall],
) -> None:
    """A provider that points legs at call XML gets the leg URL, and nothing else."""
    await setup_entry(hass, vobiz_entry)

    await run_blueprint(hass, vobiz_entry, SANDBOX_VOBIZ_CALL_ID, leg_url=LEG_URL)

    [sent] = sandbox.requests_to(f"/Call/{SANDBOX_VOBIZ_CALL_ID}/")
    assert sent.json == {"legs": "aleg", "aleg_url": LEG_URL, "aleg_method": "POST"}
    assert notifications == []


async def test_failure_notice_gives_the_providers_reason(
    hass: HomeAssistant,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
    notifications: list[ServiceCall],
) -> None:
    """A transfer the provider refuses is notified with the provider's reason."""
    await setup_entry(hass, bland_entry)
    sandbox.end_call(SANDBOX_BLAND_CALL_ID)

    await run_blueprint(
        hass, bland_entry, SANDBOX_BLAND_CALL_ID, destination="+14155550100"
    )

    [notice] = notifications
    assert notice.data["title"] == "Call transfer failed"
    assert notice.data["message"] == (
        f"The call {SANDBOX_BLAND_CALL_ID} could not be transferred: Call with id"
        f" {SANDBOX_BLAND_CALL_ID} not found or has already been completed."
    )


async def test_failure_notice_when_the_action_refuses_its_input(
    hass: HomeAssistant,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
    notifications: list[ServiceCall],
) -> None:
    """Input the action refuses before sending is notified too, pointing at the log."""
    await setup_entry(hass, bland_entry)

    await run_blueprint(
        hass, bland_entry, SANDBOX_BLAND_CALL_ID, destination="call me maybe"
    )

    [notice] = notifications
    assert "the action refused its input" in notice.data["message"]
    assert sandbox.requests_to("/v1/calls/active/transfer") == []
