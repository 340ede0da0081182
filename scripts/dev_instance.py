"""Make a fresh development Home Assistant ready to use, over its real HTTP API.

Onboards it (owner ``dev`` / password ``dev``) if needed, logs in, and connects the
local provider sandbox's accounts through the integration's own config flow, so a
newcomer can transfer a sandbox call from Developer tools right away. Standard library
only, so it runs before any environment exists too.

    python scripts/dev_instance.py prepare --config config      # before Home Assistant starts
    python scripts/dev_instance.py connect --hass http://127.0.0.1:8123 --sandbox http://127.0.0.1:8765
"""

from __future__ import annotations

import argparse
import base64
from http import HTTPStatus
import json
from pathlib import Path
import secrets
import socket
import struct
import sys
import time
from typing import Any, Self
import urllib.error
import urllib.parse
import urllib.request

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from sandbox import (  # noqa: E402
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_NUMBER,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_BLAND_SIGNING_SECRET,
    SANDBOX_PLIVO_APP_ID,
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_PLIVO_CALL_ID,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CALL_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_TWILIO_CALL_SID,
    SANDBOX_TWILIO_NUMBER_SID,
    SANDBOX_VOBIZ_APP_ID,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_CALL_ID,
)
from sandbox.__main__ import command as sandbox_command  # noqa: E402

# Onboarding steps marked done before the first start: core_config would add the
# default weather/radio/TTS integrations, which need the internet and only add noise.
PRESET_ONBOARDING_STEPS = ("core_config", "analytics", "integration")
# The files configuration.yaml !includes, as Home Assistant's own onboarding writes them.
INCLUDED_FILES = {"automations.yaml": "[]", "scripts.yaml": "", "scenes.yaml": ""}
USERNAME = "dev"
PASSWORD = "dev"  # noqa: S105 - a local development instance's documented login


