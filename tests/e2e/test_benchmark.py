"""The benchmark script keeps working, and transfers reuse one provider connection."""

from __future__ import annotations

import asyncio
from pathlib import Path
import re
import sys

REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_benchmark_runs_and_reuses_the_connection() -> None:
    """A short run reports all three medians and opens no new connection while measuring."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO_ROOT / "scripts" / "benchmark.py"),
        "--rounds",
        "5",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 180)
    text = output.decode()

    assert process.returncode == 0, text
    for name in ("transfer", "no-op action", "provider round trip"):
        assert re.search(rf"^  {name} +\d+\.\d+ ms", text, re.MULTILINE), text
    assert re.search(r"transfer / no-op action += \d+\.\d+x", text), text
    assert "new TCP connections to the sandbox while measuring: 0 " in text, text
