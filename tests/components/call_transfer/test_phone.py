"""Phone numbers: validity, extensions, lazy metadata off the event loop, masking."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from importlib.abc import MetaPathFinder
import sys
import threading
from types import ModuleType
from typing import Final
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import phonenumbers
import phonenumbers.data
from phonenumbers.phonemetadata import PhoneMetadata
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.call_transfer import phone
from custom_components.call_transfer.const import DOMAIN
from custom_components.call_transfer.phone import (
    ExtensionNotSupportedError,
    NotAPhoneNumberError,
    async_to_e164,
    format_for_display,
    mask_numbers_in,
    to_e164,
)
from sandbox import SANDBOX_BLAND_CALL_ID, Sandbox
from tests.helpers.destinations import add_destination
from tests.helpers.entries import setup_entry
from tests.helpers.hass import transfer

# The UK's calling code and the regions phonenumbers loads metadata modules of for it.
UK_CALLING_CODE: Final = 44
UK_REGIONS: Final = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[UK_CALLING_CODE]


@pytest.fixture
def nothing_loaded() -> set[int]:
    """Start from no loaded calling codes (the module remembers them per process)."""
    with patch.object(phone, "_loaded_calling_codes", set()) as loaded:
        yield loaded


@pytest.fixture
def loads(nothing_loaded: set[int]) -> list[tuple[tuple[int, ...], bool]]:
    """Record each metadata load: its calling codes, and whether it ran in the loop thread."""
    calls: list[tuple[tuple[int, ...], bool]] = []
    load = phone.load_metadata
    loop_thread = threading.current_thread()

    def recording_load(codes: tuple[int, ...] | set[int]) -> None:
        calls.append((tuple(sorted(codes)), threading.current_thread() is loop_thread))
        load(codes)

    with patch.object(phone, "load_metadata", recording_load):
        yield calls


@pytest.mark.parametrize(
    ("number", "region", "e164"),
    [
        ("+14155550100", None, "+14155550100"),
        ("(415) 555-0100", "US", "+14155550100"),
        ("020 7183 8750", "GB", "+442071838750"),
        ("011 44 20 7183 8750", "US", "+442071838750"),
        ("+881612345678", "US", "+881612345678"),
    ],
)
def test_valid_numbers_become_e164(number: str, region: str | None, e164: str) -> None:
    """National, international, IDD-prefixed and non-geographic numbers all parse."""
    assert to_e164(number, region) == e164


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("+10000000000", NotAPhoneNumberError),
        ("+1 555 555 0100", NotAPhoneNumberError),
        ("call me", NotAPhoneNumberError),
        ("+999 123 4567", NotAPhoneNumberError),
        ("+1 415 555 0100 ext. 123", ExtensionNotSupportedError),
        ("tel:+1-415-555-0100;ext=7", ExtensionNotSupportedError),
    ],
)
def test_impossible_numbers_and_extensions_are_refused(
    number: str, error: type[ValueError]
) -> None:
    """Only a number that exists, without an extension, is a transfer destination."""
    with pytest.raises(error):
        to_e164(number, "US")


async def test_domain_setup_loads_only_the_home_country(
    hass: HomeAssistant, loads: list[tuple[tuple[int, ...], bool]]
) -> None:
    """Setting up the integration loads one country's metadata, in the executor."""
    hass.config.country = "GB"
    with patch("phonenumbers.phonemetadata.PhoneMetadata.load_all") as load_all:
        assert await async_setup_component(hass, DOMAIN, {})
        await hass.async_block_till_done(wait_background_tasks=True)

    assert loads == [((44,), False)]
    load_all.assert_not_called()


async def test_another_country_is_loaded_on_demand_off_the_loop(
    hass: HomeAssistant,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
    loads: list[tuple[tuple[int, ...], bool]],
) -> None:
    """The first transfer to a country loads it in the executor; the next parses in the loop."""
    hass.config.country = "US"
    await setup_entry(hass, bland_entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert loads == [((1,), False)]

    await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, to="+44 20 7183 8750")
    await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, to="+44 20 7183 8751")
    await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, to="(415) 555-0100")

    assert loads[1:] == [((1, 44), False), ((44,), False)]


