"""Start and stop a real ``hass`` process: for scripts/bench and the end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import contextlib
from pathlib import Path

from scripts.dev_instance import free_port, hass_command

__all__ = ["free_port", "start_hass", "stop_hass"]


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
            *hass_command(config),
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
