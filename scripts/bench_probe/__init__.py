"""Bench probe: the helper integration scripts/bench copies into its throwaway config.

It gives the benchmark what it cannot see from outside Home Assistant, and three of
its contenders:

- ``bench_probe.raw_transfer``: the Bland transfer as one raw ``session.post`` on Home
  Assistant's shared session (the least any integration can do);
- ``bench_probe.raw_transfer_with_outcome``: the same, then one bus event and one entity
  state with the outcome (``--floor``: what reporting each transfer costs at the least);
- ``bench_probe.noop``: an action that does nothing (Home Assistant's action path alone);
- ``bench_probe.info``: the process id and the name of every thread, by native id;
- ``bench_probe.flush``: commit what the recorder holds, so a measured block pays for
  its own writes;
- ``bench_probe.recorded``: commit, then count the recorder's rows (events, states and
  their data and attributes), so the bench tells what each call records;
- ``bench_probe.profile``: start cProfile in the event loop's thread (``path`` omitted),
  or stop it and write its statistics to ``path`` (``scripts/bench --profile``);
- ``bench_probe.startup``: what Home Assistant timed while starting call_transfer;
- ``bench_probe.entry_setup``: set the transfer account's entry up again, timed;
- ``bench_probe.concurrent``: many transfers at once, with the events they fired;
- ``bench_probe.breakdown``: time (wall, in the event loop) the transfer action's stages
  and the floor's, from now on; with ``report``, return every timing and stop
  (``scripts/bench --breakdown``).

When Home Assistant has started, it writes ``bench_ready.json`` to the config
directory: an access token for the WebSocket API and the process id.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
import cProfile
import functools
import importlib
import inspect
import json
import os
from pathlib import Path
import threading
import time
from typing import TYPE_CHECKING, Any

from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import (
    Event,
    HassJob,
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.recorder import get_instance, session_scope
from homeassistant.helpers.typing import ConfigType
from homeassistant.setup import async_get_domain_setup_times
from homeassistant.util import dt as dt_util
from sqlalchemy import text
import voluptuous as vol

if TYPE_CHECKING:
    from homeassistant.components.recorder.core import Recorder

DOMAIN = "bench_probe"
TRANSFER_DOMAIN = "call_transfer"
TRANSFER_EVENTS = ("call_transfer_succeeded", "call_transfer_failed")
READY_FILE = "bench_ready.json"
# The recorder's tables whose rows a call may add, each with the query that counts them.
ROW_COUNTS = {
    "events": text("SELECT COUNT(*) FROM events"),
    "event_data": text("SELECT COUNT(*) FROM event_data"),
    "states": text("SELECT COUNT(*) FROM states"),
    "state_attributes": text("SELECT COUNT(*) FROM state_attributes"),
}
USER_NAME = "Bench"
# The transfer's stages ``breakdown`` times: the module-level function each one is.
TRANSFER_STAGES = {
    "plan (fields checked, number parsed)": (
        "custom_components.call_transfer.services",
        "async_plan_transfer",
    ),
    "provider request (client, HTTP)": (
        "custom_components.call_transfer.transfer",
        "async_send_transfer",
    ),
    "report (event, Transfers entity)": (
        "custom_components.call_transfer.transfer",
        "_async_report",
    ),
}
# The actions ``breakdown`` times as a whole, by contender.
TIMED_ACTIONS = {
    "transfer": (TRANSFER_DOMAIN, "transfer"),
    "raw + event + state": (DOMAIN, "raw_transfer_with_outcome"),
    "raw session.post": (DOMAIN, "raw_transfer"),
}

CONFIG_SCHEMA = vol.Schema(
    {
        DOMAIN: vol.Schema(
            {
                vol.Required("bland_base_url"): cv.string,
                vol.Required("api_key"): cv.string,
            }
        )
    },
    extra=vol.ALLOW_EXTRA,
)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the probe's actions; get ready once Home Assistant has started."""
    base_url: str = config[DOMAIN]["bland_base_url"]
    api_key: str = config[DOMAIN]["api_key"]
    session = async_get_clientsession(hass)
    transfer_url = f"{base_url}/v1/calls/active/transfer"
    headers = {"authorization": api_key}

    def post(call: ServiceCall) -> Any:
        """Start the raw transfer request (use it with ``async with``)."""
        body = {"call_id": call.data["call_id"], "transfer_number": call.data["to"]}
        return session.post(transfer_url, json=body, headers=headers)

    async def raw_transfer(call: ServiceCall) -> None:
        async with post(call) as response:
            await response.read()

    async def raw_transfer_with_outcome(call: ServiceCall) -> ServiceResponse:
        # The floor of any integration that reports each transfer as a bus event and an
        # entity state: the raw POST, one event with the outcome, one state written.
        started = time.perf_counter()
        async with post(call) as response:
            answer = await response.json()
            request_id = response.headers.get("x-request-id")
        posted = time.perf_counter()
        outcome = {
            "call_id": call.data["call_id"],
            "to": call.data["to"],
            "message": answer["data"]["message"],
            "request_id": request_id,
        }
        hass.bus.async_fire(f"{DOMAIN}_transferred", outcome, context=call.context)
        hass.states.async_set(
            f"{DOMAIN}.last_transfer",
            dt_util.utcnow().isoformat(),
            {"event_type": "succeeded"},
            context=call.context,
        )
        if timings is not None:
            timings["floor: POST (raw, JSON read)"].append(posted - started)
            timings["floor: report (event, state)"].append(time.perf_counter() - posted)
        return outcome if call.return_response else None

    async def noop(call: ServiceCall) -> None:
        return None

    async def info(call: ServiceCall) -> ServiceResponse:
        return {
            "pid": os.getpid(),
            "threads": {
                str(thread.native_id): thread.name for thread in threading.enumerate()
            },
        }

    async def flush(call: ServiceCall) -> None:
        await get_instance(hass).async_block_till_done()

    async def recorded(call: ServiceCall) -> ServiceResponse:
        recorder = get_instance(hass)
        await recorder.async_block_till_done()
        counts: dict[str, Any] = await recorder.async_add_executor_job(
            _count_rows, recorder
        )
        return counts

    async def startup(call: ServiceCall) -> ServiceResponse:
        return {
            str(group): {str(phase): seconds for phase, seconds in phases.items()}
            for group, phases in async_get_domain_setup_times(
                hass, TRANSFER_DOMAIN
            ).items()
        }

    async def entry_setup(call: ServiceCall) -> ServiceResponse:
        entry_id: str = call.data["config_entry_id"]
        seconds: list[float] = []
        for _ in range(call.data["times"]):
            await hass.config_entries.async_unload(entry_id)
            started = time.perf_counter()
            await hass.config_entries.async_setup(entry_id)
            seconds.append(time.perf_counter() - started)
        return {"seconds": list[Any](seconds)}

    profiler = cProfile.Profile()

    async def profile(call: ServiceCall) -> None:
        # In the event loop's thread: cProfile watches the thread it is enabled in.
        if (path := call.data.get("path")) is None:
            profiler.enable()
            return
        profiler.disable()
        await hass.async_add_executor_job(profiler.dump_stats, path)
        profiler.clear()

    async def concurrent(call: ServiceCall) -> ServiceResponse:
        return await _concurrent_transfers(hass, call.data)

    timings: dict[str, list[float]] | None = None
    undo: list[Callable[[], None]] = []

    async def breakdown(call: ServiceCall) -> ServiceResponse:
        nonlocal timings
        if not call.data.get("report"):
            timings = {
                name: []
                for name in (
                    *TIMED_ACTIONS,
                    *TRANSFER_STAGES,
                    "floor: POST (raw, JSON read)",
                    "floor: report (event, state)",
                )
            }
            undo.extend(_time_actions(hass, timings))
            undo.extend(_time_stages(timings))
            return None
        while undo:
            undo.pop()()
        taken, timings = timings or {}, None
        return {name: list[Any](seconds) for name, seconds in taken.items()}

    for name, handler, response in (
        ("raw_transfer", raw_transfer, SupportsResponse.NONE),
        (
            "raw_transfer_with_outcome",
            raw_transfer_with_outcome,
            SupportsResponse.OPTIONAL,
        ),
        ("noop", noop, SupportsResponse.NONE),
        ("info", info, SupportsResponse.ONLY),
        ("flush", flush, SupportsResponse.NONE),
        ("recorded", recorded, SupportsResponse.ONLY),
        ("profile", profile, SupportsResponse.NONE),
        ("startup", startup, SupportsResponse.ONLY),
        ("entry_setup", entry_setup, SupportsResponse.ONLY),
        ("concurrent", concurrent, SupportsResponse.ONLY),
        ("breakdown", breakdown, SupportsResponse.OPTIONAL),
    ):
        hass.services.async_register(DOMAIN, name, handler, supports_response=response)

    async def get_ready(event: Event) -> None:
        await _async_get_ready(hass)

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STARTED, get_ready)
    return True


