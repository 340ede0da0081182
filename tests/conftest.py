"""The suite's fixtures, registered as plugins: each module under tests/helpers/ does one job.

- ``sandbox.pytest_plugin``: the provider sandbox (``sandbox``);
- ``tests.helpers.hass``: custom integrations enabled, transfer events, the served HTTP app;
- ``tests.helpers.guards``: every test fails on blocking I/O in the event loop or a leaked secret;
- ``tests.helpers.provider_cases``: each provider's sandbox account as a case (``provider``, ``case``);
- ``tests.helpers.entries``: config entries of those accounts (``entry``, ``vobiz_entry``...);
- ``tests.helpers.live_calls``: an account that lists its calls, and the frozen clock (``live``);
- ``tests.helpers.push``: a push provider's account receiving its signed callbacks (``push``).
"""

# Import this repository's integration before Home Assistant's test config directory
# (which ships its own custom_components package) can shadow it.
import custom_components.call_transfer  # noqa: F401  isort:skip

import logging
from pathlib import Path

import pytest

pytest_plugins = [
    "sandbox.pytest_plugin",
    "tests.helpers.hass",
    "tests.helpers.guards",
    "tests.helpers.provider_cases",
    "tests.helpers.entries",
    "tests.helpers.live_calls",
    "tests.helpers.push",
    "tests.helpers.voice",
]


def pytest_configure(config: pytest.Config) -> None:
    """Keep the recorder's SQL and connection-pool lines out of the test run's output.

    Home Assistant's test plugin logs ``sqlalchemy.engine`` at INFO, and tests using
    ``caplog`` put the root logger at DEBUG; the recorder's thread then wrote its lines
    between tests, past pytest's capture, thousands of them per run.
    """
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("homeassistant.components.recorder").setLevel(logging.INFO)


_MARKED_FOLDERS = {"browser": "browser", "e2e": "e2e"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser and tests/e2e, so no new file escapes the marker."""
    tests_dir = Path(__file__).parent
    for item in items:
        if tests_dir not in item.path.parents:
            continue
        folder = item.path.relative_to(tests_dir).parts[0]
        if marker := _MARKED_FOLDERS.get(folder):
            item.add_marker(marker)
