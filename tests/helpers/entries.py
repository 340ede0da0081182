"""Config entries of the sandbox's accounts: added, and set up as Home Assistant sets them up."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.call_transfer.const import DOMAIN
from sandbox import Sandbox
from tests.helpers.provider_cases import PROVIDER_CASES, ProviderCase


def form_input(data: dict[str, Any]) -> dict[str, Any]:
    """Return what a user types into an account form for this entry data.

    The API base URL is typed into the form's Advanced options section.
    """
    typed = {key: value for key, value in data.items() if key != "provider"}
    if "base_url" in typed:
        typed["advanced_options"] = {"base_url": typed.pop("base_url")}
    return typed


def add_entry(
    hass: HomeAssistant, sandbox: Sandbox, provider: str, **entry_fields: Any
) -> MockConfigEntry:
    """Add (not set up) an entry for the provider's sandbox account.

    ``entry_fields`` are more of the entry's fields (options, subentries_data).
    """
    case = PROVIDER_CASES[provider]
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=case.title,
        unique_id=case.unique_id,
        data=case.data(sandbox),
        **entry_fields,
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
def vobiz_entry(hass: HomeAssistant, sandbox: Sandbox) -> MockConfigEntry:
    """Return a Vobiz entry for the sandbox account, added but not set up."""
    return add_entry(hass, sandbox, "vobiz")


@pytest.fixture
def bland_entry(hass: HomeAssistant, sandbox: Sandbox) -> MockConfigEntry:
    """Return a Bland AI entry for the sandbox account, added but not set up."""
    return add_entry(hass, sandbox, "bland")


@pytest.fixture
def entry(hass: HomeAssistant, sandbox: Sandbox, case: ProviderCase) -> MockConfigEntry:
    """Return an entry for the sandbox account of the parametrized provider."""
    return add_entry(hass, sandbox, case.provider)


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up an entry (and with it the integration) and wait until it settles."""
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
