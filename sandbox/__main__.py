"""Run the sandbox; start and end calls, or provider outages, on a running one.

Usage, from the repository root (the Python of .venv has aiohttp; the system's may not):
  .venv/bin/python -m sandbox --port 8765              serve until Ctrl-C or SIGTERM
  .venv/bin/python -m sandbox call start --port 8765 --provider vobiz --from +14155550123
  .venv/bin/python -m sandbox call end --port 8765 CALL_ID
  .venv/bin/python -m sandbox call list --port 8765
  .venv/bin/python -m sandbox outage start --port 8765 --provider vobiz [--account KEY] [--status 503 | --drop]
  .venv/bin/python -m sandbox outage end --port 8765 [--provider vobiz]
  .venv/bin/python -m sandbox outage list --port 8765
  .venv/bin/python -m sandbox callbacks fault --port 8765 --provider vobiz forged|unsigned|tampered|replayed|sdk-form|stale|none
  .venv/bin/python -m sandbox callbacks number --port 8765 +14155550100 answer|busy|no-answer|fail
  .venv/bin/python -m sandbox callbacks hold|release|list --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from pathlib import Path
import shlex
import signal
import sys
from typing import Any
import urllib.error
import urllib.request

from .control import (
    CALLBACK_FAULTS_PATH,
    CALLBACKS_PATH,
    CALLS_PATH,
    DIRECTIONS,
    NUMBERS_PATH,
    OUTAGES_PATH,
    PROVIDERS,
)
from .server import Sandbox, require_loopback
from .state import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TELNYX_PUBLIC_KEY,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_API_KEY_SECRET,
    SANDBOX_TWILIO_API_KEY_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    CallbackFault,
    DialBehaviour,
)

DEFAULT_PORT = 8765
CONTROL_TIMEOUT = 10
REPO_ROOT = Path(__file__).resolve().parent.parent


def command(*arguments: str) -> str:
    """Return the shell command that runs ``python -m sandbox ARGUMENTS`` from the repo root.

    With this Python (the system's has no aiohttp): relative to the repository when it
    is inside it (``.venv/bin/python``), else by its full path.
    """
    # Not resolved: a venv's python is a link to one without the venv's packages.
    python = Path(sys.executable).absolute()
    if python.is_relative_to(REPO_ROOT):
        python = python.relative_to(REPO_ROOT)
    return shlex.join([str(python), "-m", "sandbox", *arguments])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line; refuse a host that is not loopback."""
    # --host/--port are accepted before or after a command; SUPPRESS keeps a value
    # given before the command from being reset by the command's own default.
    address = argparse.ArgumentParser(add_help=False)
    address.add_argument(
        "--host",
        default=argparse.SUPPRESS,
        help="a loopback IP address (default 127.0.0.1)",
    )
    address.add_argument(
        "--port",
        type=int,
        default=argparse.SUPPRESS,
        help=f"the sandbox's port (default {DEFAULT_PORT}; 0 serves on a free port)",
    )
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description=(
            "Local stand-in for the providers' APIs (loopback only). Without a "
            "command it serves; 'call' starts, ends or lists calls on a running sandbox."
        ),
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[address],
    )
    commands = parser.add_subparsers(dest="command", metavar="{call,outage,callbacks}")
    call = commands.add_parser(
        "call",
        help="start, end or list calls on the running sandbox",
        description="Start, end or list calls on a running sandbox, over HTTP.",
    )
    actions = call.add_subparsers(dest="action", required=True)
    start = actions.add_parser(
        "start", parents=[address], help="start a live call on a provider account"
    )
    start.add_argument("--provider", required=True, choices=PROVIDERS)
    start.add_argument("--from", dest="from_number", help="caller number (E.164)")
    start.add_argument("--to", dest="to_number", help="called number (E.164)")
    start.add_argument("--direction", choices=DIRECTIONS, default="inbound")
    start.add_argument(
        "--caller-name", help="the caller's name (Vobiz and Plivo show it)"
    )
    start.add_argument("--call-id", help="the call id (default: a new UUID)")
    end = actions.add_parser("end", parents=[address], help="hang up a live call")
    end.add_argument("call_id")
    actions.add_parser(
        "list", parents=[address], help="list the calls and their status"
    )
    outage = commands.add_parser(
        "outage",
        help="take a provider (or one account) down, and back up",
        description=(
            "Make a provider's API fail on a running sandbox until the outage ends: "
            "an HTTP error page (default 503), or every connection dropped."
        ),
    )
    outages = outage.add_subparsers(dest="action", required=True)
    down = outages.add_parser("start", parents=[address], help="start an outage")
    down.add_argument("--provider", required=True, choices=PROVIDERS)
    down.add_argument(
        "--account", help="only this account (the key its requests authenticate with)"
    )
    how = down.add_mutually_exclusive_group()
    how.add_argument("--status", type=int, help="the HTTP error it answers (503)")
    how.add_argument("--drop", action="store_true", help="abort every connection")
    up = outages.add_parser("end", parents=[address], help="end outages")
    up.add_argument("--provider", choices=PROVIDERS, help="only this provider's")
    outages.add_parser("list", parents=[address], help="list the outages")
    callbacks = commands.add_parser(
        "callbacks",
        help="forge, hold or release the signed callbacks; what a number does",
        description=(
            "Make a Vobiz, Plivo, Twilio or Telnyx account's signed callbacks go wrong on "
            "purpose, hold them (they arrive late, once released), or set what a dialled "
            "number does."
        ),
    )
    callback_actions = callbacks.add_subparsers(dest="action", required=True)
    fault = callback_actions.add_parser(
        "fault", parents=[address], help="forge an account's callbacks, or stop"
    )
    fault.add_argument(
        "--provider",
        required=True,
        choices=("vobiz", "plivo", "twilio", "telnyx", "bland"),
    )
    fault.add_argument(
        "--account",
        help="only this account (its auth_id or API key; default the first)",
    )
    fault.add_argument("fault", choices=[*CallbackFault, "none"])
    number = callback_actions.add_parser(
        "number", parents=[address], help="what a number does when a Dial calls it"
    )
    number.add_argument("number", help="the number (E.164)")
    number.add_argument("does", choices=list(DialBehaviour))
    for name, text in (
        ("hold", "hold the callbacks until released"),
        ("release", "send the held callbacks, and the next ones at once"),
        ("list", "list the callbacks sent"),
    ):
        callback_actions.add_parser(name, parents=[address], help=text)
    args = parser.parse_args(argv)
    args.host = getattr(args, "host", "127.0.0.1")
    args.port = getattr(args, "port", DEFAULT_PORT)
    try:
        require_loopback(args.host)
    except ValueError as err:
        parser.error(str(err))
    return args


