"""Run the sandbox until Ctrl-C or SIGTERM: ``python -m sandbox --port 8765``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from .server import Sandbox, require_loopback
from .state import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_API_KEY_SECRET,
    SANDBOX_TWILIO_API_KEY_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_TOKEN,
)

DEFAULT_PORT = 8765


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line; refuse a host that is not loopback."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Local stand-in for the providers' APIs (loopback only).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="a loopback IP address")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="0 picks a free port"
    )
    args = parser.parse_args(argv)
    try:
        require_loopback(args.host)
    except ValueError as err:
        parser.error(str(err))
    return args


def describe(sandbox: Sandbox) -> str:
    """Tell a developer the base URLs, test credentials and live call ids.

    An empty line ends it.
    """

    def live_calls(provider: str) -> str:
        ids = (c.call_id for c in sandbox.calls.values() if c.provider == provider)
        return ", ".join(ids)

    return "\n".join(
        (
            f"Provider sandbox listening on port {sandbox.port} (Ctrl-C stops it)",
            f"Vobiz base URL:    {sandbox.vobiz_base_url}",
            f"  auth_id:         {SANDBOX_VOBIZ_AUTH_ID}",
            f"  auth_token:      {SANDBOX_VOBIZ_AUTH_TOKEN}",
            f"  live call ids:   {live_calls('vobiz')}",
            "  transfers:       leg URLs are fetched on loopback addresses only",
            f"Bland AI base URL: {sandbox.bland_base_url}",
            f"  api_key:         {SANDBOX_BLAND_API_KEY}",
            f"  org_id:          {SANDBOX_BLAND_ORG_ID}",
            f"  live call ids:   {live_calls('bland')}",
            f"Twilio base URL:   {sandbox.twilio_base_url}",
            f"  account_sid:     {SANDBOX_TWILIO_ACCOUNT_SID}",
            f"  secret:          {SANDBOX_TWILIO_AUTH_TOKEN} (the auth token)",
            f"  or api_key_sid:  {SANDBOX_TWILIO_API_KEY_SID}",
            f"  with secret:     {SANDBOX_TWILIO_API_KEY_SECRET}",
            f"  live call ids:   {live_calls('twilio')}",
            f"Telnyx base URL:   {sandbox.telnyx_base_url}",
            f"  api_key:         {SANDBOX_TELNYX_API_KEY}",
            f"  connection_id:   {SANDBOX_TELNYX_CONNECTION_ID}",
            f"  live call ids:   {live_calls('telnyx')}",
            "",
        )
    )


async def serve(host: str, port: int) -> None:
    """Run a seeded sandbox until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    sandbox = Sandbox()
    await sandbox.start(host, port)
    try:
        print(describe(sandbox), flush=True)
        await stop.wait()
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m sandbox``; what transferred legs did is logged to stdout."""
    args = parse_args(argv)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s sandbox: %(message)s"))
    logger = logging.getLogger("sandbox")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
