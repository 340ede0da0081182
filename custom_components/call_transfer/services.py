"""The ``call_transfer.transfer`` and ``call_transfer.list_calls`` actions."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.translation import async_get_cached_translations
from homeassistant.util.json import JsonObjectType, JsonValueType
import voluptuous as vol

from .const import (
    ATTR_ACCOUNT,
    ATTR_CALL_ID,
    ATTR_CALLS,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DESTINATION,
    ATTR_TO,
    DOMAIN,
    SERVICE_LIST_CALLS,
    SERVICE_TRANSFER,
)
from .coordinator import describe_call
from .data import CallTransferConfigEntry
from .destinations import (
    account_destinations,
    find_account_destination,
    listed,
    resolve_destination,
    validation_error,
)
from .providers import XML_URL_FIELDS
from .transfer import (
    async_plan_transfer,
    async_refusals_recorded,
    async_transfer,
    live_calls_coordinator,
)

# The transfer action's fields. All optional: without a call id, the one live call on the
# account is taken; a destination stands for to and the fields of a transfer to XML URLs.
TRANSFER_FIELDS: Final = frozenset(
    {ATTR_CONFIG_ENTRY_ID, ATTR_CALL_ID, ATTR_DESTINATION, ATTR_TO, *XML_URL_FIELDS}
)
SERVICE_LIST_CALLS_SCHEMA = vol.Schema({vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string})


def _action_fields(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, str]:
    """Check the action's structure: known fields, each text (a number is read as text).

    Every refusal is a translated ServiceValidationError; value rules are checked later,
    against what the account's provider supports.
    """
    if unknown := sorted(str(key) for key in data if key not in TRANSFER_FIELDS):
        raise validation_error("unknown_fields", fields=", ".join(unknown))
    fields: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise validation_error("field_not_text", field=_field_name(hass, key))
        fields[key] = value if isinstance(value, str) else str(value)
    return fields


@callback
def _field_name(hass: HomeAssistant, key: str) -> str:
    """Return a field's name as the action form shows it, in Home Assistant's language.

    Home Assistant loaded the integration's translations when it set it up.
    """
    names = async_get_cached_translations(
        hass, hass.config.language, "services", DOMAIN
    )
    return names.get(
        f"component.{DOMAIN}.services.{SERVICE_TRANSFER}.fields.{key}.name", key
    )


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""

    async def async_handle_transfer(call: ServiceCall) -> ServiceResponse:
        return await _async_transfer(hass, call)

    hass.services.async_register(
        DOMAIN,
        SERVICE_TRANSFER,
        async_handle_transfer,
        schema=vol.Schema(partial(_action_fields, hass)),
        supports_response=SupportsResponse.OPTIONAL,
    )

    async def async_handle_list_calls(call: ServiceCall) -> ServiceResponse:
        entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
        if entry_id is None and len(_loaded_entries(hass)) > 1:
            return {ATTR_CALLS: await _async_every_accounts_calls(hass)}
        entry = _resolve_entry(hass, entry_id)
        coordinator = live_calls_coordinator(entry, "live_calls_not_supported")
        calls: list[JsonValueType] = [
            describe_call(live_call)
            for live_call in await coordinator.async_fresh_calls()
        ]
        return {ATTR_CALLS: calls}

    hass.services.async_register(
        DOMAIN,
        SERVICE_LIST_CALLS,
        async_handle_list_calls,
        schema=SERVICE_LIST_CALLS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )


async def _async_every_accounts_calls(hass: HomeAssistant) -> list[JsonValueType]:
    """List the live calls of every loaded account that lists them, each with its account."""
    calls: list[JsonValueType] = []
    for entry in _loaded_entries(hass):
        if (coordinator := entry.runtime_data.coordinator) is None:
            continue
        account: JsonObjectType = {
            ATTR_CONFIG_ENTRY_ID: entry.entry_id,
            ATTR_ACCOUNT: entry.title,
        }
        calls += [
            account | describe_call(live_call)
            for live_call in await coordinator.async_fresh_calls()
        ]
    return calls


async def _async_transfer(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
    name = call.data.get(ATTR_DESTINATION)
    if entry_id is None and name is not None and len(_loaded_entries(hass)) > 1:
        # The account is the one that has a destination of that name.
        entry, _ = find_account_destination(hass, name)
    else:
        entry = _resolve_entry(hass, entry_id)
    async with async_refusals_recorded(
        hass,
        entry,
        context=call.context,
        destination=name,
        call_id=call.data.get(ATTR_CALL_ID),
    ):
        if not call.data.keys() & {ATTR_DESTINATION, ATTR_TO, *XML_URL_FIELDS}:
            raise validation_error(
                "where_required",
                destinations=listed([dest.name for dest in account_destinations(entry)])
                or "—",
            )
        destination, fields = resolve_destination(entry, call.data)
        request = await async_plan_transfer(hass, entry, fields)
        outcome = await async_transfer(
            hass, entry, request, destination=destination, context=call.context
        )
    return outcome.response() if call.return_response else None


def _loaded_entries(hass: HomeAssistant) -> list[CallTransferConfigEntry]:
    entries: list[CallTransferConfigEntry] = hass.config_entries.async_loaded_entries(
        DOMAIN
    )
    return entries


def _resolve_entry(
    hass: HomeAssistant, entry_id: str | None
) -> CallTransferConfigEntry:
    """Return the entry the action is for: the one given, or the only loaded one."""
    if entry_id is None:
        loaded = _loaded_entries(hass)
        if len(loaded) == 1:
            return loaded[0]
        if not loaded:
            raise validation_error("no_loaded_entry")
        choices = ", ".join(f"{entry.title} ({entry.entry_id})" for entry in loaded)
        raise validation_error("config_entry_required", choices=choices)
    entry: CallTransferConfigEntry | None = hass.config_entries.async_get_entry(
        entry_id
    )
    if entry is None or entry.domain != DOMAIN:
        raise validation_error("config_entry_not_found", config_entry_id=entry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise validation_error("config_entry_not_loaded", title=entry.title)
    return entry