class HomeAssistantApi:
    """A tiny synchronous client for the parts of the HTTP API this script needs."""

    def __init__(self, url: str) -> None:
        """Talk to the Home Assistant at ``url``."""
        self.url = url.rstrip("/")
        self.client_id = f"{self.url}/"
        self.token: str | None = None

    def call(
        self, method: str, path: str, body: Any = None, *, form: bool = False
    ) -> Any:
        """Send one request and decode the JSON answer."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = None
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 - the URL is the local instance's
            f"{self.url}{path}", data=data, headers=headers, method=method
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def wait_until_up(self, timeout: float) -> None:
        """Wait until the frontend serves its manifest: auth and onboarding are up then.

        Both are the frontend's dependencies. The HTTP server answers (404) before they
        are set up, and /api/onboarding missing then would read as an instance
        onboarded already: a fresh one was then logged in to, with no user to log in
        as (a 404 from /auth/login_flow, once in a full test run).
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.call("GET", "/manifest.json")
            except (OSError, urllib.error.URLError):  # refused, or 404 while starting
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"Home Assistant did not come up at {self.url}"
                    ) from None
                time.sleep(0.5)
            else:
                return

    def onboard_or_login(self) -> None:
        """Create the owner on a fresh instance, or log in as it; keep the access token."""
        try:
            steps = {
                step["step"]: step["done"]
                for step in self.call("GET", "/api/onboarding")
            }
        except urllib.error.HTTPError as err:
            if err.code != HTTPStatus.NOT_FOUND:
                raise
            steps = {
                "user": True
            }  # onboarded: Home Assistant no longer serves the steps
        if not steps.get("user"):
            code = self.call(
                "POST",
                "/api/onboarding/users",
                {
                    "client_id": self.client_id,
                    "name": "Developer",
                    "username": USERNAME,
                    "password": PASSWORD,
                    "language": "en",
                },
            )["auth_code"]
        else:
            flow = self.call(
                "POST",
                "/auth/login_flow",
                {
                    "client_id": self.client_id,
                    "handler": ["homeassistant", None],
                    "redirect_uri": self.client_id,
                },
            )
            result = self.call(
                "POST",
                f"/auth/login_flow/{flow['flow_id']}",
                {
                    "client_id": self.client_id,
                    "username": USERNAME,
                    "password": PASSWORD,
                },
            )
            code = result["result"]
        self.token = self.call(
            "POST",
            "/auth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
            },
            form=True,
        )["access_token"]

    def connect_sandbox_accounts(self, sandbox_url: str) -> dict[str, str]:
        """Add the sandbox accounts through the config flow unless there; map provider to entry id."""
        if not self._entries():
            self._add_sandbox_accounts(sandbox_url)
        return {
            entry["title"].split(" (")[0]: entry["entry_id"]
            for entry in self._entries()
        }

    def _entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.call(
            "GET", "/api/config/config_entries/entry?domain=call_transfer"
        )
        return entries

    def _add_sandbox_accounts(self, sandbox_url: str) -> None:
        for step, credentials in (
            (
                "vobiz",
                {
                    "auth_id": SANDBOX_VOBIZ_AUTH_ID,
                    "auth_token": SANDBOX_VOBIZ_AUTH_TOKEN,
                    "advanced_options": {"base_url": f"{sandbox_url}/vobiz/api/v1"},
                },
            ),
            (
                "bland",
                {
                    "api_key": SANDBOX_BLAND_API_KEY,
                    "advanced_options": {"base_url": f"{sandbox_url}/bland"},
                },
            ),
            (
                "twilio",
                {
                    "account_sid": SANDBOX_TWILIO_ACCOUNT_SID,
                    "secret": SANDBOX_TWILIO_AUTH_TOKEN,
                    "advanced_options": {
                        "base_url": f"{sandbox_url}/twilio/2010-04-01"
                    },
                },
            ),
            (
                "telnyx",
                {
                    "api_key": SANDBOX_TELNYX_API_KEY,
                    "advanced_options": {"base_url": f"{sandbox_url}/telnyx/v2"},
                },
            ),
            (
                "plivo",
                {
                    "auth_id": SANDBOX_PLIVO_AUTH_ID,
                    "auth_token": SANDBOX_PLIVO_AUTH_TOKEN,
                    "advanced_options": {"base_url": f"{sandbox_url}/plivo/v1"},
                },
            ),
        ):
            flow = self.call(
                "POST",
                "/api/config/config_entries/flow",
                {"handler": "call_transfer"},
            )
            path = f"/api/config/config_entries/flow/{flow['flow_id']}"
            self.call("POST", path, {"next_step_id": step})
            result = self.call("POST", path, credentials)
            if result.get("type") != "create_entry":
                raise SystemExit(
                    f"Connecting the sandbox {step} account failed: {result}"
                )

    def set_options(self, entry_id: str, wanted: dict[str, Any]) -> None:
        """Set options of an account through the real options flow.

        The sandbox's Bland AI org id and Telnyx connection id let those accounts list
        their live calls; Vobiz and Plivo get instant call events, with Home Assistant
        setting their sandbox application's hangup URL. Options already set are kept.
        """
        base = "/api/config/config_entries/options/flow"
        flow = self.call("POST", base, {"handler": entry_id})
        current = {
            field["name"]: (field.get("description") or {}).get("suggested_value")
            for field in flow["data_schema"]
        }
        if all(current.get(key) == value for key, value in wanted.items()):
            self.call("DELETE", f"{base}/{flow['flow_id']}")
            return
        options = {name: given for name, given in current.items() if given is not None}
        result = self.call("POST", f"{base}/{flow['flow_id']}", options | wanted)
        if result.get("type") != "create_entry":
            raise SystemExit(
                f"Setting the options {', '.join(wanted)} failed: {result}"
            )

    def callback_url(self, entry_id: str) -> str:
        """Return the account's callback URL, as its options form shows it."""
        base = "/api/config/config_entries/options/flow"
        flow = self.call("POST", base, {"handler": entry_id})
        self.call("DELETE", f"{base}/{flow['flow_id']}")
        return str(flow["description_placeholders"]["callback_url"])

    def set_sandbox_options(self, entry_ids: dict[str, str], sandbox_url: str) -> None:
        """Set the options of the sandbox accounts (by provider title) that are there.

        The Bland AI account lists its organization's live calls; every account whose
        provider sends signed callbacks gets instant call events (scripts/bench --push
        measures what is set here).
        """
        for title, options in sandbox_options(sandbox_url):
            if title in entry_ids:
                self.set_options(entry_ids[title], options)
        if "Bland AI" in entry_ids:
            paste_bland_webhook(sandbox_url, self.callback_url(entry_ids["Bland AI"]))

    def add_sandbox_destinations(self) -> None:
        """Give each account without destinations two, through the real subentry flow.

        An account that has destinations keeps them (a second start keeps what the UI
        changed).
        """
        for entry in self._entries():
            if not entry["num_subentries"]:
                for name, number in sandbox_destinations(entry["title"]):
                    self._add_destination(entry["entry_id"], name, number)

    def destinations(self) -> dict[str, list[str]]:
        """Return each account's destination names as Home Assistant has them now, by title."""
        with WebSocket(self.url, self.token or "") as websocket:
            return {
                entry["title"]: [
                    subentry["title"]
                    for subentry in websocket.call(
                        "config_entries/subentries/list", entry_id=entry["entry_id"]
                    )
                    if subentry["subentry_type"] == "destination"
                ]
                for entry in self._entries()
            }

    def _add_destination(self, entry_id: str, name: str, number: str) -> None:
        base = "/api/config/config_entries/subentries/flow"
        flow = self.call("POST", base, {"handler": [entry_id, "destination"]})
        fields = {field["name"] for field in flow["data_schema"]}
        # A provider that takes SIP URIs too asks for a "number_or_sip_uri".
        [number_field] = fields & {"number", "number_or_sip_uri"}
        form: dict[str, Any] = {"name": name, number_field: number}
        if "transfer_url" in fields:
            # The form's section of a URL destination is sent even when left closed.
            form["transfer_url"] = {}
        result = self.call("POST", f"{base}/{flow['flow_id']}", form)
        if result.get("type") != "create_entry":
            raise SystemExit(f"Adding the destination {name} failed: {result}")

    def forget_generated_dashboard(self) -> bool:
        """Let Home Assistant generate the Overview: remove one an older version saved.

        The generated Overview names each entity as Home Assistant does, so a renamed
        destination, or one added in the UI, shows there as it is. An Overview this
        script saved (before) fixed each button's label; one saved in the UI is kept.
        Return whether one was removed.
        """
        with WebSocket(self.url, self.token or "") as websocket:
            saved = websocket.call("lovelace/config", url_path=None, allow_error=True)
            if not saved or saved.get("title") != GENERATED_DASHBOARD_TITLE:
                return False
            websocket.call("lovelace/config/delete", url_path=None)
        return True


