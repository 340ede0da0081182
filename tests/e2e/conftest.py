"""End-to-end tests run their own Home Assistant process, not the test harness's.

``start_home_assistant`` boots the dev instance's own configuration (what
``scripts/develop`` runs) on a free loopback port and prepares it with
``scripts/dev_instance.py``; the browser tests reuse it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
import os
from pathlib import Path
import sys

import pytest

from sandbox import Sandbox
from scripts.hass_process import start_hass, stop_hass

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_INSTANCE = REPO_ROOT / "scripts" / "dev_instance.py"
sys.path.insert(0, str(DEV_INSTANCE.parent))
import dev_instance  # noqa: E402

# The dev instance's own configuration (scripts/develop), so these tests prove that it
# loads the integration cleanly; only the port differs (HASS_PORT).
DEV_CONFIGURATION = REPO_ROOT / "config" / "configuration.yaml"
STARTUP_TIMEOUT = 120
# Home Assistant's own complaints about this machine, not about the integration.
ENVIRONMENT_ERRORS = (
    "Error loading libturbojpeg; Camera snapshot performance will be sub-optimal",
    "FFmpeg fails [Errno 2] No such file or directory: 'ffmpeg'",
)


@dataclass
class RunningHomeAssistant:
    """A started Home Assistant and an access token for its API."""

    url: str
    token: str
    log: Path


type StartHomeAssistant = Callable[..., Awaitable[RunningHomeAssistant]]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the harness fixture: these tests start no in-process Home Assistant."""


async def run_dev_instance(*args: str) -> str:
    """Run scripts/dev_instance.py; return its output (the failure message if it fails)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(DEV_INSTANCE),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), STARTUP_TIMEOUT)
    assert process.returncode == 0, output.decode()
    return output.decode()


@pytest.fixture
async def start_home_assistant(
    tmp_path: Path, sandbox: Sandbox
) -> AsyncIterator[StartHomeAssistant]:
    """Start hass on a free loopback port, onboarded; stop it after the test.

    ``accounts=True`` also connects the sandbox accounts, as ``scripts/develop`` does.
    """
    processes: list[asyncio.subprocess.Process] = []

    async def start(*, accounts: bool = True) -> RunningHomeAssistant:
        config = tmp_path / "config"
        config.mkdir()
        port = dev_instance.free_port()
        (config / "configuration.yaml").write_text(DEV_CONFIGURATION.read_text())
        (config / "custom_components").symlink_to(REPO_ROOT / "custom_components")
        await run_dev_instance("prepare", "--config", str(config))
        log = tmp_path / "hass.log"
        processes.append(
            await start_hass(
                config,
                log,
                env=os.environ
                | {
                    "PYTHONPATH": str(REPO_ROOT),
                    "HASS_PORT": str(port),
                    # Where the sandbox fetches Vobiz number transfers' Dial XML.
                    "HASS_EXTERNAL_URL": f"http://127.0.0.1:{port}",
                },
            )
        )
        url = f"http://127.0.0.1:{port}"
        token_file = tmp_path / "token"
        await run_dev_instance(
            "connect",
            "--hass",
            url,
            "--sandbox",
            f"http://127.0.0.1:{sandbox.port}",
            "--timeout",
            str(STARTUP_TIMEOUT),
            "--token-file",
            str(token_file),
            *([] if accounts else ["--no-accounts"]),
        )
        return RunningHomeAssistant(url=url, token=token_file.read_text(), log=log)

    try:
        yield start
    finally:
        for process in processes:
            await stop_hass(process, timeout=30)


@pytest.fixture
async def home_assistant(
    start_home_assistant: StartHomeAssistant,
) -> RunningHomeAssistant:
    """Start the dev instance as scripts/develop leaves it: sandbox accounts connected."""
    return await start_home_assistant()


def log_errors(log: Path) -> list[str]:
    """Return the error lines of a hass log that are about more than this machine."""
    return [
        line
        for line in log.read_text().splitlines()
        if " ERROR " in line and not line.endswith(ENVIRONMENT_ERRORS)
    ]
