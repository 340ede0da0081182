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
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from sandbox import SANDBOX_BLAND_CALL_ID, SANDBOX_VOBIZ_CALL_ID, Sandbox
from tests.helpers.entries import setup_entry
from tests.helpers.provider_cases import transfers_sent

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
import dev_instance  # noqa: E402

BLUEPRINT = "call_transfer/transfer_call_on_trigger.yaml"
LEG_URL = "https://xml.example.com/transfer/reception"


def test_prepare_installs_includes_and_blueprints(tmp_path: Path) -> None:
    """The !include files exist; the blueprints and Assist's sentences are installed."""
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
    sentences = "custom_sentences/en/call_transfer.yaml"
    assert (tmp_path / sentences).read_text() == (
        dev_instance.REPO_ROOT / "config" / sentences
    ).read_text()
    assert (tmp_path / ".storage" / "onboarding").exists()


async def test_blueprint_is_listed_for_the_automation_editor(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, tmp_path: Path
) -> None:
    """The UI lists the installed blueprint (Settings → Automations → Blueprints).

    Found in a browser: a linked folder was never looked into.
    """
    dev_instance.prepare(tmp_path)
    hass.config.config_dir = str(tmp_path)
    assert await async_setup_component(hass, "automation", {})
    client = await hass_ws_client()

    await client.send_json_auto_id({"type": "blueprint/list", "domain": "automation"})
    response = await client.receive_json()

    assert response["success"]
    blueprint = response["result"][BLUEPRINT]
    assert (
        blueprint["metadata"]["name"] == "Transfer a live call when an entity changes"
    )
    voice = response["result"]["call_transfer/voice_transfer.yaml"]
    assert voice["metadata"]["name"] == "Transfer the live call by voice"


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


async def use_blueprint(hass: HomeAssistant, path: str, inputs: dict[str, Any]) -> None:
    """Make an automation of an installed blueprint, as the automation editor saves it."""
    automation = {"use_blueprint": {"path": path, "input": inputs}}
    assert await async_setup_component(hass, "automation", {"automation": automation})


async def run_blueprint(
    hass: HomeAssistant, entry: MockConfigEntry, call_id: str, **inputs: Any
) -> None:
    """Set up the account, use the blueprint in an automation, flip its trigger."""
    await setup_entry(hass, entry)
    await use_blueprint(
        hass,
        BLUEPRINT,
        {
            "trigger_entity": "input_boolean.front_desk_closed",
            "account": entry.entry_id,
            "call_id_entity": "input_text.current_call",
            "notify_action": "test.notify",
        }
        | inputs,
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


@pytest.mark.parametrize(
    ("account", "call_id", "inputs", "sent_path", "sent"),
    [
        (
            "bland_entry",
            SANDBOX_BLAND_CALL_ID,
            {"destination": "+14155550100"},
            "/v1/calls/active/transfer",
            {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": "+14155550100"},
        ),
        (
            "vobiz_entry",
            SANDBOX_VOBIZ_CALL_ID,
            {"leg_url": LEG_URL},
            f"/Call/{SANDBOX_VOBIZ_CALL_ID}/",
            {"legs": "aleg", "aleg_url": LEG_URL, "aleg_method": "POST"},
        ),
    ],
)
async def test_transfers_to_a_number_or_a_leg_url(
    request: pytest.FixtureRequest,
    sandbox: Sandbox,
    notifications: list[ServiceCall],
    account: str,
    call_id: str,
    inputs: dict[str, str],
    sent_path: str,
    sent: dict[str, str],
) -> None:
    """Each kind of provider gets what it transfers to, and nothing else."""
    hass: HomeAssistant = request.getfixturevalue("hass")
    await run_blueprint(hass, request.getfixturevalue(account), call_id, **inputs)

    [request_sent] = transfers_sent(sandbox)
    assert request_sent.path.endswith(sent_path)
    assert request_sent.json == sent
    assert notifications == []


@pytest.mark.parametrize(
    ("call_has_ended", "destination", "reason"),
    [
        # Refused by the provider: its reason, from the account's Transfers entity.
        (
            True,
            "+14155550100",
            (
                f"Call with id {SANDBOX_BLAND_CALL_ID} not found or has already"
                " been completed."
            ),
        ),
        # Refused by the action before anything was sent: where to look.
        (
            False,
            "call me maybe",
            (
                "the action refused its input (check the destination, the leg URL"
                " and the call id); see Settings → System → Logs"
            ),
        ),
    ],
)
async def test_failure_notice_gives_the_reason(
    hass: HomeAssistant,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
    notifications: list[ServiceCall],
    call_has_ended: bool,
    destination: str,
    reason: str,
) -> None:
    """A failed transfer is notified, saying why."""
    if call_has_ended:
        sandbox.end_call(SANDBOX_BLAND_CALL_ID)

    await run_blueprint(
        hass, bland_entry, SANDBOX_BLAND_CALL_ID, destination=destination
    )

    [notice] = notifications
    assert notice.data == {
        "title": "Call transfer failed",
        "message": f"The call {SANDBOX_BLAND_CALL_ID} could not be transferred: {reason}",
    }