async def test_unsure_numbers_are_parsed_in_the_executor(
    hass: HomeAssistant, nothing_loaded: set[int]
) -> None:
    """Without the home metadata, or with an international prefix, parsing leaves the loop."""
    assert await async_to_e164(hass, "020 7183 8750", "GB") == "+442071838750"
    assert nothing_loaded == {44}
    assert await async_to_e164(hass, "00 1 415 555 0100", "GB") == "+14155550100"
    assert nothing_loaded == {1, 44}
    assert await async_to_e164(hass, "+1 415 555 0100", None) == "+14155550100"
    with pytest.raises(NotAPhoneNumberError):
        await async_to_e164(hass, "+999 1234 5678", "GB")


def test_display_does_not_load_metadata(nothing_loaded: set[int]) -> None:
    """In the logbook, a number of a country not loaded yet is shown as E.164."""
    assert format_for_display("+442071838750") == "+442071838750"
    phone.load_metadata((44,))
    assert format_for_display("+442071838750") == "+44 20 7183 8750"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Calls to (415) 555-0100 are blocked", "Calls to (•••) •••-0100 are blocked"),
        ("to +14155550100 successfully", "to +•••••••0100 successfully"),
        ("dial +44 20 7183 8750.", "dial +•• •• •••• 8750."),
        ("short 555-0100", "short •••-0100"),
        ("call 29f01d00-5197-4b83 at 12:30", "call 29f01d00-5197-4b83 at 12:30"),
        ("code 123456", "code 123456"),
    ],
)
def test_numbers_in_text_keep_only_their_last_four_digits(
    text: str, masked: str
) -> None:
    """Any common way of writing a number is masked; ids and short codes are left alone."""
    assert mask_numbers_in(text) == masked


class ImportRecorder(MetaPathFinder):
    """Record the thread of each import of the given modules (and import nothing itself).

    Home Assistant's blocking-call detector does not see ``__import__``, which is how
    phonenumbers loads a region's metadata the first time it needs it.
    """

    def __init__(self, modules: set[str]) -> None:
        """Watch these modules."""
        self.modules = modules
        self.threads: list[str] = []

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> None:
        """Note who imports a watched module; let the other finders find it."""
        if fullname in self.modules:
            self.threads.append(threading.current_thread().name)


def forget_uk_metadata() -> None:
    """Forget the UK's phone metadata, as a process that has not parsed a UK number yet."""
    for region in UK_REGIONS:
        sys.modules.pop(f"phonenumbers.data.region_{region}", None)
        PhoneMetadata._region_metadata.pop(region, None)  # noqa: SLF001
        PhoneMetadata.register_region_loader(region, phonenumbers.data._load_region)  # noqa: SLF001
    phone._loaded_calling_codes.discard(UK_CALLING_CODE)  # noqa: SLF001
    phone.to_e164.cache_clear()


@pytest.fixture
def uk_metadata_imports() -> Generator[ImportRecorder]:
    """Start without the UK's phone metadata; record the threads that import it."""
    recorder = ImportRecorder({f"phonenumbers.data.region_{r}" for r in UK_REGIONS})
    sys.meta_path.insert(0, recorder)
    try:
        with patch.object(phone, "_loaded_calling_codes", set()):
            forget_uk_metadata()
            yield recorder
    finally:
        sys.meta_path.remove(recorder)


async def test_a_uk_number_in_the_forms_loads_its_metadata_off_the_loop(
    hass: HomeAssistant,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    uk_metadata_imports: ImportRecorder,
) -> None:
    """A destination's number and a caller id of another country: parsed in the executor.

    Their metadata modules are imported there, not in the event loop.
    """
    hass.config.country = "US"
    await setup_entry(hass, vobiz_entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    loop_thread = threading.current_thread().name

    await add_destination(hass, vobiz_entry, "London", number="+44 20 7183 8750")
    assert vobiz_entry.subentries
    assert uk_metadata_imports.threads
    assert loop_thread not in uk_metadata_imports.threads

    forget_uk_metadata()
    uk_metadata_imports.threads.clear()
    result = await hass.config_entries.options.async_init(vobiz_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"caller_id": "+44 20 7183 8751", "scan_interval": 10}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert vobiz_entry.options["caller_id"] == "+442071838751"
    assert uk_metadata_imports.threads
    assert loop_thread not in uk_metadata_imports.threads