def _timed(function: Callable[..., Any], seconds: list[float]) -> Callable[..., Any]:
    """Return ``function`` (a coroutine function or not), recording each call's duration."""
    if inspect.iscoroutinefunction(function):

        async def timed_coroutine(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args)
            finally:
                seconds.append(time.perf_counter() - started)

        return timed_coroutine

    def timed(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args)
        finally:
            seconds.append(time.perf_counter() - started)

    return timed


def _time_actions(
    hass: HomeAssistant, timings: dict[str, list[float]]
) -> list[Callable[[], None]]:
    """Time each of TIMED_ACTIONS' handlers; return what puts each one back."""
    undo: list[Callable[[], None]] = []
    for name, (domain, service) in TIMED_ACTIONS.items():
        handler = hass.services.async_services_for_domain(domain)[service]
        original = handler.job
        handler.job = HassJob(_timed(original.target, timings[name]), original.name)
        undo.append(functools.partial(setattr, handler, "job", original))
    return undo


def _time_stages(timings: dict[str, list[float]]) -> list[Callable[[], None]]:
    """Time each of TRANSFER_STAGES where it is called from; return what undoes it."""
    undo: list[Callable[[], None]] = []
    for name, (module_name, attribute) in TRANSFER_STAGES.items():
        module = importlib.import_module(module_name)
        original = getattr(module, attribute)
        setattr(module, attribute, _timed(original, timings[name]))
        undo.append(functools.partial(setattr, module, attribute, original))
    return undo


