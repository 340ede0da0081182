"""Blocking I/O in the event loop fails the suite."""

from __future__ import annotations

from pathlib import Path
import time

from homeassistant.core import HomeAssistant
import pytest

from .conftest import blocking_io_reports


async def test_blocking_sleep_in_the_event_loop_raises(hass: HomeAssistant) -> None:
    """Home Assistant's detector is armed in tests: a blocking sleep raises at once."""
    with pytest.raises(RuntimeError, match="blocking call to sleep"):
        time.sleep(0)  # noqa: ASYNC251 - the point of the test


async def test_blocking_file_io_is_reported_and_fails_the_test(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """Blocking file I/O is reported, and fail_on_blocking_io turns the report into a failure."""
    with Path(__file__).open(encoding="utf-8") as file:  # noqa: ASYNC230 - the point of the test
        file.read(1)

    reports = blocking_io_reports(caplog.records)
    assert reports
    assert "Detected blocking call to open" in reports[0]
    caplog.clear()  # this test's own I/O was deliberate; the guard has proven it sees it
