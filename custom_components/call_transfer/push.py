"""An account's callback webhook: the provider's signed callbacks, verified before anything else.

With the account's push on (option ``push``, on providers whose client declares
``push``), Home Assistant registers one webhook per account (``webhooks.py``: its id in
``.storage``, a cloudhook with Cloud, else the https external URL, http on loopback for
the sandbox). A callback is verified against the URL exactly as it was given to the
provider (never the URL the request reached: Cloud and proxies change it), with its
raw body: refused (a missing, wrong or replayed signature; a body that cannot be read),
it is answered 401 (400, 403), changes nothing and is counted; repeated refusals raise
a repair issue naming the likely cause, which goes with the next accepted callback.
Accepted, what it tells feeds the account's live calls (``source: push``) and the
transfers' outcomes (``transfer_outcomes.py``). What a body its signature does not cover
(Vobiz's documented form), or a callback nothing makes fresh (Twilio's voice request),
tells of a call is used only as the provider confirms it: a call the provider does not
know is refused (403), a provider that cannot answer gets 503. With answer-first, only a
call's start so accepted (and confirmed live) is answered with the redirect to the
user's own answer URL.

What the account's callbacks did so far (counts, the replay guard, the outcomes
awaited) is kept by the integration, across reloads and options changes.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from http import HTTPStatus
from typing import Any, Final

from aiohttp.hdrs import METH_POST
from aiohttp.web import Request, Response
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import CONF_PUSH, CONF_PUSH_REGISTER, DOMAIN, LOGGER
from .coordinator import CallReport, LiveCallsCoordinator, ReportSource
from .data import CallTransferConfigEntry, create_client
from .event import transfers_entity_id
from .providers import (
    DEFAULT_TIMEOUT,
    CallTransferError,
    ConfirmedCall,
    LiveCall,
    TransferRequest,
)
from .providers.callbacks import (
    MAX_CALLBACK_BYTES,
    TRANSFER_TOKEN_PARAM,
    CallbackEvent,
    CallbackKind,
    CallbackRefusal,
    CallbackRefusedError,
    CallbackRequest,
    ReplayGuard,
    VerifiedCallback,
)
from .push_registration import async_reconcile, async_undo, registrations
from .transfer_outcomes import AwaitedOutcome, AwaitedOutcomes
from .webhooks import (
    UrlKind,
    WebhookPurpose,
    async_on_public_url_change,
    async_public_url,
    async_remove_webhook_id,
    webhook_ids,
)

# A repair issue once this many callbacks were refused within REPAIR_WINDOW, none
# accepted since the first of them.
REPAIR_REFUSALS: Final = 5
REPAIR_WINDOW: Final = timedelta(minutes=10)
ISSUE_PREFIX: Final = "push_refused"
# Each push provider's page says what it reports, where its callback URL goes and how
# it signs (docs/providers/<provider_id>.md, checked by tests/project/test_docs.py).
PROVIDER_DOCS_URL: Final = (
    "https://github.com/call-transfer/ha-call-transfer/blob/main/docs/providers"
)
PUSH_DOCS_ANCHOR: Final = "instant-call-events-signed-callbacks"
# The public URLs given to the provider that a callback may have been signed for.
KNOWN_URLS: Final = 4
_DATA_ACCOUNTS: HassKey[dict[str, PushAccount]] = HassKey(f"{DOMAIN}_push_accounts")
_REFUSAL_STATUS: Final = {
    CallbackRefusal.MALFORMED: HTTPStatus.BAD_REQUEST,
    CallbackRefusal.NOT_CONFIGURED: HTTPStatus.FORBIDDEN,
    CallbackRefusal.UNSUPPORTED_SIGNING: HTTPStatus.FORBIDDEN,
    CallbackRefusal.UNKNOWN_CALL: HTTPStatus.FORBIDDEN,
}
# A call's start: with answer-first it is the provider asking what the call does.
_START_KINDS: Final = frozenset({CallbackKind.CALL_STARTED, CallbackKind.CALL_ANSWERED})
# What a callback tells of a call, which a body its signature leaves out cannot tell
# before the provider confirms it.
_CALL_KINDS: Final = frozenset(
    {CallbackKind.CALL_STARTED, CallbackKind.CALL_ANSWERED, CallbackKind.CALL_ENDED}
)
# The longest a callback waits for the provider to confirm a call (its live details,
# then its record: each request within the client's own timeout).
CONFIRM_TIMEOUT: Final = DEFAULT_TIMEOUT


class PushAccount:
    """What an account's callbacks did so far; kept across reloads and options changes."""

    def __init__(self, webhook_id: str) -> None:
        """Count nothing yet."""
        self.webhook_id = webhook_id
        self.replay_guard = ReplayGuard()
        self.outcomes = AwaitedOutcomes()
        self.verified = 0
        self.signatures: Counter[str] = Counter()
        self.refused: Counter[CallbackRefusal] = Counter()
        self.last_callback: tuple[datetime, str] | None = None
        self.last_accepted: datetime | None = None
        self.last_refused: datetime | None = None
        self.missed_start_at: datetime | None = None
        self.recent_refusals: deque[tuple[datetime, CallbackRefusal]] = deque(
            maxlen=REPAIR_REFUSALS
        )
        # The public URLs given out, newest first, with their kind.
        self.urls: dict[str, UrlKind] = {}
        self.registration_error: str | None = None

    @property
    def healthy(self) -> bool:
        """Whether callbacks arrive and verify: none refused or missed since the last."""
        if self.last_accepted is None:
            return False
        return all(
            moment is None or moment < self.last_accepted
            for moment in (self.last_refused, self.missed_start_at)
        )

    def remember_url(self, url: str, kind: UrlKind) -> None:
        """Note a public URL given to the provider (it may sign callbacks for it)."""
        self.urls = {url: kind} | {k: v for k, v in self.urls.items() if k != url}
        while len(self.urls) > KNOWN_URLS:
            del self.urls[next(reversed(self.urls))]

    def refusal_to_repair(self, now: datetime) -> CallbackRefusal | None:
        """Return the most frequent recent refusal if they are enough for a repair issue."""
        if len(self.recent_refusals) < REPAIR_REFUSALS:
            return None
        first = self.recent_refusals[0][0]
        if now - first > REPAIR_WINDOW or (
            self.last_accepted is not None and self.last_accepted > first
        ):
            return None
        reasons = Counter(reason for _, reason in self.recent_refusals)
        return reasons.most_common(1)[0][0]

    def diagnostics(self) -> dict[str, Any]:
        """Describe it for diagnostics: counts and times, never a URL or a secret."""
        return {
            "url_kinds": sorted({kind.value for kind in self.urls.values()}),
            "verified": self.verified,
            "signatures": dict(self.signatures),
            "refused": {reason.value: n for reason, n in self.refused.items()},
            "last_callback": None
            if self.last_callback is None
            else {
                "time": self.last_callback[0].isoformat(),
                "kind": self.last_callback[1],
            },
            "healthy": self.healthy,
            "outcomes_awaited": len(self.outcomes),
            "registration_error": self.registration_error,
        }


