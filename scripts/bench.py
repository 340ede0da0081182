"""What a transfer costs in a real Home Assistant, against what a user would do instead.

One leg of ``scripts/bench`` (which runs it with each leg's environment): starts the
provider sandbox in this process and one real ``hass`` (its own process, debug logging
off) with a configuration written here, then compares four actions called over the
WebSocket API, all making (or skipping) the same Bland transfer:

- ``transfer``: ``call_transfer.transfer`` with config_entry_id, call_id and to, asked
  for its response;
- ``rest_command``: a ``rest_command`` as a user would write it: the same POST to the
  same endpoint with the same header and body, rendered from templates, asked for its
  response as a user who checks the outcome does (without it, rest_command closes the
  connection after every call; on loopback both cost the same);
- ``raw session.post``: one raw ``session.post`` on Home Assistant's shared session, in
  a throwaway custom integration (scripts/bench_probe, copied into the config);
- ``no-op``: an action that does nothing, Home Assistant's action path alone.

Latency: after warm-up, rounds of one call each in an order shuffled every round, with
a pause after every call so deferred work (the recorder) lands on no other contender.
CPU: blocks of one contender at a time (shuffled), read per thread from
``/proc/<pid>/task/*/stat`` (utime + stime), the recorder's commit of the block
included, an idle block's CPU subtracted. Then 1,000 transfers at once, and the
integration's import, domain setup and config-entry setup times. Loopback only.

    .venv/bin/python scripts/bench.py [--rounds 500] [--repeats 3] [--json PATH]
    .venv/bin/python scripts/bench.py merge OUT.json LEG.json...   (scripts/bench does this)
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
import compileall
import contextlib
from dataclasses import dataclass
from itertools import count
import json
import os
from pathlib import Path
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

import aiohttp

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from sandbox import SANDBOX_BLAND_API_KEY, SANDBOX_BLAND_CALL_ID, Sandbox  # noqa: E402
from scripts.hass_process import free_port, start_hass, stop_hass  # noqa: E402

PROBE = REPO_ROOT / "scripts" / "bench_probe"
DESTINATION = "+14155550100"
CONCURRENT_CALL_PREFIX = "bench-concurrent-"
ENTRY_ID = "01BENCHBLANDACCOUNT000000"
START_TIMEOUT = 240.0
BASELINE = "rest_command"
RAW = "raw session.post"
FLOOR = "raw + event + state"
CONTENDERS = ("transfer", BASELINE, RAW, "no-op")
IDLE = "idle"
CPU_BLOCK = 100  # calls per block of the CPU measurement
THREAD_GROUPS = ("event loop", "recorder", "executor workers", "other")
# The keys the issue asks for; `merge` reports the worst leg's value of each.
HEADLINE_KEYS = (
    "ratio_vs_rest_command",
    "ratio_vs_raw",
    "cpu_ratio_vs_rest_command",
    "concurrent_lost_events",
    "connections_per_200",
    "setup_ms",
)
CONFIGURATION = """\
# Written by scripts/bench. The same process serves all four contenders, so they share this
# recorder (defaults: SQLite, commit every 5 s) and these integrations. Debug logging is off.
homeassistant:
  name: Call Transfer bench
  country: US
  time_zone: UTC
  unit_system: metric
  currency: USD

http:
  server_host: 127.0.0.1
  server_port: {port}

api:
websocket_api:
recorder:
logbook:
history:

logger:
  default: warning

rest_command:
  bland_transfer:
    url: "{bland}/v1/calls/active/transfer"
    method: post
    headers:
      authorization: !secret bland_api_key
    content_type: application/json
    payload: '{{"call_id": "{{{{ call_id }}}}", "transfer_number": "{{{{ to }}}}"}}'

bench_probe:
  bland_base_url: "{bland}"
  api_key: !secret bland_api_key
