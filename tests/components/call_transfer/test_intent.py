"""Voice: the CallTransferTransfer intent, custom sentences, the blueprint."""

from __future__ import annotations

from pathlib import Path
import shutil
import sys
from unittest.mock import patch

from homeassistant.components import conversation
from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import intent
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from sandbox import SANDBOX_BLAND_CALL_ID, Fault, FaultKind, Sandbox
from tests.helpers.destinations import add_destination
from tests.helpers.entries import add_entry, setup_entry
from tests.helpers.live_calls import LiveAccount
from tests.helpers.provider_cases import revoke_bland, transfers_sent
from tests.helpers.voice import CUSTOM_SENTENCES, say_intent, speech

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
import dev_instance  # noqa: E402

BLUEPRINT = "call_transfer/voice_transfer.yaml"


async def test_transfer_the_call_to_reception(reception: LiveAccount) -> None:
    """One live call: it goes to Reception, and the answer says so; no action is called."""
    [only] = reception.leave_live(1)
    actions = async_capture_events(reception.hass, EVENT_CALL_SERVICE)
    succeeded = async_capture_events(reception.hass, "call_transfer_succeeded")
    context = Context()

    response = await say_intent(
        reception.hass, destination="reception", context=context
    )

    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert speech(response) == "The call was transferred to Reception."
    assert reception.sandbox.calls[only].transferred_to is not None
    [target] = response.success_results
    assert target.name == "Reception"
    assert actions == []
    [event] = succeeded
    assert event.context is context


@pytest.mark.parametrize(
    ("live_calls", "slots", "said"),
    [
        (
            0,
            {"destination": "Reception"},
            "No call is live on {title}, so nothing was transferred.",
        ),
        (
            2,
            {"destination": "Reception"},
            (
                "2 calls are live on {title}, so I did not transfer any of them to Reception."
                ' Say which one: "the call from" and the caller\'s last four digits, or "the newest call".'
            ),
        ),
        (
            1,
            {"destination": "Kitchen"},
            "{title} has no destination named Kitchen. Its destinations are: Reception, On-call.",
        ),
        (
            1,
            {"destination": "Reception", "account": "Nobody"},
            "There is no single Call Transfer account called Nobody. The accounts are: {title}.",
        ),
    ],
)
async def test_each_failure_has_its_sentence(
    reception: LiveAccount, live_calls: int, slots: dict[str, str], said: str
) -> None:
    """Nothing is sent, and the answer says why."""
    reception.leave_live(live_calls)

    response = await say_intent(reception.hass, **slots)

    assert response.response_type is intent.IntentResponseType.ERROR
    assert speech(response) == said.format(title=reception.entry.title)
    assert transfers_sent(reception.sandbox) == []


@pytest.mark.parametrize("provider", ["bland"])
async def test_a_provider_error_is_said(reception: LiveAccount) -> None:
    """The provider refuses: the answer is the action's own message."""
    reception.leave_live(1)
    reception.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=500), path_contains="/transfer"
    )

    response = await say_intent(reception.hass, destination="Reception")

    assert response.response_type is intent.IntentResponseType.ERROR
    assert speech(response).startswith(
        f"Transfer of call {SANDBOX_BLAND_CALL_ID} failed"
    )


@pytest.mark.parametrize("provider", ["vobiz"])
async def test_another_language_falls_back_to_english(reception: LiveAccount) -> None:
    """A language without translations (Italian, so far) hears English."""
    reception.leave_live(1)

    response = await say_intent(reception.hass, language="it", destination="Reception")

    assert speech(response) == "The call was transferred to Reception."


@pytest.mark.parametrize("provider", ["bland"])
async def test_an_error_from_elsewhere_is_said_as_it_reads(
    reception: LiveAccount,
) -> None:
    """An error this integration did not word (none is known today) is said as it is."""
    reception.leave_live(1)
    with patch(
        "custom_components.call_transfer.intent.async_transfer_live_call",
        side_effect=HomeAssistantError("Something else went wrong"),
    ):
        response = await say_intent(reception.hass, destination="Reception")

    assert speech(response) == "Something else went wrong"


