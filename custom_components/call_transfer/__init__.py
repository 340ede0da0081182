"""Transfer live phone calls through cloud telephony providers."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.typing import ConfigType

from .const import CONF_PROVIDER, DOMAIN
from .coordinator import LiveCallsCoordinator
from .data import (
    TRANSFERS_IN_PROGRESS,
    CallTransferConfigEntry,
    CallTransferData,
    create_client,
    forget_recent_transfers,
)
from .dial import async_remove_dial_webhook, async_setup_dial_webhook
from .entity import live_calls_signal
from .phone import async_load_home_metadata
from .providers import (
    PROVIDERS,
    CallTransferError,
    InvalidAuthError,
    OptionKind,
    TransferProvider,
)
from .push import async_follow_public_url, async_remove_push, async_setup_push
from .services import async_setup_services

PLATFORMS = [Platform.BUTTON, Platform.EVENT, Platform.SELECT, Platform.SENSOR]
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
        data=dict(entry.data),
        options=dict(entry.options),
        coordinator=coordinator,
    )
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    await async_setup_dial_webhook(hass, entry)
    if client.push is not None:
        async_follow_public_url(hass, entry)
        await async_setup_push(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_entry_updated(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> None:
    """Apply new options, or credentials (reconfigure, reauth), to the loaded account.

    Without a reload: a reload takes the account's entities away and brings them back,
    so its event entities would go unavailable and back to their last event, which
    the logbook, the history and state triggers would show as new events. Changes of
    the title or the destinations need nothing here.
    """
    runtime = entry.runtime_data
    if entry.data == runtime.data and entry.options == runtime.options:
        return
    try:
        client = create_client(hass, entry.data, entry.options)
        if entry.data != runtime.data:
            runtime.account = await client.async_validate()
    except CallTransferError:
        # Let the setup tell: not ready yet, or a reauth.
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    same_calls = entry.data == runtime.data and all(
        entry.options.get(option.key) == runtime.options.get(option.key)
        for option in client.option_fields
        if option.kind is OptionKind.IDENTIFIER
    )
    runtime.client, runtime.data, runtime.options = (
        client,
        dict(entry.data),
        dict(entry.options),
    )
    await _async_follow_live_calls(hass, entry, client, same_calls)
    if client.push is not None:
        await async_setup_push(hass, entry)


async def _async_follow_live_calls(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    client: TransferProvider,
    same_calls: bool,
) -> None:
    """Poll the live calls with a new client: the same coordinator, a new one or none."""
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    if coordinator is not None and client.supports_live_calls:
        await coordinator.async_use_client(client, same_calls=same_calls)
        return
    if coordinator is not None:
        runtime.coordinator = None
        await coordinator.async_shutdown()
    elif client.supports_live_calls:
        runtime.coordinator = LiveCallsCoordinator(hass, entry, client)
        await runtime.coordinator.async_refresh()
    else:
        return
    async_dispatcher_send(hass, live_calls_signal(entry), runtime.coordinator)


async def async_unload_entry(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> None:
    """Delete what a removed account leaves outside its entry.

    Its webhook ids and its transfers kept for diagnostics; and put back the callback URL
    its push registration replaced at the provider.
    """
    forget_recent_transfers(hass, entry.entry_id)
    await async_remove_dial_webhook(hass, entry.entry_id)
    if PROVIDERS[entry.data[CONF_PROVIDER]].push is not None:
        await async_remove_push(hass, entry)
