"""The project's automation blueprint, installed as the dev instance installs it."""

from __future__ import annotations

from pathlib import Path
import sys
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

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
    assert blueprint["metadata"]["name"] == "Transfer each new call to a destination"
    voice = response["result"]["call_transfer/voice_transfer.yaml"]
    assert voice["metadata"]["name"] == (
        "Transfer a live call by voice, in your own words"
    )


async def use_blueprint(hass: HomeAssistant, path: str, inputs: dict[str, Any]) -> None:
    """Make an automation of an installed blueprint, as the automation editor saves it."""
    automation = {"use_blueprint": {"path": path, "input": inputs}}
    assert await async_setup_component(hass, "automation", {"automation": automation})
