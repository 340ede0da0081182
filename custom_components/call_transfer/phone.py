"""Phone numbers: parsing to E.164, display and masking, with the phonenumbers lite build.

phonenumbers imports a region's metadata module the first time it needs it, which is
blocking I/O. Only the home country's metadata is loaded at setup (in the executor);
another country's is loaded, in the executor too, by the first transfer that needs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
import re
from typing import Final

from homeassistant.core import HomeAssistant, callback
import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata

_CALLING_CODE_REGIONS: Final = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
_REGION_CALLING_CODE: Final = {
    region: code
    for code, regions in _CALLING_CODE_REGIONS.items()
    for region in regions
}
_NON_GEOGRAPHIC: Final = phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
_PLUS: Final = ("+", "\uff0b")  # fullwidth plus, as phonenumbers accepts
# A phone number as people write it in text: 7 or more digits, alone or with single
# separators ((415) 555-0100, +1 415.555.0100), not glued to letters or other digits.
_NUMBER_IN_TEXT: Final = re.compile(
    r"(?<![\w+])[+(]?\d(?:[ ().\-/]{0,2}\d){6,}\)?(?!\w)"
)
_DIGIT: Final = re.compile(r"\d")
# Calling codes whose regions' metadata is loaded, so parsing such a number is CPU only.
_loaded_calling_codes: set[int] = set()


class NotAPhoneNumberError(ValueError):
    """The text is not a phone number that exists."""


class ExtensionNotSupportedError(ValueError):
    """The number has an extension, which a transfer cannot dial."""


def load_metadata(calling_codes: Iterable[int]) -> None:
    """Load the metadata of every region of these calling codes (blocking: executor only)."""
    for code in calling_codes:
        for region in _CALLING_CODE_REGIONS.get(code, ()):
            if region == _NON_GEOGRAPHIC:
                PhoneMetadata.metadata_for_nongeo_region(code)
            else:
                PhoneMetadata.metadata_for_region(region)
        _loaded_calling_codes.add(code)


@callback
def async_load_home_metadata(hass: HomeAssistant) -> None:
    """Start loading, in the executor, the metadata of Home Assistant's calling code.

    In the background: setup does not wait for it (+1 alone is 25 regions), and until it
    is done, numbers are simply parsed in the executor.
    """
    if (code := _REGION_CALLING_CODE.get(hass.config.country or "")) is None:
        return

    async def load() -> None:
        await hass.async_add_executor_job(load_metadata, (code,))

    hass.async_create_background_task(load(), "call_transfer phone number metadata")


async def async_to_e164(
    hass: HomeAssistant, number: str, default_region: str | None
) -> str:
    """Parse a number to E.164 as ``to_e164`` does, never loading metadata in the loop."""
    codes = _calling_codes(number, default_region)
    if codes is not None and codes <= _loaded_calling_codes:
        return to_e164(number, default_region)
    return await hass.async_add_executor_job(
        _load_and_parse, number, default_region, codes
    )


def _load_and_parse(
    number: str, default_region: str | None, codes: set[int] | None
) -> str:
    load_metadata(codes or ())
    e164 = to_e164(number, default_region)
    load_metadata(_calling_codes(e164, None) or ())
    return e164


def _calling_codes(number: str, default_region: str | None) -> set[int] | None:
    """Return the calling codes whose metadata parsing ``number`` reads, or None if unsure.

    Unsure: a number dialled with an international prefix (``011 44…``), which only the
    home region's metadata can tell.
    """
    region = (default_region or "").upper()
    codes = set()
    if (home := _REGION_CALLING_CODE.get(region)) is not None:
        codes.add(home)
    text = number.lstrip(" \t(")
    if text.startswith(_PLUS):
        digits = phonenumbers.normalize_digits_only(text)
        for length in (1, 2, 3):
            if int(digits[:length] or 0) in _CALLING_CODE_REGIONS:
                codes.add(int(digits[:length]))
                break
        return codes
    if home is None or home not in _loaded_calling_codes:
        return None
    home_metadata = PhoneMetadata.metadata_for_region(region)
    international_prefix = home_metadata.international_prefix if home_metadata else None
    if international_prefix is None or re.match(
        international_prefix, phonenumbers.normalize_digits_only(text)
    ):
        return None
    return codes


@lru_cache(maxsize=256)
def to_e164(number: str, default_region: str | None) -> str:
    """Parse a number (read in ``default_region`` when it has no country code) to E.164.

    Raises ``NotAPhoneNumberError`` unless it is a valid number (not merely one of a
    possible length: ``+10000000000`` is refused), ``ExtensionNotSupportedError`` when
    it carries an extension. Automations dial the same few numbers: answers are cached
    (a refusal is not, it raises again).
    """
    try:
        parsed = phonenumbers.parse(number, default_region)
    except phonenumbers.NumberParseException as err:
        raise NotAPhoneNumberError(str(err)) from err
    if parsed.extension:
        raise ExtensionNotSupportedError("a transfer cannot dial an extension")
    if not phonenumbers.is_valid_number(parsed):
        raise NotAPhoneNumberError("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_for_display(e164: str) -> str:
    """Format an E.164 number the way people read it: ``+1 415-555-0100``.

    A number whose country's metadata is not loaded yet is shown as it is, rather than
    loading it here (this runs in the event loop).
    """
    if not (_calling_codes(e164, None) or set()) <= _loaded_calling_codes:
        return e164
    return phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def mask(number: str | None) -> str | None:
    """Hide all but the last four digits (for diagnostics)."""
    if number is None:
        return None
    return "•" * max(0, len(number) - 4) + number[-4:]


def mask_numbers_in(text: str) -> str:
    """Hide all but the last four digits of every phone number written in ``text``."""

    def hide(match: re.Match[str]) -> str:
        written = match.group()
        keep_from = [digit.start() for digit in _DIGIT.finditer(written)][-4]
        return _DIGIT.sub("•", written[:keep_from]) + written[keep_from:]

    return _NUMBER_IN_TEXT.sub(hide, text)
