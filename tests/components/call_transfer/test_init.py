"""Entry setup, unload, reload and removal."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.call_transfer.const import DOMAIN
from sandbox import SANDBOX_VOBIZ_AUTH_ID, Fault, FaultKind, Sandbox
from tests.helpers.entries import setup_entry


async def test_setup_registers_a_service_device(
    hass: HomeAssistant,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A loaded entry has one service device with the account's three entities."""
    await setup_entry(hass, vobiz_entry)

    assert vobiz_entry.state is ConfigEntryState.LOADED
    assert vobiz_entry.runtime_data.account.account_id == SANDBOX_VOBIZ_AUTH_ID
    [device] = dr.async_entries_for_config_entry(device_registry, vobiz_entry.entry_id)
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    assert device.manufacturer == "Vobiz"
    assert device.name == vobiz_entry.title
    entities = er.async_entries_for_config_entry(entity_registry, vobiz_entry.entry_id)
    assert {(e.domain, e.translation_key) for e in entities} == {
        ("event", "transfers"),
        ("event", "calls"),
        ("sensor", "active_calls"),
        ("select", "call_to_transfer"),
    }
    for entity in entities:
        assert entity.device_id == device.id
        assert entity.unique_id == f"{vobiz_entry.entry_id}_{entity.translation_key}"
        assert hass.states.get(entity.entity_id) is not None


async def test_rejected_credentials_start_reauth(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """A 401 at setup fails the entry and opens a reauth flow."""
    sandbox.vobiz_accounts[SANDBOX_VOBIZ_AUTH_ID].auth_token = "rotated-elsewhere"

    await setup_entry(hass, vobiz_entry)

    assert vobiz_entry.state is ConfigEntryState.SETUP_ERROR
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["context"]["entry_id"] == vobiz_entry.entry_id


async def test_forbidden_key_starts_reauth(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """Bland may answer a revoked key with 403: that is a credentials problem too."""
    sandbox.add_fault(
        Fault(
            kind=FaultKind.STATUS,
            status=403,
            body={
                "data": None,
                "errors": [{"error": "FORBIDDEN", "message": "Key revoked"}],
            },
        )
    )
    await setup_entry(hass, bland_entry)
    assert bland_entry.state is ConfigEntryState.SETUP_ERROR
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_provider_unreachable_retries_setup(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """When the provider cannot be reached, Home Assistant retries the setup later."""
    await sandbox.stop()

    await setup_entry(hass, vobiz_entry)

    assert vobiz_entry.state is ConfigEntryState.SETUP_RETRY


async def test_provider_error_retries_setup(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """A provider 5xx at setup also means: try again later."""
    sandbox.add_fault(Fault(kind=FaultKind.STATUS, status=502))
    await setup_entry(hass, bland_entry)
    assert bland_entry.state is ConfigEntryState.SETUP_RETRY


async def test_unload_reload_and_remove(
    hass: HomeAssistant,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Unload releases the entry, reload brings it back, removal leaves nothing behind."""
    await setup_entry(hass, vobiz_entry)

    assert await hass.config_entries.async_unload(vobiz_entry.entry_id)
    assert vobiz_entry.state is ConfigEntryState.NOT_LOADED

    assert await hass.config_entries.async_reload(vobiz_entry.entry_id)
    await hass.async_block_till_done()
    assert vobiz_entry.state is ConfigEntryState.LOADED
    assert len(sandbox.requests_to("/auth/me")) == 2

    await hass.config_entries.async_remove(vobiz_entry.entry_id)
    await hass.async_block_till_done()
    assert not dr.async_entries_for_config_entry(device_registry, vobiz_entry.entry_id)
    assert not er.async_entries_for_config_entry(entity_registry, vobiz_entry.entry_id)
    assert not hass.states.async_entity_ids("event")
    # The action stays registered (action-setup rule) and explains there is no account.
    assert hass.services.has_service(DOMAIN, "transfer")
