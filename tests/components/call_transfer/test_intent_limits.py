"""Voice answers stay short and clear, whatever was said or set up.

A name said is repeated at most 60 characters long, an answer lists at most 10 names
(then "…"), and a destination name several accounts have is said with its account.
"""

from __future__ import annotations

from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from sandbox import Sandbox
from tests.helpers.destinations import add_destination
from tests.helpers.entries import add_entry, setup_entry
from tests.helpers.voice import say_intent, speech

LONG: Final = "reception " * 10_000  # 100,000 characters said (or sent by an LLM)
SAID: Final = ("reception " * 6)[:59] + "…"


def account_with_desks(
    hass: HomeAssistant, sandbox: Sandbox, provider: str, desks: int
) -> MockConfigEntry:
    """Add (not set up) the provider's account with destinations Desk 1 to ``desks``."""
    return add_entry(
        hass,
        sandbox,
        provider,
        subentries_data=[
            {
                "data": {"number": f"+1415555{index:04d}"},
                "subentry_type": "destination",
                "title": f"Desk {index}",
                "unique_id": None,
            }
            for index in range(1, desks + 1)
        ],
    )


def desks(count: int) -> str:
    """Return how the answer lists Desk 1 to ``count`` (more than 10: the first 10, …)."""
    shown = ", ".join(f"Desk {index}" for index in range(1, min(count, 10) + 1))
    return shown + (", …" if count > 10 else "")


async def answer(hass: HomeAssistant, **slots: str) -> str:
    """Say the intent; return the answer, which must be a refusal."""
    response = await say_intent(hass, **slots)
    assert response.response_type is intent.IntentResponseType.ERROR
    return speech(response)


@pytest.mark.usefixtures("voice")
@pytest.mark.parametrize(
    ("accounts", "said"),
    [
        (
            ["bland"],
            "{bland} has no destination named {name}. Its destinations are: {desks}.",
        ),
        (
            ["bland", "vobiz"],
            (
                "There is no destination called {name}. "
                "The destinations are: {bland}: {desks}."
            ),
        ),
    ],
)
async def test_what_was_said_is_cut_and_the_destinations_summarised(
    hass: HomeAssistant, sandbox: Sandbox, accounts: list[str], said: str
) -> None:
    """Issue 21: 100,000 characters said and 25 destinations make a short answer."""
    entries = [
        account_with_desks(hass, sandbox, provider, 25 if provider == "bland" else 0)
        for provider in accounts
    ]
    await setup_entry(hass, entries[0])

    assert await answer(hass, destination=LONG) == said.format(
        bland=entries[0].title, name=SAID, desks=desks(25)
    )


@pytest.mark.usefixtures("voice")
async def test_a_name_two_accounts_have_is_said_with_its_account(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Issue 21: "Reception, Reception" says nothing; each is said after its account.

    An account name said is cut as a destination name is.
    """
    bland = account_with_desks(hass, sandbox, "bland", 0)
    vobiz = account_with_desks(hass, sandbox, "vobiz", 0)
    await setup_entry(hass, bland)
    await add_destination(hass, bland, "Reception", number="+14155550100")
    await add_destination(hass, vobiz, "reception", number="+14155550111")
    await add_destination(hass, vobiz, "Warehouse", number="+14155550122")

    assert await answer(hass, destination="Kitchen") == (
        "There is no destination called Kitchen. The destinations are: "
        f"{bland.title}: Reception; {vobiz.title}: reception, Warehouse."
    )
    assert await answer(hass, destination="Reception", account=LONG) == (
        f"There is no single Call Transfer account called {SAID}. "
        f"The accounts are: {bland.title}, {vobiz.title}."
    )
