"""Live calls of an account: polled, compared poll to poll, reported as started or ended."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
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
    CallTransferError,
    InvalidAuthError,
    LiveCall,
    RateLimitedError,
    TransferProvider,
)

if TYPE_CHECKING:
    from .data import CallTransferConfigEntry

type LiveCalls = dict[str, LiveCall]


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
    """A call seen to start (``started``) or end (``ended``) between two polls."""

    kind: str
    call: LiveCall


_EVENTS = {"started": EVENT_CALL_STARTED, "ended": EVENT_CALL_ENDED}


class LiveCallsCoordinator(DataUpdateCoordinator[LiveCalls]):
    """Lists the live calls of one account every scan interval.

    Calls are compared with the last successful poll, so a failed poll never looks
    like every call ended, and each call is reported started and ended once. The
    first successful poll is the baseline: calls already live then are not "started".
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
        # What the last successful poll changed, for the entities and then the bus.
        self.changes: list[CallChange] = []
        # One poll at a time, so two never report the same call.
        self._poll_lock = asyncio.Lock()
        # No poll before this (the provider's Retry-After).
        self._quiet_until: datetime | None = None
        # The next listing is a baseline: its calls did not just start.
        self._new_baseline = False

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
            self._new_baseline = self._new_baseline or not same_calls
        await self.async_refresh()

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

    async def _async_update_data(self) -> LiveCalls:
        async with self._poll_lock:
            calls = await self._async_poll()
            baseline, self._new_baseline = self._new_baseline, False
        current = {call.call_id: call for call in calls}
        if self.data is not None and not baseline:
            self.changes = [
                *(
                    CallChange("ended", c)
                    for i, c in self.data.items()
                    if i not in current
                ),
                *(
                    CallChange("started", c)
                    for i, c in current.items()
                    if i not in self.data
                ),
            ]
        return current

    async def _async_poll(self) -> list[LiveCall]:
        self.update_interval = self.scan_interval
        if self._quiet_until is not None:
            wait = (self._quiet_until - dt_util.utcnow()).total_seconds()
            if wait > 0:
                # A refresh asked for while the provider wants us to wait: send nothing.
                self.update_interval = timedelta(seconds=wait)
                raise _rate_limited(wait)
            self._quiet_until = None
        try:
            return await self.client.async_live_calls(self.data)
        except RateLimitedError as err:
            wait = err.retry_after or 0.0
            self._quiet_until = dt_util.utcnow() + timedelta(seconds=wait)
            self.update_interval = max(self.scan_interval, timedelta(seconds=wait))
            raise _rate_limited(self.update_interval.total_seconds()) from err
        except CallTransferError as err:
            raise _poll_failure(err) from err

    @callback
    def async_update_listeners(self) -> None:
        """Update the entities, then fire one bus event per call that started or ended."""
        super().async_update_listeners()
        changes, self.changes = self.changes, []
        for change in changes:
            self.hass.bus.async_fire(_EVENTS[change.kind], self.event_data(change))

    def event_data(self, change: CallChange) -> dict[str, Any]:
        """Return the data of a call started or ended event."""
        details = describe_call(change.call)
        del details[ATTR_STATUS]
        return {
            ATTR_CONFIG_ENTRY_ID: self.config_entry.entry_id,
            ATTR_PROVIDER: self.client.provider_id,
            **details,
        }


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
