"""What a transfer costs in a real Home Assistant, against what a user would do instead.

One leg of ``scripts/bench`` (which runs it with each leg's environment): starts the
provider sandbox in this process and one real ``hass`` (its own process, debug logging
off) with a configuration written here, then compares six actions called over the
WebSocket API, all making (or skipping) the same Bland transfer:

- ``transfer``: ``call_transfer.transfer`` with config_entry_id, call_id and to, asked
  for its response;
- ``button``: ``button.press`` of a destination's button, on a second Bland account that
  lists its one live call (the press polls it, then transfers it);
- ``rest_command``: a ``rest_command`` as a user would write it: the same POST to the
  same endpoint with the same header and body, rendered from templates, asked for its
  response as a user who checks the outcome does (without it, rest_command closes the
  connection after every call; on loopback both cost the same);
- ``raw session.post``: one raw ``session.post`` on Home Assistant's shared session, in
  a throwaway custom integration (scripts/bench_probe, copied into the config);
- ``raw + event + state`` (the floor): the raw POST, then one bus event and one entity
  state with the outcome: the least any integration that reports each transfer pays;
- ``no-op``: an action that does nothing, Home Assistant's action path alone.

Latency: after warm-up, rounds of one call each in an order shuffled every round, with
a pause after every call so deferred work (the recorder) lands on no other contender.
CPU: blocks of one contender at a time (shuffled), read per thread from
``/proc/<pid>/task/*/stat`` (utime + stime), the recorder's commit of the block
included, an idle block's CPU subtracted; and the recorder's rows each call adds (events
and states with their data and attributes rows), an idle block's subtracted. Then 1,000
transfers at once, and the integration's import, domain setup and config-entry setup
times. Loopback only.

    .venv/bin/python scripts/bench.py [--rounds 500] [--repeats 3] [--json PATH] [--profile DIR]
    .venv/bin/python scripts/bench.py --breakdown [--rounds 500] [--repeats 3] [--json PATH]
        (instead: where the transfer's time goes, against the floor's, stage by stage)
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
# The button's account: a Bland key whose organization lists one live call, and its
# destination, whose button transfers that call.
BUTTON_ENTRY_ID = "01BENCHBUTTONACCOUNT00000"
BUTTON_API_KEY = "sk-bench-button-account-0001"
BUTTON_ORG_ID = "org-bench-button"
BUTTON_CALL_ID = "bench-button-call"
BUTTON_SUBENTRY_ID = "01BENCHRECEPTION000000000"
START_TIMEOUT = 240.0
BASELINE = "rest_command"
RAW = "raw session.post"
FLOOR = "raw + event + state"
BUTTON = "button"
TRANSFERS = ("transfer", BUTTON)  # the integration's two ways to transfer measured
CONTENDERS = ("transfer", BUTTON, BASELINE, RAW, FLOOR, "no-op")
IDLE = "idle"
CPU_BLOCK = 100  # calls per block of the CPU measurement
THREAD_GROUPS = ("event loop", "recorder", "executor workers", "other")
# The recorder's tables whose rows a call may add.
RECORDED_TABLES = ("events", "event_data", "states", "state_attributes")
# The keys the issues ask for; `merge` reports the worst leg's value of each.
HEADLINE_KEYS = (
    "latency_ratio_vs_floor",
    "cpu_ratio_vs_floor",
    "button_latency_ratio_vs_floor",
    "button_cpu_ratio_vs_floor",
    "button_rows_beyond_transfer",
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
    import_repeats: int = 3
    profile: Path | None = None


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
    """A started hass: its process id, log, API, the account's entry id and the button."""

    pid: int
    log: Path
    api: WebSocketApi
    entry_id: str
    button_entity_id: str


def write_config_files(config: Path, configuration: str) -> None:
    """Create a config directory with its configuration.yaml and the probe's secret."""
    config.mkdir()
    (config / "configuration.yaml").write_text(configuration)
    (config / "secrets.yaml").write_text(f"bland_api_key: {SANDBOX_BLAND_API_KEY}\n")


