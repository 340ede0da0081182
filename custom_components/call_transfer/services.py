"""The ``call_transfer.transfer`` and ``call_transfer.list_calls`` actions."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
import time
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import (
    Context,
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from .const import (
    ATTR_ALEG_METHOD,
    ATTR_ALEG_URL,
    ATTR_BLEG_METHOD,
    ATTR_BLEG_URL,
    ATTR_CALL_ID,
    ATTR_CALLS,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DESTINATION,
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
    SERVICE_LIST_CALLS,
    SERVICE_TRANSFER,
    VOBIZ_ONLY_FIELDS,
)
from .coordinator import LiveCallsCoordinator, describe_call
from .data import TRANSFERS_IN_PROGRESS, CallTransferConfigEntry, CallTransferData
from .destinations import Destination, resolve_destination, validation_error
from .dial import async_send_transfer
from .event import transfers_entity_id
from .phone import ExtensionNotSupportedError, NotAPhoneNumberError, async_to_e164
from .providers import (
    CallNotFoundError,
    CallTransferError,
    InvalidAuthError,
    InvalidRequestError,
    NumberTransfer,
    TransferCancelledError,
    TransferLegs,
    TransferProvider,
    TransferRequest,
    TransferResult,
    XmlUrlMethod,
)
from .providers.validation import (
    is_sip_uri,
    require_call_id,
    require_http_url,
    require_sip_uri,
)

# The transfer action's fields, each by the name the action form shows (messages name
# fields so). All optional: without a call id, the one live call on the account is taken.
_FIELD_NAMES: Final = {
    ATTR_CONFIG_ENTRY_ID: "Account",
    ATTR_CALL_ID: "Call ID",
    # One of the account's destinations, instead of to and the leg fields.
    ATTR_DESTINATION: "Destination",
    ATTR_TO: "To",
    ATTR_LEGS: "Legs",
    ATTR_ALEG_URL: "A leg URL",
    ATTR_ALEG_METHOD: "A leg method",
    ATTR_BLEG_URL: "B leg URL",
    ATTR_BLEG_METHOD: "B leg method",
}


def _action_fields(data: Mapping[str, Any]) -> dict[str, str]:
    """Check the action's structure: known fields, each text (a number is read as text).

    Every refusal is a translated ServiceValidationError; value rules are checked later,
    against what the account's provider supports.
    """
    if unknown := sorted(str(key) for key in data if key not in _FIELD_NAMES):
        raise validation_error("unknown_fields", fields=", ".join(unknown))
    fields: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise validation_error("field_not_text", field=_FIELD_NAMES[key])
        fields[key] = value if isinstance(value, str) else str(value)
    return fields


SERVICE_TRANSFER_SCHEMA = vol.Schema(_action_fields)
SERVICE_LIST_CALLS_SCHEMA = vol.Schema({vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string})


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

    async def async_handle_list_calls(call: ServiceCall) -> ServiceResponse:
        entry = _resolve_entry(hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
        coordinator = _live_calls_coordinator(entry, "live_calls_not_supported")
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


async def _async_transfer(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    entry = _resolve_entry(hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    runtime = entry.runtime_data
    destination, data = resolve_destination(entry, call.data)
    request = await _async_build_request(hass, type(runtime.client), data)

    def report(outcome: TransferResult | CallTransferError) -> dict[str, Any]:
        return _async_report(
            hass, entry, runtime, request, destination, call.context, outcome
        )

    if not request.call_id:
        try:
            call_id = await _async_only_live_call(entry)
        except asyncio.CancelledError:
            report(_cancelled(sent=False))
            raise
        request = replace(request, call_id=call_id)
    # Integration-wide, so a reload, reconfigure or reauth meanwhile cannot forget it.
    in_progress = hass.data[TRANSFERS_IN_PROGRESS]
    guard = (entry.entry_id, request.call_id)
    if guard in in_progress:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="transfer_in_progress",
            translation_placeholders={"call_id": request.call_id},
        )
    in_progress.add(guard)
    try:
        result = await async_send_transfer(entry, request)
    except CallTransferError as err:
        if isinstance(err, InvalidRequestError) and err.refused_before_sending:
            # The provider's own rules (a Twilio Call SID's form...): nothing was sent,
            # so, like the checks above, it is a validation error and no transfer ended.
            raise validation_error(
                "transfer_invalid_request", call_id=request.call_id, error=err.message
            ) from err
        report(err)
        if isinstance(err, InvalidAuthError) and hass.config_entries.async_get_entry(
            entry.entry_id
        ):
            entry.async_start_reauth(hass)
        # A call that is not live, or a request the provider refused as invalid, is the
        # caller's to fix: raised as a validation error, Home Assistant logs it in one line
        # instead of as an unexpected exception with a traceback.
        error_class = (
            ServiceValidationError
            if isinstance(err, CallNotFoundError | InvalidRequestError)
            else HomeAssistantError
        )
        raise error_class(
            translation_domain=DOMAIN,
            translation_key=f"transfer_{err.code}",
            translation_placeholders={"call_id": request.call_id, "error": err.message},
        ) from err
    except asyncio.CancelledError:
        # Home Assistant stopping (or the caller giving up) cancels the action: the
        # transfer still ends in one event, and the cancellation goes on.
        report(_cancelled(sent=True))
        raise
    finally:
        in_progress.discard(guard)
    success = report(result)
    if not call.return_response:
        return None
    return {
        key: success[key]
        for key in (
            ATTR_PROVIDER,
            ATTR_CALL_ID,
            ATTR_TO,
            ATTR_DESTINATION,
            ATTR_LEGS,
            ATTR_MESSAGE,
            ATTR_REQUEST_ID,
        )
    }


@callback
def _async_report(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    runtime: CallTransferData,
    request: TransferRequest,
    destination: str | None,
    context: Context,
    outcome: TransferResult | CallTransferError,
) -> dict[str, Any]:
    """End a transfer: its one event, its diagnostics record, a fresh look at the calls.

    Every transfer that got past validation ends here exactly once; returns the event data.
    ``runtime`` is what the entry held when the transfer started: the entry may have been
    unloaded or removed since.
    """
    client = runtime.client
    data: dict[str, Any] = {
        ATTR_CONFIG_ENTRY_ID: entry.entry_id,
        # The account's Transfers entity: the logbook files the transfer under it.
        ATTR_ENTITY_ID: transfers_entity_id(hass, entry.entry_id),
        ATTR_PROVIDER: client.provider_id,
        ATTR_CALL_ID: request.call_id or None,
        ATTR_TO: request.to,
        ATTR_DESTINATION: destination,
        # Legs describe transfers that point legs at URLs (Dial XML's included), not
        # a transfer whose request names the number.
        ATTR_LEGS: request.legs.value
        if client.supports_xml_urls
        and (request.to is None or client.number_transfer is NumberTransfer.DIAL_URL)
        else None,
    }
    if isinstance(outcome, CallTransferError):
        event_type = EVENT_TRANSFER_FAILED
        data |= {
            ATTR_ERROR: outcome.code,
            ATTR_ERROR_MESSAGE: outcome.message,
            ATTR_STATUS: outcome.status,
        }
    else:
        event_type = EVENT_TRANSFER_SUCCEEDED
        data |= {ATTR_MESSAGE: outcome.message, ATTR_REQUEST_ID: outcome.request_id}
    runtime.recent_transfers.append((time.time(), data))
    hass.bus.async_fire(event_type, data, context=context)
    if (
        runtime.coordinator is not None
        and entry.state is ConfigEntryState.LOADED
        and not isinstance(outcome, TransferCancelledError)
    ):
        # Show what the transfer changed; the action does not wait for it.
        entry.async_create_task(hass, runtime.coordinator.async_request_refresh())
    return data


def _cancelled(*, sent: bool) -> TransferCancelledError:
    if sent:
        return TransferCancelledError(
            "The action was stopped (Home Assistant stopping?) before the provider answered",
            outcome_unknown=True,
        )
    return TransferCancelledError(
        "The action was stopped (Home Assistant stopping?) while the live call was "
        "looked up; nothing was sent"
    )


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


def _live_calls_coordinator(
    entry: CallTransferConfigEntry, translation_key: str
) -> LiveCallsCoordinator:
    """Return what polls the account's live calls, or refuse with ``translation_key``."""
    if (coordinator := entry.runtime_data.coordinator) is None:
        raise validation_error(
            translation_key,
            title=entry.title,
            provider=entry.runtime_data.client.display_name,
        )
    return coordinator


