"""The webhook that serves Dial XML, so a provider that fetches call XML can dial a number.

A ``NumberTransfer.DIAL_URL`` provider (Vobiz) has no request that transfers a call to
a number: it points a call leg at a URL and runs the call XML found there. For such an
account, Home Assistant serves that XML itself. Each loaded account registers one
webhook; each transfer to a number gets a token of 256 random bits in the webhook URL's
query, answered with exactly that transfer's Dial XML for ``DIAL_URL_LIFETIME``, also
across a reload, reauth or options change of the account (``DialOrders``). An unknown or
expired token, or a request naming another call, is answered 404 and learns nothing
else. The webhook is unregistered once the account is unloaded and none of its transfers
is pending, when the account is removed, and when Home Assistant stops; Home Assistant
then answers its URL with an empty 200, as for every unknown webhook.

The public URL is a Home Assistant Cloud cloudhook when Cloud is connected, else the
external URL: ``https``, or ``http`` on a loopback address (which only the local
sandbox can reach). The webhook id is kept per account (``.storage``) so its cloudhook
is created once and deleted with the account, instead of once per restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from http import HTTPStatus
import ipaddress
import secrets
from typing import Any, Final

import aiohttp
from aiohttp.hdrs import METH_GET, METH_POST
from aiohttp.web import Request, Response
from homeassistant.components import webhook
from homeassistant.const import EVENT_CORE_CONFIG_UPDATE, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey
from yarl import URL

from .const import DOMAIN, LOGGER
from .data import CallTransferConfigEntry
from .providers import (
    CallTransferError,
    NumberTransfer,
    TransferLegs,
    TransferProvider,
    TransferRequest,
    TransferResult,
)
from .providers.errors import AfterSendingError

# How long a transfer's Dial XML URL answers: the provider fetches it right after it
# accepts the transfer; this leaves room for its retries and a slow network.
DIAL_URL_LIFETIME: Final = timedelta(seconds=120)
TOKEN_BYTES: Final = 32
ISSUE_NO_PUBLIC_URL: Final = "dial_url_unavailable"
# The repair issue's (and the refusal's) text when the external URL is plain http.
REASON_NOT_HTTPS: Final = "dial_url_not_https"
LEARN_MORE_URL: Final = "https://github.com/call-transfer/ha-call-transfer#transfers-to-a-phone-number-on-vobiz-and-plivo"
_STORAGE_VERSION: Final = 1
_DATA_WEBHOOK_IDS: HassKey[WebhookIds] = HassKey(f"{DOMAIN}_dial_webhook_ids")
_DATA_DIAL_ORDERS: HassKey[DialOrders] = HassKey(f"{DOMAIN}_dial_orders")
_NOT_FOUND: Final = HTTPStatus.NOT_FOUND


@dataclass(frozen=True, slots=True)
class _ServedDialXml:
    """One transfer's Dial XML and the call it is for."""

    call_id: str
    legs: TransferLegs
    xml: str

    def is_for(self, params: Mapping[str, Any]) -> bool:
        """Whether a request's call parameters fit this transfer.

        The provider names the fetching leg (``CallUUID``); a B leg names its A leg
        (``ALegUUID``), which is the call that was transferred.
        """
        call_uuid = params.get("CallUUID")
        if call_uuid is None or call_uuid == self.call_id:
            return True
        return self.legs is TransferLegs.BLEG and params.get("ALegUUID") == self.call_id