def _count_rows(recorder: Recorder) -> dict[str, int]:
    """Count the rows of the recorder's tables (in its executor: database I/O)."""
    with session_scope(session=recorder.get_session(), read_only=True) as session:
        return {
            table: int(session.execute(query).scalar_one())
            for table, query in ROW_COUNTS.items()
        }


async def _concurrent_transfers(
    hass: HomeAssistant, data: dict[str, Any]
) -> dict[str, Any]:
    """Start ``count`` transfers of different calls at once; count outcomes and events."""
    call_ids = [f"{data['call_id_prefix']}{index}" for index in range(data["count"])]
    events: Counter[str] = Counter()

    @callback
    def count_event(event: Event) -> None:
        events[event.data.get("call_id", "")] += 1

    listeners = [hass.bus.async_listen(kind, count_event) for kind in TRANSFER_EVENTS]
    started = time.perf_counter()
    outcomes = await asyncio.gather(
        *(
            hass.services.async_call(
                TRANSFER_DOMAIN,
                "transfer",
                {
                    "config_entry_id": data["config_entry_id"],
                    "call_id": call_id,
                    "to": data["to"],
                },
                blocking=True,
            )
            for call_id in call_ids
        ),
        return_exceptions=True,
    )
    wall = time.perf_counter() - started
    for unsubscribe in listeners:
        unsubscribe()
    errors = Counter(
        type(outcome).__name__
        for outcome in outcomes
        if isinstance(outcome, BaseException)
    )
    return {
        "wall_seconds": wall,
        "succeeded": len(call_ids) - sum(errors.values()),
        "errors": dict(errors),
        "events": sum(events[call_id] for call_id in call_ids),
        "calls_without_event": sum(not events[call_id] for call_id in call_ids),
        "duplicate_events": sum(max(0, events[call_id] - 1) for call_id in call_ids),
    }


async def _async_get_ready(hass: HomeAssistant) -> None:
    """Hand the benchmark an access token for a system user of its own."""
    users = [
        user for user in await hass.auth.async_get_users() if user.name == USER_NAME
    ]
    user = users[0] if users else None
    if user is None:
        user = await hass.auth.async_create_system_user(
            USER_NAME, group_ids=["system-admin"]
        )
    refresh_token = next(iter(user.refresh_tokens.values()), None)
    if refresh_token is None:
        refresh_token = await hass.auth.async_create_refresh_token(user)
    ready = {
        "token": hass.auth.async_create_access_token(refresh_token),
        "pid": os.getpid(),
    }
    path = Path(hass.config.path(READY_FILE))
    await hass.async_add_executor_job(_write_atomically, path, json.dumps(ready))


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
