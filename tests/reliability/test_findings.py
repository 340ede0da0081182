"""One test per finding of the reliability probe (issue 12), driven as users drive it.

Each failed before its fix. Elsewhere, where they fit: #3 (leg URLs) and #12 (extensions,
impossible numbers) in tests/test_services.py's validation table, #4 (config flow) in
tests/test_config_flow.py, #7 (waiting for a connection) in tests/providers/test_http.py.
"""

from __future__ import annotations

import asyncio
import gc
import json
import tracemalloc
import zlib

from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.call_transfer.const import DOMAIN
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_VOBIZ_CALL_ID,
    Fault,
    FaultKind,
    Sandbox,
)
from tests.conftest import setup_entry

from .conftest import MAY_HAVE_HAPPENED, Accounts

BLAND_PATH = "/v1/calls/active/transfer"
VOBIZ_PATH = "/Call/"


def json_body(text: bytes) -> Fault:
    """Answer 200 with exactly these bytes, labelled as JSON."""
    return Fault(
        kind=FaultKind.RAW, body=text, headers={"Content-Type": "application/json"}
    )


# 1. A deeply nested JSON answer raised a raw RecursionError.
async def test_deeply_nested_answer_to_a_transfer_is_unreadable(
    accounts: Accounts,
) -> None:
    """40 kB of nested brackets: one failed event, translated error, may have happened."""
    nested = b"[" * 20_000 + b"]" * 20_000
    accounts.sandbox.add_fault(json_body(nested), path_contains=BLAND_PATH)

    with pytest.raises(HomeAssistantError) as raised:
        await accounts.transfer("bland")

    assert raised.value.translation_key == "transfer_unexpected_response"
    [event] = accounts.events["failed"]
    assert event.data["error"] == "unexpected_response"
    assert MAY_HAVE_HAPPENED in event.data["error_message"]


async def test_deeply_nested_answer_at_setup_retries_the_entry(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """The same answer to the credential check means: try again later."""
    sandbox.add_fault(
        json_body(b"[" * 20_000 + b"]" * 20_000), path_contains="/auth/me"
    )

    await setup_entry(hass, vobiz_entry)

    assert vobiz_entry.state is ConfigEntryState.SETUP_RETRY


# 2. A reload, reconfigure or reauth during a transfer emptied the in-progress guard.
@pytest.mark.parametrize("change", ["reload", "reconfigure", "reauth"])
async def test_transfer_in_progress_survives_entry_changes(
    accounts: Accounts, change: str
) -> None:
    """The same call cannot be transferred twice at once, whatever happens to the entry."""
    hass, sandbox, entry = accounts.hass, accounts.sandbox, accounts.bland
    loaded = entry.runtime_data
    latency = Fault(kind=FaultKind.LATENCY, delay=1.0)
    sandbox.add_fault(latency, path_contains=BLAND_PATH, times=1)
    first = hass.async_create_task(accounts.transfer("bland"))
    await accounts.wait_for_requests(BLAND_PATH)

    if change == "reload":
        assert await hass.config_entries.async_reload(entry.entry_id)
    else:
        reconfigure = change == "reconfigure"
        flow = await (
            entry.start_reconfigure_flow if reconfigure else entry.start_reauth_flow
        )(hass)
        answer = {"api_key": SANDBOX_BLAND_API_KEY}
        if reconfigure:
            answer["base_url"] = sandbox.bland_base_url
        result = await hass.config_entries.flow.async_configure(flow["flow_id"], answer)
        assert result["reason"] == f"{change}_successful"
    async with asyncio.timeout(10):
        while (
            entry.state is not ConfigEntryState.LOADED or entry.runtime_data is loaded
        ):
            await asyncio.sleep(0.01)

    with pytest.raises(ServiceValidationError) as raised:
        await accounts.transfer("bland")

    assert raised.value.translation_key == "transfer_in_progress"
    await first
    assert len(sandbox.requests_to(BLAND_PATH)) == 1
    assert len(accounts.events["succeeded"]) == 1


# 5. Provider text had no length limit: the recorder stored such an event as {}.
async def test_oversized_provider_text_is_capped_where_it_enters(
    recorder_mock: Recorder,
    accounts: Accounts,
    hass_ws_client: WebSocketGenerator,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """40 kB messages, success and failure: events, attributes and logbook stay whole."""
    hass, sandbox = accounts.hass, accounts.sandbox
    assert await async_setup_component(hass, "logbook", {})
    start = dt_util.utcnow()
    huge = "x" * 40_000
    success = json.dumps({"data": {"message": huge}}).encode()
    sandbox.add_fault(json_body(success), path_contains=BLAND_PATH, times=1)
    await accounts.transfer("bland")
    refusal = {"api_id": "a", "error": huge}
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=400, body=refusal), path_contains=VOBIZ_PATH
    )
    with pytest.raises(HomeAssistantError):
        await accounts.transfer("vobiz")
    await async_wait_recording_done(hass)

    entity_id = entity_registry.async_get_entity_id(
        "event", DOMAIN, f"{accounts.bland.entry_id}_transfers"
    )
    assert 0 < len(hass.states.get(entity_id).attributes["message"]) <= 500
    client = await hass_ws_client()
    await client.send_json(
        {"id": 1, "type": "logbook/get_events", "start_time": start.isoformat()}
    )
    response = await client.receive_json()
    assert response["success"], response
    lines = [e["message"] for e in response["result"] if e.get("domain") == DOMAIN]
    assert lines == [
        f"Call {SANDBOX_BLAND_CALL_ID} transferred to +1 415-555-0100",
        f"Transfer of call {SANDBOX_VOBIZ_CALL_ID} failed: the provider refused the request",
    ]
    assert "exceed maximum size" not in caplog.text


