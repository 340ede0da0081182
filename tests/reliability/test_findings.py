"""One test per finding of the reliability probe (issue 12), driven as users drive it.

Each failed before its fix; those about what providers send run on every provider.
Elsewhere, where they fit: #3 (leg URLs) and #12 (extensions, impossible numbers) in
tests/components/call_transfer/test_services.py's validation table, #4 (config flow) in its test_config_flow.py,
#7 (waiting for a connection) in tests/providers/test_http.py.
"""

from __future__ import annotations

import asyncio
import gc
import json
import tracemalloc
from typing import Any
import zlib

from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
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
from custom_components.call_transfer.providers import PROVIDERS
from sandbox import Fault, FaultKind, Sandbox
from tests.helpers.entries import setup_entry
from tests.helpers.hass import transfer
from tests.helpers.provider_cases import PROVIDER_CASES, ProviderCase, transfers_sent

from .conftest import MAY_HAVE_HAPPENED, Accounts, sent_per_call

# The reliability suite.
pytestmark = pytest.mark.slow

NOTHING_SENT = "nothing was sent"


def json_body(text: bytes) -> Fault:
    """Answer 200 with exactly these bytes, labelled as JSON."""
    return Fault(
        kind=FaultKind.RAW, body=text, headers={"Content-Type": "application/json"}
    )


# 1. A deeply nested JSON answer raised a raw RecursionError.
async def test_deeply_nested_answer_to_a_transfer_is_unreadable(
    accounts: Accounts, provider: str
) -> None:
    """40 kB of nested brackets: one failed event, translated error, may have happened."""
    nested = b"[" * 20_000 + b"]" * 20_000
    call_id = PROVIDER_CASES[provider].call_id
    accounts.sandbox.add_fault(json_body(nested), call_id=call_id)

    with pytest.raises(HomeAssistantError) as raised:
        await accounts.transfer(provider)

    assert raised.value.translation_key == "transfer_unexpected_response"
    [event] = accounts.events["failed"]
    assert event.data["error"] == "unexpected_response"
    assert MAY_HAVE_HAPPENED in event.data["error_message"]


async def test_deeply_nested_answer_at_setup_retries_the_entry(
    hass: HomeAssistant, sandbox: Sandbox, case: ProviderCase, entry: MockConfigEntry
) -> None:
    """The same answer to the credential check means: try again later."""
    sandbox.add_fault(json_body(b"[" * 20_000 + b"]" * 20_000), account=case.account)

    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.SETUP_RETRY


# 2. A reload, reconfigure or reauth during a transfer emptied the in-progress guard.
async def test_transfer_in_progress_survives_entry_changes(
    hass: HomeAssistant, sandbox: Sandbox, case: ProviderCase, entry: MockConfigEntry
) -> None:
    """The same call cannot be transferred twice at once, whatever happens to the entry."""
    await setup_entry(hass, entry)
    credentials = PROVIDERS[case.provider].credential_fields
    data = case.data(sandbox)
    # What the reauth form asks for: the secrets, and the optional credentials.
    reauth = {
        cred.key: data[cred.key]
        for cred in credentials
        if (cred.secret or not cred.required) and cred.key in data
    }
    reconfigure = {cred.key: data[cred.key] for cred in credentials if cred.key in data}
    reconfigure["advanced_options"] = {"base_url": data["base_url"]}
    for sent, change in enumerate(("reload", "reconfigure", "reauth"), start=1):
        loaded = entry.runtime_data
        latency = Fault(kind=FaultKind.LATENCY, delay=0.5)
        sandbox.add_fault(latency, call_id=case.call_id, times=1)
        first = hass.async_create_task(
            transfer(hass, config_entry_id=entry.entry_id, **case.transfer)
        )
        async with asyncio.timeout(10):
            while len(transfers_sent(sandbox)) < sent:
                await asyncio.sleep(0.01)

        if change == "reload":
            assert await hass.config_entries.async_reload(entry.entry_id)
        else:
            flow = await (
                entry.start_reconfigure_flow
                if change == "reconfigure"
                else entry.start_reauth_flow
            )(hass)
            result = await hass.config_entries.flow.async_configure(
                flow["flow_id"], reconfigure if change == "reconfigure" else reauth
            )
            assert result["reason"] == f"{change}_successful", result
        # A reload gives the entry a new runtime; reconfigure and reauth (with the same
        # credentials here) leave the loaded account as it is.
        async with asyncio.timeout(10):
            while entry.state is not ConfigEntryState.LOADED or (
                change == "reload" and entry.runtime_data is loaded
            ):
                await asyncio.sleep(0.01)

        with pytest.raises(ServiceValidationError) as raised:
            await transfer(hass, config_entry_id=entry.entry_id, **case.transfer)

        assert raised.value.translation_key == "transfer_in_progress", change
        await first
        assert sent_per_call(sandbox, [case.call_id]) == {case.call_id: sent}


