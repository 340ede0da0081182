"""Diagnostics: useful, and free of secrets."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.call_transfer.const import DOMAIN, RECENT_TRANSFERS_KEPT
from custom_components.call_transfer.providers import PROVIDERS
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_CALL_ID,
    Fault,
    FaultKind,
    Sandbox,
)
from tests.helpers.destinations import add_destination
from tests.helpers.entries import add_entry, setup_entry
from tests.helpers.hass import transfer
from tests.helpers.provider_cases import ProviderCase


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Entry, account, destinations and recent transfers, with every secret redacted."""
    await setup_entry(hass, vobiz_entry)
    await add_destination(hass, vobiz_entry, "Reception", number="+14155550100")
    await add_destination(
        hass,
        vobiz_entry,
        "Queue",
        transfer_url={
            "url": "https://xml.example.com/q.xml?token=s3cr3t",
            "legs": "bleg",
        },
    )
    await transfer(
        hass, call_id=SANDBOX_VOBIZ_CALL_ID, aleg_url="https://xml.example.com/a"
    )
    await hass.async_block_till_done()  # the live calls are listed again
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=500), path_contains="/Call/")
    with pytest.raises(HomeAssistantError):
        await transfer(
            hass, call_id=SANDBOX_VOBIZ_CALL_ID, aleg_url="https://xml.example.com/a"
        )

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, vobiz_entry)

    text = json.dumps(diagnostics)
    assert SANDBOX_VOBIZ_AUTH_TOKEN not in text
    assert SANDBOX_VOBIZ_AUTH_SECRET not in text
    # Destinations: numbers masked, of a URL only where it points.
    assert "4155550100" not in text
    assert "s3cr3t" not in text
    assert [dest["name"] for dest in diagnostics["destinations"]] == [
        "Reception",
        "Queue",
    ]
    assert diagnostics["entry"]["data"]["auth_token"] == "**REDACTED**"
    assert [t.get("error", "ok") for t in diagnostics["recent_transfers"]] == [
        "ok",
        "provider_error",
    ]
    assert diagnostics == snapshot(
        exclude=props("base_url", "time", "request_id", "started", "subentry_id")
    )


async def test_diagnostics_mask_phone_numbers(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
) -> None:
    """Destination numbers keep only their last four digits; the API key is redacted."""
    await setup_entry(hass, bland_entry)
    await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, to="+14155550100")

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, bland_entry)

    assert diagnostics["recent_transfers"][0]["to"] == "••••••••0100"
    assert diagnostics["entry"]["data"]["api_key"] == "**REDACTED**"
    text = json.dumps(diagnostics, ensure_ascii=False)
    assert SANDBOX_BLAND_API_KEY not in text
    assert "+14155550100" not in text
    assert "4155550100" not in text


async def test_diagnostics_show_live_calls_masked_and_polling_errors(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
) -> None:
    """No org id: nothing polled. Then the last poll's calls, masked, and poll errors."""

    async def live_calls() -> Any:
        diagnostics = await get_diagnostics_for_config_entry(
            hass, hass_client, bland_entry
        )
        return diagnostics["live_calls"]

    await setup_entry(hass, bland_entry)
    assert await live_calls() is None

    hass.config_entries.async_update_entry(
        bland_entry, options={"org_id": SANDBOX_BLAND_ORG_ID}
    )
    await hass.async_block_till_done()
    polled = await live_calls()
    assert polled["last_update_success"] is True
    assert polled["last_error"] is None
    assert polled["scan_interval"] == 10
    first = polled["calls"][0]
    assert first["call_id"] == SANDBOX_BLAND_CALL_ID
    assert (first["from"], first["to"]) == ("••••••••0150", "••••••••4444")
    text = json.dumps(polled, ensure_ascii=False)
    for call in sandbox.calls.values():
        assert call.from_number not in text
        assert call.to_number not in text

    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=503))
    await bland_entry.runtime_data.coordinator.async_refresh()
    polled = await live_calls()
    assert polled["last_update_success"] is False
    assert "HTTP 503" in polled["last_error"]
    assert len(polled["calls"]) == 2  # the last calls seen, kept through the failure


async def test_diagnostics_redact_every_secret_credential(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sandbox: Sandbox,
    case: ProviderCase,
    entry: MockConfigEntry,
) -> None:
    """Each secret credential the account has is redacted and appears nowhere."""
    await setup_entry(hass, entry)
    await transfer(hass, **case.transfer)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    text = json.dumps(diagnostics)
    secrets = [
        cred
        for cred in PROVIDERS[case.provider].credential_fields
        if cred.secret and (cred.required or cred.key in entry.data)
    ]
    assert secrets
    for cred in secrets:
        assert diagnostics["entry"]["data"][cred.key] == "**REDACTED**"
        assert entry.data[cred.key] not in text
    assert diagnostics["recent_transfers"][0]["call_id"] == case.call_id


async def test_diagnostics_keep_the_transfers_across_a_reload(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
) -> None:
    """Reloaded, or its options saved, the account's last transfers are still shown.

    The last ``RECENT_TRANSFERS_KEPT`` of them; a removed account's go with it.
    """
    await setup_entry(hass, vobiz_entry)
    url = {"call_id": SANDBOX_VOBIZ_CALL_ID, "aleg_url": "https://xml.example.com/a"}
    for _ in range(RECENT_TRANSFERS_KEPT + 2):
        await transfer(hass, **url)

    await hass.config_entries.async_reload(vobiz_entry.entry_id)
    await hass.async_block_till_done()
    hass.config_entries.async_update_entry(vobiz_entry, options={"ring_timeout": 45})
    await hass.async_block_till_done()
    await transfer(hass, **url)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, vobiz_entry)
    kept = diagnostics["recent_transfers"]
    assert len(kept) == RECENT_TRANSFERS_KEPT
    assert {t["call_id"] for t in kept} == {SANDBOX_VOBIZ_CALL_ID}
    assert kept == sorted(kept, key=lambda t: t["time"])

    await hass.config_entries.async_remove(vobiz_entry.entry_id)
    again = MockConfigEntry(
        domain=DOMAIN,
        entry_id=vobiz_entry.entry_id,
        data=vobiz_entry.data,
        unique_id=vobiz_entry.unique_id,
    )
    again.add_to_hass(hass)
    await setup_entry(hass, again)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, again)
    assert diagnostics["recent_transfers"] == []


async def test_diagnostics_show_the_options(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sandbox: Sandbox,
) -> None:
    """The options as saved: a caller id masked, an account's id at the provider redacted."""
    vobiz = add_entry(
        hass,
        sandbox,
        "vobiz",
        options={
            "caller_id": "+14155550123",
            "announcement": "Please hold.",
            "ring_timeout": 30,
            "scan_interval": 15,
        },
    )
    bland = add_entry(hass, sandbox, "bland", options={"org_id": SANDBOX_BLAND_ORG_ID})
    await setup_entry(hass, vobiz)  # and with the integration, every account

    shown = await get_diagnostics_for_config_entry(hass, hass_client, vobiz)
    assert shown["entry"]["options"] == {
        "caller_id": "••••••••0123",
        "announcement": "Please hold.",
        "ring_timeout": 30,
        "scan_interval": 15,
    }
    shown = await get_diagnostics_for_config_entry(hass, hass_client, bland)
    assert shown["entry"]["options"] == {"org_id": "**REDACTED**"}
    assert SANDBOX_BLAND_ORG_ID not in json.dumps(shown)
