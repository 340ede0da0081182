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
    ATTR_CONFIG_ENTRY_ID,
    DOMAIN,
    EVENT_TRANSFER_FAILED,
    EVENT_TRANSFER_SUCCEEDED,
)
from .phone import format_for_display
from .providers.validation import is_sip_uri

# Plain-words reasons for the failure codes of call_transfer_failed.
_REASONS = {
    "invalid_auth": "the credentials were rejected",
    "forbidden": "the provider does not allow it",
    "call_not_found": "the call is not in progress",
    "invalid_request": "the provider refused the request",
    "rate_limited": "the provider is rate limiting",
    "timeout": "the provider did not answer in time",
    "cannot_connect": "the provider could not be reached",
    "provider_error": "the provider had an error",
    "unexpected_response": "the provider's answer could not be read",
    "cancelled": "it was stopped before the provider answered, so the call may have been transferred",
}
_LEGS = {"aleg": "the caller's leg", "bleg": "the callee's leg", "both": "both legs"}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe call_transfer events.

    The line reads "<account> transferred call …" and carries the account's Transfers
    entity, so it has that entity's link and shows in its own logbook too (the event
    data names the entity for that).
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
        return line(event, _transferred(event.data), "mdi:phone-check")

    @callback
    def async_describe_failed(event: Event) -> dict[str, Any]:
        data = event.data
        error = data.get("error", "")
        reason = _REASONS.get(error, error)
        return line(
            event,
            f"could not transfer call {data.get('call_id')}: {reason}",
            "mdi:phone-alert",
        )

    async_describe_event(DOMAIN, EVENT_TRANSFER_SUCCEEDED, async_describe_succeeded)
    async_describe_event(DOMAIN, EVENT_TRANSFER_FAILED, async_describe_failed)


def _transferred(data: Mapping[str, Any]) -> str:
    transferred = f"transferred call {data['call_id']}"
    destination = data.get("destination")
    if to := data.get("to"):
        shown = to if is_sip_uri(to) else format_for_display(to)
        if destination:
            shown = f"{destination} ({shown})"
        return f"{transferred} to {shown}"
    if destination:
        transferred = f"{transferred} to {destination}"
    legs = _LEGS.get(data.get("legs") or "", "a leg")
    return f"{transferred} by redirecting {legs}"
