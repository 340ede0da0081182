"""scripts/bench keeps working on this leg, and transfers reuse the provider connection."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
import re
import sys

REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_bench_runs_and_reuses_the_connection(tmp_path: Path) -> None:
    """A short run prints the table and writes every headline figure; no new connections.

    A button press records what a transfer does, plus the button's own state.
    """
    report_file = tmp_path / "bench.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO_ROOT / "scripts" / "bench.py"),
        *("--rounds", "5", "--warmup", "2", "--repeats", "1", "--cpu-calls", "10"),
        *("--concurrent", "50", "--setup-repeats", "2", "--import-repeats", "1"),
        *("--json", str(report_file)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 240)
    text = output.decode()

    assert process.returncode == 0, text
    for name in (
        "transfer",
        "button",
        "rest_command",
        "raw session.post",
        "raw + event + state",
        "no-op",
    ):
        assert re.search(
            rf"^  {re.escape(name)} +\d+\.\d+ +\d+\.\d+$", text, re.MULTILINE
        ), text
    assert re.search(r"^  transfer / rest_command +\d+\.\d+x", text, re.MULTILINE), text
    report = json.loads(report_file.read_text())
    assert report["connections_per_200"] == 0, text
    assert report["concurrent_lost_events"] == 0, text
    assert report["concurrent"]["succeeded"] == 50, text
    assert report["concurrent"]["duplicate_events"] == 0, text
    for key in (
        "ratio_vs_rest_command",
        "ratio_vs_raw",
        "latency_ratio_vs_floor",
        "button_latency_ratio_vs_floor",
    ):
        assert report[key] > 0, text
    [leg] = report["repeats"]
    rows = leg["rows_per_call"]
    # Two events (the call's call_service, the transfer's), its data, one state.
    assert round(rows["transfer"]["total"]) == round(
        rows["raw + event + state"]["total"]
    )
    assert round(rows["transfer"]["events"]) == round(rows["button"]["events"]) == 2
    assert round(report["button_rows_beyond_transfer"]) == 1, text
    assert report["setup_ms"] > 0, text
    assert report["startup"]["import_ms"] > 0, text
    assert report["startup"]["domain_setup_ms"] > 0, text
