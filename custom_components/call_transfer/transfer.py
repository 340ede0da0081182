"""The transfer of a live call, as the action, the buttons and the voice intent make it.

``async_plan_transfer`` turns a user's fields into a request the account's provider
takes; ``async_transfer`` sends it and reports how it ended: one ``call_transfer_*``
event, one diagnostics record, a fresh look at the live calls. Every entry point calls
these two, with the user's context, so a transfer is checked, sent and reported the
same way whichever way it was asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
import time
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .call_choice import CallChoice, choose_call
from .const import (
    ATTR_CALL_ID,
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
    EVENT_TRANSFER_REFUSED,
    EVENT_TRANSFER_SUCCEEDED,
)
from .coordinator import LiveCallsCoordinator
from .data import (
    TRANSFERS_IN_PROGRESS,
    CallTransferConfigEntry,
    CallTransferData,
    recent_transfers,
)
from .destinations import Destination, validation_error
from .dial import async_send_transfer
from .event import transfers_entity_id
from .phone import (
    ExtensionNotSupportedError,
    NotAPhoneNumberError,
    async_to_e164,
    mask,
    mask_numbers_in,
)
from .providers import (
    CallNotFoundError,
    CallTransferError,
    InvalidAuthError,
    InvalidRequestError,
    TransferCancelledError,
    TransferLegs,
    TransferPlanError,
    TransferRequest,
    TransferResult,
)
from .texts import async_text


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferOutcome:
    """How one transfer ended: the provider accepted it (``result``) or it failed."""

    entry_id: str
    # The account's Transfers entity: the logbook files the transfer under it.
    entity_id: str | None
    provider: str
    call_id: str | None
    to: str | None
    destination: str | None
    # The legs pointed at a URL; None for a transfer whose request names the number.
    legs: TransferLegs | None
    # When it ended (time.time()).
    ended: float
    result: TransferResult | None = None
    error: CallTransferError | None = None

    @property
    def event_type(self) -> str:
        """The bus event that reports it."""
        if self.error is not None:
            return EVENT_TRANSFER_FAILED
        return EVENT_TRANSFER_SUCCEEDED

    def event_data(self) -> dict[str, Any]:
        """Return the data of its ``call_transfer_succeeded`` / ``_failed`` event."""
        data: dict[str, Any] = {
            ATTR_CONFIG_ENTRY_ID: self.entry_id,
            ATTR_ENTITY_ID: self.entity_id,
            ATTR_PROVIDER: self.provider,
            ATTR_CALL_ID: self.call_id,
            ATTR_TO: self.to,
            ATTR_DESTINATION: self.destination,
            ATTR_LEGS: self.legs.value if self.legs else None,
        }
        if self.error is not None:
            return data | {
                ATTR_ERROR: self.error.code,
                ATTR_ERROR_MESSAGE: self.error.message,
                ATTR_STATUS: self.error.status,
            }
        assert self.result is not None
        return data | {
            ATTR_MESSAGE: self.result.message,
            ATTR_REQUEST_ID: self.result.request_id,
        }

    def response(self) -> dict[str, Any]:
        """Return what the action answers for it (it succeeded: a failure raises)."""
        assert self.result is not None
        return {
            ATTR_PROVIDER: self.provider,
            ATTR_CALL_ID: self.call_id,
            ATTR_TO: self.to,
            ATTR_DESTINATION: self.destination,
            ATTR_LEGS: self.legs.value if self.legs else None,
            ATTR_MESSAGE: self.result.message,
            ATTR_REQUEST_ID: self.result.request_id,
        }

    def masked(self) -> dict[str, Any]:
        """Return it as diagnostics show it: every phone number masked, and when it was.

        Providers repeat numbers in their messages, in their own formats. The account
        and its entity are left out: diagnostics show them already.
        """
        shown = self.event_data()
        del shown[ATTR_CONFIG_ENTRY_ID], shown[ATTR_ENTITY_ID]
        for key in (ATTR_MESSAGE, ATTR_ERROR_MESSAGE):
            if isinstance(text := shown.get(key), str):
                shown[key] = mask_numbers_in(text)
        return shown | {
            ATTR_TO: mask(self.to),
            "time": datetime.fromtimestamp(self.ended, UTC).isoformat(),
        }


async def async_plan_transfer(
    hass: HomeAssistant, entry: CallTransferConfigEntry, fields: Mapping[str, str]
) -> TransferRequest:
    """Make the request of a user's fields (``call_id``, ``to``, legs and URLs).

    Checked against what the account's provider takes; a number without a country code
    is read in Home Assistant's country. Every refusal is a translated validation error.
    """
    provider = type(entry.runtime_data.client)
    try:
        return await provider.capabilities.plan(
            fields,
            provider=provider.display_name,
            parse_number=partial(_async_phone_number, hass),
        )
    except TransferPlanError as err:
        raise validation_error(err.refusal.value, **err.placeholders) from None


async def _async_phone_number(hass: HomeAssistant, number: str) -> str:
    try:
        return await async_to_e164(hass, number, hass.config.country)
    except ExtensionNotSupportedError:
        raise validation_error("extension_not_supported", number=number) from None
    except NotAPhoneNumberError:
        raise validation_error("invalid_phone_number", number=number) from None


async def async_transfer(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    request: TransferRequest,
    *,
    destination: str | None,
    context: Context | None,
) -> TransferOutcome:
    """Send a transfer and report how it ended, once; return the provider's acceptance.

    Without a call id, the call chosen under the account's Call to transfer select, or
    else the one live call on the account, is taken (from a fresh poll). A transferred
    call is chosen no more.
    A second transfer of a call that is being transferred is refused. A failure is
    reported, then raised as a translated error; a request the provider client refused
    before sending is a validation error and reports nothing, as no transfer happened.
    """
    # What the entry holds now: it may be unloaded or removed before the provider answers.
    runtime = entry.runtime_data

    def report(
        request: TransferRequest, outcome: TransferResult | CallTransferError
    ) -> TransferOutcome:
        return _async_report(
            hass, entry, runtime, request, destination, context, outcome
        )

    if not request.call_id:
        try:
            call_id = await async_chosen_or_only_call(entry)
        except asyncio.CancelledError:
            report(request, _cancelled(sent=False))
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
        result = await async_send_transfer(entry, request, destination)
    except CallTransferError as err:
        if isinstance(err, InvalidRequestError) and err.refused_before_sending:
            # The provider's own rules (a Twilio Call SID's form...): nothing was sent,
            # so, like the checks before, it is a validation error and no transfer ended.
            raise validation_error(
                "transfer_invalid_request", call_id=request.call_id, error=err.message
            ) from err
        report(request, err)
        if isinstance(err, InvalidAuthError) and hass.config_entries.async_get_entry(
            entry.entry_id
        ):
            entry.async_start_reauth(hass)
        # A call that is not live, or a request the provider refused as invalid, is the
        # caller's to fix: raised as a validation error, Home Assistant logs it in one line
        # instead of as an unexpected exception with a traceback.
        error_class = (
            _ReportedFailureError
            if isinstance(err, CallNotFoundError | InvalidRequestError)
            else HomeAssistantError
        )
        raise error_class(
            translation_domain=DOMAIN,
            translation_key=f"transfer_{err.code}",
            translation_placeholders={"call_id": request.call_id, "error": err.message},
        ) from err
    except asyncio.CancelledError:
        # Home Assistant stopping (or the caller giving up) cancels the transfer: it
        # still ends in one event, and the cancellation goes on.
        report(request, _cancelled(sent=True))
        raise
    finally:
        in_progress.discard(guard)
    if runtime.chosen_call_id == request.call_id:
        # Transferred: the next press or command starts from the only live call again.
        runtime.chosen_call_id = None
        async_dispatcher_send(hass, call_chosen_signal(entry))
    return report(request, result)


async def async_transfer_live_call(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    destination: Destination,
    context: Context | None,
    said: CallChoice | None = None,
) -> TransferOutcome:
    """Transfer a live call of the account to a destination (a button, a voice command).

    The call is the one ``said`` names, else the one chosen under the account's Call
    to transfer select, else the only live call, from a fresh poll; the transfer is
    then checked, sent and reported as the action's. A refusal is recorded.
    """
    async with async_refusals_recorded(
        hass, entry, context=context, destination=destination.name
    ):
        # As chosen when the transfer was asked for: the poll may show it ended.
        chosen_id = entry.runtime_data.chosen_call_id
        coordinator = live_calls_coordinator(entry, "live_calls_not_supported")
        call = choose_call(
            entry,
            await coordinator.async_fresh_calls(),
            chosen_id=chosen_id,
            said=said,
            destination=destination.name,
        )
        request = await async_plan_transfer(
            hass, entry, {ATTR_CALL_ID: call.call_id} | destination.action_fields()
        )
        return await async_transfer(
            hass, entry, request, destination=destination.name, context=context
        )


def call_chosen_signal(entry: CallTransferConfigEntry) -> str:
    """Name the signal telling that the account's chosen call changed."""
    return f"{DOMAIN}_{entry.entry_id}_call_chosen"