def _accounts(hass: HomeAssistant) -> dict[str, PushAccount]:
    if (accounts := hass.data.get(_DATA_ACCOUNTS)) is None:
        accounts = hass.data[_DATA_ACCOUNTS] = {}
    return accounts


class PushRuntime:
    """A loaded account's callback webhook, while its push is on."""

    def __init__(
        self, hass: HomeAssistant, entry: CallTransferConfigEntry, account: PushAccount
    ) -> None:
        """Receive the account's callbacks at ``account.webhook_id``."""
        self.hass = hass
        self.entry = entry
        self.account = account

    @property
    def healthy(self) -> bool:
        """Whether the account's callbacks arrive and verify (``PushFeed``)."""
        return self.account.healthy

    def missed_start(self) -> None:
        """Note that a poll found a call starting that no callback told of."""
        self.account.missed_start_at = dt_util.utcnow()

    @callback
    def async_start(self) -> None:
        """Answer the webhook."""
        webhook.async_register(
            self.hass,
            DOMAIN,
            f"{self.entry.title} callbacks",
            self.account.webhook_id,
            self._async_handle,
            local_only=False,
            allowed_methods=(METH_POST,),
        )

    @callback
    def async_stop(self) -> None:
        """Stop answering; Home Assistant answers the URL as any unknown webhook."""
        webhook.async_unregister(self.hass, self.account.webhook_id)

    async def async_public_url(self) -> str | None:
        """Return the URL the provider can reach the webhook at (noted as given out)."""
        public = await async_public_url(self.hass, self.account.webhook_id)
        if public is None:
            return None
        self.account.remember_url(*public)
        return public[0]

    async def async_await_outcome(
        self, request: TransferRequest, destination: str | None
    ) -> tuple[str | None, Callable[[], None]]:
        """Await a number transfer's outcome; return the URL to report it to.

        And what stops awaiting it. No URL (nothing awaited) when Home Assistant has no
        public URL for the callbacks (Cloud made the Dial XML's cloudhook, not this one).
        A client given the URL asks its provider to report there (``dial_xml``).
        """
        url = await self.async_public_url()
        if url is None:
            return None, _nothing
        assert request.to is not None
        token = self.account.outcomes.add(
            AwaitedOutcome(
                call_id=request.call_id,
                to=request.to,
                destination=destination,
                legs=request.legs,
                since=dt_util.utcnow(),
            )
        )
        # The token is URL-safe: the URL reads back byte for byte from the query.
        return f"{url}?{TRANSFER_TOKEN_PARAM}={token}", partial(
            self.account.outcomes.forget, token
        )

    async def _async_handle(
        self, hass: HomeAssistant, webhook_id: str, request: Request
    ) -> Response:
        received_at = dt_util.utcnow()
        client = self.entry.runtime_data.client
        replay_guard = self.account.replay_guard
        spent: list[str] = []
        try:
            body = await _read_body(request)
            with replay_guard.spending() as spent:
                verified = self._verify(request, body, received_at)
            events = await self._async_confirmed(verified)
        except CallbackRefusedError as err:
            self._refused(err, received_at)
            return Response(
                status=_REFUSAL_STATUS.get(err.reason, HTTPStatus.UNAUTHORIZED)
            )
        except (CallTransferError, TimeoutError) as err:
            # The provider could not confirm what the body says: nothing is applied.
            # A 5xx tells the provider the callback was not taken (a 4xx would say it
            # is wrong), so one that retries sends it again, with the same nonce: its
            # nonces are given back, or the retry would be refused as a replay. Polls
            # catch up otherwise.
            replay_guard.forget(spent)
            LOGGER.debug(
                "Could not confirm a callback of %s with %s: %s",
                self.entry.title,
                client.display_name,
                err,
            )
            return Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
        self._accepted(verified, received_at)
        for event in events:
            self._apply(event, received_at)
        push = client.push
        assert push is not None  # push is on only where the client declares it
        answer = push.answer_body
        if any(event.kind in _START_KINDS for event in events):
            answer = await self._async_answer_first() or answer
        return Response(text=answer, content_type=push.answer_content_type)

    async def _async_answer_first(self) -> str | None:
        """Return what sends a call on to the answer URL registration replaced, if any.

        Only for a call's start that verified (and, where it needs it, was confirmed
        live): a refused one, or one of a call over, never learns the user's answer URL.
        """
        registered = await registrations(self.hass).async_get(self.entry.entry_id)
        if registered is None:
            return None
        return self.entry.runtime_data.client.answer_redirect(registered)

    async def _async_confirmed(
        self, verified: VerifiedCallback
    ) -> tuple[CallbackEvent, ...]:
        """Return what a verified callback tells that may be applied.

        A fresh callback whose body the signature covers is applied as told.
        Otherwise (Vobiz's documented signatures cover the URL and a nonce only: whoever
        sees one callback can send its headers with another body; Twilio's voice
        request carries no timestamp or nonce: a captured one verifies forever) the
        calls it names are read at the provider first, awaited so that a call the
        provider does not know is refused (``UNKNOWN_CALL``) and nothing is applied:
        what feeds the live calls is then the provider's record, never the body's
        numbers, and a call over is never made live again. A start of a call already
        known is passed on as known, unconfirmed (it is answered first all the same).
        Transfer outcomes name Home Assistant's own token.
        """
        coordinator = self.entry.runtime_data.coordinator
        if not verified.needs_confirmation or coordinator is None:
            return verified.events
        events: list[CallbackEvent] = []
        for event in verified.events:
            if event.kind not in _CALL_KINDS or event.call is None:
                events.append(event)
                continue
            known = coordinator.record.calls.get(event.call.call_id)
            if known is not None and event.kind is not CallbackKind.CALL_ENDED:
                events.append(CallbackEvent(kind=event.kind, call=known))
                continue
            if (confirmed := await self._async_confirm(event.call.call_id)) is None:
                if known is None:
                    raise CallbackRefusedError(
                        CallbackRefusal.UNKNOWN_CALL,
                        "The callback names a call the provider does not know",
                    )
                confirmed = ConfirmedCall(call=known, live=False)
            if confirmed.live and event.kind is CallbackKind.CALL_ENDED:
                LOGGER.debug(
                    "A callback said a call ended; the provider says it is live"
                )
                continue
            events.append(
                CallbackEvent(
                    kind=event.kind if confirmed.live else CallbackKind.CALL_ENDED,
                    call=confirmed.call,
                )
            )
        return tuple(events)

    async def _async_confirm(self, call_id: str) -> ConfirmedCall | None:
        """Read the provider's record of a call, within the client's own timeouts.

        The callback waits for it (its answer depends on it): the overall bound keeps
        a provider answering slowly, or rate limiting, from holding it longer.
        """
        async with asyncio.timeout(CONFIRM_TIMEOUT):
            return await self.entry.runtime_data.client.async_confirm_call(call_id)

    def _verify(
        self, request: Request, body: bytes, received_at: datetime
    ) -> VerifiedCallback:
        """Verify against each URL given out (newest first); raise the telling refusal."""
        client = self.entry.runtime_data.client
        query = f"?{request.query_string}" if request.query_string else ""
        headers = dict(request.headers)
        refusals: list[CallbackRefusedError] = []
        for url in self.account.urls:
            try:
                return client.verify_callback(
                    CallbackRequest(
                        method=request.method,
                        url=url + query,
                        headers=headers,
                        body=body,
                        received_at=received_at,
                    ),
                    self.account.replay_guard,
                )
            except CallbackRefusedError as err:
                refusals.append(err)
        if not refusals:
            raise CallbackRefusedError(
                CallbackRefusal.BAD_SIGNATURE,
                "No URL was given to the provider that the callback could be signed for",
            )
        # A replay verified (only its nonce was spent): say so rather than "wrong".
        raise next(
            (r for r in refusals if r.reason is CallbackRefusal.REPLAYED), refusals[0]
        )

    @callback
    def _refused(self, err: CallbackRefusedError, now: datetime) -> None:
        account = self.account
        account.refused[err.reason] += 1
        account.last_refused = now
        account.recent_refusals.append((now, err.reason))
        LOGGER.debug("Refused a callback of %s: %s", self.entry.title, err.message)
        if (reason := account.refusal_to_repair(now)) is not None:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                _issue_id(self.entry.entry_id),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=f"{ISSUE_PREFIX}_{reason.value}",
                translation_placeholders={
                    "title": self.entry.title,
                    "provider": self.entry.runtime_data.client.display_name,
                },
                learn_more_url=push_docs_url(
                    self.entry.runtime_data.client.provider_id
                ),
            )
        if (coordinator := self.entry.runtime_data.coordinator) is not None:
            coordinator.async_push_changed()

    @callback
    def _accepted(self, verified: VerifiedCallback, now: datetime) -> None:
        account = self.account
        account.verified += 1
        account.signatures[verified.signature] += 1
        account.last_accepted = now
        account.recent_refusals.clear()
        kinds = [event.kind.value for event in verified.events]
        account.last_callback = (now, ", ".join(kinds))
        ir.async_delete_issue(self.hass, DOMAIN, _issue_id(self.entry.entry_id))

    @callback
    def _apply(self, event: CallbackEvent, now: datetime) -> None:
        """Feed one verified (and, as needed, confirmed) fact to the calls or outcomes."""
        if event.kind in (
            CallbackKind.TRANSFER_ANSWERED,
            CallbackKind.TRANSFER_UNANSWERED,
        ):
            self._report_outcome(event, now)
            return
        coordinator = self.entry.runtime_data.coordinator
        if coordinator is None or event.call is None:
            return  # IGNORED, or an account whose calls are not followed
        call = event.call
        if event.kind is not CallbackKind.CALL_ENDED:
            coordinator.async_apply(
                CallReport(live={call.call_id: call}, source=ReportSource.PUSH)
            )
        else:
            _apply_end(coordinator, call)
        coordinator.async_push_changed()

    @callback
    def _report_outcome(self, event: CallbackEvent, now: datetime) -> None:
        awaited = self.account.outcomes.take(event, now)
        if awaited is None:
            LOGGER.debug("A transfer outcome for no transfer awaited: ignored")
            return
        event_type, data = awaited.event(
            self.entry.entry_id,
            transfers_entity_id(self.hass, self.entry.entry_id),
            self.entry.runtime_data.client.provider_id,
            event,
        )
        self.hass.bus.async_fire(event_type, data)


