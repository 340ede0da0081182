"""``python -m sandbox`` runs a standalone sandbox."""

from __future__ import annotations

import asyncio
from pathlib import Path
import shlex
import signal
import socket
import sys

import aiohttp
import pytest

from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_PLIVO_CALL_ID,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CALL_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_API_KEY_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_TWILIO_CALL_SID,
    SANDBOX_VOBIZ_APP_ID,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_CALL_ID,
    CallbackFault,
    DialBehaviour,
    Sandbox,
)
from sandbox.__main__ import control, parse_args

# Runs the sandbox as a process.
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Return a loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run_sandbox(*args: str) -> asyncio.subprocess.Process:
    """Start ``python -m sandbox`` from the repository root."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        *args,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.usefixtures("socket_enabled")
async def test_runs_until_sigterm_and_prints_what_to_use() -> None:
    """It prints the base URLs, credentials and call ids, serves, and stops cleanly."""
    port = free_port()
    process = await run_sandbox("--port", str(port))
    try:
        assert process.stdout is not None
        banner: list[str] = []
        async with asyncio.timeout(20):
            while (line := (await process.stdout.readline()).decode()) not in (
                "",
                "\n",
            ):
                banner.append(line)
        output = "".join(banner)
        for expected in (
            f"http://127.0.0.1:{port}/vobiz/api/v1",
            f"http://127.0.0.1:{port}/bland",
            SANDBOX_VOBIZ_AUTH_ID,
            SANDBOX_VOBIZ_AUTH_TOKEN,
            SANDBOX_BLAND_API_KEY,
            SANDBOX_BLAND_ORG_ID,
            SANDBOX_VOBIZ_CALL_ID,
            SANDBOX_BLAND_CALL_ID,
            f"http://127.0.0.1:{port}/_sandbox/calls",
            f"http://127.0.0.1:{port}/twilio/2010-04-01",
            SANDBOX_TWILIO_ACCOUNT_SID,
            SANDBOX_TWILIO_AUTH_TOKEN,
            SANDBOX_TWILIO_API_KEY_SID,
            SANDBOX_TWILIO_CALL_SID,
            f"http://127.0.0.1:{port}/telnyx/v2",
            SANDBOX_TELNYX_API_KEY,
            SANDBOX_TELNYX_CONNECTION_ID,
            SANDBOX_TELNYX_CALL_ID,
            f"http://127.0.0.1:{port}/plivo/v1",
            SANDBOX_PLIVO_AUTH_ID,
            SANDBOX_PLIVO_AUTH_TOKEN,
            SANDBOX_PLIVO_CALL_ID,
        ):
            assert expected in output

        # Another shell in the repository runs each command as the banner prints it:
        # start a call, end it, list the calls, take Vobiz down and back up.
        printed = [shlex.split(line) for line in banner if " -m sandbox " in line]
        assert [argv[3:5] for argv in printed] == [
            ["call", "start"],
            ["call", "end"],
            ["call", "list"],
            ["outage", "start"],
            ["outage", "end"],
        ]
        outputs = []
        call_id = ""
        for argv in printed:
            run = await asyncio.create_subprocess_exec(
                *[call_id if word == "CALL_ID" else word for word in argv],
                cwd=REPO_ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            async with asyncio.timeout(20):
                out, err = await run.communicate()
            assert run.returncode == 0, err.decode()
            outputs.append(out.decode())
            call_id = call_id or out.decode().split()[3].rstrip(":")
        assert outputs[0].startswith("Started vobiz call ")
        assert outputs[1].startswith(f"Ended vobiz call {call_id}: ")
        assert outputs[3] == "Outage: vobiz answers HTTP 503 (every account)\n"
        assert outputs[4] == "Ended: vobiz answers HTTP 503 (every account)\n"

        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"http://127.0.0.1:{port}/bland/v1/me",
                headers={"authorization": SANDBOX_BLAND_API_KEY},
            ) as response,
        ):
            assert response.status == 200
            assert (await response.json())["status"] == "active"
        # What a transferred leg did is logged, the URL's token masked.
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{port}/vobiz/api/v1/Account/{SANDBOX_VOBIZ_AUTH_ID}"
                f"/Call/{SANDBOX_VOBIZ_CALL_ID}/",
                json={"aleg_url": "https://xml.example.com/aleg?token=secret"},
                headers={
                    "X-Auth-ID": SANDBOX_VOBIZ_AUTH_ID,
                    "X-Auth-Token": SANDBOX_VOBIZ_AUTH_TOKEN,
                },
            ) as response,
        ):
            assert response.status == 202
        async with asyncio.timeout(20):
            logged = (await process.stdout.readline()).decode()
        assert logged.endswith(
            "sandbox: Vobiz POST https://xml.example.com/aleg?token=*** for the A leg"
            f" of call {SANDBOX_VOBIZ_CALL_ID}: dropped: unreachable (not a loopback"
            " address)\n"
        )
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            _, stderr = await process.communicate()

    assert process.returncode == 0, stderr.decode()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10"])
async def test_refuses_a_host_that_is_not_loopback(host: str) -> None:
    """A host another machine could reach is a usage error."""
    process = await run_sandbox("--host", host, "--port", "0")
    async with asyncio.timeout(20):
        stdout, stderr = await process.communicate()

    assert process.returncode == 2
    assert stdout == b""
    assert "loopback only" in stderr.decode()


async def run_control(sandbox: Sandbox, *args: str) -> int:
    """Run ``python -m sandbox call|outage …`` in-process against the sandbox fixture."""
    arguments = parse_args([*args, "--port", str(sandbox.port)])
    return await asyncio.to_thread(control, arguments)


async def test_call_commands_start_end_and_list(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """start, list and end print one line per call; the sandbox follows."""
    assert (
        await run_control(
            sandbox,
            "call",
            "start",
            "--provider",
            "vobiz",
            "--from",
            "+14155550142",
            "--direction",
            "outbound",
            "--call-id",
            "cli-call-1",
            "--caller-name",
            "Front desk",
            "--to",
            "+918035735400",
        )
        == 0
    )
    assert capsys.readouterr().out == (
        "Started vobiz call cli-call-1: outbound from +14155550142 to "
        "+918035735400, in-progress\n"
    )
    assert sandbox.calls["cli-call-1"].caller_name == "Front desk"

    assert await run_control(sandbox, "call", "end", "cli-call-1") == 0
    assert capsys.readouterr().out.startswith("Ended vobiz call cli-call-1: ")
    assert not sandbox.calls["cli-call-1"].live

    assert await run_control(sandbox, "call", "list") == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == len(sandbox.calls)
    assert (
        "cli-call-1: outbound from +14155550142 to +918035735400, completed"
        in (listed[-1])
    )


async def test_call_commands_explain_failures(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refused command and a sandbox that is not running end with status 1 and why."""
    assert await run_control(sandbox, "call", "end", "no-such-call") == 1
    assert capsys.readouterr().err == "error: no call no-such-call\n"

    sandbox.calls.clear()
    assert await run_control(sandbox, "call", "list") == 0
    assert capsys.readouterr().out == "No calls.\n"

    arguments = parse_args(["--port", str(free_port()), "call", "list"])
    assert await asyncio.to_thread(control, arguments) == 1
    assert "no sandbox answers at" in capsys.readouterr().err