class _ReportedFailureError(ServiceValidationError):
    """A transfer the provider refused: reported as failed already, not a refusal."""


@asynccontextmanager
async def async_refusals_recorded(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    *,
    context: Context | None,
    destination: str | None = None,
    call_id: str | None = None,
) -> AsyncIterator[None]:
    """Record each refusal of a transfer on the account (nothing was sent), then raise it.

    One ``call_transfer_refused`` event: the account's Transfers entity shows it as
    ``refused``, the logbook as one line. A transfer that was sent and failed is
    reported as failed instead.
    """
    try:
        yield
    except ServiceValidationError as err:
        if err.translation_domain == DOMAIN and not isinstance(
            err, _ReportedFailureError
        ):
            hass.bus.async_fire(
                EVENT_TRANSFER_REFUSED,
                {
                    ATTR_CONFIG_ENTRY_ID: entry.entry_id,
                    ATTR_ENTITY_ID: transfers_entity_id(hass, entry.entry_id),
                    ATTR_PROVIDER: entry.runtime_data.client.provider_id,
                    ATTR_CALL_ID: call_id,
                    ATTR_DESTINATION: destination,
                    ATTR_ERROR: err.translation_key,
                    ATTR_ERROR_MESSAGE: async_text(
                        hass,
                        str(err.translation_key),
                        err.translation_placeholders or {},
                    ),
                },
                context=context,
            )
        raise


