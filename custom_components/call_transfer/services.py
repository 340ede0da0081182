"""The ``call_transfer.transfer`` action."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import time
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import voluptuous as vol

from .const import (
    ATTR_ALEG_METHOD,
    ATTR_ALEG_URL,
    ATTR_BLEG_METHOD,
    ATTR_BLEG_URL,
    ATTR_CALL_ID,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_ERROR,
    ATTR_ERROR_MESSAGE,
    ATTR_LEGS,
    ATTR_MESSAGE,
    ATTR_PROVIDER,
    ATTR_REQUEST_ID,
    ATTR_STATUS,
    ATTR_TO,
    DOMAIN,
    EVENT_TRANSFER_FAILED,
    EVENT_TRANSFER_SUCCEEDED,
    SERVICE_TRANSFER,
    VOBIZ_ONLY_FIELDS,
)
from .data import TRANSFERS_IN_PROGRESS, CallTransferConfigEntry, CallTransferData
from .phone import ExtensionNotSupportedError, NotAPhoneNumberError, async_to_e164
from .providers import (
    CallTransferError,
    InvalidAuthError,
    InvalidRequestError,
    TransferCancelledError,
    TransferLegs,
    TransferProvider,
    TransferRequest,
    XmlUrlMethod,
)
from .providers.validation import require_call_id, require_http_url

_FIELDS = frozenset(
    {
        ATTR_CONFIG_ENTRY_ID,
        ATTR_CALL_ID,
        ATTR_TO,
        ATTR_LEGS,
        ATTR_ALEG_URL,
        ATTR_ALEG_METHOD,
        ATTR_BLEG_URL,
        ATTR_BLEG_METHOD,
    }
)


def _action_fields(data: Mapping[str, Any]) -> dict[str, str]:
    """Check the action's structure: known fields, each text (a number is read as text).

    Every refusal is a translated ServiceValidationError; value rules are checked later,
    against what the account's provider supports.
    """
    if unknown := sorted(str(key) for key in data if key not in _FIELDS):
        raise _invalid("unknown_fields", fields=", ".join(unknown))
    fields: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _invalid("field_not_text", field=key)
        fields[key] = value if isinstance(value, str) else str(value)
    if ATTR_CALL_ID not in fields:
        raise _invalid("call_id_required")
    return fields


SERVICE_TRANSFER_SCHEMA = vol.Schema(_action_fields)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""

    async def async_handle_transfer(call: ServiceCall) -> ServiceResponse:
        return await _async_transfer(hass, call)

    hass.services.async_register(
        DOMAIN,
        SERVICE_TRANSFER,
        async_handle_transfer,
        schema=SERVICE_TRANSFER_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )


async def _async_transfer(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    entry = _resolve_entry(hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    runtime = entry.runtime_data
    request = await _async_build_request(hass, type(runtime.client), call.data)
    in_progress = hass.data[TRANSFERS_IN_PROGRESS]
    guard = (entry.entry_id, request.call_id)
    if guard in in_progress:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="transfer_in_progress",
            translation_placeholders={"call_id": request.call_id},
        )
    identity: dict[str, Any] = {
        ATTR_CONFIG_ENTRY_ID: entry.entry_id,
        ATTR_PROVIDER: runtime.client.provider_id,
        ATTR_CALL_ID: request.call_id,
        ATTR_TO: request.to,
        ATTR_LEGS: request.legs.value if runtime.client.supports_xml_urls else None,
    }
    in_progress.add(guard)
    try:
        result = await runtime.client.async_transfer(request)
    except CallTransferError as err:
        _fire_failed(hass, runtime, identity, err, call)
        if isinstance(err, InvalidAuthError) and hass.config_entries.async_get_entry(
            entry.entry_id
        ):
            entry.async_start_reauth(hass)
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=f"transfer_{err.code}",
            translation_placeholders={"call_id": request.call_id, "error": err.message},
        ) from err
    except asyncio.CancelledError:
        # Home Assistant stopping (or the caller giving up) cancels the action: the
        # transfer still ends in one event, and the cancellation goes on.
        cancelled = TransferCancelledError(
            "The action was cancelled (Home Assistant stopping?) before the provider answered",
            outcome_unknown=True,
        )
        _fire_failed(hass, runtime, identity, cancelled, call)
        raise
    finally:
        in_progress.discard(guard)
    success = identity | {
        ATTR_MESSAGE: result.message,
        ATTR_REQUEST_ID: result.request_id,
    }
    runtime.recent_transfers.append((time.time(), success))
    hass.bus.async_fire(EVENT_TRANSFER_SUCCEEDED, success, context=call.context)
    if not call.return_response:
        return None
    return {
        key: success[key]
        for key in (ATTR_PROVIDER, ATTR_CALL_ID, ATTR_TO, ATTR_MESSAGE, ATTR_REQUEST_ID)
    }


def _fire_failed(
    hass: HomeAssistant,
    runtime: CallTransferData,
    identity: dict[str, Any],
    err: CallTransferError,
    call: ServiceCall,
) -> None:
    failure = identity | {
        ATTR_ERROR: err.code,
        ATTR_ERROR_MESSAGE: err.message,
        ATTR_STATUS: err.status,
    }
    runtime.recent_transfers.append((time.time(), failure))
    hass.bus.async_fire(EVENT_TRANSFER_FAILED, failure, context=call.context)


def _resolve_entry(
    hass: HomeAssistant, entry_id: str | None
) -> CallTransferConfigEntry:
    """Return the entry the action is for: the one given, or the only loaded one."""
    if entry_id is None:
        loaded: list[CallTransferConfigEntry] = (
            hass.config_entries.async_loaded_entries(DOMAIN)
        )
        if len(loaded) == 1:
            return loaded[0]
        if not loaded:
            raise _invalid("no_loaded_entry")
        choices = ", ".join(f"{entry.title} ({entry.entry_id})" for entry in loaded)
        raise _invalid("config_entry_required", choices=choices)
    entry: CallTransferConfigEntry | None = hass.config_entries.async_get_entry(
        entry_id
    )
    if entry is None or entry.domain != DOMAIN:
        raise _invalid("config_entry_not_found", config_entry_id=entry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise _invalid("config_entry_not_loaded", title=entry.title)
    return entry


async def _async_build_request(
    hass: HomeAssistant, provider: type[TransferProvider], data: Mapping[str, str]
) -> TransferRequest:
    """Validate the action's fields against what the provider supports."""
    name = provider.display_name
    try:
        call_id = require_call_id(data[ATTR_CALL_ID].strip())
    except InvalidRequestError:
        raise _invalid("invalid_call_id", call_id=data[ATTR_CALL_ID]) from None
    if not provider.supports_xml_urls and (
        unsupported := [key for key in VOBIZ_ONLY_FIELDS if key in data]
    ):
        raise _invalid(
            "fields_not_supported", fields=", ".join(unsupported), provider=name
        )
    to: str | None = data.get(ATTR_TO)
    if to is not None:
        if not provider.supports_destination_number:
            raise _invalid("to_not_supported", provider=name)
        try:
            to = await async_to_e164(hass, to, hass.config.country)
        except ExtensionNotSupportedError:
            raise _invalid("extension_not_supported", number=to) from None
        except NotAPhoneNumberError:
            raise _invalid("invalid_phone_number", number=to) from None
    elif not provider.supports_xml_urls:
        raise _invalid("to_required", provider=name)
    if to is not None or not provider.supports_xml_urls:
        # A transfer to a number; leg fields only describe transfers to XML URLs.
        return TransferRequest(call_id=call_id, to=to)

    legs = _choice(TransferLegs, data.get(ATTR_LEGS, TransferLegs.ALEG), "invalid_legs")
    urls: dict[str, str | None] = {}
    for field in (ATTR_ALEG_URL, ATTR_BLEG_URL):
        url = data.get(field)
        if url is not None:
            try:
                url = require_http_url(url, field)
            except InvalidRequestError:
                raise _invalid("invalid_url", field=field) from None
        urls[field] = url
    needed = {
        TransferLegs.ALEG: (ATTR_ALEG_URL,),
        TransferLegs.BLEG: (ATTR_BLEG_URL,),
        TransferLegs.BOTH: (ATTR_ALEG_URL, ATTR_BLEG_URL),
    }[legs]
    if missing := [field for field in needed if urls[field] is None]:
        raise _invalid("missing_leg_url", legs=legs.value, fields=" and ".join(missing))
    return TransferRequest(
        call_id=call_id,
        legs=legs,
        aleg_url=urls[ATTR_ALEG_URL],
        aleg_method=_choice(
            XmlUrlMethod, data.get(ATTR_ALEG_METHOD, "POST"), "invalid_method"
        ),
        bleg_url=urls[ATTR_BLEG_URL],
        bleg_method=_choice(
            XmlUrlMethod, data.get(ATTR_BLEG_METHOD, "POST"), "invalid_method"
        ),
    )


def _choice[ChoiceT: (TransferLegs, XmlUrlMethod)](
    choices: type[ChoiceT], value: str, translation_key: str
) -> ChoiceT:
    try:
        return choices(
            value.strip().upper() if choices is XmlUrlMethod else value.strip().lower()
        )
    except ValueError:
        raise _invalid(
            translation_key,
            value=value,
            choices=", ".join(choice.value for choice in choices),
        ) from None


def _invalid(translation_key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=translation_key,
        translation_placeholders=placeholders,
    )
