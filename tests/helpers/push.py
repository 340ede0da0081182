"""Fixtures for push tests: a Vobiz, Plivo or Telnyx account whose callbacks reach Home Assistant.

Home Assistant's HTTP app is served on a loopback port and made the external URL (the
harness's test server), so the sandbox sends its signed callbacks over real HTTP, as
the provider would; the account's options turn push on and let Home Assistant set the
sandbox application's callback URL (Vobiz and Plivo: its hangup URL; Telnyx: its
Call Control application's webhook URL, with the sandbox's public key as the option).
What differs between the providers (the body, the signature, what the URL is set on)
is here, so the tests read the same for each.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
from typing import Any, Final
from urllib.parse import urlencode

# Diagnostics imports it on its first request; its models are built when imported,
# which fails under the frozen clock (mashumaro looks datetime's class up by name).
import aiohasupervisor  # noqa: F401
import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.call_transfer.const import (
    EVENT_CALL_ENDED,
    EVENT_CALL_STARTED,
    EVENT_TRANSFER_ANSWERED,
    EVENT_TRANSFER_UNANSWERED,
)
from custom_components.call_transfer.providers import PROVIDERS
from sandbox import (
    SANDBOX_PLIVO_APP_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TELNYX_PUBLIC_KEY,
    SANDBOX_VOBIZ_APP_ID,
    PlivoAccount,
    Sandbox,
    SandboxApplication,
    SandboxCall,
    TelnyxAccount,
    TelnyxApplication,
    VobizAccount,
)
from sandbox.signing import new_nonce, plivo_v3, telnyx_ed25519, vobiz_v2, vobiz_v3
from sandbox.telnyx_webhooks import hangup_payload, webhook_body
from tests.helpers.entries import add_entry
from tests.helpers.provider_cases import PROVIDER_CASES, ProviderCase

PUSH_PROVIDERS: Final = ("vobiz", "plivo", "telnyx")
# The providers whose number transfers dial through Dial XML Home Assistant serves.
DIAL_XML_PROVIDERS: Final = ("vobiz", "plivo")
# What push registration sets the URL on, by provider: the option and its value.
APPS: Final = {
    "vobiz": SANDBOX_VOBIZ_APP_ID,
    "plivo": SANDBOX_PLIVO_APP_ID,
    "telnyx": SANDBOX_TELNYX_CONNECTION_ID,
}
REGISTRATION_OPTIONS: Final = {
    "vobiz": "application_id",
    "plivo": "application_id",
    "telnyx": "connection_id",
}
# The request path of what registration sets, as the sandbox serves it.
REGISTRATION_PATHS: Final = {
    "vobiz": "/Application/",
    "plivo": "/Application/",
    "telnyx": "/call_control_applications/",
}
SCAN_INTERVAL: Final = timedelta(seconds=10)
FORM: Final = {"Content-Type": "application/x-www-form-urlencoded"}
JSON: Final = {"Content-Type": "application/json"}
TELNYX_PUBLIC_KEY_OPTION: Final = "webhook_public_key"

# A callback's body: form fields (Vobiz, Plivo) or the raw JSON (Telnyx).
type Body = dict[str, str] | bytes


@dataclass
class PushAccount:
    """A Vobiz or Plivo account in the test's Home Assistant, receiving its callbacks."""

    hass: HomeAssistant
    sandbox: Sandbox
    freezer: FrozenDateTimeFactory
    case: ProviderCase
    entry: MockConfigEntry
    http: aiohttp.ClientSession
    started: list[Event]
    ended: list[Event]
    answered: list[Event]
    unanswered: list[Event]

    @property
    def provider(self) -> str:
        """The account's provider id."""
        return self.case.provider

    @property
    def json(self) -> bool:
        """Whether the provider's callbacks are JSON (Telnyx), not form fields."""
        return self.provider == "telnyx"

    @property
    def reports_call_starts(self) -> bool:
        """Whether the provider's callbacks report calls starting (Telnyx's do)."""
        push = PROVIDERS[self.provider].push
        return push is not None and push.reports_call_starts

    @property
    def account(self) -> PlivoAccount | VobizAccount | TelnyxAccount:
        """The sandbox account."""
        account = self.sandbox.accounts[self.case.provider][self.case.account]
        assert isinstance(account, PlivoAccount | VobizAccount | TelnyxAccount)
        return account

    @property
    def app(self) -> SandboxApplication:
        """The Vobiz or Plivo account's application (its numbers' calls run on it)."""
        account = self.account
        assert isinstance(account, PlivoAccount | VobizAccount)
        return account.applications[APPS[self.provider]]

    @property
    def telnyx_app(self) -> TelnyxApplication:
        """The Telnyx account's Call Control application (its calls run on it)."""
        account = self.account
        assert isinstance(account, TelnyxAccount)
        return account.applications[APPS[self.provider]]

    @property
    def target(self) -> tuple[str, str]:
        """What registration sets: the hangup URL and method, or the webhook URL and API version."""
        if self.json:
            app = self.telnyx_app
            return app.webhook_event_url, app.webhook_api_version
        return self.app.hangup_url, self.app.hangup_method

    def set_target(self, url: str, second: str) -> None:
        """Set what registration sets, as the user had it (``second``: method or version)."""
        if self.json:
            self.telnyx_app.webhook_event_url = url
            self.telnyx_app.webhook_api_version = second
        else:
            self.app.hangup_url, self.app.hangup_method = url, second

    @property
    def callback_url(self) -> str:
        """The callback URL Home Assistant set at the application."""
        url = self.target[0]
        assert url.startswith("http://127.0.0.1:")
        return url

    @property
    def unsigned(self) -> dict[str, str]:
        """The headers of a callback without a signature."""
        return JSON if self.json else FORM

    async def set_up(self, **options: Any) -> None:
        """Set the account up with push on and its callback URL set (unless ``options`` say).

        An option given as None is left out.
        """
        given = {
            "scan_interval": 10,
            "push": True,
            "push_register": True,
            REGISTRATION_OPTIONS[self.provider]: APPS[self.provider],
        }
        if self.json:
            given[TELNYX_PUBLIC_KEY_OPTION] = SANDBOX_TELNYX_PUBLIC_KEY
        given |= options
        self.hass.config_entries.async_update_entry(
            self.entry,
            options={key: value for key, value in given.items() if value is not None},
        )
        await self.hass.config_entries.async_setup(self.entry.entry_id)
        await self.hass.async_block_till_done()

    async def start_call(self, **fields: str) -> SandboxCall:
        """Start a call on the account over the sandbox's control plane."""
        async with self.http.post(
            f"{self.sandbox.control_url}/calls",
            json={"provider": self.provider, **fields},
        ) as response:
            assert response.status == 201
            return self.sandbox.calls[(await response.json())["call_id"]]

    async def settle(self) -> None:
        """Wait for the sandbox's fetches and callbacks, and what Home Assistant does of them."""
        await self.sandbox.fetches_settled()
        await self.sandbox.callbacks_settled()
        await self.hass.async_block_till_done(wait_background_tasks=True)

    async def poll(self, after: timedelta = SCAN_INTERVAL) -> None:
        """Let ``after`` pass, so the polls due by then run, and wait for them."""
        self.freezer.tick(after)
        async_fire_time_changed(self.hass)
        await self.hass.async_block_till_done(wait_background_tasks=True)

    def signed(
        self,
        body: Body,
        *,
        url: str | None = None,
        token: str | None = None,
        timestamp: str | None = None,
    ) -> dict[str, str]:
        """Return the signature headers the provider sends with ``body`` to ``url``.

        ``token`` signs with another secret (Telnyx: another key pair); ``timestamp``
        (Telnyx) is the one signed, by default now.
        """
        if isinstance(body, bytes):
            account = self.account
            assert isinstance(account, TelnyxAccount)
            seed = account.signing_seed
            if token is not None:
                seed = hashlib.sha256(token.encode()).digest()
            timestamp = timestamp or str(int(self.sandbox_now().timestamp()))
            return JSON | {
                "telnyx-signature-ed25519": telnyx_ed25519(seed, timestamp, body),
                "telnyx-timestamp": timestamp,
            }
        url = url or self.callback_url
        account = self.account
        assert isinstance(account, PlivoAccount | VobizAccount)
        auth_token = token or account.auth_token
        nonce = new_nonce()
        if self.provider == "plivo":
            listed = {name: [value] for name, value in body.items()}
            return FORM | {
                "X-Plivo-Signature-V3": plivo_v3(
                    auth_token, "POST", url, listed, nonce
                ),
                "X-Plivo-Signature-V3-Nonce": nonce,
            }
        return FORM | {
            "X-Vobiz-Signature-V3": vobiz_v3(auth_token, url, nonce),
            "X-Vobiz-Signature-V3-Nonce": nonce,
            "X-Vobiz-Signature-V2": vobiz_v2(auth_token, url, f"{nonce[:-1]}9"),
            "X-Vobiz-Signature-V2-Nonce": f"{nonce[:-1]}9",
        }

    @staticmethod
    def sandbox_now() -> datetime:
        """Now, as the sandbox and Home Assistant see it (the test's clock)."""
        return datetime.now(UTC)

    def forgeries(self, body: Body) -> dict[str, tuple[dict[str, str], Body]]:
        """Return requests that only someone without the secret would send, by name."""
        forged: dict[str, tuple[dict[str, str], Body]] = {
            "wrong key": (self.signed(body, token="guessed-token"), body),
            "missing headers": (self.unsigned, body),
        }
        if isinstance(body, bytes):
            signed = self.signed(body)
            now = int(self.sandbox_now().timestamp())
            stale = str(now - 301)
            return forged | {
                "body altered": (signed, body.replace(b"call.hangup", b"call.hungup")),
                "timestamp altered": (
                    signed | {"telnyx-timestamp": str(now + 1)},
                    body,
                ),
                "stale timestamp": (self.signed(body, timestamp=stale), body),
                "signature without timestamp": (
                    {k: v for k, v in signed.items() if k != "telnyx-timestamp"},
                    body,
                ),
                "signature not base64": (
                    signed | {"telnyx-signature-ed25519": "!" * 88},
                    body,
                ),
                "signature too short": (
                    signed
                    | {
                        "telnyx-signature-ed25519": signed["telnyx-signature-ed25519"][
                            4:
                        ]
                    },
                    body,
                ),
                "timestamp not a number": (
                    signed | {"telnyx-timestamp": "soon"},
                    body,
                ),
            }
        other_url = self.callback_url.replace("127.0.0.1", "localhost")
        signed = self.signed(body)
        forged |= {
            "URL altered": (self.signed(body, url=other_url), body),
            "nonce without signature": (
                {k: v for k, v in signed.items() if "Signature" not in k}
                | {k: v for k, v in signed.items() if k.endswith("Nonce")},
                body,
            ),
        }
        if self.provider == "plivo":
            # Plivo signs the body: another call's id does not verify.
            forged["body altered"] = (signed, body | {"CallUUID": "other"})
        return forged

    async def post(
        self,
        headers: dict[str, str],
        body: Body,
        url: str | None = None,
    ) -> tuple[int, str]:
        """Send a request to the callback URL as anyone could; return the status and body."""
        data = urlencode(body).encode() if isinstance(body, dict) else body
        async with self.http.post(
            url or self.callback_url, data=data, headers=headers
        ) as response:
            return response.status, await response.text()

    def hangup(self, call: SandboxCall, url: str | None = None) -> Body:
        """Return the body of a hangup callback of a sandbox call, as the provider sends it."""
        if self.json:
            return webhook_body(
                "call.hangup", hangup_payload(call), url or "http://127.0.0.1/"
            )
        return {
            "Event": "Hangup",
            "CallUUID": call.call_id,
            "From": call.from_number,
            "To": call.to_number,
            "Direction": call.direction,
            "CallStatus": "completed",
            "Duration": "2",
        }