async def test_several_accounts(
    hass: HomeAssistant, voice: None, sandbox: Sandbox
) -> None:
    """The name picks the account; where two have it, the account slot does."""
    bland = add_entry(hass, sandbox, "bland")
    vobiz = add_entry(hass, sandbox, "vobiz")
    await setup_entry(hass, bland)  # and with the integration, every account

    no_destinations = await say_intent(hass, destination="Reception")
    assert speech(no_destinations) == (
        "There is no destination called Reception: no account has destinations yet. "
        "Add them on an account's page under Settings → Devices & services."
    )

    await add_destination(hass, bland, "Reception", number="+14155550100")
    await add_destination(hass, vobiz, "Reception", number="+14155550111")
    await add_destination(hass, vobiz, "Warehouse", number="+14155550122")

    ambiguous = await say_intent(hass, destination="reception")
    assert speech(ambiguous) == (
        "Several accounts have a destination called reception: "
        f"{bland.title}, {vobiz.title}. Name the account too."
    )
    unknown = await say_intent(hass, destination="Kitchen")
    assert speech(unknown) == (
        "There is no destination called Kitchen. The destinations are: "
        f"{bland.title}: Reception; {vobiz.title}: Reception, Warehouse."
    )
    # An account named by the start of its title; Bland without org id lists no calls.
    by_account = await say_intent(hass, destination="Reception", account="bland ai")
    assert "does not list its live calls" in speech(by_account)
    # Warehouse is only on Vobiz: found without the account (two calls are live there).
    warehouse = await say_intent(hass, destination="Warehouse")
    assert speech(warehouse).startswith(f"2 calls are live on {vobiz.title}")
    assert transfers_sent(sandbox) == []


async def test_no_account_loaded(
    hass: HomeAssistant, voice: None, sandbox: Sandbox
) -> None:
    """With no account loaded (here: its key was revoked) the answer says so."""
    entry = add_entry(hass, sandbox, "bland")
    revoke_bland(sandbox)
    await setup_entry(hass, entry)

    response = await say_intent(hass, destination="Reception")

    assert speech(response) == (
        "No Call Transfer account is loaded. Add or enable an account first."
    )


@pytest.mark.parametrize("provider", ["bland"])
async def test_custom_sentences_target_the_intent(
    reception: LiveAccount, tmp_path: Path
) -> None:
    """The documented custom sentences (config/custom_sentences/en) on the built-in agent."""
    hass = reception.hass
    shutil.copytree(CUSTOM_SENTENCES, tmp_path / "custom_sentences" / "en")
    hass.config.config_dir = str(tmp_path)
    [only] = reception.leave_live(1)

    result = await conversation.async_converse(
        hass, "Transfer the call to Reception.", None, Context(), language="en"
    )

    assert result.response.speech["plain"]["speech"] == (
        "The call was transferred to Reception."
    )
    assert reception.sandbox.calls[only].transferred_to == "+14155550100"
    on_account = await conversation.async_converse(
        hass, "send this call on bland ai to on-call", None, Context(), language="en"
    )
    assert on_account.response.speech["plain"]["speech"] == (
        "The call was transferred to On-call."
    )
    assert reception.sandbox.calls[only].transferred_to == "+14155550111"


def test_the_voice_docs_show_the_custom_sentences_file() -> None:
    """What docs/voice.md tells users to copy is the file the tests and the dev instance use."""
    sentences = (CUSTOM_SENTENCES / "call_transfer.yaml").read_text()
    shown = sentences[sentences.index("language:") :]
    page = (dev_instance.REPO_ROOT / "docs" / "voice.md").read_text()
    indented = "".join(
        f"  {line}" if line.strip() else line
        for line in shown.splitlines(keepends=True)
    )
    assert indented in page