# 6. No response-size cap: a small gzip body inflating to 100 MB was read whole.
async def test_compressed_answer_inflating_to_100_mb_is_refused_early(
    accounts: Accounts,
) -> None:
    """The transfer fails as unreadable without ever holding the inflated body."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * 1_000_000
    bomb = b"".join(compressor.compress(zeros) for _ in range(100)) + compressor.flush()
    assert len(bomb) < 200_000
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    accounts.sandbox.add_fault(
        Fault(kind=FaultKind.RAW, body=bomb, headers=headers), path_contains=BLAND_PATH
    )

    tracemalloc.start()
    try:
        with pytest.raises(HomeAssistantError) as raised:
            await accounts.transfer("bland")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 20_000_000
    assert raised.value.translation_key == "transfer_unexpected_response"
    [event] = accounts.events["failed"]
    assert "too large" in event.data["error_message"]
    assert MAY_HAVE_HAPPENED in event.data["error_message"]


# 8. Home Assistant stopping during transfers left half of them without an event.
async def test_stopping_home_assistant_ends_each_transfer_in_one_event(
    accounts: Accounts,
) -> None:
    """Transfers started from the UI (background tasks) are cancelled at stop: each says so."""
    hass, sandbox = accounts.hass, accounts.sandbox
    call_ids = [f"stop-{index}" for index in range(5)]
    for call_id in call_ids:
        sandbox.add_call("bland", SANDBOX_BLAND_API_KEY, call_id)
    sandbox.add_fault(Fault(kind=FaultKind.LATENCY, delay=5), path_contains=BLAND_PATH)
    tasks = [
        hass.async_create_background_task(accounts.transfer("bland", call_id), call_id)
        for call_id in call_ids
    ]
    await accounts.wait_for_requests(BLAND_PATH, len(call_ids))

    await hass.async_stop()

    assert all(task.cancelled() for task in tasks)
    assert accounts.events["succeeded"] == []
    failed = accounts.events["failed"]
    assert sorted(event.data["call_id"] for event in failed) == call_ids
    for event in failed:
        assert event.data["error"] == "cancelled"
        assert MAY_HAVE_HAPPENED in event.data["error_message"]


# 9. A 401 arriving after the entry was removed logged "Task exception was never retrieved".
async def test_rejected_credentials_after_the_entry_was_removed(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    """The transfer still fails cleanly; no reauth is started for an entry that is gone."""
    hass = accounts.hass
    rejection = {"data": None, "errors": [{"error": "UNAUTHORIZED", "message": "no"}]}
    accounts.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=401, body=rejection, delay=0.5),
        path_contains=BLAND_PATH,
    )
    pending = hass.async_create_task(accounts.transfer("bland"))
    await accounts.wait_for_requests(BLAND_PATH)
    await hass.config_entries.async_remove(accounts.bland.entry_id)

    with pytest.raises(HomeAssistantError) as raised:
        await pending
    await hass.async_block_till_done()
    gc.collect()

    assert raised.value.translation_key == "transfer_invalid_auth"
    assert [e.data["error"] for e in accounts.events["failed"]] == ["invalid_auth"]
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert "never retrieved" not in caplog.text
    assert "UnknownEntry" not in caplog.text


# 10. Secrets were scrubbed from error messages only, not from success messages.
@pytest.mark.parametrize("provider", ["vobiz", "bland"])
async def test_secret_echoed_in_a_success_message_is_scrubbed(
    accounts: Accounts, hass_client: ClientSessionGenerator, provider: str
) -> None:
    """The API key, auth token or auth_secret never reaches the event, response or diagnostics."""
    if provider == "vobiz":
        secret, path, status = SANDBOX_VOBIZ_AUTH_SECRET, VOBIZ_PATH, 202
        answer = {"api_id": secret, "message": f"ok {secret}"}
        headers = {}
    else:
        secret, path, status = SANDBOX_BLAND_API_KEY, BLAND_PATH, 200
        answer = {"data": {"message": f"ok for {secret}"}}
        headers = {"x-request-id": secret}
    accounts.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=status, body=answer, headers=headers),
        path_contains=path,
    )
    entry = accounts.entry(provider)

    response = await accounts.transfer(provider)
    diagnostics = await get_diagnostics_for_config_entry(
        accounts.hass, hass_client, entry
    )

    [event] = accounts.events["succeeded"]
    for text in (str(response), str(event.data), json.dumps(diagnostics)):
        assert secret not in text
    assert response["message"].startswith("ok")


# 11. Diagnostics masked a number only in its exact E.164 form.
@pytest.mark.parametrize(
    "written",
    ["(415) 555-0100", "+1 415-555-0100", "415.555.0100", "+1 (415) 555 0100"],
)
async def test_diagnostics_mask_numbers_in_any_common_format(
    accounts: Accounts, hass_client: ClientSessionGenerator, written: str
) -> None:
    """A number a provider writes its own way keeps only its last four digits."""
    blocked = {"api_id": "r1", "error": f"Calls to {written} are blocked"}
    accounts.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=403, body=blocked), path_contains=VOBIZ_PATH
    )
    with pytest.raises(HomeAssistantError):
        await accounts.transfer("vobiz")

    diagnostics = await get_diagnostics_for_config_entry(
        accounts.hass, hass_client, accounts.vobiz
    )

    [failure] = diagnostics["recent_transfers"]
    assert failure["error_message"].startswith("Calls to ")
    assert "0100" in failure["error_message"]
    assert "415" not in failure["error_message"]
    assert "555" not in failure["error_message"]
