"""Assist and LLM agents: "transfer the call to reception" (intent ``CallTransferTransfer``).

The answer is spoken in the conversation's language from the integration's translations
(the ``exceptions`` texts: the same messages the action and the buttons raise, plus the
few written for speech), so nothing here is English.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv, intent
from homeassistant.helpers.translation import async_get_translations
import voluptuous as vol

from .const import DOMAIN, INTENT_TRANSFER
from .data import CallTransferConfigEntry
from .destinations import (
    Destination,
    account_destinations,
    echoed,
    find_destination,
    listed,
    require_destination,
    same_name,
    validation_error,
)
from .transfer import async_transfer_live_call

SLOT_DESTINATION = "destination"
SLOT_ACCOUNT = "account"
# Errors whose text is written for a screen; the voice answer has its own.
_SPOKEN_INSTEAD = {"several_live_calls_for_destination": "intent_several_live_calls"}


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the transfer intent (the intent integration calls this)."""
    intent.async_register(hass, TransferIntentHandler())


class TransferIntentHandler(intent.IntentHandler):
    """Transfer the one live call of an account to one of its destinations, by name.

    ``platforms`` stays None: the intent acts on no entity, so Home Assistant's Assist
    LLM API offers it whatever entities are exposed.
    """

    intent_type = INTENT_TRANSFER
    description = (
        "Transfers the phone call that is live right now to one of the named "
        "destinations set up in Call Transfer (such as Reception). If the name is not "
        "one of them, the answer lists the destinations there are."
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
        }

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Transfer the call and say so, or say why not."""
        hass = intent_obj.hass
        slots = self.async_validate_slots(intent_obj.slots)
        name: str = slots[SLOT_DESTINATION]["value"]
        account: str | None = slots.get(SLOT_ACCOUNT, {}).get("value")
        response = intent_obj.create_response()
        try:
            entry, destination = _find_destination(hass, name, account)
            await async_transfer_live_call(hass, entry, destination, intent_obj.context)
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


def _find_destination(
    hass: HomeAssistant, name: str, account: str | None
) -> tuple[CallTransferConfigEntry, Destination]:
    """Return the loaded account and its destination called ``name``.

    Without ``account``, the one account that has such a destination.
    """
    entries: list[CallTransferConfigEntry] = hass.config_entries.async_loaded_entries(
        DOMAIN
    )
    if not entries:
        raise validation_error("no_loaded_entry")
    if account is not None:
        matches = [entry for entry in entries if same_name(entry.title, account)] or [
            entry
            for entry in entries
            if entry.title.casefold().startswith(account.strip().casefold())
        ]
        if len(matches) != 1:
            raise validation_error(
                "intent_account_not_found",
                account=echoed(account),
                accounts=listed([entry.title for entry in entries]),
            )
        return matches[0], require_destination(matches[0], name)
    found = [
        (entry, destination)
        for entry in entries
        if (destination := find_destination(entry, name)) is not None
    ]
    if len(found) == 1:
        return found[0]
    if found:
        raise validation_error(
            "intent_destination_ambiguous",
            destination=echoed(name),
            accounts=listed([entry.title for entry, _ in found]),
        )
    if len(entries) == 1:
        # Its own refusal names the account and its destinations.
        return entries[0], require_destination(entries[0], name)
    if names := [
        (dest.name, entry.title)
        for entry in entries
        for dest in account_destinations(entry)
    ]:
        # A name several accounts have is said with its account.
        counts = Counter(dest.strip().casefold() for dest, _ in names)
        raise validation_error(
            "intent_destination_not_found",
            destination=echoed(name),
            destinations=listed(
                [
                    f"{dest} ({title})" if counts[dest.strip().casefold()] > 1 else dest
                    for dest, title in names
                ]
            ),
        )
    raise validation_error("intent_no_destinations", destination=echoed(name))


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