class DialOrders:
    """Every account's pending number transfers: their Dial XML, served by webhook.

    Kept by the integration, not by a loaded account: a transfer accepted before a
    reload, reauth or options change is still served for its lifetime. An account's
    webhook answers while the account is loaded or a transfer of it is pending; removing
    the account, or Home Assistant stopping, ends its transfers.
    """

    def __init__(self, hass: HomeAssistant) -> None:
        """Serve nothing yet; stop serving when Home Assistant stops."""
        self.hass = hass
        # Each token's webhook id and order, and the timer that expires it.
        self._orders: dict[str, tuple[str, _ServedDialXml]] = {}
        self._expiries: dict[str, CALLBACK_TYPE] = {}
        self._loaded: set[str] = set()
        self._registered: set[str] = set()
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._async_stop)

    @callback
    def async_open(self, webhook_id: str, name: str) -> None:
        """Answer at ``webhook_id`` while its account is loaded."""
        self._loaded.add(webhook_id)
        if webhook_id not in self._registered:
            webhook.async_register(
                self.hass,
                DOMAIN,
                name,
                webhook_id,
                self._async_handle,
                local_only=False,
                allowed_methods=(METH_GET, METH_POST),
            )
            self._registered.add(webhook_id)

    @callback
    def async_close(self, webhook_id: str) -> None:
        """Stop answering for an unloaded account, once no transfer of it is pending."""
        self._loaded.discard(webhook_id)
        self._async_unregister_if_idle(webhook_id)

    @callback
    def async_end(self, webhook_id: str) -> None:
        """End the account's pending transfers, and stop answering."""
        for token in [t for t, (hook, _) in self._orders.items() if hook == webhook_id]:
            self._async_forget(token)
        self._loaded.discard(webhook_id)
        self._async_unregister_if_idle(webhook_id)

    @callback
    def async_add(self, webhook_id: str, order: _ServedDialXml) -> str:
        """Serve ``order`` at the webhook for its lifetime, under a new token; return it."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self._orders[token] = (webhook_id, order)
        self._expiries[token] = async_call_later(
            self.hass, DIAL_URL_LIFETIME, partial(self._async_expire, token)
        )
        return token

    @callback
    def async_forget(self, token: str) -> None:
        """Stop serving one transfer's XML (the provider refused the transfer)."""
        if (found := self._orders.get(token)) is not None:
            self._async_forget(token)
            self._async_unregister_if_idle(found[0])

    @callback
    def _async_expire(self, token: str, _: datetime) -> None:
        self._expiries.pop(token)
        self.async_forget(token)

    @callback
    def _async_forget(self, token: str) -> None:
        del self._orders[token]
        self._expiries.pop(token, _cancel_nothing)()

    @callback
    def _async_unregister_if_idle(self, webhook_id: str) -> None:
        if (
            webhook_id in self._registered
            and webhook_id not in self._loaded
            and all(hook != webhook_id for hook, _ in self._orders.values())
        ):
            webhook.async_unregister(self.hass, webhook_id)
            self._registered.discard(webhook_id)

    @callback
    def _async_stop(self, _: Event) -> None:
        for token in list(self._orders):
            self._async_forget(token)
        self._loaded.clear()
        for webhook_id in list(self._registered):
            self._async_unregister_if_idle(webhook_id)

    async def _async_handle(
        self, hass: HomeAssistant, webhook_id: str, request: Request
    ) -> Response:
        found = self._orders.get(request.query.get("token", ""))
        if found is None or found[0] != webhook_id:
            LOGGER.debug("Dial XML asked for with an unknown or expired token")
            return Response(status=_NOT_FOUND)
        order = found[1]
        # The provider sends the call's parameters form-encoded, in the query for GET.
        params = request.query if request.method == METH_GET else await request.post()
        if not order.is_for(params):
            LOGGER.debug("Dial XML of call %s asked for by another call", order.call_id)
            return Response(status=_NOT_FOUND)
        LOGGER.debug("Serving the Dial XML of call %s", order.call_id)
        return Response(
            text=order.xml,
            content_type="application/xml",
            headers={"Cache-Control": "no-store"},
        )