# 5. Provider text had no length limit: the recorder stored such an event as {}.
@pytest.fixture
async def logbook(recorder_mock: Recorder, hass: HomeAssistant) -> None:
    """Set the logbook up (before the accounts: a served HTTP app takes no new routes)."""
    assert await async_setup_component(hass, "logbook", {})


async def test_oversized_provider_text_is_capped_where_it_enters(
    logbook: None,
    accounts: Accounts,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """40 kB texts, success and failure, on every provider: events and logbook stay whole."""
    hass, sandbox = accounts.hass, accounts.sandbox
    start = dt_util.utcnow()
    huge = "x" * 40_000
    for provider, case in PROVIDER_CASES.items():
        status, body = case.accepted(case.call_id, huge)
        sandbox.add_fault(
            Fault(kind=FaultKind.STATUS, status=status, body=body),
            call_id=case.call_id,
            times=1,
        )
        await accounts.transfer(provider)
        [*_, succeeded] = accounts.events["succeeded"]
        assert 0 < len(succeeded.data["message"]) <= 600
        state = hass.states.get(succeeded.data[ATTR_ENTITY_ID])
        assert state.attributes["message"] == succeeded.data["message"]
        refusal = sandbox.error_body(provider, 400, huge)  # type: ignore[arg-type]
        sandbox.add_fault(
            Fault(kind=FaultKind.STATUS, status=400, body=refusal),
            call_id=case.call_id,
            times=1,
        )
        with pytest.raises(HomeAssistantError):
            await accounts.transfer(provider)
    await async_wait_recording_done(hass)

    for event in accounts.events["failed"]:
        assert 0 < len(event.data["error_message"]) <= 600
    client = await hass_ws_client()
    await client.send_json(
        {"id": 1, "type": "logbook/get_events", "start_time": start.isoformat()}
    )
    response = await client.receive_json()
    assert response["success"], response
    lines = [e["message"] for e in response["result"] if e.get("domain") == DOMAIN]
    assert len(lines) == 2 * len(PROVIDER_CASES)
    failures = [line for line in lines if not line.startswith("transferred call")]
    assert len(failures) == len(PROVIDER_CASES)
    assert "exceed maximum size" not in caplog.text


# 6. No response-size cap: a small gzip body inflating to 100 MB was read whole.
async def test_compressed_answer_inflating_to_100_mb_is_refused_early(
    accounts: Accounts, provider: str
) -> None:
    """The transfer fails as unreadable without ever holding the inflated body."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * 1_000_000
    bomb = b"".join(compressor.compress(zeros) for _ in range(100)) + compressor.flush()
    assert len(bomb) < 200_000
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    accounts.sandbox.add_fault(
        Fault(kind=FaultKind.RAW, body=bomb, headers=headers),
        call_id=PROVIDER_CASES[provider].call_id,
    )

    tracemalloc.start()
    try:
        with pytest.raises(HomeAssistantError) as raised:
            await accounts.transfer(provider)
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
    """Transfers started from the UI (background tasks) are cancelled at stop: each says so.

    On every provider, and for a Vobiz transfer to a number, which goes through the
    Dial XML Home Assistant serves.
    """
    hass, sandbox = accounts.hass, accounts.sandbox
    started: dict[str, str] = {}
    for provider in PROVIDER_CASES:
        [call_id] = accounts.new_calls(provider, 1)
        started[call_id] = provider
        sandbox.add_fault(Fault(kind=FaultKind.LATENCY, delay=5), call_id=call_id)
    [dialed] = accounts.new_calls("vobiz", 1)
    sandbox.add_fault(Fault(kind=FaultKind.LATENCY, delay=5), call_id=dialed)
    tasks = [
        hass.async_create_background_task(accounts.transfer(provider, call_id), call_id)
        for call_id, provider in started.items()
    ]
    tasks.append(
        hass.async_create_background_task(
            transfer(
                hass,
                config_entry_id=accounts.entry("vobiz").entry_id,
                call_id=dialed,
                to="+14155550100",
            ),
            dialed,
        )
    )
    await accounts.wait_for_transfers(len(tasks))

    await hass.async_stop()

    assert all(task.cancelled() for task in tasks)
    assert accounts.events["succeeded"] == []
    failed = {event.data["call_id"]: event.data for event in accounts.events["failed"]}
    assert len(accounts.events["failed"]) == len(failed)
    assert sorted(failed) == sorted([*started, dialed])
    for data in failed.values():
        assert data["error"] == "cancelled"
        assert MAY_HAVE_HAPPENED in data["error_message"]
    assert (failed[dialed]["to"], failed[dialed]["legs"]) == ("+14155550100", "aleg")
    assert sent_per_call(sandbox, failed) == dict.fromkeys(failed, 1)


async def test_stopping_while_the_live_call_is_looked_up_sends_nothing(
    accounts: Accounts, case: ProviderCase
) -> None:
    """A transfer without call id, stopped during its fresh poll: one event, nothing sent."""
    hass, sandbox = accounts.hass, accounts.sandbox
    sandbox.add_fault(
        Fault(kind=FaultKind.LATENCY, delay=5), path_contains=case.listing_path
    )
    polls = len(sandbox.requests_to(case.listing_path))
    destination = case.destination
    task = hass.async_create_background_task(
        hass.services.async_call(
            DOMAIN,
            "transfer",
            {"config_entry_id": accounts.entry(case.provider).entry_id} | destination,
            blocking=True,
        ),
        "no call id",
    )
    async with asyncio.timeout(10):
        while len(sandbox.requests_to(case.listing_path)) == polls:
            await asyncio.sleep(0.01)

    await hass.async_stop()

    assert task.cancelled()
    [event] = accounts.events["failed"]
    assert event.data["error"] == "cancelled"
    assert event.data["call_id"] is None
    assert NOTHING_SENT in event.data["error_message"]
    assert MAY_HAVE_HAPPENED not in event.data["error_message"]
    assert transfers_sent(sandbox) == []


# 9. A 401 arriving after the entry was removed logged "Task exception was never retrieved".
async def test_rejected_credentials_after_the_entry_was_removed(
    hass: HomeAssistant,
    sandbox: Sandbox,
    case: ProviderCase,
    entry: MockConfigEntry,
    events: dict[str, list[Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The transfer still fails cleanly; no reauth is started for an entry that is gone."""
    await setup_entry(hass, entry)
    rejection = sandbox.error_body(case.provider, 401, "no")
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=401, body=rejection, delay=0.3),
        call_id=case.call_id,
    )
    pending = hass.async_create_task(
        transfer(hass, config_entry_id=entry.entry_id, **case.transfer)
    )
    async with asyncio.timeout(10):
        while not transfers_sent(sandbox):
            await asyncio.sleep(0.01)
    await hass.config_entries.async_remove(entry.entry_id)

    with pytest.raises(HomeAssistantError) as raised:
        await pending
    await hass.async_block_till_done()
    gc.collect()

    assert raised.value.translation_key == "transfer_invalid_auth"
    assert [e.data["error"] for e in events["failed"]] == ["invalid_auth"]
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert "never retrieved" not in caplog.text
    assert "UnknownEntry" not in caplog.text


