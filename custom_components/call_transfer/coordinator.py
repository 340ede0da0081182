"""Live calls of an account: listed by polling, each call reported started and ended once.

Whatever tells of the account's calls (a poll's listing, a provider's callback) is a
``CallReport``, applied by ``LiveCallsCoordinator.async_apply`` to the account's one
record of live calls: each call fires ``started`` when it is first seen and ``ended``
when it is seen or confirmed gone, once each, whichever report told first; each change
says which (``source``: push or poll). While the account's callbacks arrive and report
calls starting, polling only reconciles (every ``RECONCILIATION_INTERVAL``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from math import ceil
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryNotReady,
    HomeAssistantError,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonObjectType

from .const import (
    ATTR_CALL_ID,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DIRECTION,
    ATTR_FROM,
    ATTR_PROVIDER,
    ATTR_SOURCE,
    ATTR_STARTED,
    ATTR_STATUS,
    ATTR_TO,
    CONF_SCAN_INTERVAL,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    EVENT_CALL_ENDED,
    EVENT_CALL_STARTED,
    LOGGER,
)
from .providers import (
    DEFAULT_TIMEOUT,
    CallTransferError,
    InvalidAuthError,
    LiveCall,
    ProviderTimeoutError,
    RateLimitedError,
    TransferProvider,
)

if TYPE_CHECKING:
    from .data import CallTransferConfigEntry

type LiveCalls = dict[str, LiveCall]
type ChangeKind = Literal["started", "ended"]

# The longest a poll (every request of it: pages, lookups) holds the poll lock, which
# list_calls and transfers without a call id wait for. One request ends within 20 s
# (twice DEFAULT_TIMEOUT, providers.http); a poll of several has 30 s in all.
POLL_TIMEOUT: Final = 3 * DEFAULT_TIMEOUT
# Calls a listing left out that one poll asks the provider about; any others are
# confirmed by the next listing.
MAX_LOOKUPS_PER_POLL: Final = 20
# Ended calls remembered, so that no later report (a listing that lags) starts them again.
ENDED_CALLS_KEPT: Final = 1000
# How often polling reconciles while the account's callbacks report calls starting.
RECONCILIATION_INTERVAL: Final = timedelta(minutes=5)


class ReportSource(StrEnum):
    """What told of a call: a provider's callback, or a poll."""

    PUSH = "push"
    POLL = "poll"


class PushFeed(Protocol):
    """The account's callbacks, as polling sees them."""

    @property
    def healthy(self) -> bool:
        """Whether callbacks arrive and verify (none refused since the last accepted)."""

    def missed_start(self) -> None:
        """Note that a poll found a call starting that no callback reported."""


def describe_call(call: LiveCall) -> JsonObjectType:
    """Describe a live call for states, events and action responses.

    Numbers are given as the provider gives them; ``started`` is ISO 8601 text.
    """
    return {
        ATTR_CALL_ID: call.call_id,
        ATTR_FROM: call.from_number,
        ATTR_TO: call.to_number,
        ATTR_DIRECTION: call.direction,
        ATTR_STATUS: call.status,
        ATTR_STARTED: call.started.isoformat() if call.started else None,
    }


@dataclass(frozen=True, slots=True)
class CallChange:
    """A call seen to start (``started``) or end (``ended``), and what told of it."""

    kind: ChangeKind
    call: LiveCall
    source: ReportSource = ReportSource.POLL


@dataclass(frozen=True, slots=True, kw_only=True)
class CallReport:
    """What one look at the provider told: calls live, and calls ended.

    ``complete``: ``live`` is every call live (a poll's listing), so a known call it
    leaves out may have ended, unless the provider confirmed it still live when asked
    (``confirmed``). A provider's callback about one call is not complete: it may tell
    what it knows of a call that ended (``ended_calls``), so a call never seen live
    (shorter than a poll interval) still starts and ends.
    """

    live: Mapping[str, LiveCall] = field(default_factory=dict)
    ended: frozenset[str] = frozenset()
    ended_calls: Mapping[str, LiveCall] = field(default_factory=dict)
    confirmed: frozenset[str] = frozenset()
    complete: bool = False
    source: ReportSource = ReportSource.POLL