@pytest.fixture(params=PUSH_PROVIDERS)
def push_provider(request: pytest.FixtureRequest) -> str:
    """Run a test once per provider whose callbacks Home Assistant verifies."""
    provider: str = request.param
    return provider


@pytest.fixture
async def diagnostics_served(hass: HomeAssistant) -> None:
    """Set diagnostics up before Home Assistant's HTTP app is served (it adds routes)."""
    assert await async_setup_component(hass, "diagnostics", {})


@pytest.fixture
async def push(
    hass: HomeAssistant,
    diagnostics_served: None,
    hass_url: str,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    push_provider: str,
) -> AsyncGenerator[PushAccount]:
    """Return the provider's account with Home Assistant reachable, added but not set up."""
    case = PROVIDER_CASES[push_provider]
    async with aiohttp.ClientSession() as http:
        yield PushAccount(
            hass=hass,
            sandbox=sandbox,
            freezer=freezer,
            case=case,
            entry=add_entry(hass, sandbox, push_provider),
            http=http,
            started=async_capture_events(hass, EVENT_CALL_STARTED),
            ended=async_capture_events(hass, EVENT_CALL_ENDED),
            answered=async_capture_events(hass, EVENT_TRANSFER_ANSWERED),
            unanswered=async_capture_events(hass, EVENT_TRANSFER_UNANSWERED),
        )