async def test_outage_commands_start_list_and_end(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """An outage of every account, one that drops one account's connections; the end."""
    assert await run_control(sandbox, "outage", "start", "--provider", "bland") == 0
    assert capsys.readouterr().out == (
        "Outage: bland answers HTTP 503 (every account)\n"
    )
    assert (
        await run_control(
            sandbox, "outage", "start", "--provider", "twilio", "--status", "500"
        )
        == 0
    )
    assert (
        await run_control(
            sandbox,
            "outage",
            "start",
            "--provider",
            "vobiz",
            "--account",
            SANDBOX_VOBIZ_AUTH_ID,
            "--drop",
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines() == [
        "Outage: twilio answers HTTP 500 (every account)",
        f"Outage: vobiz drops every connection (account {SANDBOX_VOBIZ_AUTH_ID})",
    ]
    assert await run_control(sandbox, "outage", "list") == 0
    assert len(capsys.readouterr().out.splitlines()) == 3

    assert await run_control(sandbox, "outage", "end", "--provider", "bland") == 0
    assert capsys.readouterr().out == (
        "Ended: bland answers HTTP 503 (every account)\n"
    )
    assert await run_control(sandbox, "outage", "end") == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert await run_control(sandbox, "outage", "end") == 0
    assert await run_control(sandbox, "outage", "list") == 0
    assert capsys.readouterr().out == "No outage.\nNo outage.\n"

    assert await run_control(sandbox, "outage", "end", "--provider", "plivo") == 1
    assert capsys.readouterr().err == "error: plivo has no outage\n"


def test_port_and_host_go_before_or_after_the_command() -> None:
    """--port works on either side of the command; the serving defaults stay."""
    assert parse_args(["--port", "9001", "call", "list"]).port == 9001
    assert parse_args(["call", "list", "--port", "9002"]).port == 9002
    served = parse_args([])
    assert (served.host, served.port, served.command) == ("127.0.0.1", 8765, None)


async def test_callback_commands(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """Forge an account's callbacks and stop; a busy number; hold, release, list."""
    vobiz = sandbox.vobiz_accounts[SANDBOX_VOBIZ_AUTH_ID]
    commands = [
        ("fault", "--provider", "vobiz", "forged"),
        ("number", "+14155550100", "busy"),
        ("hold",),
        ("list",),
        ("release",),
    ]
    for command in commands:
        assert await run_control(sandbox, "callbacks", *command) == 0
    assert capsys.readouterr().out.splitlines() == [
        "vobiz callbacks: forged",
        "+14155550100 does: busy",
        "Callbacks held.",
        "No callbacks.",
        "Callbacks released.",
    ]
    assert vobiz.callback_fault is CallbackFault.FORGED
    assert sandbox.dial_behaviours["+14155550100"] is DialBehaviour.BUSY

    # A hangup to a loopback port where nothing listens: sent forged, not answered.
    vobiz.applications[
        SANDBOX_VOBIZ_APP_ID
    ].hangup_url = f"http://127.0.0.1:{free_port()}/hangup"
    sandbox.end_call(SANDBOX_VOBIZ_CALL_ID)
    await sandbox.callbacks_settled()
    assert await run_control(sandbox, "callbacks", "list") == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("vobiz Hangup (forged) to http://127.0.0.1:")

    assert (
        await run_control(
            sandbox,
            "callbacks",
            "fault",
            "--provider",
            "vobiz",
            "--account",
            SANDBOX_VOBIZ_AUTH_ID,
            "none",
        )
        == 0
    )
    assert capsys.readouterr().out == "vobiz callbacks: sound\n"
    assert vobiz.callback_fault is None
    assert (
        await run_control(
            sandbox,
            "callbacks",
            "fault",
            "--provider",
            "plivo",
            "--account",
            "x",
            "none",
        )
        == 1
    )
    assert capsys.readouterr().err == "error: no such plivo account sends callbacks\n"
