"""The suite's guards (tests/helpers/guards.py) fail a test that blocks the loop or leaks a secret.

A test that breaks a rule is run in a child pytest with the suite's fixtures: the guard
must fail it, and must let a test that keeps the rules pass.
"""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys
import time
from typing import Final

from homeassistant.core import HomeAssistant
import pytest

from tests.helpers.processes import child_environment

ROOT: Final = Path(__file__).resolve().parents[1]
RULE_BREAKERS: Final = """
import logging
from pathlib import Path
from unittest.mock import patch

from custom_components.call_transfer.phone import to_e164
from custom_components.call_transfer.providers import CallTransferError
from sandbox import SANDBOX_BLAND_CALL_ID, SANDBOX_TWILIO_AUTH_TOKEN
from tests.helpers.entries import setup_entry
from tests.helpers.hass import transfer


async def test_reads_a_file_in_the_event_loop(hass, bland_entry):
    hass.config.country = "US"  # so the number is parsed in the loop, not the executor
    await setup_entry(hass, bland_entry)
    await hass.async_block_till_done(wait_background_tasks=True)

    def parse_after_reading_a_file(number, region):
        with Path(__file__).open(encoding="utf-8") as file:
            file.read(1)
        return to_e164(number, region)

    with patch("custom_components.call_transfer.phone.to_e164", parse_after_reading_a_file):
        await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, to="+14155550100")


async def test_logs_a_secret(hass):
    logging.getLogger("custom_components.call_transfer").debug("%s", SANDBOX_TWILIO_AUTH_TOKEN)


async def test_fires_an_event_with_a_secret(hass):
    hass.bus.async_fire("call_transfer_anything", {"said": SANDBOX_TWILIO_AUTH_TOKEN})


async def test_raises_a_provider_error_with_a_secret(hass):
    CallTransferError(f"rejected {SANDBOX_TWILIO_AUTH_TOKEN}")


async def test_keeps_the_rules(hass, bland_entry, events):
    await setup_entry(hass, bland_entry)
    await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, to="+14155550100")
    assert len(events["succeeded"]) == 1
"""


async def test_blocking_sleep_in_the_event_loop_raises(hass: HomeAssistant) -> None:
    """Home Assistant's detector is armed in tests: a blocking sleep raises at once."""
    with pytest.raises(RuntimeError, match="blocking call to sleep"):
        time.sleep(0)  # noqa: ASYNC251 - the point of the test


@pytest.mark.slow  # a child pytest
def test_the_guards_fail_the_tests_that_break_the_rules(tmp_path: Path) -> None:
    """Blocking file I/O and a secret in a log, an event or an error each fail their test."""
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.conftest"]\n')
    (tmp_path / "test_rule_breakers.py").write_text(RULE_BREAKERS)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_mode=auto",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            "-q",
            "-rfE",
            str(tmp_path),
        ],
        cwd=tmp_path,
        # Wide enough for the summary lines to hold the guards' reasons.
        env=child_environment(PYTHONPATH=str(ROOT), COLUMNS="400"),
        capture_output=True,
        text=True,
        check=False,
    )
    failures = {
        line.split("::")[1].split(" ")[0]: line
        for line in result.stdout.splitlines()
        if line.startswith(("FAILED", "ERROR"))
    }
    assert set(failures) == {
        "test_reads_a_file_in_the_event_loop",
        "test_logs_a_secret",
        "test_fires_an_event_with_a_secret",
        "test_raises_a_provider_error_with_a_secret",
    }, result.stdout + result.stderr
    assert (
        "Blocking I/O in the event loop"
        in failures["test_reads_a_file_in_the_event_loop"]
    )
    assert "Detected blocking call to open" in result.stdout
    for name in failures.keys() - {"test_reads_a_file_in_the_event_loop"}:
        assert "A secret leaked" in failures[name], failures[name]
    assert "5 passed, 4 errors" in result.stdout.splitlines()[-1], result.stdout
