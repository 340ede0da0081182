"""Transfer a sandbox call through a real ``hass`` process and its public APIs."""

from __future__ import annotations

import asyncio

import aiohttp

from sandbox import (
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_PLIVO_APP_ID,
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_VOBIZ_APP_ID,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_CALL_ID,
    LegResult,
    Sandbox,
)

from .conftest import RunningHomeAssistant, log_errors


async def test_transfer_via_rest_api_and_event_over_websocket(
    home_assistant: RunningHomeAssistant, sandbox: Sandbox
) -> None:
    """The action over REST with its response, the event over WebSocket (docs/actions.md).

    Bland transfers to a number in its request; Vobiz fetches the Dial XML from this
    Home Assistant's webhook (its external URL, on loopback).
    """
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
        # dev_instance.py gave the Bland AI account its org id and the Telnyx account its
        # connection id: every account lists its live calls.
        async with session.get("/api/states") as resp:
            states = await resp.json()
        active_calls = [
            state["state"]
            for state in states
            if state["entity_id"].endswith("_active_calls")
        ]
        assert active_calls == ["2"] * len(entries)
        # Two destinations per account, each with its button (available: calls are live).
        buttons = [
            state for state in states if state["entity_id"].startswith("button.")
        ]
        assert len(buttons) == 2 * len(entries)
        assert {state["state"] for state in buttons} == {"unknown"}

        async with session.ws_connect("/api/websocket") as websocket:
            assert (await websocket.receive_json())["type"] == "auth_required"
            await websocket.send_json(
                {"type": "auth", "access_token": home_assistant.token}
            )
            assert (await websocket.receive_json())["type"] == "auth_ok"
            # The Overview is Home Assistant's own (none saved): it shows every
            # destination button, and each account's Call to transfer, by their names.
            await websocket.send_json({"id": 1, "type": "lovelace/config"})
            overview = await websocket.receive_json()
            assert overview["error"]["code"] == "config_not_found"
            chosen = [
                state["state"]
                for state in states
                if state["entity_id"].endswith("_call_to_transfer")
            ]
            # Two calls live on each, none chosen: the select asks to choose one.
            assert chosen == ["choose_a_call"] * len(entries)
            await websocket.send_json(
                {
                    "id": 2,
                    "type": "subscribe_events",
                    "event_type": "call_transfer_succeeded",
                }
            )
            assert (await websocket.receive_json())["success"]
            # dev_instance.py turned Vobiz's instant call events on: the sandbox tells
            # whether the number a call was transferred to answered.
            await websocket.send_json(
                {
                    "id": 3,
                    "type": "subscribe_events",
                    "event_type": "call_transfer_transfer_answered",
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

            # Vobiz to a number: the sandbox fetches the Dial XML from this Home Assistant.
            async with session.post(
                "/api/services/call_transfer/transfer?return_response",
                json={
                    "config_entry_id": entries["Vobiz"]["entry_id"],
                    "call_id": SANDBOX_VOBIZ_CALL_ID,
                    "to": "415 555 0100",
                },
            ) as resp:
                assert resp.status == 200, await resp.text()
                vobiz_response = (await resp.json())["service_response"]
            vobiz_events = {}
            async with asyncio.timeout(10):
                while len(vobiz_events) < 2:
                    message = await websocket.receive_json()
                    vobiz_events[message["id"]] = message
            vobiz_event = vobiz_events[2]

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
    await sandbox.fetches_settled()

    assert vobiz_response["to"] == "+14155550100"
    answered = vobiz_events[3]["event"]["data"]
    assert (answered["call_id"], answered["to"]) == (
        SANDBOX_VOBIZ_CALL_ID,
        "+14155550100",
    )
    # Home Assistant set each sandbox application's hangup URL to its callback URL.
    for application in (
        sandbox.vobiz_accounts[SANDBOX_VOBIZ_AUTH_ID].applications[
            SANDBOX_VOBIZ_APP_ID
        ],
        sandbox.plivo_accounts[SANDBOX_PLIVO_AUTH_ID].applications[
            SANDBOX_PLIVO_APP_ID
        ],
    ):
        assert application.hangup_url.startswith(f"{home_assistant.url}/api/webhook/")
    assert vobiz_event["event"]["data"]["to"] == "+14155550100"
    assert vobiz_event["event"]["data"]["legs"] == "aleg"
    [leg] = sandbox.calls[SANDBOX_VOBIZ_CALL_ID].outcomes
    assert leg.url.startswith(f"{home_assistant.url}/api/webhook/")
    assert leg.result is LegResult.DIALING
    assert leg.numbers == ("+14155550100",)

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
        "destination": None,
        "legs": None,
        "message": response["message"],
        "request_id": response["request_id"],
    }
    assert sandbox.calls[SANDBOX_BLAND_CALL_ID].transferred_to == "+14155550100"
    log = home_assistant.log.read_text()
    assert log_errors(home_assistant.log) == [], log
    assert "custom_components/call_transfer" not in log  # in no traceback
    assert "Detected blocking call" not in log, log
