"""Blocking I/O in the event loop fails the suite."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from importlib.abc import MetaPathFinder
from pathlib import Path
import sys
import threading
import time
from types import ModuleType
from typing import Final
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import phonenumbers
import phonenumbers.data
from phonenumbers.phonemetadata import PhoneMetadata
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.call_transfer import phone
from custom_components.call_transfer.phone import to_e164
from sandbox import SANDBOX_BLAND_CALL_ID, Sandbox
from tests.conftest import blocking_io_reports, setup_entry, transfer
from tests.helpers.destinations import add_destination

# The UK's calling code and the regions phonenumbers loads metadata modules of for it.
UK_CALLING_CODE: Final = 44
UK_REGIONS: Final = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[UK_CALLING_CODE]


async def test_blocking_sleep_in_the_event_loop_raises(hass: HomeAssistant) -> None:
    """Home Assistant's detector is armed in tests: a blocking sleep raises at once."""
    with pytest.raises(RuntimeError, match="blocking call to sleep"):
        time.sleep(0)  # noqa: ASYNC251 - the point of the test


async def test_integration_file_io_in_the_event_loop_is_caught(
    hass: HomeAssistant,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """File I/O on the action's path is reported against call_transfer, which fails a test."""
    hass.config.country = "US"  # so the number is parsed in the loop, not the executor
    await setup_entry(hass, bland_entry)
    await hass.async_block_till_done(wait_background_tasks=True)

    def parse_after_reading_a_file(number: str, region: str | None) -> str:
        with Path(__file__).open(encoding="utf-8") as file:
            file.read(1)
        return to_e164(number, region)

    with patch(
        "custom_components.call_transfer.phone.to_e164", parse_after_reading_a_file
    ):
        await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, to="+14155550100")

    [report] = blocking_io_reports(caplog.records)
    assert "Detected blocking call to open" in report
    # The I/O here was deliberate: the guard has shown it sees it, so let this test pass.
    caplog.clear()


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