async def _async_only_live_call(
    entry: CallTransferConfigEntry,
    *,
    unlisted: str = "call_id_required",
    several: str = "several_live_calls",
    **placeholders: str,
) -> str:
    """Return the id of the one live call on the account, from a fresh poll; never guess.

    ``unlisted`` and ``several`` are the errors of an account that lists no calls and
    of several live calls, with ``placeholders`` for the latter.
    """
    coordinator = _live_calls_coordinator(entry, unlisted)
    calls = await coordinator.async_fresh_calls()
    if len(calls) == 1:
        return calls[0].call_id
    if not calls:
        raise validation_error("no_live_call", title=entry.title)
    listed = ", ".join(
        f"{call.call_id} (from {call.from_number})"
        if call.from_number
        else call.call_id
        for call in calls
    )
    raise validation_error(
        several,
        title=entry.title,
        count=str(len(calls)),
        calls=listed,
        **placeholders,
    )


async def async_transfer_live_call(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    destination: Destination,
    context: Context | None,
) -> dict[str, Any]:
    """Transfer the account's one live call to a destination (a button, a voice command).

    The call is picked from a fresh poll; the transfer is the ``transfer`` action, so
    it is checked, reported (events, logbook) and answered as the action is.
    """
    call_id = await _async_only_live_call(
        entry,
        unlisted="live_calls_not_supported",
        several="several_live_calls_for_destination",
        destination=destination.name,
    )
    response = await hass.services.async_call(
        DOMAIN,
        SERVICE_TRANSFER,
        {
            ATTR_CONFIG_ENTRY_ID: entry.entry_id,
            ATTR_CALL_ID: call_id,
            ATTR_DESTINATION: destination.name,
        },
        blocking=True,
        context=context,
        return_response=True,
    )
    return dict(response or {})


