"""Assist and LLM agents: "transfer the call to reception" (intent ``CallTransferTransfer``).

The answer is spoken in the conversation's language from the integration's translations
(the ``exceptions`` texts: the same messages the action and the buttons raise, plus the
few written for speech), so nothing here is English.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv, intent
from homeassistant.helpers.translation import async_get_translations
import voluptuous as vol

from .call_choice import CallChoice, by_start, other_party
from .const import DOMAIN, INTENT_LIVE_CALLS, INTENT_TRANSFER
from .data import CallTransferConfigEntry
from .destinations import echoed, find_account_destination, validation_error
from .transfer import async_transfer_live_call

SLOT_DESTINATION = "destination"
SLOT_ACCOUNT = "account"
SLOT_CALLER = "caller"
SLOT_NEWEST = "newest"
# Errors whose text is written for a screen; the voice answer has its own.
_SPOKEN_INSTEAD = {"several_live_calls_for_destination": "intent_several_live_calls"}


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the transfer intent (the intent integration calls this)."""
    intent.async_register(hass, TransferIntentHandler())
    intent.async_register(hass, LiveCallsIntentHandler())


class TransferIntentHandler(intent.IntentHandler):
    """Transfer a live call of an account to one of its destinations, by name.

    The call: the one from the caller said (a number or its last digits), or the
    newest, or the one chosen under the account's Call to transfer, or the only one.

    ``platforms`` stays None: the intent acts on no entity, so Home Assistant's Assist
    LLM API offers it whatever entities are exposed.
    """

    intent_type = INTENT_TRANSFER
    description = (
        "Transfers a phone call that is live right now to one of the named "
        "destinations set up in Call Transfer (such as Reception): the call from the "
        "caller given, or the newest call, or else the only live call. If the name is "
        "not one of them, the answer lists the destinations there are."
    )

    @property
    def slot_schema(self) -> dict[Any, Any]:
        """The destination's name; the account only where several have that name."""
        return {
            vol.Required(
                SLOT_DESTINATION,
                description="The destination's name, for example Reception",
            ): cv.string,
            vol.Optional(
                SLOT_ACCOUNT,
                description=(
                    "The Call Transfer account's name; only needed when several "
                    "accounts have a destination with that name"
                ),
            ): cv.string,
            vol.Optional(
                SLOT_CALLER,
                description=(
                    "The caller's phone number, or its last digits, to pick one of "
                    "several live calls"
                ),
            ): cv.string,
            vol.Optional(
                SLOT_NEWEST,
                description="True to transfer the call that started last",
            ): cv.boolean,
        }

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Transfer the call and say so, or say why not."""
        hass = intent_obj.hass
        slots = self.async_validate_slots(intent_obj.slots)
        name: str = slots[SLOT_DESTINATION]["value"]
        account: str | None = slots.get(SLOT_ACCOUNT, {}).get("value")
        said = CallChoice(
            caller=slots.get(SLOT_CALLER, {}).get("value"),
            newest=bool(slots.get(SLOT_NEWEST, {}).get("value")),
        )
        response = intent_obj.create_response()
        try:
            entry, destination = find_account_destination(hass, name, account)
            await async_transfer_live_call(
                hass, entry, destination, intent_obj.context, said
            )
        except HomeAssistantError as err:
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                await _async_spoken(hass, intent_obj.language, err),
            )
            return response
        response.async_set_speech(
            await _async_translate(
                hass,
                intent_obj.language,
                "intent_transferred",
                {"destination": destination.name, "title": entry.title},
            )
        )
        response.async_set_results(
            [
                intent.IntentResponseTarget(
                    name=destination.name,
                    type=intent.IntentResponseTargetType.CUSTOM,
                    id=destination.subentry_id,
                )
            ]
        )
        return response


class LiveCallsIntentHandler(intent.IntentHandler):
    """Say how many calls are live on each account that lists them, and their callers."""

    intent_type = INTENT_LIVE_CALLS
    description = (
        "Tells how many phone calls are live right now on each Call Transfer account, "
        "and the last four digits of each caller's number."
    )

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Answer with each listing account's live calls, or why they cannot be told."""
        hass, language = intent_obj.hass, intent_obj.language
        response = intent_obj.create_response()
        entries: list[CallTransferConfigEntry] = [
            entry
            for entry in hass.config_entries.async_loaded_entries(DOMAIN)
            if entry.runtime_data.coordinator is not None
        ]
        try:
            if not entries:
                raise validation_error("intent_live_calls_not_listed")
            told = [await _async_live_calls_said(hass, language, e) for e in entries]
        except HomeAssistantError as err:
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                await _async_spoken(hass, language, err),
            )
            return response
        response.async_set_speech(" ".join(told))
        return response


async def _async_live_calls_said(
    hass: HomeAssistant, language: str, entry: CallTransferConfigEntry
) -> str:
    """Say how many calls are live on the account (from a fresh poll), and from whom."""
    coordinator = entry.runtime_data.coordinator
    assert coordinator is not None
    calls = await coordinator.async_fresh_calls()
    callers = [
        f"…{number[-4:]}"
        if (number := other_party(call))
        else await _async_translate(hass, language, "intent_hidden_caller", {})
        for call in by_start(calls)
    ]
    key = {0: "intent_no_live_calls", 1: "intent_one_live_call"}.get(
        len(calls), "intent_live_calls"
    )
    return await _async_translate(
        hass,
        language,
        key,
        {
            "title": echoed(entry.title),
            "count": str(len(calls)),
            "callers": ", ".join(callers),
        },
    )


async def _async_spoken(
    hass: HomeAssistant, language: str, err: HomeAssistantError
) -> str:
    """Return what to say about a failure: its translated message, in ``language``."""
    if err.translation_domain != DOMAIN or err.translation_key is None:
        return str(err)
    key = _SPOKEN_INSTEAD.get(err.translation_key, err.translation_key)
    return await _async_translate(
        hass, language, key, err.translation_placeholders or {}
    )


async def _async_translate(
    hass: HomeAssistant, language: str, key: str, placeholders: dict[str, str]
) -> str:
    """Return one of the integration's messages in ``language`` (English as fallback)."""
    translations = await async_get_translations(hass, language, "exceptions", {DOMAIN})
    message = translations[f"component.{DOMAIN}.exceptions.{key}.message"]
    return message.format(**placeholders)