@callback
def _apply_end(coordinator: LiveCallsCoordinator, call: LiveCall) -> None:
    """End a call (one never seen starts first), as told by a callback."""
    coordinator.async_apply(
        CallReport(
            ended=frozenset({call.call_id}),
            ended_calls={call.call_id: call},
            source=ReportSource.PUSH,
        )
    )


def _nothing() -> None:
    """Stand in for forgetting an outcome that is not awaited."""


def _issue_id(entry_id: str) -> str:
    return f"{ISSUE_PREFIX}_{entry_id}"


async def _read_body(request: Request) -> bytes:
    """Read the raw body, refusing one longer than any callback (without reading it all).

    Through Home Assistant Cloud the request is a ``MockRequest``, whose ``content`` is
    a new reader, from the start, each time it is asked for: it is asked for once.
    """
    content = request.content
    body = b""
    while chunk := await content.read(MAX_CALLBACK_BYTES + 1 - len(body)):
        body += chunk
        if len(body) > MAX_CALLBACK_BYTES:
            raise CallbackRefusedError(
                CallbackRefusal.MALFORMED,
                "The callback's body is larger than any callback",
            )
    return body


def push_docs_url(provider_id: str) -> str:
    """Return the page of a provider's instant call events: what it sends, where, signed how."""
    return f"{PROVIDER_DOCS_URL}/{provider_id}.md#{PUSH_DOCS_ANCHOR}"


