"""How soon a call's start and end reach Home Assistant's bus, and what push saves.

``scripts/bench --push`` (``bench.py --push``): one leg starts the sandbox in this
process and one real ``hass`` (its own process, external URL on loopback, so only the
sandbox reaches its webhooks), connects the sandbox's accounts as ``scripts/develop``
does (``scripts/dev_instance.py``: the config flow, then the options that turn instant
call events on), and measures every account whose push is on. What each account's push
can do is read from Home Assistant's diagnostics of it (``reports_call_starts``, its
scan interval): nothing here names a provider.

- idle: with no call live and the callbacks healthy (where push reports starts, once
  polling only reconciles), the provider API requests the account makes in a window,
  scaled to a day;
- start and end: calls started and ended one at a time on the sandbox's control plane,
  from the request that starts (ends) the call to ``call_transfer_call_started``
  (``_ended``) on the bus, by its ``time_fired``; by push where the account's push
  reports call starts, else by polling (reported as such, beside);
- short calls: calls of 2 s, each seen started and ended;
- forgeries: every callback fault the sandbox makes of the account's callbacks (forged,
  unsigned, tampered, replayed, stale: those the provider's callbacks can have): each
  bad callback sent, and whether Home Assistant accepted it (answered 2xx), with the
  call events by push it caused.

Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import count
import json
import os
from pathlib import Path
import platform
import random
import statistics
import sys
import tempfile
import time
from typing import Any, Final

import aiohttp

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from custom_components.call_transfer.const import EVENT_CALL_ENDED, EVENT_CALL_STARTED  # noqa: E402
from sandbox import CallbackFault, Sandbox  # noqa: E402
from scripts.bench import (  # noqa: E402
    hass_websocket,
    install_integrations,
    percentile,
    write_config_files,
)
from scripts.dev_instance import HomeAssistantApi  # noqa: E402
from scripts.hass_process import free_port  # noqa: E402

PUSH: Final = "push"
POLL: Final = "poll"
# The targets (issue 18).
TARGET_P50_MS: Final = 300
TARGET_P99_MS: Final = 1000
TARGET_IDLE_PER_DAY: Final = 300
SECONDS_PER_DAY: Final = 86_400
SHORT_CALL_SECONDS: Final = 2.0
# The callbacks the sandbox can spoil on purpose, each a forgery Home Assistant must
# refuse (a replay: its second, byte-for-byte copy). SDK_FORM is no forgery: a
# signature computed with the right key, the way Vobiz's Go SDK does.
FORGERIES: Final = tuple(
    fault for fault in CallbackFault if fault is not CallbackFault.SDK_FORM
)
# How long a start or end may take to reach the bus before it counts as missed, beyond
# two scan intervals (a poll that misses it, and the next).
GRACE_SECONDS: Final = 15.0
# The keys the issue asks for, per provider; `merge` reports the worst leg's value of each.
PUSH_KEYS: Final = (
    "push_start_to_event_p50_ms",
    "push_start_to_event_p99_ms",
    "poll_start_to_event_p50_ms",
    "poll_start_to_event_p99_ms",
    "push_end_to_event_p50_ms",
    "push_end_to_event_p99_ms",
    "idle_requests_per_account_day",
    "forged_sent",
    "forged_accepted",
    "forged_events",
    "short_calls_seen_pct",
)
# Of these, the worst is the lowest.
LOWER_IS_WORSE: Final = frozenset({"short_calls_seen_pct", "forged_sent"})
CONFIGURATION: Final = """\
# Written by scripts/bench --push. The sandbox's accounts are added through the config
# flow once Home Assistant runs; their callbacks reach it on loopback (external_url).
homeassistant:
  name: Call Transfer push bench
  country: US
  time_zone: UTC
  unit_system: metric
  currency: USD
  external_url: "http://127.0.0.1:{port}"

http:
  server_host: 127.0.0.1
  server_port: {port}

api:
websocket_api:
diagnostics:
recorder:

logger:
  default: warning

bench_probe:
  bland_base_url: "{bland}"
  api_key: !secret bland_api_key