class DialWebhook:
    """One loaded account's webhook: each number transfer's Dial XML under its token."""

    def __init__(
        self, hass: HomeAssistant, entry: CallTransferConfigEntry, webhook_id: str
    ) -> None:
        """Prepare the webhook of ``entry``; ``async_register`` makes it answer."""
        self.hass = hass
        self.webhook_id = webhook_id
        self._entry = entry
        self._orders = _dial_orders(hass)

    @property
    def client(self) -> TransferProvider:
        """The account's provider client, which writes the Dial XML."""
        return self._entry.runtime_data.client

    @callback
    def async_register(self) -> None:
        """Answer requests to the webhook."""
        self._orders.async_open(self.webhook_id, f"{self._entry.title} Dial XML")

    @callback
    def async_unregister(self) -> None:
        """Stop answering once the account's pending transfers are over (it unloads)."""
        self._orders.async_close(self.webhook_id)

    async def async_transfer(self, request: TransferRequest) -> TransferResult:
        """Serve the Dial XML of ``request.to`` and transfer a leg to it.

        Raises ``ServiceValidationError`` (and opens a repair issue) when the provider
        cannot be given a URL it can reach; nothing is sent then. When the provider
        refuses the transfer, the URL goes at once; when the transfer may have happened
        (``outcome_unknown``), it stays for its lifetime, as the provider may fetch it.
        """
        token, sent = await self._async_serve(request)
        try:
            return await self.client.async_transfer(sent)
        except CallTransferError as err:
            if not (isinstance(err, AfterSendingError) and err.outcome_unknown):
                self._orders.async_forget(token)
            raise

    async def _async_serve(
        self, request: TransferRequest
    ) -> tuple[str, TransferRequest]:
        """Register the XML under a new token; return it and the request pointing at it."""
        assert request.to is not None
        base_url = await self._async_public_url()
        if base_url is None:
            reason, placeholders = self._why_no_public_url()
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                ISSUE_NO_PUBLIC_URL,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=reason,
                translation_placeholders=placeholders,
                learn_more_url=LEARN_MORE_URL,
            )
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=reason,
                translation_placeholders=placeholders,
            )
        ir.async_delete_issue(self.hass, DOMAIN, ISSUE_NO_PUBLIC_URL)
        order = _ServedDialXml(
            request.call_id, request.legs, self.client.dial_xml(request.to)
        )
        token = self._orders.async_add(self.webhook_id, order)
        url = str(URL(base_url).update_query(token=token))
        # A number moves one leg (never both): that leg fetches the URL.
        return token, replace(request, to=None).with_leg_url(request.legs, url)

    def _why_no_public_url(self) -> tuple[str, dict[str, str]]:
        """Return the translation key and placeholders saying why no URL can be used.

        An external URL that is set but not https names what was found: its scheme,
        host and port (it has no path; the webhook's would never be shown).
        """
        placeholders = {"provider": self.client.display_name}
        if (found := _configured_external_url(self.hass)) is None:
            return ISSUE_NO_PUBLIC_URL, placeholders
        return REASON_NOT_HTTPS, placeholders | {"found": str(URL(found).origin())}

    async def _async_public_url(self) -> str | None:
        """Return the webhook's URL as the provider can reach it, or None."""
        if _cloud_connected(self.hass):
            from homeassistant.components import cloud  # noqa: PLC0415 - see _cloud_loaded

            try:
                return await cloud.async_get_or_create_cloudhook(
                    self.hass, self.webhook_id
                )
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
        if (base_url := external_base_url(self.hass)) is None:
            return None
        return base_url + webhook.async_generate_path(self.webhook_id)


def _cancel_nothing() -> None:
    """Stand in for the timer of a token that is gone."""


def external_base_url(hass: HomeAssistant) -> str | None:
    """Return the external URL if a provider can use it: https, or http on loopback."""
    if (base_url := _configured_external_url(hass)) is None:
        return None
    parsed = URL(base_url)
    if parsed.scheme == "https" or (
        parsed.scheme == "http" and _is_loopback_ip(parsed.host)
    ):
        return base_url
    return None


def _configured_external_url(hass: HomeAssistant) -> str | None:
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


def _cloud_loaded(hass: HomeAssistant) -> bool:
    """Whether Home Assistant Cloud is set up (so its module is in memory already).

    Cloud's module is imported only then: importing it (hass_nabucasa, Alexa, Google
    Assistant) takes about a second that an installation without Cloud never pays.
    """
    return "cloud" in hass.config.components


def _cloud_connected(hass: HomeAssistant) -> bool:
    """Whether Home Assistant Cloud can relay a cloudhook right now."""
    if not _cloud_loaded(hass):
        return False
    from homeassistant.components import cloud  # noqa: PLC0415 - see _cloud_loaded

    return cloud.async_active_subscription(hass) and cloud.async_is_connected(hass)


