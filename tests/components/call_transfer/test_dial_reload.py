"""An accepted transfer to a number outlives a reload of its account (Vobiz, Plivo).

The provider fetches the Dial XML after it accepted the transfer, maybe late or again:
the sandbox holds its fetch until the account was reloaded (an options change, a
reauth, a reconfigure), and the XML must still be served for the URL's lifetime.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import ClientSession
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from sandbox import Fault, FaultKind, LegOutcome, LegResult, Sandbox
from tests.helpers.entries import add_entry, form_input, setup_entry
from tests.helpers.hass import transfer
from tests.helpers.provider_cases import (
    PROVIDER_CASES,
    ProviderCase,
    transfer_arrives,
    transfers_sent,
)

TO: Final = "+14155550100"
NEW_TOKEN: Final = "rotated-auth-token-0002"  # noqa: S105


def rotate_token(sandbox: Sandbox, case: ProviderCase) -> None:
    """Give the sandbox account a new Auth Token (as rotating it at the provider does)."""
    sandbox.accounts[case.provider][case.account].auth_token = NEW_TOKEN


async def reload(
    hass: HomeAssistant, entry: MockConfigEntry, case: ProviderCase
) -> None:
    """Reload the account, as its menu does."""
    assert await hass.config_entries.async_reload(entry.entry_id)


async def change_options(
    hass: HomeAssistant, entry: MockConfigEntry, case: ProviderCase
) -> None:
    """Save other options: the account reloads to apply them."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 20}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def reauthenticate(
    hass: HomeAssistant, entry: MockConfigEntry, case: ProviderCase, sandbox: Sandbox
) -> None:
    """Reauthenticate with a rotated token: the account reloads with it."""
    rotate_token(sandbox, case)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"auth_token": NEW_TOKEN}
    )
    assert result["reason"] == "reauth_successful"


async def reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, case: ProviderCase, sandbox: Sandbox
) -> None:
    """Reconfigure with a rotated token: the account reloads with it."""
    rotate_token(sandbox, case)
    result = await entry.start_reconfigure_flow(hass)
    data = case.data(sandbox, auth_token=NEW_TOKEN)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(data)
    )
    assert result["reason"] == "reconfigure_successful"


type Change = Callable[
    [HomeAssistant, MockConfigEntry, ProviderCase, Sandbox], Awaitable[None]
]
CHANGES: Final[dict[str, Change]] = {
    "reload": lambda hass, entry, case, sandbox: reload(hass, entry, case),
    "options": lambda hass, entry, case, sandbox: change_options(hass, entry, case),
    "reauth": reauthenticate,
    "reconfigure": reconfigure,
}
DIALING_PROVIDERS: Final = ["vobiz", "plivo"]


async def fetched_after(
    hass: HomeAssistant,
    sandbox: Sandbox,
    entry: MockConfigEntry,
    case: ProviderCase,
    change: Callable[[], Awaitable[object]],
) -> LegOutcome:
    """Return what the leg did with the Dial XML it fetched after ``change``.

    The call is transferred to the number first; the provider fetches late.
    """
    await setup_entry(hass, entry)
    sandbox.leg_fetcher.hold()
    await transfer(hass, config_entry_id=entry.entry_id, call_id=case.call_id, to=TO)
    await change()
    await hass.async_block_till_done()
    sandbox.leg_fetcher.release()
    await sandbox.fetches_settled()
    [outcome] = sandbox.calls[case.call_id].outcomes
    return outcome


@pytest.mark.parametrize("provider", DIALING_PROVIDERS)
@pytest.mark.parametrize("change", list(CHANGES))
async def test_the_provider_still_gets_the_dial_xml_after_a_reload(
    hass: HomeAssistant,
    hass_url: str,
    sandbox: Sandbox,
    entry: MockConfigEntry,
    case: ProviderCase,
    change: str,
) -> None:
    """Issue 21, 3: the transfer was accepted, then the account reloaded: still dialed."""
    outcome = await fetched_after(
        hass, sandbox, entry, case, lambda: CHANGES[change](hass, entry, case, sandbox)
    )

    assert entry.state is ConfigEntryState.LOADED
    assert outcome.result is LegResult.DIALING, str(outcome)
    assert outcome.numbers == (TO,)


@pytest.mark.parametrize("provider", ["plivo"])
async def test_removing_the_account_ends_its_pending_transfers(
    hass: HomeAssistant,
    hass_url: str,
    sandbox: Sandbox,
    entry: MockConfigEntry,
    case: ProviderCase,
) -> None:
    """A removed account serves nothing more: the provider's late fetch finds no XML."""
    outcome = await fetched_after(
        hass,
        sandbox,
        entry,
        case,
        lambda: hass.config_entries.async_remove(entry.entry_id),
    )

    # Home Assistant answers an unknown webhook with an empty 200: not XML.
    assert str(outcome) == "dropped: invalid XML (empty body)"


async def test_a_token_answers_only_at_its_own_accounts_webhook(
    hass: HomeAssistant, hass_url: str, sandbox: Sandbox
) -> None:
    """A Plivo transfer's token at the Vobiz account's webhook is unknown there: 404."""
    urls = {}
    for provider in DIALING_PROVIDERS:
        case = PROVIDER_CASES[provider]
        entry = add_entry(hass, sandbox, provider)
        await setup_entry(hass, entry)
        await transfer(
            hass, config_entry_id=entry.entry_id, call_id=case.call_id, to=TO
        )
        [sent] = [
            r for r in transfers_sent(sandbox) if r.path.startswith(f"/{provider}")
        ]
        urls[provider] = URL(sent.json["aleg_url"])
    crossed = urls["vobiz"].with_query(urls["plivo"].query)

    async with ClientSession() as http, http.get(crossed) as answer:
        assert answer.status == 404


@pytest.mark.parametrize("provider", ["vobiz"])
async def test_a_transfer_refused_after_home_assistant_stopped_changes_nothing(
    hass: HomeAssistant,
    hass_url: str,
    sandbox: Sandbox,
    entry: MockConfigEntry,
    case: ProviderCase,
) -> None:
    """Stopping ended the transfer's URL already; the provider refusing it afterwards is fine."""
    await setup_entry(hass, entry)
    sent = transfer_arrives(sandbox)
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=404, delay=0.2), call_id=case.call_id
    )
    sending = asyncio.ensure_future(
        transfer(hass, config_entry_id=entry.entry_id, call_id=case.call_id, to=TO)
    )
    await sent.wait()

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    with pytest.raises(ServiceValidationError) as raised:
        await sending

    assert raised.value.translation_key == "transfer_call_not_found"
