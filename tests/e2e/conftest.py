"""End-to-end tests run their own Home Assistant process, not the test harness's."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the harness fixture: these tests start no in-process Home Assistant."""
