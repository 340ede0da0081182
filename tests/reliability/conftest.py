"""Both sandbox accounts loaded in one Home Assistant, for the reliability tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from sandbox import Sandbox
from tests.conftest import setup_entry, transfer, transfer_data

MAY_HAVE_HAPPENED = "the transfer may have happened"


@dataclass
class Accounts:
    """A Home Assistant with the sandbox's Vobiz and Bland AI accounts loaded."""

    hass: HomeAssistant
    sandbox: Sandbox
    vobiz: MockConfigEntry
    bland: MockConfigEntry
    # The transfer events fired so far: "succeeded" and "failed".
    events: dict[str, list[Any]]

    def entry(self, provider: str) -> MockConfigEntry:
        """Return the entry of a provider's account."""
        return self.vobiz if provider == "vobiz" else self.bland

    async def transfer(
        self, provider: str, call_id: str | None = None, **data: Any
    ) -> Any:
        """Transfer a live call (the provider's seeded one by default) with the action."""
        return await transfer(
            self.hass,
            config_entry_id=self.entry(provider).entry_id,
            **(transfer_data(provider, call_id) | data),
        )

    async def wait_for_requests(self, path: str, count: int = 1) -> None:
        """Wait until the sandbox has received ``count`` requests to ``path``."""
        async with asyncio.timeout(30):
            while len(self.sandbox.requests_to(path)) < count:
                await asyncio.sleep(0.01)


@pytest.fixture
async def accounts(
    hass: HomeAssistant,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    bland_entry: MockConfigEntry,
    events: dict[str, list[Any]],
) -> Accounts:
    """Set both accounts up (setting up the integration loads every entry)."""
    await setup_entry(hass, vobiz_entry)
    return Accounts(hass, sandbox, vobiz_entry, bland_entry, events)
