"""Fixtures for live-call tests: one provider account that lists its calls, and time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.call_transfer.const import DOMAIN
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_VOBIZ_AUTH_ID,
    ProviderName,
    Sandbox,
    SandboxCall,
)

SCAN_INTERVAL: Final = timedelta(seconds=10)
_ACCOUNT: Final = {"vobiz": SANDBOX_VOBIZ_AUTH_ID, "bland": SANDBOX_BLAND_API_KEY}
_LISTING_PATH: Final = {"vobiz": "/Call/", "bland": "/v1/calls/active"}
# What a transfer needs besides the call id.
_DESTINATION: Final[dict[str, dict[str, str]]] = {
    "vobiz": {"aleg_url": "https://xml.example.com/transfer/aleg"},
    "bland": {"to": "+14155550100"},
}


@dataclass
class LiveAccount:
    """A sandbox account in the test's Home Assistant that lists its live calls."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    sandbox: Sandbox
    provider: ProviderName
    entry: MockConfigEntry

    @property
    def account(self) -> str:
        """The sandbox account: Vobiz auth_id or Bland API key."""
        return _ACCOUNT[self.provider]

    @property
    def listing_path(self) -> str:
        """What the path of a live-call listing request contains."""
        return _LISTING_PATH[self.provider]

    @property
    def destination(self) -> dict[str, str]:
        """Where a transfer of this account's calls goes (action fields)."""
        return _DESTINATION[self.provider]

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

    def calls(self) -> list[SandboxCall]:
        """Return the account's sandbox calls, oldest first."""
        return self.sandbox.account_calls(self.provider, self.account)

    def leave_live(self, count: int) -> list[str]:
        """End calls until ``count`` are live; return the ids of those left."""
        calls = self.calls()
        for call in calls[count:]:
            self.sandbox.end_call(call.call_id)
        return [call.call_id for call in calls[:count]]


@pytest.fixture(params=["vobiz", "bland"])
def provider(request: pytest.FixtureRequest) -> ProviderName:
    """Run a test once per provider."""
    provider: ProviderName = request.param
    return provider


@pytest.fixture
def live(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
    request: pytest.FixtureRequest,
    provider: ProviderName,
) -> LiveAccount:
    """Return the provider's account (the only one), added but not set up.

    A Bland AI entry gets the sandbox's organization id, so it lists its calls.
    """
    entry: MockConfigEntry = request.getfixturevalue(f"{provider}_entry")
    if provider == "bland":
        hass.config_entries.async_update_entry(
            entry, options={"org_id": SANDBOX_BLAND_ORG_ID}
        )
    return LiveAccount(hass, freezer, sandbox, provider, entry)
