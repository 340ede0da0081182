"""Transfer a sandbox call through a real ``hass`` process and its public APIs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
import os
from pathlib import Path
import socket
import sys

import aiohttp
import pytest

from sandbox import SANDBOX_BLAND_CALL_ID, Sandbox

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_INSTANCE = REPO_ROOT / "scripts" / "dev_instance.py"
# The dev instance's own configuration (scripts/develop), so this test proves that it
# loads the integration cleanly; only the port differs (HASS_PORT).
DEV_CONFIGURATION = REPO_ROOT / "config" / "configuration.yaml"
STARTUP_TIMEOUT = 120
# Home Assistant's own complaints about this machine, not about the integration.
ENVIRONMENT_ERRORS = (
    "Error loading libturbojpeg; Camera snapshot performance will be sub-optimal",
    "FFmpeg fails [Errno 2] No such file or directory: 'ffmpeg'",
)


@dataclass
class RunningHomeAssistant:
    """A started Home Assistant and an access token for its API."""

    url: str
    token: str
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _run(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), STARTUP_TIMEOUT)
    assert process.returncode == 0, output.decode()
    return output.decode()


@pytest.fixture
async def home_assistant(
    tmp_path: Path, sandbox: Sandbox
) -> AsyncIterator[RunningHomeAssistant]:
    """Start hass on a free loopback port and prepare it with scripts/dev_instance.py."""
    config = tmp_path / "config"
    config.mkdir()
    port = _free_port()
    (config / "configuration.yaml").write_text(DEV_CONFIGURATION.read_text())
    (config / "custom_components").symlink_to(REPO_ROOT / "custom_components")
    await _run(sys.executable, str(DEV_INSTANCE), "prepare", "--config", str(config))
    log = tmp_path / "hass.log"
    with log.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "homeassistant",
            "--config",
            str(config),
            "--skip-pip",
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
            env=os.environ | {"PYTHONPATH": str(REPO_ROOT), "HASS_PORT": str(port)},
        )
    url = f"http://127.0.0.1:{port}"
    token_file = tmp_path / "token"
    try:
        await _run(
            sys.executable,
            str(DEV_INSTANCE),
            "connect",
            "--hass",
            url,
            "--sandbox",
            f"http://127.0.0.1:{sandbox.port}",
            "--timeout",
            str(STARTUP_TIMEOUT),
            "--token-file",
            str(token_file),
        )
        yield RunningHomeAssistant(url=url, token=token_file.read_text(), log=log)
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def test_transfer_via_rest_api_and_event_over_websocket(
    home_assistant: RunningHomeAssistant, sandbox: Sandbox
) -> None:
    """The README's path: the action over REST with its response, the event over WebSocket."""
    headers = {"Authorization": f"Bearer {home_assistant.token}"}
    async with aiohttp.ClientSession(home_assistant.url, headers=headers) as session:
        async with session.get(
            "/api/config/config_entries/entry?domain=call_transfer"
        ) as resp:
            entries = {
                entry["title"].split(" (")[0]: entry for entry in await resp.json()
            }
        assert {entry["state"] for entry in entries.values()} == {"loaded"}
        bland_entry_id = entries["Bland AI"]["entry_id"]

        async with session.ws_connect("/api/websocket") as websocket:
            assert (await websocket.receive_json())["type"] == "auth_required"
            await websocket.send_json(
                {"type": "auth", "access_token": home_assistant.token}
            )
            assert (await websocket.receive_json())["type"] == "auth_ok"
            await websocket.send_json(
                {
                    "id": 1,
                    "type": "subscribe_events",
                    "event_type": "call_transfer_succeeded",
                }
            )
            assert (await websocket.receive_json())["success"]

            async with session.post(
                "/api/services/call_transfer/transfer?return_response",
                json={
                    "config_entry_id": bland_entry_id,
                    "call_id": SANDBOX_BLAND_CALL_ID,
                    "to": "415 555 0100",
                },
            ) as resp:
                assert resp.status == 200, await resp.text()
                body = await resp.json()

            event = await asyncio.wait_for(websocket.receive_json(), 10)

        # What the automation editor does when a user saves an automation made from
        # the project's blueprint: it must load (the dev configuration !includes it).
        async with session.post(
            "/api/config/automation/config/front_desk_closed",
            json={
                "alias": "Front desk closed",
                "use_blueprint": {
                    "path": "call_transfer/transfer_call_on_trigger.yaml",
                    "input": {
                        "trigger_entity": "input_boolean.front_desk_closed",
                        "account": bland_entry_id,
                        "call_id_entity": "input_text.current_call",
                        "destination": "+14155550100",
                    },
                },
            },
        ) as resp:
            assert resp.status == 200, await resp.text()
        # The editor's save reloads the automations in the background.
        async with asyncio.timeout(10):
            while True:
                async with session.get(
                    "/api/states/automation.front_desk_closed"
                ) as resp:
                    if resp.status == 200:
                        assert (await resp.json())["state"] == "on"
                        break
                await asyncio.sleep(0.2)

    response = body["service_response"]
    assert response["provider"] == "bland"
    assert response["to"] == "+14155550100"
    assert response["request_id"]
    assert event["event"]["data"]["entity_id"].startswith("event.bland_ai_")
    assert event["event"]["event_type"] == "call_transfer_succeeded"
    assert event["event"]["data"] == {
        "config_entry_id": bland_entry_id,
        "entity_id": event["event"]["data"]["entity_id"],
        "provider": "bland",
        "call_id": SANDBOX_BLAND_CALL_ID,
        "to": "+14155550100",
        "legs": None,
        "message": response["message"],
        "request_id": response["request_id"],
    }
    assert sandbox.calls[SANDBOX_BLAND_CALL_ID].transferred_to == "+14155550100"
    log = home_assistant.log.read_text()
    errors = [
        line
        for line in log.splitlines()
        if " ERROR " in line and not line.endswith(ENVIRONMENT_ERRORS)
    ]
    assert errors == [], log
    assert "custom_components/call_transfer" not in log  # in no traceback
    assert "Detected blocking call" not in log, log