def push_enabled(entry: CallTransferConfigEntry) -> bool:
    """Whether the account's push is on (its provider's client declares ``push``)."""
    return bool(entry.options.get(CONF_PUSH))


async def async_setup_push(hass: HomeAssistant, entry: CallTransferConfigEntry) -> None:
    """Receive the account's callbacks if its push is on; set or undo their URL's registration.

    For a provider whose client declares ``push``; called at setup and again whenever
    the account's options or credentials change.
    """
    runtime = entry.runtime_data
    if runtime.push is not None:
        runtime.push.async_stop()
        runtime.push = None
    if push_enabled(entry):
        webhook_id = await webhook_ids(hass).async_get(
            entry.entry_id, WebhookPurpose.CALLBACKS
        )
        accounts = _accounts(hass)
        if (account := accounts.get(entry.entry_id)) is None:
            account = accounts[entry.entry_id] = PushAccount(webhook_id)
        runtime.push = PushRuntime(hass, entry, account)
        runtime.push.async_start()
    if runtime.coordinator is not None:
        runtime.coordinator.push = runtime.push
    if runtime.push is not None:
        await _async_register(hass, entry, runtime.push)
    else:
        ir.async_delete_issue(hass, DOMAIN, _issue_id(entry.entry_id))
        await async_reconcile(hass, entry.entry_id, runtime.client, None)


