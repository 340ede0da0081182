"""Measure what a transfer costs in a real Home Assistant, against baselines of the same run.

Starts the provider sandbox (in this process) and Home Assistant with the dev instance's
configuration (in its own process, not the test harness, whose asyncio debug mode
inflates every figure), prepared by scripts/dev_instance.py. Then, interleaved, over the
WebSocket API:

- transfer: ``call_transfer.transfer`` of a Bland sandbox call, with its response;
- no-op action: ``persistent_notification.dismiss`` of nothing, the cost of Home
  Assistant's action path alone;
- provider round trip: the same transfer request sent straight to the sandbox from here,
  the floor any client pays.

Reports medians and ratios, and how many TCP connections Home Assistant opened to the
provider for all its transfers (keep-alive on the shared session means one). Loopback only.

    .venv/bin/python scripts/benchmark.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import asyncio
from itertools import count
import os
from pathlib import Path
import socket
import statistics
import sys
import tempfile
import time
from typing import Any

import aiohttp

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from sandbox import SANDBOX_BLAND_API_KEY, SANDBOX_BLAND_CALL_ID, Sandbox  # noqa: E402

DEV_INSTANCE = REPO_ROOT / "scripts" / "dev_instance.py"
WARMUP_ROUNDS = 20


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run(*args: str) -> None:
    """Run a command to completion quietly, failing loudly."""
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.DEVNULL
    )
    if await process.wait():
        raise SystemExit(f"{args[1]} failed")


class WebSocketApi:
    """Calls actions over Home Assistant's WebSocket API."""

    def __init__(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        """Wrap an authenticated WebSocket."""
        self._websocket = websocket
        self._ids = count(1)

    async def call(
        self, domain: str, service: str, data: dict[str, Any], *, response: bool
    ) -> None:
        """Call an action and wait for its result."""
        message: dict[str, Any] = {
            "id": next(self._ids),
            "type": "call_service",
            "domain": domain,
            "service": service,
            "service_data": data,
        }
        if response:
            message["return_response"] = True
        await self._websocket.send_json(message)
        result = await self._websocket.receive_json()
        if not result.get("success"):
            raise SystemExit(f"{domain}.{service} failed: {result}")


async def measure(rounds: int) -> None:
    """Start everything, measure, print the report."""
    sandbox = Sandbox()
    await sandbox.start()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config"
        config.mkdir()
        (config / "configuration.yaml").write_text(
            (REPO_ROOT / "config" / "configuration.yaml").read_text()
        )
        (config / "custom_components").symlink_to(REPO_ROOT / "custom_components")
        await run(sys.executable, str(DEV_INSTANCE), "prepare", "--config", str(config))
        env = os.environ | {"HASS_PORT": str(port), "PYTHONPATH": str(REPO_ROOT)}
        with (Path(tmp) / "hass.log").open("wb") as log:
            hass = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "homeassistant",
                "--config",
                str(config),
                "--skip-pip",
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
            )
        try:
            token_file = Path(tmp) / "token"
            await run(
                sys.executable,
                str(DEV_INSTANCE),
                "connect",
                "--hass",
                f"http://127.0.0.1:{port}",
                "--sandbox",
                sandbox.bland_base_url.removesuffix("/bland"),
                "--token-file",
                str(token_file),
            )
            await compare(port, token_file.read_text(), sandbox, rounds)
        finally:
            hass.terminate()
            await hass.wait()
            await sandbox.stop()


async def compare(port: int, token: str, sandbox: Sandbox, rounds: int) -> None:
    """Interleave the three measurements and report."""
    transfer = {"call_id": SANDBOX_BLAND_CALL_ID, "to": "+14155550100"}
    timings: dict[str, list[float]] = {
        "transfer": [],
        "no-op action": [],
        "provider round trip": [],
    }
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"http://127.0.0.1:{port}/api/config/config_entries/entry?domain=call_transfer",
            headers={"Authorization": f"Bearer {token}"},
        ) as answer:
            entries = await answer.json()
        bland = next(
            entry for entry in entries if entry["title"].startswith("Bland AI")
        )
        transfer["config_entry_id"] = bland["entry_id"]
        async with session.ws_connect(
            f"http://127.0.0.1:{port}/api/websocket"
        ) as websocket:
            await websocket.receive_json()
            await websocket.send_json({"type": "auth", "access_token": token})
            await websocket.receive_json()
            api = WebSocketApi(websocket)

            async def transfer_action() -> None:
                await api.call("call_transfer", "transfer", transfer, response=True)

            async def noop_action() -> None:
                await api.call(
                    "persistent_notification",
                    "dismiss",
                    {"notification_id": "none"},
                    response=False,
                )

            async def provider_round_trip() -> None:
                async with session.post(
                    f"{sandbox.bland_base_url}/v1/calls/active/transfer",
                    json={
                        "call_id": SANDBOX_BLAND_CALL_ID,
                        "transfer_number": "+14155550100",
                    },
                    headers={"authorization": SANDBOX_BLAND_API_KEY},
                ) as answer:
                    await answer.read()

            steps = {
                "transfer": transfer_action,
                "no-op action": noop_action,
                "provider round trip": provider_round_trip,
            }
            for _ in range(WARMUP_ROUNDS):
                for step in steps.values():
                    await step()
            connections_before = sandbox.connections
            for _ in range(rounds):
                for name, step in steps.items():
                    started = time.perf_counter()
                    await step()
                    timings[name].append(time.perf_counter() - started)
            new_connections = sandbox.connections - connections_before

    median = {
        name: statistics.median(values) * 1000 for name, values in timings.items()
    }
    print(
        f"{rounds} rounds, interleaved, after {WARMUP_ROUNDS} warm-up rounds (medians):"
    )
    for name, value in median.items():
        p95 = statistics.quantiles(timings[name], n=20)[-1] * 1000
        print(f"  {name:<20} {value:7.2f} ms   (p95 {p95:.2f} ms)")
    print(
        f"  transfer / no-op action          = {median['transfer'] / median['no-op action']:.2f}x"
    )
    print(
        f"  transfer / provider round trip   = {median['transfer'] / median['provider round trip']:.2f}x"
    )
    print(
        f"  new TCP connections to the sandbox while measuring: {new_connections} (keep-alive: 0)"
    )


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(measure(args.rounds))


if __name__ == "__main__":
    main()
