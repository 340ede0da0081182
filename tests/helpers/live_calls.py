"""Fixtures for live-call tests: one provider account that lists its calls, and time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.call_transfer.const import DOMAIN
from sandbox import Fault, Sandbox, SandboxCall
from tests.helpers.entries import add_entry
from tests.helpers.provider_cases import ProviderCase

SCAN_INTERVAL: Final = timedelta(seconds=10)
STEP: Final = 0.5  # seconds of the frozen clock per step of advance()
# The README's promise: a request ends 20 s after it starts (at most 10 s of them
# waiting for a connection).
REQUEST_DEADLINE: Final = 20.0


async def advance(
    freezer: FrozenDateTimeFactory, done: Callable[[], bool], *, limit: float
) -> float:
    """Move the frozen clock on in steps until ``done()``; return the seconds that passed.

    The event loop runs on that clock too: after each step it runs a few rounds, so
    timers due fire, the sandbox writes and the client reads. For waits that take time
    to end (a slow answer), where ``poll()`` would wait for them forever.
    """
    passed = 0.0
    while not done():
        assert passed < limit, f"still waiting after {limit:g} s"
        freezer.tick(STEP)
        passed += STEP
        for _ in range(20):
            await asyncio.sleep(0)
    return passed


@dataclass
class LiveAccount:
    """A sandbox account in the test's Home Assistant that lists its live calls."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    sandbox: Sandbox
    case: ProviderCase
    entry: MockConfigEntry

    @property
    def provider(self) -> str:
        """The account's provider id."""
        return self.case.provider

    async def set_up(self) -> None:
        """Set up the entry and wait until it settles."""
        await self.hass.config_entries.async_setup(self.entry.entry_id)
        await self.hass.async_block_till_done()

    def entity_id(self, key: str) -> str:
        """Return the entity id of one of the account's entities, by key."""
        platform = "sensor" if key == "active_calls" else "event"
        found = er.async_get(self.hass).async_get_entity_id(
            platform, DOMAIN, f"{self.entry.entry_id}_{key}"
        )
        assert found is not None
        return found

    def state(self, key: str) -> State:
        """Return the state of one of the account's entities, by key."""
        state = self.hass.states.get(self.entity_id(key))
        assert state is not None
        return state

    async def poll(self, after: timedelta = SCAN_INTERVAL) -> None:
        """Let ``after`` pass, so the polls due by then run, and wait for them."""
        self.freezer.tick(after)
        async_fire_time_changed(self.hass)
        await self.hass.async_block_till_done(wait_background_tasks=True)

    async def until_polled(self) -> None:
        """Let the clock run (in steps) until the next scheduled poll sends a request.

        For polls that take time to end, which ``poll()`` would wait for forever.
        """
        self.sandbox.requests.clear()
        await advance(
            self.freezer,
            lambda: bool(self.sandbox.requests),
            limit=SCAN_INTERVAL.total_seconds() + 1,
        )

    async def start_call(self, **fields: str) -> SandboxCall:
        """Start a call on the account over the sandbox's control plane, as a developer does."""
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{self.sandbox.control_url}/calls",
                json={"provider": self.case.provider, **fields},
            ) as response,
        ):
            assert response.status == 201
            return self.sandbox.calls[(await response.json())["call_id"]]

    def add_calls(self, count: int) -> list[str]:
        """Start ``count`` calls on the account (straight in the sandbox); return their ids."""
        return [
            self.sandbox.add_call(
                self.case.provider,
                self.case.account,
                connection=self.case.live_options.get("connection_id"),
            ).call_id
            for _ in range(count)
        ]

    def fault_next_listing(self, fault: Fault) -> None:
        """Make the next request whose path has the listing's path fail with ``fault``."""
        self.sandbox.add_fault(fault, path_contains=self.case.listing_path, times=1)

    def calls(self) -> list[SandboxCall]:
        """Return the account's sandbox calls, oldest first."""
        return self.sandbox.account_calls(self.case.provider, self.case.account)

    def leave_live(self, count: int) -> list[str]:
        """End calls until ``count`` are live; return the ids of those left."""
        calls = self.calls()
        for call in calls[count:]:
            self.sandbox.end_call(call.call_id)
        return [call.call_id for call in calls[:count]]


@pytest.fixture
def live(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
    case: ProviderCase,
) -> LiveAccount:
    """Return the provider's account (the only one), added but not set up.

    It has the options its provider needs to list calls (Bland AI's organization ID,
    Telnyx's connection ID).
    """
    entry = add_entry(hass, sandbox, case.provider)
    hass.config_entries.async_update_entry(entry, options=case.live_options)
    return LiveAccount(hass, freezer, sandbox, case, entry)