async def _async_register(
    hass: HomeAssistant, entry: CallTransferConfigEntry, push_runtime: PushRuntime
) -> None:
    """Set (or undo) the callback URL at the provider as the options say."""
    client = entry.runtime_data.client
    assert client.push is not None
    url = await push_runtime.async_public_url()
    if url is None:
        return  # no URL to set: what is set stays, until there is one
    option = client.push.registration_option
    target = entry.options.get(option) if option else None
    wanted = (target, url) if target and entry.options.get(CONF_PUSH_REGISTER) else None
    push_runtime.account.registration_error = await async_reconcile(
        hass, entry.entry_id, client, wanted
    )


@callback
def async_follow_public_url(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> None:
    """While the account is loaded: stop on unload; re-register when the public URL moves."""

    @callback
    def _stop() -> None:
        if (push_runtime := entry.runtime_data.push) is not None:
            push_runtime.async_stop()
            entry.runtime_data.push = None

    @callback
    def _moved() -> None:
        if (push_runtime := entry.runtime_data.push) is not None:
            entry.async_create_background_task(
                hass,
                _async_register(hass, entry, push_runtime),
                f"{DOMAIN} follow the public URL",
            )

    entry.async_on_unload(_stop)
    async_on_public_url_change(hass, entry, _moved)


async def async_remove_push(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> None:
    """Forget a removed account's callbacks; put back what its registration replaced."""
    _accounts(hass).pop(entry.entry_id, None)
    ir.async_delete_issue(hass, DOMAIN, _issue_id(entry.entry_id))
    await async_undo(
        hass, entry.entry_id, create_client(hass, entry.data, entry.options)
    )
    await async_remove_webhook_id(hass, entry.entry_id, WebhookPurpose.CALLBACKS)


async def async_callback_url(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> str | None:
    """Return the account's callback URL as the provider can reach it (options form)."""
    webhook_id = await webhook_ids(hass).async_get(
        entry.entry_id, WebhookPurpose.CALLBACKS
    )
    if (public := await async_public_url(hass, webhook_id)) is None:
        return None
    if (account := _accounts(hass).get(entry.entry_id)) is not None:
        account.remember_url(*public)
    return public[0]


def push_diagnostics(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> dict[str, Any] | None:
    """Describe the account's push for diagnostics; None where the provider has none."""
    runtime = entry.runtime_data
    if runtime.client.push is None:
        return None
    account = _accounts(hass).get(entry.entry_id)
    coordinator = runtime.coordinator
    return {
        "enabled": push_enabled(entry),
        "register": bool(entry.options.get(CONF_PUSH_REGISTER)),
        "reports_call_starts": runtime.client.push_reports_call_starts,
        "reconciling": coordinator is not None and coordinator.reconciling,
        **(account.diagnostics() if account is not None else {}),
    }