class LiveCallRecord:
    """The account's live calls, and what each report changes in them (no I/O).

    The first complete report is the baseline: its calls are not "started". After it a
    call starts when first reported live, and ends when reported ended or when two
    complete reports in a row leave it out: one listing that misses a call (paging, a
    listing that lags) does not end it. Each call starts and ends once: a listing that
    still shows a call whose end was reported keeps it live, silently, until it goes.
    """

    def __init__(self) -> None:
        """Start with no calls and no baseline."""
        self.calls: LiveCalls = {}
        self.has_baseline = False
        # Live calls the last complete report left out.
        self._missed: set[str] = set()
        # Calls whose end was reported, oldest first (a dict as an ordered set).
        self._ended: dict[str, None] = {}

    def missing_from(self, listed: Mapping[str, LiveCall]) -> list[str]:
        """Return the live calls a listing leaves out that the last one did not.

        (Those it left out too end as the listing is applied.)
        """
        return [i for i in self.calls if i not in listed and i not in self._missed]

    def apply(self, report: CallReport) -> list[CallChange]:
        """Take a report in; return the calls it ended, then those it started.

        Then each call it tells ended that was never seen: started, then ended.
        """
        unseen = [
            call
            for call_id, call in report.ended_calls.items()
            if call_id in report.ended
            and call_id not in self.calls
            and call_id not in self._ended
        ]
        ended = self._end_all(report.ended)
        # A callback about a call that ended is late; a listing tells what is live.
        live = {
            call_id: call
            for call_id, call in report.live.items()
            if report.complete or call_id not in self._ended
        }
        started = (
            [
                call
                for call_id, call in live.items()
                if call_id not in self.calls and call_id not in self._ended
            ]
            if self.has_baseline or not report.complete
            else []
        )
        if report.complete:
            kept = {i: c for i, c in self.calls.items() if i not in live}
            missed = kept.keys() - report.confirmed
            ended += self._end_all(missed & self._missed)
            self._missed = missed & self.calls.keys()
            self.calls = live | {i: c for i, c in kept.items() if i in self.calls}
            self.has_baseline = True
        else:
            self._missed -= live.keys()
            self.calls |= live
        source = report.source
        return [
            *(CallChange("ended", call, source) for call in ended),
            *(CallChange("started", call, source) for call in started),
            *(
                CallChange(kind, call, source)
                for call in unseen
                for kind in ("started", "ended")
            ),
        ]

    def _end_all(self, call_ids: Collection[str]) -> list[LiveCall]:
        """End calls; return those that were live and whose end was untold, in order."""
        known = [i for i in self.calls if i in call_ids]
        unknown = [i for i in call_ids if i not in self.calls]
        return [call for i in known + unknown if (call := self._end(i)) is not None]

    def _end(self, call_id: str) -> LiveCall | None:
        """Remove a call; return it if it was live and its end not reported before."""
        call = self.calls.pop(call_id, None)
        self._missed.discard(call_id)
        if call_id in self._ended:
            return None
        self._ended[call_id] = None
        if len(self._ended) > ENDED_CALLS_KEPT:
            del self._ended[next(iter(self._ended))]
        return call


_EVENTS = {"started": EVENT_CALL_STARTED, "ended": EVENT_CALL_ENDED}


