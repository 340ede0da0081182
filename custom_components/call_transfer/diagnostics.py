"""Diagnostics: entry, account and recent transfers, with secrets redacted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_ERROR_MESSAGE,
    ATTR_MESSAGE,
    ATTR_TO,
    CONF_API_KEY,
    CONF_AUTH_TOKEN,
)
from .data import CallTransferConfigEntry
from .phone import mask, mask_numbers_in

TO_REDACT = {
    CONF_AUTH_TOKEN,
    CONF_API_KEY,
    "auth_secret",
    "token",
    "secret",
    "password",
}
_SECRET_HINTS = ("token", "secret", "key", "password")
_TEXTS = (ATTR_MESSAGE, ATTR_ERROR_MESSAGE)


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
            },
            "account": asdict(runtime.account),
            "recent_transfers": [
                _masked(when, outcome) for when, outcome in runtime.recent_transfers
            ],
        }
    )


def _masked(when: float, outcome: Mapping[str, Any]) -> dict[str, Any]:
    """Return a transfer's outcome with every phone number masked, and when it was.

    Providers repeat numbers in their messages, in their own formats.
    """
    masked = {
        key: mask_numbers_in(value)
        if key in _TEXTS and isinstance(value, str)
        else value
        for key, value in outcome.items()
        if key != ATTR_CONFIG_ENTRY_ID
    }
    return masked | {
        "time": datetime.fromtimestamp(when, UTC).isoformat(),
        ATTR_TO: mask(outcome[ATTR_TO]),
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
