"""The dev instance's Overview is Home Assistant's own, also on a config an older version left."""

from __future__ import annotations

from typing import Any

import aiohttp

from sandbox import Sandbox

from .conftest import RunningHomeAssistant, run_dev_instance


async def lovelace(
    home_assistant: RunningHomeAssistant, command: dict[str, Any]
) -> dict[str, Any]:
    """Send one lovelace command over the websocket API; return the answer."""
    async with (
        aiohttp.ClientSession(home_assistant.url) as session,
        session.ws_connect("/api/websocket") as websocket,
    ):
        await websocket.receive_json()
        await websocket.send_json(
            {"type": "auth", "access_token": home_assistant.token}
        )
        assert (await websocket.receive_json())["type"] == "auth_ok"
        await websocket.send_json({"id": 1, **command})
        answer: dict[str, Any] = await websocket.receive_json()
        return answer


async def test_an_overview_an_older_version_saved_is_removed(
    home_assistant: RunningHomeAssistant, sandbox: Sandbox
) -> None:
    """Its fixed labels hid renames and new destinations; one saved in the UI is kept."""
    connect = (
        "connect",
        "--hass",
        home_assistant.url,
        "--sandbox",
        f"http://127.0.0.1:{sandbox.port}",
    )
    old = {"title": "Call Transfer dev", "views": [{"title": "Calls", "cards": []}]}
    await lovelace(home_assistant, {"type": "lovelace/config/save", "config": old})

    await run_dev_instance(*connect)

    answer = await lovelace(home_assistant, {"type": "lovelace/config"})
    assert answer["error"]["code"] == "config_not_found"
    mine = {"title": "My calls", "views": [{"title": "Calls", "cards": []}]}
    await lovelace(home_assistant, {"type": "lovelace/config/save", "config": mine})
    await run_dev_instance(*connect)
    answer = await lovelace(home_assistant, {"type": "lovelace/config"})
    assert answer["result"] == mine