async def _async_build_request(
    hass: HomeAssistant, provider: type[TransferProvider], data: Mapping[str, str]
) -> TransferRequest:
    """Validate the action's fields against what the provider supports.

    Without a call id the request's ``call_id`` is empty: the caller picks the call.
    """
    name = provider.display_name
    call_id = ""
    if ATTR_CALL_ID in data:
        try:
            call_id = require_call_id(data[ATTR_CALL_ID].strip())
        except InvalidRequestError:
            raise validation_error(
                "invalid_call_id", call_id=data[ATTR_CALL_ID]
            ) from None
    url_fields = [key for key in VOBIZ_ONLY_FIELDS if key in data]
    if any(key not in _url_fields(provider) for key in url_fields):
        raise validation_error(
            "fields_not_supported"
            if not provider.supports_xml_urls
            else "other_leg_not_supported",
            provider=name,
        )
    to: str | None = data.get(ATTR_TO)
    if to is not None:
        if provider.number_transfer is NumberTransfer.UNSUPPORTED:
            raise validation_error("to_not_supported", provider=name)
        if provider.number_transfer is NumberTransfer.IN_REQUEST and url_fields:
            raise validation_error("to_or_url")
        to = await _async_destination(hass, provider, to)
    elif not provider.supports_xml_urls:
        raise validation_error("to_required", provider=name)
    elif provider.number_transfer is NumberTransfer.IN_REQUEST and not url_fields:
        raise validation_error("to_or_url_required", provider=name)
    if not provider.supports_xml_urls or (
        to is not None and provider.number_transfer is NumberTransfer.IN_REQUEST
    ):
        # A transfer to a number that the request names.
        return TransferRequest(call_id=call_id, to=to)

    legs = _choice(TransferLegs, data.get(ATTR_LEGS, TransferLegs.ALEG), "invalid_legs")
    if legs not in provider.xml_url_legs:
        raise validation_error(
            "invalid_legs",
            value=legs.value,
            choices=", ".join(
                leg for leg in TransferLegs if leg in provider.xml_url_legs
            ),
        )
    if to is not None:
        # The provider fetches the number's Dial XML from a URL Home Assistant serves.
        if ATTR_ALEG_URL in data or ATTR_BLEG_URL in data:
            raise validation_error("to_with_leg_url")
        if legs is TransferLegs.BOTH:
            raise validation_error("to_with_both_legs")
    urls: dict[str, str | None] = {}
    for field in (ATTR_ALEG_URL, ATTR_BLEG_URL):
        url = data.get(field)
        if url is not None:
            try:
                url = require_http_url(url, field)
            except InvalidRequestError:
                raise validation_error(f"invalid_{field}") from None
        urls[field] = url
    needed = {
        TransferLegs.ALEG: (ATTR_ALEG_URL,),
        TransferLegs.BLEG: (ATTR_BLEG_URL,),
        TransferLegs.BOTH: (ATTR_ALEG_URL, ATTR_BLEG_URL),
    }[legs]
    if to is None and (missing := [field for field in needed if urls[field] is None]):
        # Messages name the fields as the action form shows them, one message per case.
        raise validation_error(
            "missing_leg_urls" if len(missing) == 2 else f"missing_{missing[0]}"
        )
    return TransferRequest(
        call_id=call_id,
        to=to,
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


def _url_fields(provider: type[TransferProvider]) -> frozenset[str]:
    """Return the action fields of a transfer to XML URLs that the provider takes."""
    if not provider.supports_xml_urls:
        return frozenset()
    fields = {ATTR_LEGS}
    for leg, url, method in (
        (TransferLegs.ALEG, ATTR_ALEG_URL, ATTR_ALEG_METHOD),
        (TransferLegs.BLEG, ATTR_BLEG_URL, ATTR_BLEG_METHOD),
    ):
        if provider.xml_url_legs & {leg, TransferLegs.BOTH}:
            fields |= {url, method}
    return frozenset(fields)


async def _async_destination(
    hass: HomeAssistant, provider: type[TransferProvider], to: str
) -> str:
    """Return ``to`` as sent: a SIP URI as given, a number in E.164.

    A number without a country code is read in Home Assistant's country.
    """
    if is_sip_uri(to):
        if not provider.sip_destinations:
            raise validation_error(
                "sip_not_supported", provider=provider.display_name, uri=to
            )
        try:
            return require_sip_uri(to.strip(), ATTR_TO)
        except InvalidRequestError:
            raise validation_error("invalid_sip_uri", uri=to) from None
    try:
        return await async_to_e164(hass, to, hass.config.country)
    except ExtensionNotSupportedError:
        raise validation_error("extension_not_supported", number=to) from None
    except NotAPhoneNumberError:
        raise validation_error("invalid_phone_number", number=to) from None


def _choice[ChoiceT: (TransferLegs, XmlUrlMethod)](
    choices: type[ChoiceT], value: str, translation_key: str
) -> ChoiceT:
    try:
        return choices(
            value.strip().upper() if choices is XmlUrlMethod else value.strip().lower()
        )
    except ValueError:
        raise validation_error(
            translation_key,
            value=value,
            choices=", ".join(choice.value for choice in choices),
        ) from None