@callback
def _async_report(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    runtime: CallTransferData,
    request: TransferRequest,
    destination: str | None,
    context: Context | None,
    ended: TransferResult | CallTransferError,
) -> TransferOutcome:
    """End a transfer: its one event, its diagnostics record, a fresh look at the calls.

    Every transfer that got past validation ends here exactly once. ``runtime`` is what
    the entry held when the transfer started.
    """
    client = runtime.client
    outcome = TransferOutcome(
        entry_id=entry.entry_id,
        entity_id=transfers_entity_id(hass, entry.entry_id),
        provider=client.provider_id,
        call_id=request.call_id or None,
        to=request.to,
        destination=destination,
        legs=client.capabilities.reported_legs(request),
        ended=time.time(),
        result=ended if isinstance(ended, TransferResult) else None,
        error=ended if isinstance(ended, CallTransferError) else None,
    )
    recent_transfers(hass, entry.entry_id).append(outcome)
    hass.bus.async_fire(outcome.event_type, outcome.event_data(), context=context)
    if (
        runtime.coordinator is not None
        and entry.state is ConfigEntryState.LOADED
        and not isinstance(ended, TransferCancelledError)
    ):
        # Show what the transfer changed; the transfer does not wait for it.
        entry.async_create_task(hass, runtime.coordinator.async_request_refresh())
    return outcome


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


def live_calls_coordinator(
    entry: CallTransferConfigEntry, refusal: str
) -> LiveCallsCoordinator:
    """Return what polls the account's live calls, or refuse (``refusal``) if nothing does."""
    if (coordinator := entry.runtime_data.coordinator) is None:
        raise validation_error(
            refusal,
            title=entry.title,
            provider=entry.runtime_data.client.display_name,
        )
    return coordinator


async def async_chosen_or_only_call(entry: CallTransferConfigEntry) -> str:
    """Return the id of the call chosen under the account's select, or of its only call.

    From a fresh poll; never a guess: several calls and none chosen are refused.
    """
    # As chosen when the transfer was asked for: the poll may show it ended.
    chosen_id = entry.runtime_data.chosen_call_id
    coordinator = live_calls_coordinator(entry, "call_id_required")
    calls = await coordinator.async_fresh_calls()
    if chosen_id is None and len(calls) > 1:
        listed = ", ".join(
            f"{call.call_id} (from {call.from_number})"
            if call.from_number
            else call.call_id
            for call in calls
        )
        raise validation_error(
            "several_live_calls", title=entry.title, count=str(len(calls)), calls=listed
        )
    return choose_call(
        entry, calls, chosen_id=chosen_id, said=None, destination=""
    ).call_id