class LiveCallsCoordinator(DataUpdateCoordinator[LiveCalls]):
    """Lists the live calls of one account every scan interval.

    One poll at a time: each applies its listing to the record under the poll lock, so
    it is compared with what the poll before it stored, and a failed poll changes
    nothing (it is not every call ending). Each change fires its bus event and reaches
    the Calls entity as it is applied, whether or not the entities update.
    """

    config_entry: CallTransferConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: CallTransferConfigEntry,
        client: TransferProvider,
    ) -> None:
        """Poll ``client`` at the entry's scan interval."""
        self.scan_interval = _scan_interval(entry)
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{entry.title} live calls",
            update_interval=self.scan_interval,
            always_update=False,
        )
        self.client = client
        self.record = LiveCallRecord()
        self._change_listeners: list[Callable[[CallChange], None]] = []
        # What the entities were last updated with: whether polling worked, the calls.
        self._shown: tuple[bool, LiveCalls | None] | None = None
        self._poll_lock = asyncio.Lock()
        # No poll before this (the provider's Retry-After).
        self._quiet_until: datetime | None = None
        # The account's callbacks, while they are on.
        self.push: PushFeed | None = None
        # Whether the last poll was scheduled as a reconciliation.
        self.reconciling = False

    async def async_setup_first_refresh(self) -> None:
        """List the calls once before the entities are added.

        The credentials were checked just before, so a failing listing does not fail
        the setup: transfers with a call id keep working, the live-call entities
        start unavailable and polling goes on. Rejected credentials start a reauth.
        """
        try:
            await self.async_config_entry_first_refresh()
        except ConfigEntryNotReady:
            LOGGER.warning(
                "Could not list the live calls of %s: %s; trying again every %d s",
                self.config_entry.title,
                self.last_exception,
                self.scan_interval.total_seconds(),
            )

    async def async_fresh_calls(self) -> list[LiveCall]:
        """Poll now (not the cache) and return the live calls; raise when that fails."""
        await self.async_refresh()
        if not self.last_update_success:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="live_calls_unavailable",
                translation_placeholders={
                    "title": self.config_entry.title,
                    "error": str(self.last_exception),
                },
            )
        return list(self.data.values())

    async def async_use_client(
        self, client: TransferProvider, *, same_calls: bool
    ) -> None:
        """Poll with ``client`` (new credentials or options) from now on, first right away.

        Unless it lists the same calls as the last one (``same_calls``), its first
        listing is a new baseline, as at setup: the calls of another organization or
        connection did not just start, nor did the last one's end.
        """
        async with self._poll_lock:  # a poll under way ends with the last client
            self.client = client
            self.scan_interval = _scan_interval(self.config_entry)
            if not same_calls:
                self.record = LiveCallRecord()
        await self.async_refresh()

    @callback
    def async_add_change_listener(
        self, listener: Callable[[CallChange], None]
    ) -> CALLBACK_TYPE:
        """Call ``listener`` with each change as it is applied; return the undo."""
        self._change_listeners.append(listener)
        return lambda: self._change_listeners.remove(listener)

    @callback
    def async_apply(self, report: CallReport) -> list[CallChange]:
        """Apply a report: each change reaches its listeners and the bus once, then the entities.

        Returns the changes.
        """
        changes = self.record.apply(report)
        self.data = dict(self.record.calls)
        for change in changes:
            for listener in list(self._change_listeners):
                listener(change)
            self.hass.bus.async_fire(_EVENTS[change.kind], self.event_data(change))
        self._async_update_listeners_if_stale()
        return changes

    @property
    def should_reconcile(self) -> bool:
        """Whether polling only reconciles: no call live, and callbacks report starts.

        That is while the account's callbacks are healthy and its client's report calls
        starting; a call live, a refused callback or a start only a poll found brings
        polling back to the scan interval.
        """
        return (
            self.push is not None
            and self.push.healthy
            and self.client.push_reports_call_starts
            and not self.record.calls
        )

    @callback
    def async_push_changed(self) -> None:
        """Poll now (and from then on every scan interval) if polling should stop reconciling."""
        if self.reconciling and not self.should_reconcile:
            self.config_entry.async_create_task(self.hass, self.async_request_refresh())

    @callback
    def async_update_listeners(self) -> None:
        """Update the entities, noting what they now show."""
        self._shown = (self.last_update_success, self.data)
        super().async_update_listeners()

    @callback
    def _async_refresh_finished(self) -> None:
        # Home Assistant updates the entities when a refresh ends with other data or
        # success than it began with; refreshes that overlap began with the same, so
        # compare with what the entities show instead.
        self._async_update_listeners_if_stale()

    @callback
    def _async_update_listeners_if_stale(self) -> None:
        if self._shown != (self.last_update_success, self.data):
            self.async_update_listeners()

    def event_data(self, change: CallChange) -> dict[str, Any]:
        """Return the data of a call started or ended event."""
        details = describe_call(change.call)
        del details[ATTR_STATUS]
        return {
            ATTR_CONFIG_ENTRY_ID: self.config_entry.entry_id,
            ATTR_PROVIDER: self.client.provider_id,
            **details,
            ATTR_SOURCE: change.source.value,
        }

    async def _async_update_data(self) -> LiveCalls:
        async with self._poll_lock:
            reconciled, self.reconciling = self.reconciling, False
            for report in await self._async_poll():
                changes = self.async_apply(report)
                if (
                    reconciled
                    and self.push is not None
                    and any(change.kind == "started" for change in changes)
                ):
                    self.push.missed_start()
            self.reconciling = self.should_reconcile
            if self.reconciling:
                self.update_interval = RECONCILIATION_INTERVAL
            return self.data

    async def _async_poll(self) -> list[CallReport]:
        """List the calls; confirm whether known calls the listing left out are gone.

        A provider that looks calls up is asked about them; otherwise the calls are
        listed once more. Whatever is not confirmed in time, the next poll confirms.
        """
        self.update_interval = self.scan_interval
        if self._quiet_until is not None:
            wait = (self._quiet_until - dt_util.utcnow()).total_seconds()
            if wait > 0:
                # A refresh asked for while the provider wants us to wait: send nothing.
                self.update_interval = timedelta(seconds=wait)
                raise _rate_limited(wait)
            self._quiet_until = None
        deadline = asyncio.get_running_loop().time() + POLL_TIMEOUT
        try:
            async with asyncio.timeout_at(deadline):
                listed = await self._async_list()
        except TimeoutError as err:
            raise _poll_failure(
                ProviderTimeoutError(
                    f"The live calls were not listed within {POLL_TIMEOUT:g} s"
                )
            ) from err
        except RateLimitedError as err:
            wait = err.retry_after or 0.0
            self._quiet_until = dt_util.utcnow() + timedelta(seconds=wait)
            self.update_interval = max(self.scan_interval, timedelta(seconds=wait))
            raise _rate_limited(self.update_interval.total_seconds()) from err
        except CallTransferError as err:
            raise _poll_failure(err) from err
        report = CallReport(live=listed, complete=True)
        if not (missing := self.record.missing_from(listed)):
            return [report]
        try:
            async with asyncio.timeout_at(deadline):
                if self.client.looks_up_calls:
                    return [await self._async_look_up(report, missing)]
                return [
                    report,
                    CallReport(live=await self._async_list(), complete=True),
                ]
        except (TimeoutError, CallTransferError) as err:
            LOGGER.debug("Could not confirm that %d calls ended: %r", len(missing), err)
        return [report]

    async def _async_list(self) -> LiveCalls:
        calls = await self.client.async_live_calls(self.record.calls)
        return {call.call_id: call for call in calls}

    async def _async_look_up(
        self, report: CallReport, missing: list[str]
    ) -> CallReport:
        """Add to the report what the provider says of calls its listing left out.

        A call the provider could not tell about stays unconfirmed.
        """
        missing = missing[:MAX_LOOKUPS_PER_POLL]
        answers = dict(
            zip(
                missing,
                await asyncio.gather(*(self._async_is_live(i) for i in missing)),
                strict=True,
            )
        )
        return replace(
            report,
            ended=frozenset(i for i, live in answers.items() if live is False),
            confirmed=frozenset(i for i, live in answers.items() if live),
        )

    async def _async_is_live(self, call_id: str) -> bool | None:
        """Ask whether a call is still live; None when the provider could not tell."""
        try:
            return await self.client.async_call_is_live(call_id)
        except CallTransferError as err:
            LOGGER.debug("Could not look up call %s: %s", call_id, err)
            return None


def _scan_interval(entry: CallTransferConfigEntry) -> timedelta:
    return timedelta(
        seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
    )


def _poll_failure(err: CallTransferError) -> Exception:
    """Rejected credentials start a reauth; anything else is a failed poll."""
    if isinstance(err, InvalidAuthError):
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="setup_invalid_auth"
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="live_calls_failed",
        translation_placeholders={"error": err.message},
    )


def _rate_limited(wait: float) -> UpdateFailed:
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="live_calls_rate_limited",
        translation_placeholders={"seconds": str(ceil(wait))},
    )