def write_configuration(config: Path, port: int, bland_base_url: str) -> None:
    """Write the bench's own configuration, the probe and a link to the integration."""
    write_config_files(config, CONFIGURATION.format(port=port, bland=bland_base_url))
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
                },
                {
                    "entry_id": BUTTON_ENTRY_ID,
                    "version": 1,
                    "domain": "call_transfer",
                    "title": "Bland AI (bench button)",
                    "data": {
                        "provider": "bland",
                        "api_key": BUTTON_API_KEY,
                        "base_url": bland_base_url,
                    },
                    # The organization lists the account's live calls: its button works.
                    "options": {"org_id": BUTTON_ORG_ID},
                    "source": "user",
                    "unique_id": "bland_bench_button",
                    "disabled_by": None,
                    "subentries": [
                        {
                            "subentry_id": BUTTON_SUBENTRY_ID,
                            "subentry_type": "destination",
                            "title": "Reception",
                            "data": {"number": DESTINATION},
                            "unique_id": None,
                        }
                    ],
                },
            ]
        },
    }
    (config / ".storage").mkdir()
    (config / ".storage" / "core.config_entries").write_text(json.dumps(entries))
    install_integrations(config)


def install_integrations(config: Path) -> None:
    """Link the integration into a config directory, byte-compiled, and copy the probe."""
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
    async with hass_websocket(config, port, session) as (ready, websocket):
        api = WebSocketApi(websocket)
        yield RunningHomeAssistant(
            pid=ready["pid"],
            log=config / "hass.log",
            api=api,
            entry_id=ENTRY_ID,
            button_entity_id=await destination_button(api),
        )


@contextlib.asynccontextmanager
async def hass_websocket(
    config: Path, port: int, session: aiohttp.ClientSession
) -> AsyncIterator[tuple[dict[str, Any], aiohttp.ClientWebSocketResponse]]:
    """Start hass on ``config`` (log: hass.log there), authenticate a WebSocket; stop it after.

    Yields what the probe said when ready (its token, the pid) and the WebSocket.
    """
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
        ready = await until_ready(process, ready_file, log)
        async with authenticated(session, port, ready["token"]) as websocket:
            # Home Assistant 2026.10 on tries the YAML's HTTP settings as a pending
            # config and restarts after 5 minutes unless it is confirmed. Older ones do
            # not know the command.
            await websocket.send_json({"id": 1, "type": "http/config/promote"})
            await websocket.receive_json()
        async with authenticated(session, port, ready["token"]) as websocket:
            yield ready, websocket
    finally:
        await stop_hass(process)