"""
# Home Assistant's own modules the integration's package imports, imported first so the
# import time measured is the integration's (its phonenumbers included).
IMPORTED_BEFORE = (
    "homeassistant.core",
    "homeassistant.const",
    "homeassistant.exceptions",
    "homeassistant.config_entries",
    "homeassistant.helpers.config_validation",
    "homeassistant.helpers.aiohttp_client",
    "homeassistant.helpers.typing",
    "homeassistant.util.hass_dict",
)
IMPORT_LINE = re.compile(
    r"\|\s*(\d+) \| custom_components\.call_transfer$", re.MULTILINE
)


@dataclass(frozen=True, slots=True)
class Settings:
    """How much to measure."""

    rounds: int
    warmup: int
    repeats: int
    pause: float
    cpu_calls: int
    concurrent: int
    setup_repeats: int
    seed: int | None
    floor: bool = False
    import_repeats: int = 3


class WebSocketApi:
    """Calls actions over Home Assistant's WebSocket API, one at a time."""

    def __init__(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        """Wrap an authenticated WebSocket."""
        self._websocket = websocket
        self._ids = count(1)

    async def call(
        self,
        domain: str,
        service: str,
        data: Mapping[str, Any] | None = None,
        *,
        response: bool = False,
    ) -> Any:
        """Call an action, wait for its result, and return its response (if asked for)."""
        message: dict[str, Any] = {
            "id": next(self._ids),
            "type": "call_service",
            "domain": domain,
            "service": service,
            "service_data": dict(data or {}),
        }
        if response:
            message["return_response"] = True
        await self._websocket.send_json(message)
        result = await self._websocket.receive_json()
        if not result.get("success"):
            raise SystemExit(f"{domain}.{service} failed: {result}")
        return (result.get("result") or {}).get("response")

    async def command(self, kind: str) -> Any:
        """Send another WebSocket command and return its result."""
        await self._websocket.send_json({"id": next(self._ids), "type": kind})
        return (await self._websocket.receive_json())["result"]


@dataclass(slots=True)
class RunningHomeAssistant:
    """A started hass: its process id, log, API and the transfer account's entry id."""

    pid: int
    log: Path
    api: WebSocketApi
    entry_id: str


def write_configuration(config: Path, port: int, bland_base_url: str) -> None:
    """Write the bench's own configuration, the probe and a link to the integration."""
    config.mkdir()
    (config / "configuration.yaml").write_text(
        CONFIGURATION.format(port=port, bland=bland_base_url)
    )
    (config / "secrets.yaml").write_text(f"bland_api_key: {SANDBOX_BLAND_API_KEY}\n")
    # The account, as the config flow stores it: the first start is then a real start with
    # the account configured. Minor version 1: every Home Assistant migrates it forward.
    entries = {
        "version": 1,
        "minor_version": 1,
        "key": "core.config_entries",
        "data": {
            "entries": [
                {
                    "entry_id": ENTRY_ID,
                    "version": 1,
                    "domain": "call_transfer",
                    "title": "Bland AI (bench)",
                    "data": {
                        "provider": "bland",
                        "api_key": SANDBOX_BLAND_API_KEY,
                        "base_url": bland_base_url,
                    },
                    "options": {},
                    "source": "user",
                    "unique_id": "bland_bench",
                    "disabled_by": None,
                }
            ]
        },
    }
    (config / ".storage").mkdir()
    (config / ".storage" / "core.config_entries").write_text(json.dumps(entries))
    custom = config / "custom_components"
    custom.mkdir()
    integration = REPO_ROOT / "custom_components" / "call_transfer"
    (custom / "call_transfer").symlink_to(integration)
    # Byte-compiled first, as on any installation after its first start: the import time
    # measured is the import's, not the compiler's.
    compileall.compile_dir(integration, quiet=1)
    shutil.copytree(
        PROBE, custom / "bench_probe", ignore=shutil.ignore_patterns("__pycache__")
    )


@contextlib.asynccontextmanager
async def running_hass(
    config: Path, port: int, session: aiohttp.ClientSession
) -> AsyncIterator[RunningHomeAssistant]:
    """Start hass, wait until the probe is ready, connect; stop hass afterwards."""
    ready_file = config / "bench_ready.json"
    ready_file.unlink(missing_ok=True)
    log = config / "hass.log"
    process = await start_hass(
        config,
        log,
        # Not from the repository: its custom_components package would hide the config's.
        cwd=config,
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready_file.exists():
            if process.returncode is not None or time.monotonic() > deadline:
                raise SystemExit(
                    f"Home Assistant did not get ready; its log:\n{log.read_text()[-4000:]}"
                )
            await asyncio.sleep(0.2)
        ready = json.loads(ready_file.read_text())
        async with session.ws_connect(
            f"http://127.0.0.1:{port}/api/websocket", max_msg_size=0
        ) as websocket:
            await websocket.receive_json()
            await websocket.send_json({"type": "auth", "access_token": ready["token"]})
            if (await websocket.receive_json())["type"] != "auth_ok":
                raise SystemExit("The bench token was refused")
            yield RunningHomeAssistant(
                pid=ready["pid"],
                log=log,
                api=WebSocketApi(websocket),
                entry_id=ENTRY_ID,
            )
    finally:
        await stop_hass(process)


def read_cpu(pid: int) -> tuple[dict[int, int], int]:
    """Return CPU clock ticks (utime + stime) per live thread, and the process's total."""

    def ticks(stat_file: Path) -> int:
        # The command name is in parentheses and may hold spaces: split after it.
        fields = stat_file.read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # stat fields 14 and 15

    threads: dict[int, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            threads[int(task.name)] = ticks(task / "stat")
    return threads, ticks(Path(f"/proc/{pid}/stat"))


def thread_group(name: str) -> str:
    """Name a Home Assistant thread's role."""
    if name == "MainThread":
        return "event loop"
    if name == "Recorder" or name.startswith("DbWorker"):
        return "recorder"
    if name.startswith(("SyncWorker", "ImportExecutor")):
        return "executor workers"
    return "other"


class Bench:
    """Drives one measured Home Assistant."""

    def __init__(
        self, hass: RunningHomeAssistant, sandbox: Sandbox, settings: Settings
    ) -> None:
        """Prepare the contenders."""
        self.hass = hass
        self.sandbox = sandbox
        self.settings = settings
        self.random = random.Random(settings.seed)
        api = hass.api
        call = {"call_id": SANDBOX_BLAND_CALL_ID, "to": DESTINATION}
        transfer = call | {"config_entry_id": hass.entry_id}

        async def idle() -> None:
            return None

        self.steps: dict[str, Callable[[], Awaitable[Any]]] = {
            # Both asked for their response, as a user who checks the outcome does (and
            # rest_command only keeps its connection alive when it reads the answer).
            "transfer": lambda: api.call(
                "call_transfer", "transfer", transfer, response=True
            ),
            "rest_command": lambda: api.call(
                "rest_command", "bland_transfer", call, response=True
            ),
            RAW: lambda: api.call("bench_probe", "raw_transfer", call),
            FLOOR: lambda: api.call(
                "bench_probe", "raw_transfer_with_outcome", call, response=True
            ),
            "no-op": lambda: api.call("bench_probe", "noop"),
            IDLE: idle,
        }
        self.calls: Counter[str] = Counter()
        self.contenders = (*CONTENDERS, FLOOR) if settings.floor else CONTENDERS
        self.connections_while_sequential = 0

    def transfers_done(self) -> int:
        """Transfers the sandbox accepted for the benchmark's call so far."""
        return len(self.sandbox.calls[SANDBOX_BLAND_CALL_ID].transfers)

    async def step(self, name: str) -> float:
        """Call one contender, then pause; return the call's latency in seconds."""
        started = time.perf_counter()
        await self.steps[name]()
        latency = time.perf_counter() - started
        self.calls[name] += 1
        await asyncio.sleep(self.settings.pause)
        return latency

    async def latency(self, rounds: int) -> dict[str, list[float]]:
        """Interleave the contenders, order shuffled every round."""
        contenders = self.contenders
        timings: dict[str, list[float]] = {name: [] for name in contenders}
        connections = self.sandbox.connections
        for _ in range(rounds):
            for name in self.random.sample(contenders, len(contenders)):
                timings[name].append(await self.step(name))
        self.connections_while_sequential += self.sandbox.connections - connections
        return timings

    async def cpu(self) -> dict[str, dict[str, float]]:
        """CPU per call and thread group, in ms.

        Blocks of one contender (or of idle pauses) at a time, CPU_BLOCK calls each, in
        an order shuffled every round, until each contender made ``cpu_calls`` calls:
        background load falls on all of them alike.
        """
        blocks_of = (*self.contenders, IDLE)
        ticks = {name: dict.fromkeys(THREAD_GROUPS, 0.0) for name in blocks_of}
        seconds = dict.fromkeys(blocks_of, 0.0)
        blocks = max(1, round(self.settings.cpu_calls / CPU_BLOCK))
        calls = -(-self.settings.cpu_calls // blocks)
        for _ in range(blocks):
            for name in self.random.sample(blocks_of, len(blocks_of)):
                block_ticks, block_seconds = await self.cpu_block(name, calls)
                for group, value in block_ticks.items():
                    ticks[name][group] += value
                seconds[name] += block_seconds
        tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
        report: dict[str, dict[str, float]] = {}
        for name in self.contenders:
            per_call = {
                group: (
                    ticks[name][group]
                    - ticks[IDLE][group] * seconds[name] / seconds[IDLE]
                )
                * tick_ms
                / (calls * blocks)
                for group in THREAD_GROUPS
            }
            per_call["total"] = sum(per_call.values())
            report[name] = per_call
        return report

    async def cpu_block(self, name: str, calls: int) -> tuple[dict[str, float], float]:
        """Ticks per thread group of a block of calls, and the block's duration."""
        api, pid = self.hass.api, self.hass.pid
        await api.call("bench_probe", "flush")
        names_before = (await api.call("bench_probe", "info", response=True))["threads"]
        connections = self.sandbox.connections
        threads_before, total_before = read_cpu(pid)
        started = time.monotonic()
        for _ in range(calls):
            await self.step(name)
        await api.call("bench_probe", "flush")
        seconds = time.monotonic() - started
        threads_after, total_after = read_cpu(pid)
        self.connections_while_sequential += self.sandbox.connections - connections
        names = (
            names_before
            | (await api.call("bench_probe", "info", response=True))["threads"]
        )
        ticks = dict.fromkeys(THREAD_GROUPS, 0.0)
        for tid, after in threads_after.items():
            group = thread_group(names.get(str(tid), ""))
            ticks[group] += after - threads_before.get(tid, 0)
        named = sum(ticks[group] for group in THREAD_GROUPS if group != "other")
        # "other" also holds threads that ended during the block: the process total minus the rest.
        ticks["other"] = (total_after - total_before) - named
        return ticks, seconds

    async def concurrent(self) -> dict[str, Any]:
        """Many transfers at once, each of its own call."""
        connections = self.sandbox.connections
        result: dict[str, Any] = await self.hass.api.call(
            "bench_probe",
            "concurrent",
            {
                "config_entry_id": self.hass.entry_id,
                "call_id_prefix": CONCURRENT_CALL_PREFIX,
                "count": self.settings.concurrent,
                "to": DESTINATION,
            },
            response=True,
        )
        result["new_connections"] = self.sandbox.connections - connections
        return result

    async def startup(self) -> dict[str, Any]:
        """Return what Home Assistant timed of call_transfer's start, and entry setups."""
        api = self.hass.api
        phases = await api.call("bench_probe", "startup", response=True)
        domain = phases.get("None", {})
        entry = phases.get(self.hass.entry_id, {})
        setups = await api.call(
            "bench_probe",
            "entry_setup",
            {
                "config_entry_id": self.hass.entry_id,
                "times": self.settings.setup_repeats,
            },
            response=True,
        )
        return {
            "domain_setup_ms": sum(domain.values()) * 1000 if domain else None,
            "entry_setup_at_start_ms": sum(entry.values()) * 1000 if entry else None,
            "entry_setup_ms": [seconds * 1000 for seconds in setups["seconds"]],
        }


async def import_ms(config: Path) -> float:
    """Time importing the integration's package in a fresh interpreter (-X importtime)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-X",
        "importtime",
        "-c",
        f"import {', '.join(IMPORTED_BEFORE)}; import custom_components.call_transfer",
        cwd=config,
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, report = await process.communicate()
    if not (match := IMPORT_LINE.search(report.decode())):
        raise SystemExit(f"Could not time the import:\n{report.decode()[-2000:]}")
    return int(match[1]) / 1000


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which ``fraction`` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def measure(settings: Settings) -> dict[str, Any]:
    """Start everything, measure one leg, and return the report."""
    sandbox = Sandbox()
    await sandbox.start()
    for index in range(settings.concurrent):
        sandbox.add_call(
            "bland", SANDBOX_BLAND_API_KEY, f"{CONCURRENT_CALL_PREFIX}{index}"
        )
    port = free_port()
    try:
        async with aiohttp.ClientSession() as session:
            with tempfile.TemporaryDirectory(prefix="call_transfer-bench-") as tmp:
                config = Path(tmp) / "config"
                write_configuration(config, port, sandbox.bland_base_url)
                imports = [
                    await import_ms(config) for _ in range(settings.import_repeats)
                ]
                async with running_hass(config, port, session) as hass:
                    report = await measure_running(hass, sandbox, settings)
                report["startup"]["import_ms"] = statistics.median(imports)
                report["startup"]["import_repeats"] = len(imports)
                return report
    finally:
        await sandbox.stop()


async def measure_running(
    hass: RunningHomeAssistant, sandbox: Sandbox, settings: Settings
) -> dict[str, Any]:
    """Measure a started, prepared Home Assistant."""
    api = hass.api
    config = await api.command("get_config")
    bench = Bench(hass, sandbox, settings)
    started = time.monotonic()
    startup = await bench.startup()
    for _ in range(settings.warmup):
        for name in bench.contenders:
            await bench.step(name)
    done_before = bench.transfers_done()
    calls_before = bench.calls.copy()
    repeats: list[dict[str, Any]] = []
    for repeat in range(settings.repeats):
        print(f"  repeat {repeat + 1}/{settings.repeats}", file=sys.stderr, flush=True)
        timings = await bench.latency(settings.rounds)
        cpu = await bench.cpu()
        latency: dict[str, dict[str, float]] = {
            name: {
                "median": statistics.median(values) * 1000,
                "p99": percentile(values, 0.99) * 1000,
            }
            for name, values in timings.items()
        }
        repeats.append(
            {
                "latency_ms": latency,
                "cpu_ms_per_call": cpu,
                "ratio_vs_rest_command": latency["transfer"]["median"]
                / latency[BASELINE]["median"],
                "ratio_vs_raw": latency["transfer"]["median"] / latency[RAW]["median"],
                "ratio_vs_noop": latency["transfer"]["median"]
                / latency["no-op"]["median"],
                **(
                    {
                        "ratio_vs_floor": latency["transfer"]["median"]
                        / latency[FLOOR]["median"],
                        "cpu_ratio_vs_floor": cpu["transfer"]["total"]
                        / cpu[FLOOR]["total"],
                    }
                    if settings.floor
                    else {}
                ),
                # None when too few calls were measured to tell (a smoke run).
                "cpu_ratio_vs_rest_command": (
                    cpu["transfer"]["total"] / cpu[BASELINE]["total"]
                    if cpu[BASELINE]["total"] > 0
                    else None
                ),
            }
        )
    calls = bench.calls - calls_before
    cpu_ratios = [
        r["cpu_ratio_vs_rest_command"]
        for r in repeats
        if r["cpu_ratio_vs_rest_command"] is not None
    ]
    sent = calls["transfer"] + calls[BASELINE] + calls[RAW] + calls[FLOOR]
    if (done := bench.transfers_done() - done_before) != sent:
        raise SystemExit(
            f"Only {done} of {sent} transfers were accepted by the sandbox"
        )
    concurrent = await bench.concurrent()
    return {
        "home_assistant": config["version"],
        "python": platform.python_version(),
        "settings": {
            "rounds": settings.rounds,
            "warmup_rounds": settings.warmup,
            "repeats": settings.repeats,
            "pause_ms": settings.pause * 1000,
            "cpu_calls": settings.cpu_calls,
            "concurrent": settings.concurrent,
            "setup_repeats": settings.setup_repeats,
        },
        "contenders": list(bench.contenders),
        "measuring_seconds": time.monotonic() - started,
        "ratio_vs_rest_command": statistics.median(
            r["ratio_vs_rest_command"] for r in repeats
        ),
        "ratio_vs_raw": statistics.median(r["ratio_vs_raw"] for r in repeats),
        "cpu_ratio_vs_rest_command": statistics.median(cpu_ratios)
        if cpu_ratios
        else None,
        "concurrent_lost_events": concurrent["calls_without_event"],
        "connections_per_200": bench.connections_while_sequential
        * 200
        / calls["transfer"],
        "setup_ms": statistics.median(startup["entry_setup_ms"]),
        "repeats": repeats,
        "concurrent": concurrent,
        "startup": startup,
    }


def format_report(report: Mapping[str, Any]) -> str:
    """Return the report as a table for the screen (and docs/performance.md)."""
    settings = report["settings"]
    repeats = report["repeats"]
    header = (
        f"Home Assistant {report['home_assistant']}, Python {report['python']}: "
        f"{settings['rounds']} rounds x {len(repeats)} repeats after "
        f"{settings['warmup_rounds']} warm-up rounds, order shuffled every round, "
        f"{settings['pause_ms']:g} ms pause after each call"
    )
    lines = [
        header,
        "",
        "Latency per call (ms)   "
        + "".join(f"{f'repeat {i + 1}: median  p99':>24}" for i in range(len(repeats))),
    ]
    contenders = report["contenders"]
    lines.extend(
        f"  {name:<22}"
        + "".join(
            f"{r['latency_ms'][name]['median']:>17.3f}{r['latency_ms'][name]['p99']:>7.2f}"
            for r in repeats
        )
        for name in contenders
    )
    lines.extend(
        f"  {label:<22}" + "".join(f"{r[key]:>16.2f}x{'':>7}" for r in repeats)
        for label, key in (
            ("transfer / rest_command", "ratio_vs_rest_command"),
            ("transfer / raw", "ratio_vs_raw"),
            ("transfer / no-op", "ratio_vs_noop"),
            ("transfer / floor", "ratio_vs_floor"),
        )
        if key in repeats[0]
    )
    lines.append("")
    lines.append(
        f"CPU per call (ms, median of repeats; {settings['cpu_calls']} calls of each "
        f"per repeat, in shuffled blocks of {CPU_BLOCK}, idle subtracted)"
    )
    groups = (*THREAD_GROUPS, "total")
    lines.append(
        f"  {'':<22}"
        + "".join(f"{group:>18}" for group in groups)
        + "   totals per repeat"
    )
    for name in contenders:
        cells = "".join(
            f"{statistics.median(r['cpu_ms_per_call'][name][group] for r in repeats):>18.3f}"
            for group in groups
        )
        totals = " / ".join(
            f"{r['cpu_ms_per_call'][name]['total']:.2f}" for r in repeats
        )
        lines.append(f"  {name:<22}{cells}   {totals}")
    cpu_ratios = " / ".join(
        "n/a" if ratio is None else f"{ratio:.2f}x"
        for ratio in (r["cpu_ratio_vs_rest_command"] for r in repeats)
    )
    lines.append(f"  {'transfer / rest_command':<24}{cpu_ratios}")
    if "cpu_ratio_vs_floor" in repeats[0]:
        floor_ratios = " / ".join(f"{r['cpu_ratio_vs_floor']:.2f}x" for r in repeats)
        lines.append(f"  {'transfer / floor':<24}{floor_ratios}")
    concurrent = report["concurrent"]
    errors = ", ".join(f"{n} {kind}" for kind, n in concurrent["errors"].items())
    lines.append("")
    lines.append(
        f"Concurrency: {settings['concurrent']} transfers at once in "
        f"{concurrent['wall_seconds'] * 1000:.0f} ms; errors: {errors or 'none'}; "
        f"events lost {concurrent['calls_without_event']}, duplicated "
        f"{concurrent['duplicate_events']}; {concurrent['new_connections']} new TCP "
        "connections to the sandbox"
    )
    lines.append(
        f"Connection reuse: {report['connections_per_200']:.2f} new TCP connections "
        "per 200 sequential transfers"
    )
    startup = report["startup"]

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f} ms"

    lines.append(
        f"Startup: call_transfer import {ms(startup['import_ms'])} (median of "
        f"{startup['import_repeats']}, fresh interpreter), domain setup "
        f"{ms(startup['domain_setup_ms'])}, config entry at start "
        f"{ms(startup['entry_setup_at_start_ms'])}; config-entry setup (median of "
        f"{len(startup['entry_setup_ms'])}) {report['setup_ms']:.2f} ms"
    )
    lines.append(f"Measured in {report['measuring_seconds']:.0f} s")
    return "\n".join(lines)


def merge(out: Path, leg_files: list[Path]) -> None:
    """Combine the legs' reports: each in full, and the worst leg's value of each headline key."""
    legs = {
        path.stem: json.loads(path.read_text()) for path in leg_files if path.exists()
    }
    if not legs:
        raise SystemExit("No leg produced a report")
    combined: dict[str, Any] = {
        key: max(
            (leg[key] for leg in legs.values() if leg[key] is not None), default=None
        )
        for key in HEADLINE_KEYS
    }
    combined["legs"] = legs
    out.write_text(json.dumps(combined, indent=2) + "\n")
    for name, leg in legs.items():
        headline = ", ".join(
            f"{key} {'n/a' if leg[key] is None else format(leg[key], '.2f')}"
            for key in HEADLINE_KEYS
        )
        print(f"{name} (Home Assistant {leg['home_assistant']}): {headline}")
    print(f"Written to {out}")


def main() -> None:
    """Parse arguments and run one leg, or merge the legs' reports."""
    if sys.argv[1:2] == ["merge"]:
        merge(Path(sys.argv[2]), [Path(arg) for arg in sys.argv[3:]])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=500, help="measured rounds per repeat"
    )
    parser.add_argument(
        "--warmup", type=int, default=50, help="rounds before measuring"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--pause-ms", type=float, default=5.0, help="pause after every call"
    )
    parser.add_argument(
        "--cpu-calls",
        type=int,
        default=600,
        help="calls of each contender per repeat for the CPU figures",
    )
    parser.add_argument(
        "--concurrent", type=int, default=1000, help="transfers started at once"
    )
    parser.add_argument(
        "--setup-repeats", type=int, default=20, help="timed config-entry setups"
    )
    parser.add_argument(
        "--import-repeats", type=int, default=3, help="timed imports of the integration"
    )
    parser.add_argument("--seed", type=int, help="seed of the shuffled order")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure the raw POST plus one event and one state (the floor of "
        "reporting each transfer)",
    )
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    settings = Settings(
        rounds=args.rounds,
        warmup=args.warmup,
        repeats=args.repeats,
        pause=args.pause_ms / 1000,
        cpu_calls=args.cpu_calls,
        concurrent=args.concurrent,
        setup_repeats=args.setup_repeats,
        seed=args.seed,
        floor=args.floor,
        import_repeats=args.import_repeats,
    )
    report = asyncio.run(measure(settings))
    print(format_report(report), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