def _is_loopback_ip(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookIds:
    """The webhook id of each account, kept so its cloudhook can be reused and deleted."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Read and write ``.storage/call_transfer.dial_webhooks``."""
        self._store: Store[dict[str, str]] = Store(
            hass, _STORAGE_VERSION, f"{DOMAIN}.dial_webhooks"
        )
        self._ids: dict[str, str] | None = None
        self._lock = asyncio.Lock()

    async def async_get(self, entry_id: str) -> str:
        """Return the account's webhook id, created (≥ 128 random bits) on first use."""
        async with self._lock:
            ids = await self._async_load()
            if entry_id not in ids:
                ids[entry_id] = webhook.async_generate_id()
                await self._store.async_save(ids)
            return ids[entry_id]

    async def async_pop(self, entry_id: str) -> str | None:
        """Forget the account's webhook id and return it."""
        async with self._lock:
            ids = await self._async_load()
            if (webhook_id := ids.pop(entry_id, None)) is not None:
                await self._store.async_save(ids)
            return webhook_id

    async def _async_load(self) -> dict[str, str]:
        if self._ids is None:
            self._ids = await self._store.async_load() or {}
        return self._ids


def _dial_orders(hass: HomeAssistant) -> DialOrders:
    if (orders := hass.data.get(_DATA_DIAL_ORDERS)) is None:
        orders = hass.data[_DATA_DIAL_ORDERS] = DialOrders(hass)
    return orders


def _webhook_ids(hass: HomeAssistant) -> WebhookIds:
    if (ids := hass.data.get(_DATA_WEBHOOK_IDS)) is None:
        ids = hass.data[_DATA_WEBHOOK_IDS] = WebhookIds(hass)
    return ids


async def async_setup_dial_webhook(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> None:
    """Register the account's Dial XML webhook if its provider dials through a URL."""
    if entry.runtime_data.client.capabilities.number_transfer is not (
        NumberTransfer.DIAL_URL
    ):
        return
    dial = DialWebhook(hass, entry, await _webhook_ids(hass).async_get(entry.entry_id))
    dial.async_register()
    entry.runtime_data.dial_webhook = dial
    entry.async_on_unload(dial.async_unregister)

    @callback
    def _async_public_url_may_be_back(_: Any) -> None:
        if external_base_url(hass) is not None or _cloud_connected(hass):
            ir.async_delete_issue(hass, DOMAIN, ISSUE_NO_PUBLIC_URL)

    entry.async_on_unload(
        hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, _async_public_url_may_be_back)
    )
    if _cloud_loaded(hass):
        from homeassistant.components import cloud  # noqa: PLC0415 - see _cloud_loaded

        entry.async_on_unload(
            cloud.async_listen_connection_change(hass, _async_public_url_may_be_back)
        )


async def async_send_transfer(
    entry: CallTransferConfigEntry, request: TransferRequest
) -> TransferResult:
    """Send a transfer; one to a number by a DIAL_URL provider goes through its webhook."""
    runtime = entry.runtime_data
    if request.to is None or runtime.dial_webhook is None:
        return await runtime.client.async_transfer(request)
    return await runtime.dial_webhook.async_transfer(request)


async def async_remove_dial_webhook(hass: HomeAssistant, entry_id: str) -> None:
    """Forget a removed account's webhook id and delete its cloudhook, if it has one.

    With no account left that dials through a URL, its repair issue goes too.
    """
    loaded: list[CallTransferConfigEntry] = hass.config_entries.async_loaded_entries(
        DOMAIN
    )
    if not any(entry.runtime_data.dial_webhook for entry in loaded):
        ir.async_delete_issue(hass, DOMAIN, ISSUE_NO_PUBLIC_URL)
    if (webhook_id := await _webhook_ids(hass).async_pop(entry_id)) is None:
        return
    _dial_orders(hass).async_end(webhook_id)
    if not _cloud_loaded(hass):
        return
    from homeassistant.components import cloud  # noqa: PLC0415 - see _cloud_loaded

    with suppress(cloud.CloudNotAvailable, ValueError):
        await cloud.async_delete_cloudhook(hass, webhook_id)