@contextlib.asynccontextmanager
async def authenticated(
    session: aiohttp.ClientSession, port: int, token: str
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """Open a WebSocket to Home Assistant's API, authenticated with ``token``."""
    async with session.ws_connect(
        f"http://127.0.0.1:{port}/api/websocket", max_msg_size=0
    ) as websocket:
        await websocket.receive_json()
        await websocket.send_json({"type": "auth", "access_token": token})
        if (await websocket.receive_json())["type"] != "auth_ok":
            raise SystemExit("The bench token was refused")
        yield websocket


async def until_ready(
    process: asyncio.subprocess.Process, ready_file: Path, log: Path
) -> dict[str, Any]:
    """Wait until the probe wrote its ready file; return it (the token, the pid)."""
    deadline = time.monotonic() + START_TIMEOUT
    while not ready_file.exists():
        if process.returncode is not None or time.monotonic() > deadline:
            raise SystemExit(
                f"Home Assistant did not get ready; its log:\n{log.read_text()[-4000:]}"
            )
        await asyncio.sleep(0.2)
    ready: dict[str, Any] = json.loads(ready_file.read_text())
    return ready


async def destination_button(api: WebSocketApi) -> str:
    """Return the entity id of the bench destination's button."""
    unique_id = f"{BUTTON_ENTRY_ID}_destination_{BUTTON_SUBENTRY_ID}"
    for entity in await api.command("config/entity_registry/list"):
        if entity["platform"] == "call_transfer" and entity["unique_id"] == unique_id:
            return str(entity["entity_id"])
    raise SystemExit("The bench destination has no button")


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
            # As the dashboard presses it.
            BUTTON: lambda: api.call(
                "button", "press", {"entity_id": hass.button_entity_id}
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
        self.contenders: tuple[str, ...] = CONTENDERS
        self.connections_while_sequential = 0

    def transfers_done(self) -> Counter[str]:
        """Transfers the sandbox accepted so far: of the shared call, of the button's."""
        return Counter(
            {
                SANDBOX_BLAND_CALL_ID: len(
                    self.sandbox.calls[SANDBOX_BLAND_CALL_ID].transfers
                ),
                BUTTON_CALL_ID: len(self.sandbox.calls[BUTTON_CALL_ID].transfers),
            }
        )

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

    async def cpu(
        self,
    ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
        """CPU per call and thread group, in ms; recorder rows per call and table.

        Blocks of one contender (or of idle pauses) at a time, CPU_BLOCK calls each, in
        an order shuffled every round, until each contender made ``cpu_calls`` calls:
        background load falls on all of them alike. An idle block's CPU (per second)
        and rows (per block: the bench's own calls around it) are subtracted.
        """
        blocks_of = (*self.contenders, IDLE)
        ticks = {name: dict.fromkeys(THREAD_GROUPS, 0.0) for name in blocks_of}
        rows = {name: dict.fromkeys(RECORDED_TABLES, 0) for name in blocks_of}
        seconds = dict.fromkeys(blocks_of, 0.0)
        blocks = max(1, round(self.settings.cpu_calls / CPU_BLOCK))
        calls = -(-self.settings.cpu_calls // blocks)
        for _ in range(blocks):
            for name in self.random.sample(blocks_of, len(blocks_of)):
                block_ticks, block_seconds, block_rows = await self.cpu_block(
                    name, calls
                )
                for group, value in block_ticks.items():
                    ticks[name][group] += value
                for table, added in block_rows.items():
                    rows[name][table] += added
                seconds[name] += block_seconds
        tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
        cpu: dict[str, dict[str, float]] = {}
        recorded: dict[str, dict[str, float]] = {}
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
            cpu[name] = per_call
            rows_per_call = {
                table: (rows[name][table] - rows[IDLE][table]) / (calls * blocks)
                for table in RECORDED_TABLES
            }
            rows_per_call["total"] = sum(rows_per_call.values())
            recorded[name] = rows_per_call
        return cpu, recorded

    async def cpu_block(
        self, name: str, calls: int
    ) -> tuple[dict[str, float], float, dict[str, int]]:
        """Ticks per thread group of a block of calls, its duration, its recorder rows."""
        api, pid = self.hass.api, self.hass.pid
        await api.call("bench_probe", "flush")
        names_before = (await api.call("bench_probe", "info", response=True))["threads"]
        rows_before = await api.call("bench_probe", "recorded", response=True)
        connections = self.sandbox.connections
        threads_before, total_before = read_cpu(pid)
        started = time.monotonic()
        for _ in range(calls):
            await self.step(name)
        await api.call("bench_probe", "flush")
        seconds = time.monotonic() - started
        threads_after, total_after = read_cpu(pid)
        self.connections_while_sequential += self.sandbox.connections - connections
        rows_after = await api.call("bench_probe", "recorded", response=True)
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
        rows = {
            table: rows_after[table] - rows_before[table] for table in RECORDED_TABLES
        }
        return ticks, seconds, rows

    async def profile(self, directory: Path, version: str) -> None:
        """Profile Home Assistant during calls of each transfer and of the floor.

        ``cpu_calls`` calls of one contender at a time, with their pauses, each written
        to ``directory/<Home Assistant version>-<contender>.pstats`` (read them with
        ``python -m pstats``). cProfile is enabled in the event loop's thread; on Python
        3.12 and later it sees every thread (the recorder's too).
        """
        directory.mkdir(parents=True, exist_ok=True)
        api = self.hass.api
        for name in (*TRANSFERS, FLOOR):
            await api.call("bench_probe", "profile")
            for _ in range(self.settings.cpu_calls):
                await self.step(name)
            path = directory.resolve() / f"{version}-{name.replace(' ', '_')}.pstats"
            await api.call("bench_probe", "profile", {"path": str(path)})

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


def cpu_ratio(
    cpu: Mapping[str, Mapping[str, float]], name: str, baseline: str
) -> float | None:
    """Return a contender's CPU per call over a baseline's.

    None when the baseline's is not positive: too few calls were measured to tell (a
    smoke run).
    """
    if cpu[baseline]["total"] <= 0:
        return None
    return cpu[name]["total"] / cpu[baseline]["total"]


def median_of(repeats: list[dict[str, Any]], key: str) -> float | None:
    """Return the median of a figure over the repeats that could measure it."""
    values = [r[key] for r in repeats if r[key] is not None]
    return statistics.median(values) if values else None


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which ``fraction`` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def leg_report(home_assistant: str, settings: Settings) -> dict[str, Any]:
    """Start a leg's report: the versions measured, and how the latency was measured."""
    return {
        "home_assistant": home_assistant,
        "python": platform.python_version(),
        "settings": {
            "rounds": settings.rounds,
            "warmup_rounds": settings.warmup,
            "repeats": settings.repeats,
            "pause_ms": settings.pause * 1000,
        },
    }


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
        cpu, rows = await bench.cpu()
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
                "rows_per_call": rows,
                **{
                    f"{prefix}{kind}_ratio_vs_floor": ratio
                    for name, prefix in (("transfer", ""), (BUTTON, "button_"))
                    for kind, ratio in (
                        (
                            "latency",
                            latency[name]["median"] / latency[FLOOR]["median"],
                        ),
                        ("cpu", cpu_ratio(cpu, name, FLOOR)),
                    )
                },
                "button_rows_beyond_transfer": rows[BUTTON]["total"]
                - rows["transfer"]["total"],
                "ratio_vs_rest_command": latency["transfer"]["median"]
                / latency[BASELINE]["median"],
                "ratio_vs_raw": latency["transfer"]["median"] / latency[RAW]["median"],
                "ratio_vs_noop": latency["transfer"]["median"]
                / latency["no-op"]["median"],
                "cpu_ratio_vs_rest_command": cpu_ratio(cpu, "transfer", BASELINE),
            }
        )
    calls = bench.calls - calls_before
    done = bench.transfers_done() - done_before
    sent = Counter(
        {
            SANDBOX_BLAND_CALL_ID: calls["transfer"]
            + calls[BASELINE]
            + calls[RAW]
            + calls[FLOOR],
            BUTTON_CALL_ID: calls[BUTTON],
        }
    )
    if done != sent:
        raise SystemExit(f"The sandbox accepted {dict(done)} of {dict(sent)} transfers")
    if settings.profile is not None:
        await bench.profile(settings.profile, config["version"])
    concurrent = await bench.concurrent()
    leg = leg_report(config["version"], settings)
    return leg | {
        "settings": leg["settings"]
        | {
            "cpu_calls": settings.cpu_calls,
            "concurrent": settings.concurrent,
            "setup_repeats": settings.setup_repeats,
        },
        "contenders": list(bench.contenders),
        "measuring_seconds": time.monotonic() - started,
        **{
            key: median_of(repeats, key)
            for key in (
                "latency_ratio_vs_floor",
                "cpu_ratio_vs_floor",
                "button_latency_ratio_vs_floor",
                "button_cpu_ratio_vs_floor",
                "button_rows_beyond_transfer",
            )
        },
        "ratio_vs_rest_command": statistics.median(
            r["ratio_vs_rest_command"] for r in repeats
        ),
        "ratio_vs_raw": statistics.median(r["ratio_vs_raw"] for r in repeats),
        "cpu_ratio_vs_rest_command": median_of(repeats, "cpu_ratio_vs_rest_command"),
        "concurrent_lost_events": concurrent["calls_without_event"],
        "connections_per_200": bench.connections_while_sequential
        * 200
        / calls["transfer"],
        "setup_ms": statistics.median(startup["entry_setup_ms"]),
        "repeats": repeats,
        "concurrent": concurrent,
        "startup": startup,
    }


async def measure(
    settings: Settings,
    run: Callable[
        [RunningHomeAssistant, Sandbox, Settings], Awaitable[dict[str, Any]]
    ] = measure_running,
) -> dict[str, Any]:
    """Start everything, measure one leg with ``run``, and return the report."""
    sandbox = Sandbox()
    await sandbox.start()
    for index in range(settings.concurrent):
        sandbox.add_call(
            "bland", SANDBOX_BLAND_API_KEY, f"{CONCURRENT_CALL_PREFIX}{index}"
        )
    sandbox.add_bland_account(BUTTON_API_KEY, org_id=BUTTON_ORG_ID)
    sandbox.add_call("bland", BUTTON_API_KEY, BUTTON_CALL_ID)
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
                    report = await run(hass, sandbox, settings)
                if "startup" in report:
                    report["startup"]["import_ms"] = statistics.median(imports)
                    report["startup"]["import_repeats"] = len(imports)
                return report
    finally:
        await sandbox.stop()


# What ``--breakdown`` compares, and the stages of each it reads from the probe.
BREAKDOWN_CONTENDERS = ("transfer", FLOOR, RAW)


async def measure_breakdown(
    hass: RunningHomeAssistant, sandbox: Sandbox, settings: Settings
) -> dict[str, Any]:
    """Time the transfer's stages and the floor's inside Home Assistant, call by call.

    The same interleaved rounds as the latency measurement, of the transfer, the floor
    and the raw POST only, with the probe timing (wall time, in the event loop) each
    action's handler and the stages in it. Outside the handler: what the action costs
    before and after it (the WebSocket API, validation, the response), measured as the
    call's latency less its handler's time. Timing adds a few µs to what it times.
    """
    api = hass.api
    bench = Bench(hass, sandbox, settings)
    bench.contenders = BREAKDOWN_CONTENDERS
    config = await api.command("get_config")
    started = time.monotonic()
    for _ in range(settings.warmup):
        for name in bench.contenders:
            await bench.step(name)
    repeats: list[dict[str, Any]] = []
    for repeat in range(settings.repeats):
        print(f"  repeat {repeat + 1}/{settings.repeats}", file=sys.stderr, flush=True)
        await api.call("bench_probe", "breakdown")
        latency = await bench.latency(settings.rounds)
        timed: dict[str, list[float]] = await api.call(
            "bench_probe", "breakdown", {"report": True}, response=True
        )
        stages = {
            name: statistics.median(values) * 1e6 for name, values in timed.items()
        }
        for name in BREAKDOWN_CONTENDERS:
            stages[f"{name}: latency"] = statistics.median(latency[name]) * 1e6
            stages[f"{name}: outside the handler"] = (
                statistics.median(
                    client - handler
                    for client, handler in zip(latency[name], timed[name], strict=True)
                )
                * 1e6
            )
        repeats.append(stages)
    return leg_report(config["version"], settings) | {
        "kind": "breakdown",
        "measuring_seconds": time.monotonic() - started,
        "median_us": {
            name: statistics.median(r[name] for r in repeats) for name in repeats[0]
        },
        "repeats": repeats,
    }


def format_breakdown(report: Mapping[str, Any]) -> str:
    """Return ``--breakdown``'s report as a table."""
    settings = report["settings"]
    us: Mapping[str, float] = report["median_us"]
    # As the probe names them (scripts/bench_probe: TRANSFER_STAGES).
    plan, request, reported = (
        us["plan (fields checked, number parsed)"],
        us["provider request (client, HTTP)"],
        us["report (event, Transfers entity)"],
    )

    def row(label: str, transfer: float, floor: float) -> str:
        return f"  {label:<42}{transfer:10.0f}{floor:10.0f}{transfer - floor:+10.0f}"

    handler = {name: us[name] for name in BREAKDOWN_CONTENDERS}
    staged = plan + request + reported
    floor_post = us["floor: POST (raw, JSON read)"]
    floor_report = us["floor: report (event, state)"]
    lines = [
        (
            f"Where the time goes: Home Assistant {report['home_assistant']}, Python "
            f"{report['python']}; {settings['rounds']} rounds x {settings['repeats']} "
            f"repeats, order shuffled, {settings['pause_ms']:g} ms pause; median wall "
            "time per call in µs (median of repeats), timed in the event loop"
        ),
        f"  {'':<42}{'transfer':>10}{'floor':>10}{'extra':>10}",
        row(
            "latency (as the WebSocket client sees it)",
            us["transfer: latency"],
            us[f"{FLOOR}: latency"],
        ),
        row(
            "outside the action's handler",
            us["transfer: outside the handler"],
            us[f"{FLOOR}: outside the handler"],
        ),
        row("the action's handler", handler["transfer"], handler[FLOOR]),
        row("  plan (fields checked, number parsed)", plan, 0.0),
        row("  provider request / raw POST", request, floor_post),
        row("  report / event + state", reported, floor_report),
        row(
            "  the rest of the handler",
            handler["transfer"] - staged,
            handler[FLOOR] - floor_post - floor_report,
        ),
        (
            f"  raw session.post action: latency {us[f'{RAW}: latency']:.0f} µs, "
            f"handler {handler[RAW]:.0f} µs"
        ),
        f"Measured in {report['measuring_seconds']:.0f} s",
    ]
    return "\n".join(lines)


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
            ("transfer / floor", "latency_ratio_vs_floor"),
            ("button / floor", "button_latency_ratio_vs_floor"),
        )
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
    for label, key in (
        ("transfer / floor", "cpu_ratio_vs_floor"),
        ("button / floor", "button_cpu_ratio_vs_floor"),
    ):
        ratios = " / ".join(
            "n/a" if r[key] is None else f"{r[key]:.2f}x" for r in repeats
        )
        lines.append(f"  {label:<24}{ratios}")
    lines.append("")
    lines.append(
        "Recorder rows per call (median of repeats, idle subtracted; "
        "events + event_data + states + state_attributes)"
    )
    lines.append(
        f"  {'':<22}" + "".join(f"{table:>18}" for table in (*RECORDED_TABLES, "total"))
    )
    for name in contenders:
        cells = "".join(
            f"{statistics.median(r['rows_per_call'][name][table] for r in repeats):>18.2f}"
            for table in (*RECORDED_TABLES, "total")
        )
        lines.append(f"  {name:<22}{cells}")
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
    if all(leg.get("kind") == "breakdown" for leg in legs.values()):
        out.write_text(json.dumps({"legs": legs}, indent=2) + "\n")
        for leg in legs.values():
            print(format_breakdown(leg))
        print(f"Written to {out}")
        return
    if all(leg.get("kind") == "push" for leg in legs.values()):
        from scripts import bench_push  # noqa: PLC0415 - it imports this module

        out.write_text(
            json.dumps(bench_push.merge_headline(legs) | {"legs": legs}, indent=2)
            + "\n"
        )
        for name, leg in legs.items():
            print(f"{name} (Home Assistant {leg['home_assistant']}): ", end="")
            print(bench_push.headline(leg))
        print(f"Written to {out}")
        return
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
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument(
        "--profile",
        type=Path,
        help="after measuring, profile Home Assistant during --cpu-calls calls of the "
        "transfer, the button and the floor, one file each in this directory (with "
        "scripts/bench: a directory inside the repository)",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="instead: time the transfer's stages and the floor's inside Home "
        "Assistant (the transfer, the floor and the raw POST, --rounds x --repeats)",
    )
    add_push_arguments(parser)
    args = parser.parse_args()
    if args.push:
        from scripts import bench_push  # noqa: PLC0415 - it imports this module

        bench_push.main(args)
        return
    settings = Settings(
        rounds=args.rounds,
        warmup=args.warmup,
        repeats=args.repeats,
        pause=args.pause_ms / 1000,
        cpu_calls=args.cpu_calls,
        concurrent=args.concurrent,
        setup_repeats=args.setup_repeats,
        seed=args.seed,
        import_repeats=args.import_repeats,
        profile=args.profile,
    )
    if args.breakdown:
        report = asyncio.run(measure(settings, measure_breakdown))
        print(format_breakdown(report), flush=True)
    else:
        report = asyncio.run(measure(settings))
        print(format_report(report), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


def add_push_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--push`` and what it measures (scripts/bench_push.py)."""
    push = parser.add_argument_group(
        "instant call events (--push)",
        "measure each account whose push is on instead: how soon its calls' events "
        "come, idle requests, forged callbacks, short calls",
    )
    push.add_argument("--push", action="store_true")
    for option, default, meaning in (
        ("--push-calls", 40, "calls timed on an account whose push reports starts"),
        ("--poll-calls", 10, "calls timed on one whose starts come from polling"),
        ("--short-calls", 10, "calls of 2 s on each account"),
        ("--forged-calls", 2, "calls on each account per kind of forgery"),
        ("--idle-seconds", 300, "the idle window (one reconciliation: 300 s)"),
    ):
        push.add_argument(option, type=int, default=default, help=meaning)


if __name__ == "__main__":
    main()
