"""Describe transfers in the logbook: one line each, filed under the account's Transfers entity."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_ICON,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant, callback

from .const import (
    ATTR_CALL_ID,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DESTINATION,
    ATTR_ERROR,
    ATTR_ERROR_MESSAGE,
    ATTR_LEGS,
    ATTR_REASON,
    ATTR_TO,
    DOMAIN,
    EVENT_TRANSFER_ANSWERED,
    EVENT_TRANSFER_FAILED,
    EVENT_TRANSFER_REFUSED,
    EVENT_TRANSFER_SUCCEEDED,
    EVENT_TRANSFER_UNANSWERED,
)
from .phone import format_for_display
from .providers import TransferLegs
from .providers.validation import is_sip_uri
from .texts import async_text


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe call_transfer events.

    The line reads "<account> transferred call …" and carries the account's Transfers
    entity, so it has that entity's link and shows in its own logbook too (the event
    data names the entity for that). A failure reads as the error the transfer raised,
    a refusal as the refusal raised.
    The texts are the integration's translations (``exceptions``), in Home Assistant's
    language: Home Assistant loads them when it sets the integration up, and logbook
    lines are described synchronously.
    """

    def line(event: Event, message: str, icon: str) -> dict[str, Any]:
        entry = hass.config_entries.async_get_entry(
            event.data.get(ATTR_CONFIG_ENTRY_ID) or ""
        )
        return {
            LOGBOOK_ENTRY_NAME: entry.title if entry else "Call Transfer",
            LOGBOOK_ENTRY_MESSAGE: message,
            LOGBOOK_ENTRY_ENTITY_ID: event.data.get(ATTR_ENTITY_ID),
            LOGBOOK_ENTRY_ICON: icon,
        }

    @callback
    def async_describe_succeeded(event: Event) -> dict[str, Any]:
        key, placeholders = _transferred(event.data)
        return line(event, async_text(hass, key, placeholders), "mdi:phone-check")

    @callback
    def async_describe_failed(event: Event) -> dict[str, Any]:
        data = event.data
        placeholders = {
            "call_id": data.get(ATTR_CALL_ID),
            "error": data.get(ATTR_ERROR_MESSAGE),
        }
        try:
            message = async_text(hass, f"transfer_{data.get(ATTR_ERROR)}", placeholders)
        except KeyError:  # an error code this version does not know
            message = async_text(hass, "logbook_failed", placeholders)
        return line(event, message, "mdi:phone-alert")

    @callback
    def async_describe_refused(event: Event) -> dict[str, Any]:
        # The refusal as it was recorded, in Home Assistant's language then.
        message = str(event.data.get(ATTR_ERROR_MESSAGE) or "").rstrip(".")
        return line(event, message, "mdi:phone-cancel")

    @callback
    def async_describe_answered(event: Event) -> dict[str, Any]:
        return line(
            event,
            async_text(hass, "logbook_transfer_answered", _outcome(event.data)),
            "mdi:phone-in-talk",
        )

    @callback
    def async_describe_unanswered(event: Event) -> dict[str, Any]:
        placeholders = _outcome(event.data)
        try:
            message = async_text(
                hass,
                f"logbook_transfer_unanswered_{event.data.get(ATTR_REASON)}",
                placeholders,
            )
        except KeyError:  # a reason this version does not know
            message = async_text(hass, "logbook_transfer_unanswered", placeholders)
        return line(event, message, "mdi:phone-missed")

    async_describe_event(DOMAIN, EVENT_TRANSFER_SUCCEEDED, async_describe_succeeded)
    async_describe_event(DOMAIN, EVENT_TRANSFER_FAILED, async_describe_failed)
    async_describe_event(DOMAIN, EVENT_TRANSFER_REFUSED, async_describe_refused)
    async_describe_event(DOMAIN, EVENT_TRANSFER_ANSWERED, async_describe_answered)
    async_describe_event(DOMAIN, EVENT_TRANSFER_UNANSWERED, async_describe_unanswered)


def _outcome(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the placeholders of a transfer outcome's line: the call, and who was dialled."""
    to = str(data.get(ATTR_TO) or "")
    shown = to if is_sip_uri(to) else format_for_display(to)
    destination = data.get(ATTR_DESTINATION)
    return {
        "call_id": data.get(ATTR_CALL_ID),
        "to": f"{destination} ({shown})" if destination else shown,
    }


def _transferred(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return the message key of a transfer's line, and its placeholders."""
    placeholders: dict[str, Any] = {"call_id": data[ATTR_CALL_ID]}
    destination = data.get(ATTR_DESTINATION)
    if to := data.get(ATTR_TO):
        shown = to if is_sip_uri(to) else format_for_display(to)
        placeholders["to"] = f"{destination} ({shown})" if destination else shown
        return "logbook_transferred", placeholders
    legs = data.get(ATTR_LEGS)
    key = (
        f"logbook_redirected_{legs}"
        if legs in set(TransferLegs)
        else "logbook_redirected"
    )
    if destination:
        return f"{key}_to", placeholders | {"destination": destination}
    return key, placeholders