# Two destinations per sandbox account, by the title's provider (unique names, so a
# voice command needs no account); any other provider gets two numbers of its own.
SANDBOX_DESTINATIONS = {
    "Vobiz": (("Reception", "+14155550100"), ("Sales", "+14155550101")),
    "Bland AI": (("On-call", "+14155550102"), ("Front desk", "+14155550103")),
    "Twilio": (("Billing", "+14155550104"), ("Support", "+14155550105")),
    "Telnyx": (("Warehouse", "+13125550110"), ("PBX", "sip:reception@pbx.example.com")),
    "Plivo": (("Dispatch", "+14155550108"), ("Helpdesk", "+14155550109")),
}


def sandbox_destinations(title: str) -> tuple[tuple[str, str], ...]:
    """Return the (name, number) of the two destinations an account's title gets."""
    provider = title.split(" (", maxsplit=1)[0]
    return SANDBOX_DESTINATIONS.get(
        provider,
        ((f"{provider} desk", "+14155550106"), (f"{provider} mobile", "+14155550107")),
    )


# The title of the Overview older versions of this script saved.
GENERATED_DASHBOARD_TITLE = "Call Transfer dev"


class WebSocket:
    """A minimal client of Home Assistant's websocket API (text frames, one at a time)."""

    def __init__(self, url: str, token: str) -> None:
        """Connect to the websocket API of the Home Assistant at ``url``."""
        parts = urllib.parse.urlsplit(url)
        self._socket = socket.create_connection(
            (parts.hostname, parts.port or 80), timeout=30
        )
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        self._socket.sendall(
            (
                "GET /api/websocket HTTP/1.1\r\n"
                f"Host: {parts.netloc}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self._socket.recv(1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise SystemExit(f"No websocket at {url}: {head!r}")
        self._id = 0
        self.receive()  # auth_required
        self.send({"type": "auth", "access_token": token})
        if self.receive().get("type") != "auth_ok":
            raise SystemExit("The websocket API refused the access token")

    def __enter__(self) -> Self:
        """Use it in a with block, which closes it."""
        return self

    def __exit__(self, *_: object) -> None:
        """Close the connection."""
        self._socket.close()

    def call(self, command: str, *, allow_error: bool = False, **data: Any) -> Any:
        """Send one command and return its result (None for an allowed error)."""
        self._id += 1
        self.send({"id": self._id, "type": command, **data})
        while (message := self.receive()).get("id") != self._id:
            pass
        if message.get("success"):
            return message.get("result")
        if allow_error:
            return None
        raise SystemExit(f"{command} failed: {message.get('error')}")

    def send(self, message: dict[str, Any]) -> None:
        """Send a JSON message as one masked text frame."""
        payload = json.dumps(message).encode()
        mask = secrets.token_bytes(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x81, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, length)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self._socket.sendall(header + mask + masked)

    def receive(self) -> dict[str, Any]:
        """Receive one JSON message (a text frame, possibly in fragments)."""
        payload = b""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read(8))
            payload += self._read(length)
            if first & 0x80:  # the final fragment
                message: dict[str, Any] = json.loads(payload)
                return message

    def _read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            if not (chunk := self._socket.recv(size - len(data))):
                raise SystemExit("The websocket connection closed")
            data += chunk
        return data


def destinations_help(sandbox_url: str, destinations: dict[str, list[str]]) -> str:
    """Say where the destinations (each account's, by title), their buttons and the voice command are."""
    port = str(urllib.parse.urlsplit(sandbox_url).port)
    listed = "\n".join(
        f"  {title}: {', '.join(names) or '(none)'}"
        for title, names in destinations.items()
    )
    return f"""
Destinations (each account's page: add, edit, remove) and their buttons, on the Overview
(Home Assistant's own: each entity by its name, so renamed and new destinations show):
{listed}
Each account's "Call to transfer" lists its live calls by caller (the last four digits);
a destination's button transfers the call chosen there, or the only live call (with two
live and none chosen, it says so and sends nothing). Calls to try it with:
  {sandbox_command("call", "start", "--port", port, "--provider", "vobiz", "--from", "+14155550142")}
The action takes a name too: destination: Reception.
Assist (the speech bubble, top right of the Overview): "transfer the call to reception",
"transfer the call from 0142 to reception", "how many calls are live".
"""


def live_calls_help(sandbox_url: str, bland_entry_id: str) -> str:
    """Say how to watch live calls, transfer one without knowing its id, and fake an outage."""
    port = str(urllib.parse.urlsplit(sandbox_url).port)
    return f"""
Live calls: each account's device (Settings -> Devices & services -> Call Transfer)
shows an "Active calls" sensor and a "Calls" event entity, and offers device triggers
(a call started or ended, a transfer succeeded or failed) to automations. Start or end
sandbox calls from another shell, in this folder, while it runs:

  {sandbox_command("call", "start", "--port", port, "--provider", "bland", "--from", "+14155550142")}
  {sandbox_command("call", "list", "--port", port)}
  {sandbox_command("call", "end", "--port", port, "CALL_ID")}

Take a provider down (its API answers 503; --drop aborts connections instead), and back:

  {sandbox_command("outage", "start", "--port", port, "--provider", "bland")}
  {sandbox_command("outage", "end", "--port", port)}

Transfer the call chosen under an account's "Call to transfer" (or its only live call)
without a call id; "call_transfer.list_calls" lists every account's calls:

  action: call_transfer.transfer
  data:
    config_entry_id: {bland_entry_id}
    to: "+14155550100"
"""


def push_options(
    application_id: str, option: str = "application_id", **extra: Any
) -> dict[str, Any]:
    """Return the options of instant call events, set up by Home Assistant on the application.

    ``option`` names what the URL is set on (an application; Twilio: a phone number);
    ``extra`` adds what verifies the callbacks, or answer-first (Vobiz, Plivo, Twilio).
    """
    return {"push": True, option: application_id, "push_register": True, **extra}


def paste_bland_webhook(sandbox_url: str, callback_url: str) -> None:
    """Set the callback URL as the sandbox's Bland inbound number's webhook.

    As a Bland user pastes it in the Dev Portal (Bland's API cannot set only the URL):
    over the running sandbox's control plane (``POST /_sandbox/inbound_webhooks``).
    """
    request = urllib.request.Request(  # noqa: S310 - the URL is the local sandbox's
        f"{sandbox_url}/_sandbox/inbound_webhooks",
        data=json.dumps({"number": SANDBOX_BLAND_NUMBER, "url": callback_url}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass


def sandbox_options(sandbox_url: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Return the options each sandbox account gets, by its provider's title."""
    return (
        (
            "Bland AI",
            {
                "org_id": SANDBOX_BLAND_ORG_ID,
                "push": True,
                "webhook_signing_secret": SANDBOX_BLAND_SIGNING_SECRET,
            },
        ),
        (
            "Telnyx",
            push_options(
                SANDBOX_TELNYX_CONNECTION_ID,
                "connection_id",
                webhook_public_key=sandbox_public_key(
                    sandbox_url, SANDBOX_TELNYX_CONNECTION_ID
                ),
            ),
        ),
        ("Vobiz", push_options(SANDBOX_VOBIZ_APP_ID, push_answer_first=True)),
        ("Plivo", push_options(SANDBOX_PLIVO_APP_ID, push_answer_first=True)),
        (
            "Twilio",
            push_options(
                SANDBOX_TWILIO_NUMBER_SID, "phone_number_sid", push_answer_first=True
            ),
        ),
    )


def sandbox_public_key(sandbox_url: str, connection_id: str) -> str:
    """Return the public key the sandbox's Telnyx account with ``connection_id`` signs with.

    Asked of the running sandbox's control plane (``GET /_sandbox/public_keys``).
    """
    with urllib.request.urlopen(  # noqa: S310 - the URL is the local sandbox's
        f"{sandbox_url}/_sandbox/public_keys", timeout=30
    ) as response:
        keys = json.load(response)["public_keys"]
    return next(
        str(key["public_key"])
        for key in keys
        if key["provider"] == "telnyx" and connection_id in key["connections"]
    )


def push_help(sandbox_url: str) -> str:
    """Say what instant call events do in the sandbox, and how to forge callbacks."""
    port = str(urllib.parse.urlsplit(sandbox_url).port)
    return f"""
Instant call events: the Vobiz, Plivo, Twilio, Telnyx and Bland AI accounts receive the
sandbox's signed callbacks (Home Assistant set each sandbox application's hangup URL, and with
answer-first its answer URL: a call's start is answered with a Redirect to the old one;
the Twilio number's status callback and, answering first, its voice URL: calls to
+14155550111 report their start and end, and the
Telnyx application's webhook URL; the Telnyx account checks them with the sandbox's
public key; the Bland account's callback URL is pasted as the webhook of its inbound number
{SANDBOX_BLAND_NUMBER}, whose calls report their end, checked with the sandbox's signing
secret). A call ending fires call_transfer_call_ended with source: push at once (on
Vobiz, Plivo, Twilio and Telnyx its start too); a transfer to a number fires call_transfer_transfer_answered (or
_unanswered; not on Bland). Make a number busy, or every Vobiz (or Telnyx) callback forged (refused:
the account's diagnostics count them; 5 raise a repair issue):

  {sandbox_command("callbacks", "number", "--port", port, "+14155550100", "busy")}
  {sandbox_command("callbacks", "fault", "--port", port, "--provider", "vobiz", "forged")}
  {sandbox_command("callbacks", "fault", "--port", port, "--provider", "vobiz", "none")}
"""


def free_port() -> int:
    """Return a free TCP port on loopback, for an instance of its own."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hass_command(config_dir: Path) -> list[str]:
    """Return the command that runs Home Assistant on a prepared config directory.

    With this Python, and without installing requirements: they are all pinned.
    """
    return [
        sys.executable,
        "-m",
        "homeassistant",
        "--config",
        str(config_dir),
        "--skip-pip",
    ]


def prepare(config_dir: Path) -> None:
    """Before Home Assistant starts: included files, blueprints, sentences, onboarding.

    The included files are created empty where missing, the project's blueprints and
    Assist's custom sentences (config/custom_sentences) are installed (linked, so edits
    show after a reload), and on a fresh instance the onboarding steps the owner need
    not click through are marked done.
    """
    for name, empty in INCLUDED_FILES.items():
        if not (config_dir / name).exists():
            (config_dir / name).write_text(empty)
    # Each file is linked on its own: Home Assistant's blueprint list does not look
    # into linked folders. The dev configuration (config/) has the sentences already.
    for source, folder in (
        (REPO_ROOT / "blueprints", "*/*/*.yaml"),
        (REPO_ROOT / "config" / "custom_sentences", "*/*.yaml"),
    ):
        for linked in sorted(source.glob(folder)):
            installed = config_dir / source.name / linked.relative_to(source)
            if not installed.exists():
                installed.parent.mkdir(parents=True, exist_ok=True)
                installed.symlink_to(linked)
    onboarding = config_dir / ".storage" / "onboarding"
    if onboarding.exists():
        return
    onboarding.parent.mkdir(parents=True, exist_ok=True)
    onboarding.write_text(
        json.dumps(
            {
                "version": 4,
                "minor_version": 1,
                "key": "onboarding",
                "data": {"done": list(PRESET_ONBOARDING_STEPS)},
            }
        )
    )


def main() -> None:
    """Prepare the instance, or connect it, and print what to do next."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    prepare_command = commands.add_parser(
        "prepare", help="before Home Assistant starts"
    )
    prepare_command.add_argument("--config", type=Path, default=Path("config"))
    connect = commands.add_parser("connect", help="once Home Assistant is starting")
    connect.add_argument("--hass", default="http://127.0.0.1:8123")
    connect.add_argument("--sandbox", default="http://127.0.0.1:8765")
    connect.add_argument("--timeout", type=float, default=180)
    connect.add_argument("--token-file", type=Path, help="write the access token here")
    connect.add_argument(
        "--no-accounts",
        action="store_true",
        help="only onboard and log in; add no sandbox account",
    )
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.config)
        return

    api = HomeAssistantApi(args.hass)
    api.wait_until_up(args.timeout)
    api.onboard_or_login()
    if args.token_file:
        args.token_file.write_text(api.token or "")
    if args.no_accounts:
        print(f"Home Assistant is ready at {api.url}  (login: {USERNAME} / {PASSWORD})")
        return
    entry_ids = api.connect_sandbox_accounts(args.sandbox.rstrip("/"))
    api.set_sandbox_options(entry_ids, args.sandbox.rstrip("/"))
    api.add_sandbox_destinations()
    api.forget_generated_dashboard()
    print(
        f"""
Home Assistant is ready at {api.url}  (login: {USERNAME} / {PASSWORD})
Sandbox accounts are connected (Settings -> Devices & services -> Call Transfer).

Try it: Developer tools -> Actions -> "Call Transfer: Transfer call", in YAML mode:

  action: call_transfer.transfer
  data:
    config_entry_id: {entry_ids.get("Bland AI", "<the Bland AI account>")}
    call_id: {SANDBOX_BLAND_CALL_ID}
    to: "+14155550100"

  action: call_transfer.transfer
  data:
    config_entry_id: {entry_ids.get("Vobiz", "<the Vobiz account>")}
    call_id: {SANDBOX_VOBIZ_CALL_ID}
    to: "+14155550100"

  action: call_transfer.transfer
  data:
    config_entry_id: {entry_ids.get("Plivo", "<the Plivo account>")}
    call_id: {SANDBOX_PLIVO_CALL_ID}
    to: "+14155550100"

The Vobiz and Plivo transfers to a number make the sandbox fetch the Dial XML from Home Assistant
(its external URL, on loopback); this terminal then logs what the call does, such as
"dialing +14155550100". Set a caller id and an announcement under the Vobiz account's
Configure (options). To point a leg at XML of your own, use aleg_url instead of to.

  action: call_transfer.transfer
  data:
    config_entry_id: {entry_ids.get("Twilio", "<the Twilio account>")}
    call_id: {SANDBOX_TWILIO_CALL_SID}
    to: "+14155550100"

  action: call_transfer.transfer
  data:
    config_entry_id: {entry_ids.get("Telnyx", "<the Telnyx account>")}
    call_id: {SANDBOX_TELNYX_CALL_ID}
    to: sip:reception@pbx.example.com

Watch the result under Developer tools -> Events (listen to call_transfer_succeeded),
or on the account's "Transfers" entity.
{live_calls_help(args.sandbox, entry_ids.get("Bland AI", "<the Bland AI account>"))}
{push_help(args.sandbox)}
{destinations_help(args.sandbox, api.destinations())}""",
        flush=True,
    )


if __name__ == "__main__":
    main()