# 10. Secrets were scrubbed from error messages only, not from success messages.
async def test_secret_echoed_in_a_success_message_is_scrubbed(
    accounts: Accounts, hass_client: ClientSessionGenerator, provider: str
) -> None:
    """A credential (or Vobiz's auth_secret) never reaches the event, response or diagnostics."""
    case = PROVIDER_CASES[provider]
    secret = case.known_secret
    status, answer = case.accepted(case.call_id, f"ok {secret}")
    request_ids = ("x-request-id", "Twilio-Request-Id", "X-Request-Id")
    accounts.sandbox.add_fault(
        Fault(
            kind=FaultKind.STATUS,
            status=status,
            body=answer,
            headers=dict.fromkeys(request_ids, secret),
        ),
        call_id=case.call_id,
    )
    entry = accounts.entry(provider)

    response = await accounts.transfer(provider)
    diagnostics = await get_diagnostics_for_config_entry(
        accounts.hass, hass_client, entry
    )

    [event] = accounts.events["succeeded"]
    for text in (str(response), str(event.data), json.dumps(diagnostics)):
        assert secret not in text
    assert "ok ***" in response["message"]


# 11. Diagnostics masked a number only in its exact E.164 form.
async def test_diagnostics_mask_numbers_in_any_common_format(
    hass: HomeAssistant,
    sandbox: Sandbox,
    case: ProviderCase,
    entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """A number a provider writes its own way keeps only its last four digits."""
    await setup_entry(hass, entry)
    written = ["(415) 555-0100", "+1 415-555-0100", "415.555.0100", "+1 (415) 555 0100"]
    for number in written:
        blocked = sandbox.error_body(
            case.provider, 403, f"Calls to {number} are blocked"
        )
        sandbox.add_fault(
            Fault(kind=FaultKind.STATUS, status=403, body=blocked),
            call_id=case.call_id,
            times=1,
        )
        with pytest.raises(HomeAssistantError):
            await transfer(hass, config_entry_id=entry.entry_id, **case.transfer)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    failures = [failure["error_message"] for failure in diagnostics["recent_transfers"]]
    assert len(failures) == len(written)
    for message in failures:
        assert "Calls to " in message
        assert "0100" in message
        assert "415" not in message
        assert "555" not in message
