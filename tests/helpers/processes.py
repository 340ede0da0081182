"""Child processes of tests: run without the suite's coverage and pytest settings."""

from __future__ import annotations

import os


def child_environment(**changes: str) -> dict[str, str]:
    """Return this process's environment without the coverage and pytest settings.

    The suite's coverage would otherwise follow into the child (pytest-cov starts it in
    subprocesses) and measure what the child runs as if the suite had run it.
    """
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("COV_", "COVERAGE", "PYTEST_"))
    } | changes
