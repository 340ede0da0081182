"""The integration's texts (translations ``exceptions``) in Home Assistant's language.

Home Assistant words a raised error in English whatever its language; what the
integration records for people (the logbook, a refusal on the Transfers entity) is in
the language they chose. Home Assistant loads these texts when it sets the integration
up, and again when the language changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.translation import async_get_cached_translations

from .const import DOMAIN


@callback
def async_text(hass: HomeAssistant, key: str, placeholders: Mapping[str, Any]) -> str:
    """Return one of the messages, filled in, without its final full stop."""
    messages = async_get_cached_translations(
        hass, hass.config.language, "exceptions", DOMAIN
    )
    message = messages[f"component.{DOMAIN}.exceptions.{key}.message"]
    return message.format(**placeholders).rstrip(".")
