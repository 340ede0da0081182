"""scripts/bench keeps working on this leg: transfers reuse the provider connection, push is measured."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
import re
import sys

REPO_ROOT = Path(__file__).resolve().parents[2]


async def bench(*args: str) -> tuple[int | None, str]:
    """Run scripts/bench.py (this leg's) with the arguments; its exit status and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO_ROOT / "scripts" / "bench.py"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 300)
    return process.returncode, output.decode()


async def test_bench_runs_and_reuses_the_connection(tmp_path: Path) -> None:
    """A short run prints the table and writes every headline figure; no new connections.

    A button press records what a transfer does, plus the button's own state.
    """
    report_file = tmp_path / "bench.json"
    returncode, text = await bench(
        *("--rounds", "5", "--warmup", "2", "--repeats", "1", "--cpu-calls", "10"),
        *("--concurrent", "50", "--setup-repeats", "2", "--import-repeats", "1"),
        *("--json", str(report_file)),
    )

    assert returncode == 0, text
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


async def test_bench_breakdown_times_each_stage(tmp_path: Path) -> None:
    """A short --breakdown run: every stage of the transfer and of the floor timed."""
    report_file = tmp_path / "breakdown.json"
    returncode, text = await bench(
        "--breakdown",
        *("--rounds", "20", "--warmup", "2", "--repeats", "1"),
        *("--json", str(report_file)),
    )

    assert returncode == 0, text
    assert re.search(
        r"^  the action's handler +\d+ +\d+ +[+-]\d+$", text, re.MULTILINE
    ), text
    report = json.loads(report_file.read_text())
    [repeat] = report["repeats"]
    assert report["median_us"] == repeat
    stages = (
        "plan (fields checked, number parsed)",
        "provider request (client, HTTP)",
        "report (event, Transfers entity)",
    )
    assert all(repeat[stage] > 0 for stage in stages), text
    # The handler is timed within the call (by about the WebSocket API's round trip).
    assert repeat["transfer"] < repeat["transfer: latency"], text
    assert repeat["raw + event + state"] < repeat["raw + event + state: latency"], text


async def test_bench_push_reports_each_push_provider(tmp_path: Path) -> None:
    """A short --push run: every push account's figures, by push or by polling as it reports.

    Forged, unsigned, replayed and stale callbacks are all refused; every short call is
    seen to start and end; the merge names the worst leg's figures per provider.
    """
    report_file = tmp_path / "push.json"
    returncode, text = await bench(
        "--push",
        *("--push-calls", "3", "--poll-calls", "1", "--short-calls", "2"),
        *("--forged-calls", "1", "--idle-seconds", "5", "--seed", "1"),
        *("--json", str(report_file)),
    )

    assert returncode == 0, text
    assert "start -> call_started by push p50 / p99 ms" in text, text
    report = json.loads(report_file.read_text())
    providers = report["providers"]
    assert {"vobiz", "plivo", "twilio", "telnyx"} <= providers.keys(), text
    assert any(r["reports_call_starts"] for r in providers.values()), text
    for name, results in providers.items():
        by, other = (
            ("push", "poll") if results["reports_call_starts"] else ("poll", "push")
        )
        assert results["start_sources"] == {by: results["calls_timed"]}, name
        assert results["end_sources"] == {"push": results["calls_timed"]}, name
        for figure in ("start_to_event", "end_to_event"):
            prefix = "push" if figure == "end_to_event" else by
            p50 = results[f"{prefix}_{figure}_p50_ms"]
            assert 0 < p50 <= results[f"{prefix}_{figure}_p99_ms"], name
        assert results[f"{other}_start_to_event_p50_ms"] is None, name
        assert results["idle_requests_per_account_day"] >= 0, name
        assert results["idle_call_events"] == 0, name
        assert results["short_calls_seen_pct"] == 100, name
        assert results["forged_sent"] > 0, name
        for kind, done in results["forgeries"].items():
            if done is None:
                continue  # a forgery this provider's callbacks cannot have
            assert done["sent"] > 0, (name, kind)
            assert done["accepted"] == 0, (name, kind)
            assert done["events"] == 0, (name, kind)

    merged_file = tmp_path / "merged.json"
    returncode, text = await bench("merge", str(merged_file), str(report_file))
    assert returncode == 0, text
    worst = json.loads(merged_file.read_text())["providers"]
    for name, results in providers.items():
        assert worst[name]["forged_accepted"] == results["forged_accepted"], name
        assert worst[name]["short_calls_seen_pct"] == 100, name
