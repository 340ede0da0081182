"""Voice: Assist set up, the transfer intent said with slots, and an account with destinations."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
import pytest

from tests.helpers.destinations import add_destination, fields_of
from tests.helpers.live_calls import LiveAccount

INTENT = "CallTransferTransfer"
CUSTOM_SENTENCES = (
    Path(__file__).resolve().parents[2] / "config" / "custom_sentences" / "en"
)


@pytest.fixture
async def voice(hass: HomeAssistant) -> None:
    """Set up what Assist needs: the intent and conversation integrations."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    assert await async_setup_component(hass, "intent", {})


@pytest.fixture
async def reception(voice: None, live: LiveAccount) -> LiveAccount:
    """Set up the live account with destinations Reception and On-call."""
    await live.set_up()
    await add_destination(live.hass, live.entry, "Reception", **fields_of(live.case))
    await add_destination(live.hass, live.entry, "On-call", number="+14155550111")
    return live


async def say_intent(
    hass: HomeAssistant,
    language: str = "en",
    context: Context | None = None,
    **slots: str,
) -> intent.IntentResponse:
    """Handle the intent the way an agent does, with the given slots."""
    return await intent.async_handle(
        hass,
        "conversation",
        INTENT,
        {name: {"value": value} for name, value in slots.items()},
        language=language,
        context=context,
    )


def speech(response: intent.IntentResponse) -> str:
    """Return what the answer says."""
    return str(response.speech["plain"]["speech"])
