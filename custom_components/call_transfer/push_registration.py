"""Setting the account's callback URL at the provider (opt-in), and putting back what was there.

Where the provider's API can set it (``PushCapabilities.registration_option``: a Vobiz or
Plivo application's hangup URL, with answer-first its answer URL too), the account's
*set the callback URL for me* option does: the URL and what it replaced are kept in ``.storage/call_transfer.push_registrations``,
so that turning the option (or push) off, naming another application, or removing the
account writes the old value back, also after a restart. A registration that fails is
logged and shown in diagnostics, and tried again at the next setup or options change.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER
from .providers import CallTransferError, TransferProvider
from .providers.callbacks import RegisteredCallback

_STORAGE_VERSION: Final = 1
_DATA_REGISTRATIONS: HassKey[Registrations] = HassKey(f"{DOMAIN}_push_registrations")


class Registrations:
    """The callback URL each account set at its provider, and what it replaced."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Read and write the store."""
        self._store: Store[dict[str, dict[str, Any]]] = Store(
            hass, _STORAGE_VERSION, f"{DOMAIN}.push_registrations"
        )
        self._registered: dict[str, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    async def async_get(self, entry_id: str) -> RegisteredCallback | None:
        """Return the account's registration, if it has one."""
        registered = (await self._async_load()).get(entry_id)
        return None if registered is None else RegisteredCallback.from_dict(registered)

    async def async_set(
        self, entry_id: str, registered: RegisteredCallback | None
    ) -> None:
        """Keep (or, with None, forget) the account's registration."""
        async with self._lock:
            stored = await self._async_load()
            if registered is None:
                stored.pop(entry_id, None)
            else:
                stored[entry_id] = registered.as_dict()
            await self._store.async_save(stored)

    async def _async_load(self) -> dict[str, dict[str, Any]]:
        if self._registered is None:
            self._registered = await self._store.async_load() or {}
        return self._registered


def registrations(hass: HomeAssistant) -> Registrations:
    """Return the integration's store of registrations."""
    if (found := hass.data.get(_DATA_REGISTRATIONS)) is None:
        found = hass.data[_DATA_REGISTRATIONS] = Registrations(hass)
    return found


async def async_reconcile(
    hass: HomeAssistant,
    entry_id: str,
    client: TransferProvider,
    wanted: tuple[str, str] | None,
) -> str | None:
    """Make the callback URL at the provider what is ``wanted``: (target, URL), or none.

    The client's options name the target (an application id). A registration on another
    target (an application named before) is undone first; a new URL on the same target
    keeps what the first registration replaced. Returns the provider's error message
    when it failed, None otherwise.
    """
    store = registrations(hass)
    current = await store.async_get(entry_id)
    target, url = wanted or (None, None)
    try:
        if current is not None and (wanted is None or current.target != target):
            await client.async_restore_callback_url(current)
            await store.async_set(entry_id, None)
            LOGGER.info("Put back the callback URL Home Assistant had set")
            current = None
        if current is not None and _other_fields(current, client):
            # Answer-first turned on or off: what is replaced differs.
            await client.async_restore_callback_url(current)
            await store.async_set(entry_id, None)
            current = None
        if url is None or (current is not None and current.url == url):
            return None
        registered = await client.async_register_callback_url(url)
    except CallTransferError as err:
        LOGGER.warning(
            "Could not set the callback URL at the provider: %s", err.message
        )
        return err.message
    if current is not None:
        registered = RegisteredCallback(
            target=registered.target, url=url, previous=current.previous
        )
    await store.async_set(entry_id, registered)
    LOGGER.info("Set the callback URL at the provider")
    return None


def _other_fields(current: RegisteredCallback, client: TransferProvider) -> bool:
    """Whether the registration replaced other fields than the client would set now."""
    wanted = client.callback_fields
    return bool(wanted) and set(current.previous) != wanted


async def async_undo(
    hass: HomeAssistant, entry_id: str, client: TransferProvider
) -> None:
    """Put back what a removed account's registration replaced (forgotten either way)."""
    store = registrations(hass)
    if (current := await store.async_get(entry_id)) is None:
        return
    try:
        await client.async_restore_callback_url(current)
    except CallTransferError as err:
        LOGGER.warning(
            "Could not put back the callback URL at the provider: %s", err.message
        )
    await store.async_set(entry_id, None)