"""


@dataclass(frozen=True, slots=True)
class PushSettings:
    """How much to measure."""

    push_calls: int  # calls timed on an account whose push reports starts
    poll_calls: int  # calls timed on one whose starts come from polling
    short_calls: int
    short_seconds: float
    forged_calls: int  # calls per forgery kind
    idle_seconds: float
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class BusEvent:
    """A call started or ended event, as the WebSocket API delivered it."""

    event_type: str
    entry_id: str
    call_id: str
    source: str
    time_fired: datetime


@dataclass(slots=True)
class PushAccount:
    """A measured account, as its diagnostics describe it."""

    entry_id: str
    title: str
    provider: str
    reports_call_starts: bool
    scan_interval: float
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def wait_seconds(self) -> float:
        """How long a start or end may take before it counts as missed."""
        return 2 * self.scan_interval + GRACE_SECONDS


class EventSocket:
    """Home Assistant's WebSocket API: commands, and the call events it forwards."""

    def __init__(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        """Read the socket in the background once started."""
        self._websocket = websocket
        self._ids = count(1)
        self._results: dict[int, asyncio.Future[Any]] = {}
        self._arrived = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None
        self._closed = False
        self.events: list[BusEvent] = []

    async def start(self, *event_types: str) -> None:
        """Start reading; subscribe to the event types."""
        self._reader = asyncio.create_task(self._read())
        for event_type in event_types:
            await self.command({"type": "subscribe_events", "event_type": event_type})

    async def stop(self) -> None:
        """Stop reading."""
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    async def command(self, message: Mapping[str, Any]) -> Any:
        """Send a command; return its result."""
        message_id = next(self._ids)
        result = self._results[message_id] = asyncio.get_running_loop().create_future()
        await self._websocket.send_json({"id": message_id, **message})
        return await result

    async def wait_for(
        self, event_type: str, call_id: str, timeout: float
    ) -> BusEvent | None:
        """Return the first such event about the call; None if none came in time."""

        def found() -> BusEvent | None:
            return next(
                (
                    event
                    for event in self.events
                    if event.event_type == event_type and event.call_id == call_id
                ),
                None,
            )

        async with self._arrived:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._arrived.wait_for(
                        lambda: found() is not None or self._closed
                    )
            if (event := found()) is None and self._closed:
                raise SystemExit("Home Assistant closed the WebSocket (restarted?)")
            return event

    async def _read(self) -> None:
        try:
            await self._read_messages()
        finally:
            async with self._arrived:
                self._closed = True
                self._arrived.notify_all()

    async def _read_messages(self) -> None:
        async for message in self._websocket:
            data = json.loads(message.data)
            if data.get("type") == "event":
                event = data["event"]
                self.events.append(
                    BusEvent(
                        event_type=event["event_type"],
                        entry_id=event["data"].get("config_entry_id", ""),
                        call_id=event["data"].get("call_id", ""),
                        source=event["data"].get("source", ""),
                        time_fired=datetime.fromisoformat(event["time_fired"]),
                    )
                )
                async with self._arrived:
                    self._arrived.notify_all()
            elif (result := self._results.pop(data.get("id", 0), None)) is not None:
                if data.get("success", True):
                    result.set_result(data.get("result"))
                else:
                    result.set_exception(SystemExit(f"Command failed: {data}"))


@dataclass(slots=True)
class RunningPushHass:
    """A started hass: its URL, access token and call events."""

    url: str
    token: str
    events: EventSocket


def write_configuration(config: Path, port: int, sandbox: Sandbox) -> None:
    """Write the push bench's configuration; link the integration, copy the probe."""
    write_config_files(
        config, CONFIGURATION.format(port=port, bland=sandbox.bland_base_url)
    )
    install_integrations(config)


@contextlib.asynccontextmanager
async def running_hass(
    config: Path, port: int, session: aiohttp.ClientSession
) -> AsyncIterator[RunningPushHass]:
    """Start hass, wait until the probe is ready, follow the call events; stop it after."""
    async with hass_websocket(config, port, session) as (ready, websocket):
        events = EventSocket(websocket)
        await events.start(EVENT_CALL_STARTED, EVENT_CALL_ENDED)
        try:
            yield RunningPushHass(
                url=f"http://127.0.0.1:{port}", token=ready["token"], events=events
            )
        finally:
            await events.stop()


def connect_accounts(url: str, token: str, sandbox_url: str) -> list[str]:
    """Add the sandbox's accounts with their options, as scripts/develop does; their ids.

    Blocking (the dev instance's HTTP client): run it in a thread.
    """
    api = HomeAssistantApi(url)
    api.token = token
    entry_ids = api.connect_sandbox_accounts(sandbox_url)
    api.set_sandbox_options(entry_ids, sandbox_url)
    return list(entry_ids.values())


class PushBench:
    """Drives one measured Home Assistant and the sandbox's calls."""

    def __init__(
        self,
        hass: RunningPushHass,
        sandbox: Sandbox,
        session: aiohttp.ClientSession,
        settings: PushSettings,
    ) -> None:
        """Measure ``hass``'s accounts against ``sandbox``."""
        self.hass = hass
        self.sandbox = sandbox
        self.session = session
        self.settings = settings
        self.random = random.Random(settings.seed)
        self.accounts: list[PushAccount] = []

    async def diagnostics(self, entry_id: str) -> dict[str, Any] | None:
        """Return an account's diagnostics; None while it is not loaded."""
        async with self.session.get(
            f"{self.hass.url}/api/diagnostics/config_entry/{entry_id}",
            headers={"Authorization": f"Bearer {self.hass.token}"},
        ) as response:
            if response.status != 200:
                return None
            data: dict[str, Any] = (await response.json())["data"]
            return data

    async def find_accounts(self, entry_ids: list[str]) -> None:
        """Note every loaded account whose push is on, with what its push reports."""
        for entry_id in entry_ids:
            deadline = time.monotonic() + 60
            while (data := await self.diagnostics(entry_id)) is None:
                if time.monotonic() > deadline:
                    raise SystemExit(f"Account {entry_id} did not load")
                await asyncio.sleep(0.5)
            push = data["push"]
            if push is None or not push["enabled"] or data["live_calls"] is None:
                continue
            self.accounts.append(
                PushAccount(
                    entry_id=entry_id,
                    title=data["entry"]["title"],
                    provider=data["entry"]["data"]["provider"],
                    reports_call_starts=push["reports_call_starts"],
                    scan_interval=data["live_calls"]["scan_interval"],
                )
            )
        if not self.accounts:
            raise SystemExit("No account has instant call events on")

    async def start_call(self, account: PushAccount) -> tuple[str, datetime]:
        """Start a call on the account's provider; return its id and when it started."""
        started = datetime.now(UTC)
        async with self.session.post(
            f"{self.sandbox.control_url}/calls", json={"provider": account.provider}
        ) as response:
            call: dict[str, Any] = await response.json()
        return str(call["call_id"]), started

    async def end_call(self, call_id: str) -> datetime:
        """Hang a call up; return when."""
        ended = datetime.now(UTC)
        async with self.session.delete(
            f"{self.sandbox.control_url}/calls/{call_id}"
        ) as response:
            response.raise_for_status()
        return ended

    async def end_live_calls(self) -> None:
        """Hang up every live call (the sandbox's seeded ones); let their callbacks go."""
        for call_id, call in list(self.sandbox.calls.items()):
            if call.live:
                await self.end_call(call_id)
        await self.sandbox.callbacks_settled(30)

    async def warm_up(self, account: PushAccount, attempts: int = 3) -> None:
        """Start and end calls until a call's end arrives by push (callbacks healthy).

        The options set the callback URL at the provider just before: the first
        callbacks may go to the URL that was there.
        """
        for _ in range(attempts):
            call_id, _ = await self.start_call(account)
            await self.hass.events.wait_for(
                EVENT_CALL_STARTED, call_id, account.wait_seconds
            )
            await self.end_call(call_id)
            ended = await self.hass.events.wait_for(
                EVENT_CALL_ENDED, call_id, account.wait_seconds
            )
            if ended is not None and ended.source == PUSH:
                return
        raise SystemExit(f"{account.title}: no call's end arrived by push")

    async def idle(self) -> None:
        """Count each account's provider requests while nothing happens.

        No call is live and the callbacks are healthy. Where push reports starts,
        polling only reconciles from its next poll on: the window starts once it does
        (just after that poll), so a window of one reconciliation interval holds exactly
        the next one.
        """
        reconciling = {
            a.entry_id: False for a in self.accounts if a.reports_call_starts
        }
        deadline = time.monotonic() + max(
            (a.wait_seconds for a in self.accounts), default=0
        )
        while not all(reconciling.values()) and time.monotonic() < deadline:
            for entry_id in reconciling:
                state = await self.diagnostics(entry_id)
                reconciling[entry_id] = bool(state and state["push"]["reconciling"])
            await asyncio.sleep(1)
        first_request = len(self.sandbox.requests)
        first_event = len(self.hass.events.events)
        started = time.monotonic()
        await asyncio.sleep(self.settings.idle_seconds)
        window = time.monotonic() - started
        requests = Counter[str | None](
            r.provider for r in self.sandbox.requests[first_request:]
        )
        events = Counter(e.entry_id for e in self.hass.events.events[first_event:])
        for account in self.accounts:
            made = requests[account.provider]  # the bench's one account per provider
            account.results |= {
                "idle_window_s": window,
                "idle_requests": made,
                "idle_requests_per_account_day": made * SECONDS_PER_DAY / window,
                "idle_call_events": events[account.entry_id],
                # Whether polling only reconciled (where push reports starts).
                "idle_reconciling": reconciling.get(account.entry_id),
            }

    async def time_calls(self, account: PushAccount) -> None:
        """Time calls started and ended one at a time: their events' delay and source."""
        calls = (
            self.settings.push_calls
            if account.reports_call_starts
            else self.settings.poll_calls
        )
        starts: list[BusEvent | None] = []
        ends: list[BusEvent | None] = []
        start_ms: list[float] = []
        end_ms: list[float] = []
        # A pause before each call, so that a start polling finds falls anywhere
        # between two polls (the wait for the last start left the bench in step).
        pause = 1.0 if account.reports_call_starts else account.scan_interval
        events = self.hass.events
        for _ in range(calls):
            await asyncio.sleep(self.random.uniform(0, pause))
            call_id, started_at = await self.start_call(account)
            started = await events.wait_for(
                EVENT_CALL_STARTED, call_id, account.wait_seconds
            )
            starts.append(started)
            if started is not None:
                start_ms.append(_ms(started.time_fired - started_at))
            await asyncio.sleep(self.random.uniform(0.2, 0.6))  # the call goes on
            ended_at = await self.end_call(call_id)
            ended = await events.wait_for(
                EVENT_CALL_ENDED, call_id, account.wait_seconds
            )
            ends.append(ended)
            if ended is not None:
                end_ms.append(_ms(ended.time_fired - ended_at))
        by = PUSH if account.reports_call_starts else POLL
        other = POLL if by == PUSH else PUSH
        account.results |= {
            "reports_call_starts": account.reports_call_starts,
            "scan_interval_s": account.scan_interval,
            "calls_timed": calls,
            "start_sources": _sources(starts),
            "end_sources": _sources(ends),
            **_figures(f"{by}_start_to_event", start_ms),
            **_figures(f"{other}_start_to_event", []),
            **_figures("push_end_to_event", end_ms),
        }

    async def short_calls(self, account: PushAccount) -> None:
        """Make calls of ``short_seconds``, a little apart; count those seen start and end."""
        settings = self.settings

        async def short_call(delay: float) -> bool:
            await asyncio.sleep(delay)
            call_id, _ = await self.start_call(account)
            await asyncio.sleep(settings.short_seconds)
            await self.end_call(call_id)
            events = self.hass.events
            ended = await events.wait_for(
                EVENT_CALL_ENDED, call_id, account.wait_seconds
            )
            started = await events.wait_for(EVENT_CALL_STARTED, call_id, 0)
            return started is not None and ended is not None

        seen = await asyncio.gather(
            *(short_call(0.5 * index) for index in range(settings.short_calls))
        )
        account.results |= {
            "short_calls": len(seen),
            "short_calls_seen": sum(seen),
            "short_calls_seen_pct": 100 * sum(seen) / len(seen) if seen else None,
        }

    async def forgeries(self, account: PushAccount) -> None:
        """Spoil the account's callbacks each way the sandbox can; count what was accepted."""
        kinds: dict[str, Any] = {}
        for fault in FORGERIES:
            phase_started = datetime.now(UTC)
            if not await self.set_callback_fault(account, fault):
                kinds[fault.value] = None  # the provider's callbacks cannot have it
                continue
            try:
                for _ in range(self.settings.forged_calls):
                    call_id, _ = await self.start_call(account)
                    await asyncio.sleep(0.3)
                    await self.end_call(call_id)
                await self.sandbox.callbacks_settled(30)
            finally:
                await self.set_callback_fault(account, None)
            sent = list(_forged(self.sandbox, account.provider, fault))
            kinds[fault.value] = {
                "sent": len(sent),
                "accepted": sum(1 for status in sent if _accepted(status)),
                "events": sum(
                    1
                    for event in self.hass.events.events
                    if event.entry_id == account.entry_id
                    and event.source == PUSH
                    and event.time_fired >= phase_started
                    # A replay's first copy is the provider's own callback, and so
                    # is one with no timestamp to make stale (Twilio's voice request).
                    and (
                        fault not in (CallbackFault.REPLAYED, CallbackFault.STALE)
                        or event.call_id not in self.sandbox.calls
                    )
                ),
            }
            await asyncio.sleep(0.5)  # late events land in this phase, not the next
        done = [kind for kind in kinds.values() if kind is not None]
        account.results |= {
            "forgeries": kinds,
            "forged_sent": sum(kind["sent"] for kind in done),
            "forged_accepted": sum(kind["accepted"] for kind in done),
            "forged_events": sum(kind["events"] for kind in done),
        }

    async def set_callback_fault(
        self, account: PushAccount, fault: CallbackFault | None
    ) -> bool:
        """Spoil (or mend) the account's callbacks; False if the provider's cannot be."""
        async with self.session.post(
            f"{self.sandbox.control_url}/callback_faults",
            json={
                "provider": account.provider,
                "fault": None if fault is None else fault.value,
            },
        ) as response:
            return response.status == 200

    async def each_account(
        self,
        measure: Callable[[PushAccount], Awaitable[None]],
        accounts: list[PushAccount],
    ) -> None:
        """Measure the accounts at once (each its own calls)."""
        await asyncio.gather(*(measure(account) for account in accounts))


def _ms(delta: timedelta) -> float:
    return delta.total_seconds() * 1000


def _sources(events: list[BusEvent | None]) -> dict[str, int]:
    return dict(
        Counter("missed" if event is None else event.source for event in events)
    )


def _figures(prefix: str, values: list[float]) -> dict[str, float | int | None]:
    """Return the median and p99 (nearest rank) of delays; None without any."""
    return {
        f"{prefix}_p50_ms": statistics.median(values) if values else None,
        f"{prefix}_p99_ms": percentile(values, 0.99) if values else None,
    }


def _forged(
    sandbox: Sandbox, provider: str, fault: CallbackFault
) -> Iterator[int | None]:
    """Yield the answer to each forged callback sent: a replay's copies, the others all."""
    seen: set[tuple[str, str, str, bytes | None]] = set()
    for sent in sandbox.callbacks_sent:
        if sent.provider != provider or sent.fault is not fault:
            continue
        key = (
            sent.url,
            json.dumps(sent.params, sort_keys=True),
            json.dumps(sent.headers, sort_keys=True),
            sent.body,
        )
        if fault is CallbackFault.REPLAYED and key not in seen:
            seen.add(key)  # the provider's own callback; its copy follows
            continue
        yield sent.status


def _accepted(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


async def measure(settings: PushSettings) -> dict[str, Any]:
    """Start everything, measure one leg, and return the report."""
    load_before = os.getloadavg()
    sandbox = Sandbox()
    await sandbox.start()
    port = free_port()
    started = time.monotonic()
    try:
        async with aiohttp.ClientSession() as session:
            with tempfile.TemporaryDirectory(prefix="call_transfer-bench-push-") as tmp:
                config = Path(tmp) / "config"
                write_configuration(config, port, sandbox)
                async with running_hass(config, port, session) as hass:
                    entry_ids = await asyncio.to_thread(
                        connect_accounts,
                        hass.url,
                        hass.token,
                        f"http://127.0.0.1:{sandbox.port}",
                    )
                    bench = PushBench(hass, sandbox, session, settings)
                    await bench.find_accounts(entry_ids)
                    return await run(bench, hass, load_before, started)
    finally:
        await sandbox.stop()


async def run(
    bench: PushBench,
    hass: RunningPushHass,
    load_before: tuple[float, float, float],
    started: float,
) -> dict[str, Any]:
    """Measure the accounts found, phase by phase; return the report."""
    accounts = bench.accounts
    print(
        f"  push accounts: {', '.join(a.provider for a in accounts)}",
        file=sys.stderr,
        flush=True,
    )
    await bench.end_live_calls()
    await bench.each_account(bench.warm_up, accounts)
    print(f"  idle {bench.settings.idle_seconds:g} s", file=sys.stderr, flush=True)
    await bench.idle()
    print("  timing calls", file=sys.stderr, flush=True)
    await bench.each_account(bench.time_calls, accounts)
    print("  short calls", file=sys.stderr, flush=True)
    await bench.each_account(bench.short_calls, accounts)
    print("  forgeries", file=sys.stderr, flush=True)
    await bench.each_account(bench.forgeries, accounts)
    config = await hass.events.command({"type": "get_config"})
    settings = bench.settings
    return {
        "kind": "push",
        "home_assistant": config["version"],
        "python": platform.python_version(),
        "settings": {
            "push_calls": settings.push_calls,
            "poll_calls": settings.poll_calls,
            "short_calls": settings.short_calls,
            "short_seconds": settings.short_seconds,
            "forged_calls": settings.forged_calls,
            "idle_seconds": settings.idle_seconds,
        },
        "load_average": {"before": load_before[0], "after": os.getloadavg()[0]},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "measuring_seconds": time.monotonic() - started,
        "providers": {account.provider: account.results for account in accounts},
    }


def main(args: argparse.Namespace) -> None:
    """Measure one leg (``bench.py --push``), print the table, write the JSON."""
    report = asyncio.run(
        measure(
            PushSettings(
                push_calls=args.push_calls,
                poll_calls=args.poll_calls,
                short_calls=args.short_calls,
                short_seconds=SHORT_CALL_SECONDS,
                forged_calls=args.forged_calls,
                idle_seconds=args.idle_seconds,
                seed=args.seed,
            )
        )
    )
    print(format_report(report), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


def format_report(report: Mapping[str, Any]) -> str:
    """Return the report as a table for the screen (and docs/performance.md)."""
    providers: Mapping[str, Mapping[str, Any]] = report["providers"]
    settings = report["settings"]
    load = report["load_average"]
    title = (
        f"Instant call events: Home Assistant {report['home_assistant']}, Python "
        f"{report['python']}, {report['date']}; load average {load['before']:.2f} "
        f"before, {load['after']:.2f} after"
    )
    lines = [
        title,
        "",
        f"  {'':<44}" + "".join(f"{name:>18}" for name in providers),
    ]

    def row(label: str, cell: Callable[[Mapping[str, Any]], str]) -> None:
        lines.append(
            f"  {label:<44}" + "".join(f"{cell(r):>18}" for r in providers.values())
        )

    row(
        "call starts by push (capability)",
        lambda r: "yes" if r["reports_call_starts"] else "no",
    )
    row(
        "calls timed (starts by push / poll / missed)",
        lambda r: _counts(r["start_sources"]),
    )
    row(
        "start -> call_started by push p50 / p99 ms",
        lambda r: _pair(r, "push_start_to_event", "n/a: polled"),
    )
    row(
        "start -> call_started by polling p50 / p99 ms",
        lambda r: _pair(r, "poll_start_to_event", "n/a: pushed"),
    )
    row("  (scan interval s)", lambda r: f"{r['scan_interval_s']:g}")
    row(
        "end -> call_ended p50 / p99 ms",
        lambda r: _pair(r, "push_end_to_event", "none"),
    )
    row("  (ends by push / poll / missed)", lambda r: _counts(r["end_sources"]))
    row(
        "idle requests per account per day",
        lambda r: f"{r['idle_requests_per_account_day']:.0f}",
    )
    row(
        "  (requests in the idle window)",
        lambda r: f"{r['idle_requests']} in {r['idle_window_s']:.0f} s",
    )
    row("forged/replayed callbacks sent", lambda r: str(r["forged_sent"]))
    row("  accepted", lambda r: str(r["forged_accepted"]))
    row("  call events by push they caused", lambda r: str(r["forged_events"]))
    for kind in FORGERIES:
        row(f"    {kind}: sent / accepted", partial(_forgery, kind=kind.value))
    row(
        f"calls of {settings['short_seconds']:g} s seen started and ended",
        lambda r: (
            f"{r['short_calls_seen']}/{r['short_calls']} "
            f"({r['short_calls_seen_pct']:.0f} %)"
        ),
    )
    lines.append("")
    lines.append(
        f"Targets (issue 18): start by push p99 <= {TARGET_P99_MS} ms, p50 <= "
        f"{TARGET_P50_MS} ms; idle <= {TARGET_IDLE_PER_DAY} requests per account per "
        "day (10 s polling: 8640); forged accepted 0; short calls seen 100 %"
    )
    for name, r in providers.items():
        lines.append(f"  {name}: {'; '.join(_verdicts(r))}")
    lines.append(f"Measured in {report['measuring_seconds']:.0f} s")
    return "\n".join(lines)


def _forgery(results: Mapping[str, Any], kind: str) -> str:
    done = results["forgeries"][kind]
    return "n/a" if done is None else f"{done['sent']} / {done['accepted']}"


def _counts(sources: Mapping[str, int]) -> str:
    return " / ".join(str(sources.get(key, 0)) for key in (PUSH, POLL, "missed"))


def _pair(results: Mapping[str, Any], prefix: str, absent: str) -> str:
    p50, p99 = results[f"{prefix}_p50_ms"], results[f"{prefix}_p99_ms"]
    if p50 is None:
        return absent
    return f"{p50:.0f} / {p99:.0f}"


def _verdicts(results: Mapping[str, Any]) -> Iterator[str]:
    """Say which targets an account meets, and which do not apply to it."""
    if results["push_start_to_event_p99_ms"] is None:
        yield "start latency by push n/a (starts come from polling)"
    else:
        yield _met(
            "start by push",
            results["push_start_to_event_p99_ms"] <= TARGET_P99_MS
            and results["push_start_to_event_p50_ms"] <= TARGET_P50_MS,
        )
    idle = _met("idle", results["idle_requests_per_account_day"] <= TARGET_IDLE_PER_DAY)
    if not results["reports_call_starts"]:
        idle += f" (starts polled every {results['scan_interval_s']:g} s)"
    yield idle
    yield _met("forgeries", results["forged_accepted"] == 0)
    yield _met("short calls", results["short_calls_seen_pct"] == 100)


def _met(name: str, met: bool) -> str:
    return f"{name} {'met' if met else 'NOT MET'}"


def merge_headline(legs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Return the worst leg's value of each key, per provider."""
    providers = sorted({name for leg in legs.values() for name in leg["providers"]})
    worst: dict[str, Any] = {}
    for name in providers:
        values: dict[str, Any] = {}
        for key in PUSH_KEYS:
            found = [
                leg["providers"][name][key]
                for leg in legs.values()
                if leg["providers"].get(name, {}).get(key) is not None
            ]
            pick = min if key in LOWER_IS_WORSE else max
            values[key] = pick(found) if found else None
        worst[name] = values
    return {"providers": worst}


def headline(leg: Mapping[str, Any]) -> str:
    """One line per provider of a leg's figures, for the merge's output."""
    return "; ".join(
        f"{name}: "
        + ", ".join(
            f"{key} {'n/a' if r[key] is None else format(r[key], '.0f')}"
            for key in PUSH_KEYS
            if r[key] is not None
        )
        for name, r in leg["providers"].items()
    )