def describe(sandbox: Sandbox) -> str:
    """Tell a developer the base URLs, test credentials, live call ids and controls.

    An empty line ends it.
    """

    def live_calls(provider: str) -> str:
        ids = (
            c.call_id
            for c in sandbox.calls.values()
            if c.provider == provider and c.live
        )
        return ", ".join(ids)

    port = sandbox.port
    return "\n".join(
        (
            f"Provider sandbox listening on port {port} (Ctrl-C stops it)",
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
            f"  public key:      {SANDBOX_TELNYX_PUBLIC_KEY} (webhooks)",
            f"  live call ids:   {live_calls('telnyx')}",
            f"Plivo base URL:    {sandbox.plivo_base_url}",
            f"  auth_id:         {SANDBOX_PLIVO_AUTH_ID}",
            f"  auth_token:      {SANDBOX_PLIVO_AUTH_TOKEN}",
            f"  live call ids:   {live_calls('plivo')}",
            "  transfers:       leg URLs are fetched on loopback addresses only",
            "Start and end calls while it runs (from another shell, in this folder):",
            f"  {command('call', 'start', '--port', str(port), '--provider', 'vobiz', '--from', '+14155550123')}",
            f"  {command('call', 'end', '--port', str(port), 'CALL_ID')}",
            f"  {command('call', 'list', '--port', str(port))}",
            f"  or HTTP: GET/POST {sandbox.control_url}/calls, DELETE {sandbox.control_url}/calls/CALL_ID",
            "Take a provider down (an HTTP 503 error page; --drop aborts connections):",
            f"  {command('outage', 'start', '--port', str(port), '--provider', 'vobiz')}",
            f"  {command('outage', 'end', '--port', str(port))}",
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


def control(args: argparse.Namespace) -> int:
    """Run one ``call``, ``outage`` or ``callbacks`` command against the running sandbox.

    Return the exit status.
    """
    base_url = f"http://{args.host}:{args.port}"
    try:
        if args.command == "outage":
            _outage(args, f"{base_url}{OUTAGES_PATH}")
        elif args.command == "callbacks":
            _callbacks(args, base_url)
        else:
            _call(args, f"{base_url}{CALLS_PATH}")
    except urllib.error.HTTPError as err:
        print(f"error: {_error_text(err)}", file=sys.stderr)
        return 1
    except OSError as err:
        print(
            f"error: no sandbox answers at {base_url} ({err}); "
            "start one with python -m sandbox or scripts/develop",
            file=sys.stderr,
        )
        return 1
    return 0


def _outage(args: argparse.Namespace, outages_url: str) -> None:
    match args.action:
        case "start":
            body: dict[str, Any] = {"provider": args.provider}
            if args.account:
                body["account"] = args.account
            if args.drop:
                body["drop"] = True
            elif args.status is not None:
                body["status"] = args.status
            print(f"Outage: {_outage_line(_send('POST', outages_url, body))}")
        case "end":
            url = f"{outages_url}/{args.provider}" if args.provider else outages_url
            ended = _send("DELETE", url)["outages"]
            _print_each([f"Ended: {_outage_line(o)}" for o in ended], "No outage.")
        case _:
            outages = _send("GET", outages_url)["outages"]
            _print_each([_outage_line(o) for o in outages], "No outage.")


def _callbacks(args: argparse.Namespace, base_url: str) -> None:
    match args.action:
        case "fault":
            body: dict[str, Any] = {
                "provider": args.provider,
                "fault": None if args.fault == "none" else args.fault,
            }
            if args.account:
                body["account"] = args.account
            answer = _send("POST", f"{base_url}{CALLBACK_FAULTS_PATH}", body)
            print(f"{answer['provider']} callbacks: {answer['fault'] or 'sound'}")
        case "number":
            body = {"number": args.number, "does": args.does}
            answer = _send("POST", f"{base_url}{NUMBERS_PATH}", body)
            print(f"{answer['number']} does: {answer['does']}")
        case "hold" | "release":
            held = args.action == "hold"
            _send("POST", f"{base_url}{CALLBACKS_PATH}", {"held": held})
            print("Callbacks held." if held else "Callbacks released.")
        case _:
            sent = _send("GET", f"{base_url}{CALLBACKS_PATH}")["callbacks"]
            _print_each([_callback_line(c) for c in sent], "No callbacks.")


def _callback_line(sent: dict[str, Any]) -> str:
    fault = f" ({sent['fault']})" if sent["fault"] else ""
    params = sent["params"]
    event = (
        params.get("Event")
        or params.get("event_type")
        or params.get("DialStatus")
        or "?"
    )
    answered = sent["status"] if sent["status"] is not None else sent["error"]
    return f"{sent['provider']} {event}{fault} to {sent['to']}: {answered}"


def _outage_line(outage: dict[str, Any]) -> str:
    what = (
        "drops every connection"
        if outage["drop"]
        else f"answers HTTP {outage['status']}"
    )
    account = f"account {outage['account']}" if outage["account"] else "every account"
    return f"{outage['provider']} {what} ({account})"


def _call(args: argparse.Namespace, calls_url: str) -> None:
    match args.action:
        case "start":
            body = {
                key: value
                for key, value in (
                    ("provider", args.provider),
                    ("from", args.from_number),
                    ("to", args.to_number),
                    ("direction", args.direction),
                    ("caller_name", args.caller_name),
                    ("call_id", args.call_id),
                )
                if value is not None
            }
            call = _send("POST", calls_url, body)
            print(f"Started {_line(call)}")
        case "end":
            call = _send("DELETE", f"{calls_url}/{args.call_id}")
            print(f"Ended {_line(call)}")
        case _:
            calls = _send("GET", calls_url)["calls"]
            _print_each([_line(call) for call in calls], "No calls.")


def _print_each(lines: list[str], none: str) -> None:
    print("\n".join(lines) if lines else none)


def _send(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - a loopback URL built above
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT) as response:  # noqa: S310
        return json.loads(response.read())


def _line(call: dict[str, Any]) -> str:
    return (
        f"{call['provider']} call {call['call_id']}: {call['direction']} "
        f"from {call['from']} to {call['to']}, {call['status']}"
    )


def _error_text(err: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(err.read())["error"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {err.code}"


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m sandbox``; what transferred legs did is logged to stdout."""
    args = parse_args(argv)
    if args.command is not None:
        sys.exit(control(args))
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s sandbox: %(message)s"))
    logger = logging.getLogger("sandbox")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
