"""Phone numbers: parsing to E.164 and display, with the phonenumbers lite build."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata


async def async_load_phone_metadata(hass: HomeAssistant) -> None:
    """Load every region's metadata now, in the executor.

    phonenumbers imports a region's metadata module the first time it sees that
    region; doing that inside the event loop would be blocking I/O.
    """
    await hass.async_add_executor_job(PhoneMetadata.load_all)


def to_e164(number: str, default_region: str | None) -> str:
    """Parse a number (read in ``default_region`` when it has no country code) to E.164.

    Raises ``ValueError`` when it is not a possible phone number.
    """
    try:
        parsed = phonenumbers.parse(number, default_region)
    except phonenumbers.NumberParseException as err:
        raise ValueError(str(err)) from err
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_for_display(e164: str) -> str:
    """Format an E.164 number the way people read it: ``+1 415-555-0100``."""
    return phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def mask(number: str | None) -> str | None:
    """Hide all but the last four digits (for diagnostics)."""
    if number is None:
        return None
    return "•" * max(0, len(number) - 4) + number[-4:]
