"""The package's tests: the installed call_transfer_providers against the provider sandbox.

The sandbox (a local server speaking each provider's API, loopback only) lives in the
repository, not in the package, so these run from a checkout of the repository with the
built package installed; they never import the integration's copy of the modules:

    python -m pytest packages/call-transfer-providers/tests
"""

from __future__ import annotations

from pathlib import Path
import sys

REPOSITORY = Path(__file__).resolve().parents[3]
# Appended, so that nothing in the repository shadows the installed package.
sys.path.append(str(REPOSITORY))

pytest_plugins = ["sandbox.pytest_plugin"]
