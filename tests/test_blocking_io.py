"""Blocking I/O in the event loop fails the suite."""

from __future__ import annotations

from pathlib import Path
import time
from unittest.mock import patch

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.call_transfer.phone import to_e164
from sandbox import SANDBOX_BLAND_CALL_ID, Sandbox

from .conftest import blocking_io_reports, setup_entry, transfer


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
