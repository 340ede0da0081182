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

The public URL and the webhook's id are the account's webhook machinery
(``webhooks.py``). With the account's push on, the Dial asks the provider to report
the dialled number's outcome to the account's callback webhook (``push.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from http import HTTPStatus
import secrets
from typing import Any, Final

from aiohttp.hdrs import METH_GET, METH_POST
from aiohttp.web import Request, Response
from homeassistant.components import webhook
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
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
from .webhooks import (
    WebhookPurpose,
    async_on_public_url_change,
    async_public_url,
    async_remove_webhook_id,
    cloud_connected,
    configured_external_url,
    external_base_url,
    webhook_ids,
)

# How long a transfer's Dial XML URL answers: the provider fetches it right after it
# accepts the transfer; this leaves room for its retries and a slow network.
DIAL_URL_LIFETIME: Final = timedelta(seconds=120)
TOKEN_BYTES: Final = 32
ISSUE_NO_PUBLIC_URL: Final = "dial_url_unavailable"
# The repair issue's (and the refusal's) text when the external URL is plain http.
REASON_NOT_HTTPS: Final = "dial_url_not_https"
LEARN_MORE_URL: Final = "https://github.com/call-transfer/ha-call-transfer#transfers-to-a-phone-number-on-vobiz-and-plivo"
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

    async def async_transfer(
        self, request: TransferRequest, destination: str | None
    ) -> TransferResult:
        """Serve the Dial XML of ``request.to`` and transfer a leg to it.

        Raises ``ServiceValidationError`` (and opens a repair issue) when the provider
        cannot be given a URL it can reach; nothing is sent then. When the provider
        refuses the transfer, the URL goes at once; when the transfer may have happened
        (``outcome_unknown``), it stays for its lifetime, as the provider may fetch it.
        With push on, the number's outcome is awaited meanwhile (``destination`` names
        it in the events).
        """
        token, sent, forget_outcome = await self._async_serve(request, destination)
        try:
            return await self.client.async_transfer(sent)
        except CallTransferError as err:
            if not may_have_happened(err):
                self._orders.async_forget(token)
                forget_outcome()
            raise

    async def _async_serve(
        self, request: TransferRequest, destination: str | None
    ) -> tuple[str, TransferRequest, Callable[[], None]]:
        """Register the XML under a new token; return it, the request pointing at it.

        And what forgets the outcome awaited, if one is.
        """
        assert request.to is not None
        public = await async_public_url(self.hass, self.webhook_id)
        if public is None:
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
        report_url, forget_outcome = None, _nothing
        if (push := self._entry.runtime_data.push) is not None:
            report_url, forget_outcome = await push.async_await_outcome(
                request, destination
            )
        order = _ServedDialXml(
            request.call_id,
            request.legs,
            self.client.dial_xml(request.to, report_url=report_url),
        )
        token = self._orders.async_add(self.webhook_id, order)
        url = str(URL(public[0]).update_query(token=token))
        # A number moves one leg (never both): that leg fetches the URL.
        return (
            token,
            replace(request, to=None).with_leg_url(request.legs, url),
            forget_outcome,
        )

    def _why_no_public_url(self) -> tuple[str, dict[str, str]]:
        """Return the translation key and placeholders saying why no URL can be used.

        An external URL that is set but not https names what was found: its scheme,
        host and port (it has no path; the webhook's would never be shown).
        """
        placeholders = {"provider": self.client.display_name}
        if (found := configured_external_url(self.hass)) is None:
            return ISSUE_NO_PUBLIC_URL, placeholders
        return REASON_NOT_HTTPS, placeholders | {"found": str(URL(found).origin())}


def _cancel_nothing() -> None:
    """Stand in for the timer of a token that is gone."""


def _nothing() -> None:
    """Stand in for forgetting an outcome that is not awaited."""


def _dial_orders(hass: HomeAssistant) -> DialOrders:
    if (orders := hass.data.get(_DATA_DIAL_ORDERS)) is None:
        orders = hass.data[_DATA_DIAL_ORDERS] = DialOrders(hass)
    return orders


async def async_setup_dial_webhook(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> None:
    """Register the account's Dial XML webhook if its provider dials through a URL."""
    if entry.runtime_data.client.capabilities.number_transfer is not (
        NumberTransfer.DIAL_URL
    ):
        return
    webhook_id = await webhook_ids(hass).async_get(entry.entry_id, WebhookPurpose.DIAL)
    dial = DialWebhook(hass, entry, webhook_id)
    dial.async_register()
    entry.runtime_data.dial_webhook = dial
    entry.async_on_unload(dial.async_unregister)

    @callback
    def _async_public_url_may_be_back() -> None:
        if external_base_url(hass) is not None or cloud_connected(hass):
            ir.async_delete_issue(hass, DOMAIN, ISSUE_NO_PUBLIC_URL)

    async_on_public_url_change(hass, entry, _async_public_url_may_be_back)


async def async_send_transfer(
    entry: CallTransferConfigEntry,
    request: TransferRequest,
    destination: str | None = None,
) -> TransferResult:
    """Send a transfer; one to a number by a DIAL_URL provider goes through its webhook.

    One to a number that the provider takes in the request, with push on where the
    provider reports transfer outcomes, names the URL to report the outcome to.
    """
    runtime = entry.runtime_data
    if request.to is None:
        return await runtime.client.async_transfer(request)
    if runtime.dial_webhook is not None:
        return await runtime.dial_webhook.async_transfer(request, destination)
    push = runtime.client.push
    if runtime.push is None or push is None or not push.reports_transfer_outcomes:
        return await runtime.client.async_transfer(request)
    report_url, forget_outcome = await runtime.push.async_await_outcome(
        request, destination
    )
    try:
        return await runtime.client.async_transfer(
            replace(request, report_url=report_url)
        )
    except CallTransferError as err:
        if not may_have_happened(err):
            forget_outcome()
        raise


def may_have_happened(err: CallTransferError) -> bool:
    """Whether a transfer that failed with ``err`` may have reached the provider all the same."""
    return isinstance(err, AfterSendingError) and err.outcome_unknown


async def async_remove_dial_webhook(hass: HomeAssistant, entry_id: str) -> None:
    """Forget a removed account's webhook id and delete its cloudhook, if it has one.

    With no account left that dials through a URL, its repair issue goes too.
    """
    loaded: list[CallTransferConfigEntry] = hass.config_entries.async_loaded_entries(
        DOMAIN
    )
    if not any(entry.runtime_data.dial_webhook for entry in loaded):
        ir.async_delete_issue(hass, DOMAIN, ISSUE_NO_PUBLIC_URL)
    webhook_id = await async_remove_webhook_id(hass, entry_id, WebhookPurpose.DIAL)
    if webhook_id is not None:
        _dial_orders(hass).async_end(webhook_id)
