"""Transfer live phone calls through cloud telephony providers."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .coordinator import LiveCallsCoordinator
from .data import (
    TRANSFERS_IN_PROGRESS,
    CallTransferConfigEntry,
    CallTransferData,
    create_client,
)
from .dial import async_remove_dial_webhook, async_setup_dial_webhook
from .phone import async_load_home_metadata
from .providers import CallTransferError, InvalidAuthError
from .services import async_setup_services

PLATFORMS = [Platform.BUTTON, Platform.EVENT, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions; they exist whether or not an account is loaded."""
    hass.data[TRANSFERS_IN_PROGRESS] = set()
    async_load_home_metadata(hass)
    async_setup_services(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> bool:
    """Connect to the provider account, check its credentials, list its live calls."""
    try:
        client = create_client(hass, entry.data, entry.options)
        account = await client.async_validate()
    except InvalidAuthError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="setup_invalid_auth"
        ) from err
    except CallTransferError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="setup_cannot_connect",
            translation_placeholders={"error": err.message},
        ) from err
    coordinator: LiveCallsCoordinator | None = None
    if client.supports_live_calls:
        coordinator = LiveCallsCoordinator(hass, entry, client)
        await coordinator.async_setup_first_refresh()
    entry.runtime_data = CallTransferData(
        client=client,
        account=account,
        options=dict(entry.options),
        coordinator=coordinator,
    )
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await async_setup_dial_webhook(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_options_updated(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> None:
    """Options shape the client (and what the account offers): reload to apply them.

    Flows that change the entry's data reload it themselves.
    """
    if entry.options != entry.runtime_data.options:
        await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> None:
    """Delete what a removed account leaves outside its entry: its Dial XML webhook id."""
    await async_remove_dial_webhook(hass, entry.entry_id)
