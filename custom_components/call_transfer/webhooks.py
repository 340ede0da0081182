"""What the account's webhooks share: their ids, and the public URL a provider can reach.

An account has one webhook per purpose: the Dial XML it serves (``dial.py``) and the
provider's callbacks it receives (``push.py``). Each id (≥ 128 random bits, a
credential: never logged or shown but in the options form) is kept per account in
``.storage`` so a cloudhook made for it is made once and deleted with the account.

The public URL is a Home Assistant Cloud cloudhook when Cloud is connected, else the
external URL: ``https``, or ``http`` on a loopback address (which only the local
sandbox can reach).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from enum import StrEnum
import ipaddress
from typing import Any, Final

import aiohttp
from homeassistant.components import webhook
from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey
from yarl import URL

from .const import DOMAIN, LOGGER
from .data import CallTransferConfigEntry

_STORAGE_VERSION: Final = 1
_DATA_WEBHOOK_IDS: HassKey[WebhookIds] = HassKey(f"{DOMAIN}_dial_webhook_ids")


class WebhookPurpose(StrEnum):
    """What an account's webhook is for."""

    DIAL = "dial"
    CALLBACKS = "callbacks"


class UrlKind(StrEnum):
    """Where a public URL points, as diagnostics show it (never the URL)."""

    CLOUDHOOK = "cloudhook"
    EXTERNAL = "external"
    LOOPBACK = "loopback"


class WebhookIds:
    """The webhook ids of each account, kept so their cloudhooks can be reused and deleted.

    Stored in ``.storage/call_transfer.dial_webhooks`` by account, the Dial XML's under
    the account's id (as before there were others), each other purpose's under
    ``<account id>:<purpose>``.
    """

    def __init__(self, hass: HomeAssistant) -> None:
        """Read and write the store."""
        self._store: Store[dict[str, str]] = Store(
            hass, _STORAGE_VERSION, f"{DOMAIN}.dial_webhooks"
        )
        self._ids: dict[str, str] | None = None
        self._lock = asyncio.Lock()

    async def async_get(self, entry_id: str, purpose: WebhookPurpose) -> str:
        """Return the account's webhook id for ``purpose``, created on first use."""
        async with self._lock:
            ids = await self._async_load()
            key = _key(entry_id, purpose)
            if key not in ids:
                ids[key] = webhook.async_generate_id()
                await self._store.async_save(ids)
            return ids[key]

    async def async_pop(self, entry_id: str, purpose: WebhookPurpose) -> str | None:
        """Forget the account's webhook id for ``purpose`` and return it."""
        async with self._lock:
            ids = await self._async_load()
            if (webhook_id := ids.pop(_key(entry_id, purpose), None)) is not None:
                await self._store.async_save(ids)
            return webhook_id

    async def _async_load(self) -> dict[str, str]:
        if self._ids is None:
            self._ids = await self._store.async_load() or {}
        return self._ids


def _key(entry_id: str, purpose: WebhookPurpose) -> str:
    return entry_id if purpose is WebhookPurpose.DIAL else f"{entry_id}:{purpose}"


def webhook_ids(hass: HomeAssistant) -> WebhookIds:
    """Return the integration's store of webhook ids."""
    if (ids := hass.data.get(_DATA_WEBHOOK_IDS)) is None:
        ids = hass.data[_DATA_WEBHOOK_IDS] = WebhookIds(hass)
    return ids


def external_base_url(hass: HomeAssistant) -> str | None:
    """Return the external URL if a provider can use it: https, or http on loopback."""
    if (base_url := configured_external_url(hass)) is None:
        return None
    parsed = URL(base_url)
    if parsed.scheme == "https" or (
        parsed.scheme == "http" and is_loopback_ip(parsed.host)
    ):
        return base_url
    return None


def configured_external_url(hass: HomeAssistant) -> str | None:
    """Return Home Assistant's external URL, whatever its scheme, or None."""
    try:
        return get_url(
            hass,
            allow_internal=False,
            allow_cloud=False,
            allow_ip=True,
            prefer_external=True,
        )
    except NoURLAvailableError:
        return None


def cloud_loaded(hass: HomeAssistant) -> bool:
    """Whether Home Assistant Cloud is set up (so its module is in memory already).

    Cloud's module is imported only then: importing it (hass_nabucasa, Alexa, Google
    Assistant) takes about a second that an installation without Cloud never pays.
    """
    return "cloud" in hass.config.components


def cloud_connected(hass: HomeAssistant) -> bool:
    """Whether Home Assistant Cloud can relay a cloudhook right now."""
    if not cloud_loaded(hass):
        return False
    from homeassistant.components import cloud  # noqa: PLC0415 - see cloud_loaded

    return cloud.async_active_subscription(hass) and cloud.async_is_connected(hass)


def is_loopback_ip(host: str | None) -> bool:
    """Whether ``host`` is a loopback IP address (a name is never looked up)."""
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def async_public_url(
    hass: HomeAssistant, webhook_id: str
) -> tuple[str, UrlKind] | None:
    """Return the webhook's URL as a provider can reach it, and its kind; or None."""
    if cloud_connected(hass):
        from homeassistant.components import cloud  # noqa: PLC0415 - see cloud_loaded

        try:
            url = await cloud.async_get_or_create_cloudhook(hass, webhook_id)
        except (
            cloud.CloudNotAvailable,
            ValueError,
            aiohttp.ClientError,
            TimeoutError,
        ) as err:
            LOGGER.warning(
                "Could not get a Home Assistant Cloud webhook, using the external URL: %s",
                err,
            )
        else:
            return url, UrlKind.CLOUDHOOK
    if (base_url := external_base_url(hass)) is None:
        return None
    kind = UrlKind.LOOPBACK if base_url.startswith("http:") else UrlKind.EXTERNAL
    return base_url + webhook.async_generate_path(webhook_id), kind


@callback
def async_on_public_url_change(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    action: Callable[[], None],
) -> None:
    """Call ``action`` whenever the public URL may have changed, while the entry is loaded.

    That is: Home Assistant's URLs changed, or Cloud connected or disconnected.
    """

    @callback
    def _changed(_: Any) -> None:
        action()

    entry.async_on_unload(hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, _changed))
    if cloud_loaded(hass):
        from homeassistant.components import cloud  # noqa: PLC0415 - see cloud_loaded

        entry.async_on_unload(cloud.async_listen_connection_change(hass, _changed))


async def async_remove_webhook_id(
    hass: HomeAssistant, entry_id: str, purpose: WebhookPurpose
) -> str | None:
    """Forget a removed account's webhook id, delete its cloudhook; return the id."""
    if (webhook_id := await webhook_ids(hass).async_pop(entry_id, purpose)) is None:
        return None
    if cloud_loaded(hass):
        from homeassistant.components import cloud  # noqa: PLC0415 - see cloud_loaded

        with suppress(cloud.CloudNotAvailable, ValueError):
            await cloud.async_delete_cloudhook(hass, webhook_id)
    return webhook_id
