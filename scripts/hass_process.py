"""Start and stop a real ``hass`` process: for scripts/bench and the end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import contextlib
from pathlib import Path
import socket
import sys


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_hass(
    config: Path,
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> asyncio.subprocess.Process:
    """Start Home Assistant with this Python on ``config``, its output appended to ``log``."""
    with log.open("ab") as log_file:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "homeassistant",
            "--config",
            str(config),
            "--skip-pip",
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )


async def stop_hass(process: asyncio.subprocess.Process, timeout: float = 60) -> None:
    """Stop Home Assistant as a service manager does: SIGTERM, then SIGKILL if it hangs."""
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
