"""The ``sandbox`` fixture: ``pytest_plugins = ["sandbox.pytest_plugin"]`` loads it."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest
import pytest_asyncio

from .server import Sandbox


@pytest_asyncio.fixture(name="sandbox")
async def started_sandbox(request: pytest.FixtureRequest) -> AsyncGenerator[Sandbox]:
    """Yield a seeded sandbox listening on a free 127.0.0.1 port; stop it afterwards."""
    if request.config.pluginmanager.has_plugin("socket"):
        # pytest-socket (armed by Home Assistant's test plugin) blocks creating sockets;
        # the sandbox and its clients need them. Connections stay limited to 127.0.0.1.
        request.getfixturevalue("socket_enabled")
    sandbox = Sandbox()
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()
