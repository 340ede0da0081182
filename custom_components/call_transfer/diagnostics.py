"""Diagnostics: entry and options, account, destinations, live calls, push and recent transfers, redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.core import HomeAssistant
from yarl import URL

from .const import ATTR_FROM, ATTR_TO, CONF_API_KEY, CONF_AUTH_TOKEN
from .coordinator import LiveCallsCoordinator, describe_call
from .data import CallTransferConfigEntry, recent_transfers
from .destinations import Destination, account_destinations
from .phone import mask, mask_numbers_in
from .providers import PROVIDERS, OptionKind
from .push import push_diagnostics

# Every credential a provider declares secret, and secret-looking keys providers send.
TO_REDACT = {
    CONF_AUTH_TOKEN,
    CONF_API_KEY,
    "auth_secret",
    "token",
    "secret",
    "password",
} | {
    cred.key
    for provider in PROVIDERS.values()
    for cred in provider.credential_fields
    if cred.secret
}
_SECRET_HINTS = ("token", "secret", "key", "password")


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: CallTransferConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    runtime = entry.runtime_data
    return _redact(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": _options(entry),
            },
            "account": asdict(runtime.account),
            "destinations": [
                _destination(dest) for dest in account_destinations(entry)
            ],
            "live_calls": _live_calls(runtime.coordinator),
            "push": push_diagnostics(hass, entry),
            "recent_transfers": [
                outcome.masked() for outcome in recent_transfers(hass, entry.entry_id)
            ],
        }
    )


def _options(entry: CallTransferConfigEntry) -> dict[str, Any]:
    """Return the account's options: phone numbers masked, account ids redacted.

    An id the provider checks (Bland AI's organization, Telnyx's connection) names
    the user's account there: whether it is set is what helps.
    """
    kinds = {
        option.key: option.kind
        for option in type(entry.runtime_data.client).option_fields
    }
    shown: dict[str, Any] = {}
    for key, value in entry.options.items():
        match kinds.get(key):
            case OptionKind.PHONE_NUMBER:
                shown[key] = mask(value)
            case OptionKind.IDENTIFIER:
                shown[key] = REDACTED
            case _:
                shown[key] = value
    return shown


def _live_calls(coordinator: LiveCallsCoordinator | None) -> dict[str, Any] | None:
    """Return the polling state and the last polled calls, numbers masked."""
    if coordinator is None:
        return None
    calls = [
        describe_call(call)
        | {ATTR_FROM: mask(call.from_number), ATTR_TO: mask(call.to_number)}
        for call in (coordinator.data or {}).values()
    ]
    return {
        "last_update_success": coordinator.last_update_success,
        # Providers repeat numbers in their messages, in their own formats.
        "last_error": None
        if coordinator.last_update_success
        else mask_numbers_in(str(coordinator.last_exception)),
        "scan_interval": coordinator.scan_interval.total_seconds(),
        "calls": calls,
    }


def _destination(destination: Destination) -> dict[str, Any]:
    """Describe a destination: its number masked, of its URL only where it points."""
    described = {"subentry_id": destination.subentry_id, "name": destination.name}
    if destination.url is None:
        return described | {"number": mask(destination.number)}
    return described | {
        # The path and query of a URL of the user's may carry a token.
        "url": str(URL(destination.url).origin()),
        "method": destination.method.value,
        "legs": destination.legs.value,
    }


def _redact(data: dict[str, Any]) -> dict[str, Any]:
    """Redact known secret keys and anything whose name looks token-like."""
    token_like = {
        key for key in _keys(data) if any(hint in key.lower() for hint in _SECRET_HINTS)
    }
    redacted: dict[str, Any] = async_redact_data(data, TO_REDACT | token_like)
    return redacted


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [key for key in value if isinstance(key, str)] + [
            nested for item in value.values() for nested in _keys(item)
        ]
    if isinstance(value, list):
        return [nested for item in value for nested in _keys(item)]
    return []
