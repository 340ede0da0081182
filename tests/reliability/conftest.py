"""Every provider's sandbox account loaded in one Home Assistant, for the reliability tests."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.call_transfer.const import DOMAIN
from sandbox import Sandbox
from tests.helpers.entries import setup_entry
from tests.helpers.hass import transfer
from tests.helpers.provider_cases import PROVIDER_CASES, ProviderCase, transfers_sent

MAY_HAVE_HAPPENED = "the transfer may have happened"


@dataclass
class Accounts:
    """A Home Assistant with the sandbox account of every provider loaded.

    Each lists its live calls (the options it needs are set), and Home Assistant has an
    external URL, so Vobiz and Plivo can transfer to a number through the Dial XML it
    serves: every feature runs, as in a real installation.
    """

    hass: HomeAssistant
    sandbox: Sandbox
    entries: dict[str, MockConfigEntry]
    # The transfer events fired so far: "succeeded" and "failed".
    events: dict[str, list[Any]]

    def entry(self, provider: str) -> MockConfigEntry:
        """Return the entry of a provider's account."""
        return self.entries[provider]

    def new_calls(self, provider: str, count: int) -> list[str]:
        """Start ``count`` live calls on the provider's sandbox account; return their ids."""
        case = PROVIDER_CASES[provider]
        return [
            self.sandbox.add_call(case.provider, case.account).call_id
            for _ in range(count)
        ]

    async def transfer(
        self, provider: str, call_id: str | None = None, **data: Any
    ) -> Any:
        """Transfer a live call (the provider's seeded one by default) with the action."""
        case = PROVIDER_CASES[provider]
        return await transfer(
            self.hass,
            config_entry_id=self.entries[provider].entry_id,
            **(case.transfer | {"call_id": call_id or case.call_id} | data),
        )

    async def wait_for_transfers(self, count: int = 1) -> None:
        """Wait until the sandbox has received ``count`` transfer requests in all."""
        async with asyncio.timeout(30):
            while len(transfers_sent(self.sandbox)) < count:
                await asyncio.sleep(0.01)


def live_entry(
    hass: HomeAssistant, sandbox: Sandbox, case: ProviderCase
) -> MockConfigEntry:
    """Add (not set up) an entry for the provider's sandbox account that lists calls."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=case.title,
        unique_id=case.unique_id,
        data=case.data(sandbox),
        options=case.live_options,
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def diagnostics_ready(hass: HomeAssistant) -> None:
    """Set diagnostics up before Home Assistant's HTTP app is served (no routes after)."""
    assert await async_setup_component(hass, "diagnostics", {})


@pytest.fixture
async def accounts(
    hass: HomeAssistant,
    sandbox: Sandbox,
    events: dict[str, list[Any]],
    diagnostics_ready: None,
    hass_url: str,
) -> Accounts:
    """Set every account up (setting up the integration loads every entry)."""
    entries = {
        provider: live_entry(hass, sandbox, case)
        for provider, case in PROVIDER_CASES.items()
    }
    await setup_entry(hass, next(iter(entries.values())))
    return Accounts(hass, sandbox, entries, events)


def sent_per_call(sandbox: Sandbox, call_ids: Iterable[str]) -> Counter[str]:
    """Count how often each of these calls' transfer reached the sandbox.

    A transfer names its call in its path, or (Bland AI) in its body.
    """
    known = set(call_ids)
    sent: Counter[str] = Counter()
    for request in transfers_sent(sandbox):
        body = request.json if isinstance(request.json, dict) else {}
        named = [body.get("call_id"), *request.path.removesuffix(".json").split("/")]
        sent.update(name for name in named if name in known)
    return sent


def events_per_call(events: dict[str, list[Any]]) -> Counter[str]:
    """Count the transfer events of each call, succeeded and failed together."""
    return Counter(
        event.data["call_id"] for fired in events.values() for event in fired
    )
