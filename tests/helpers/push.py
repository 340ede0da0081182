"""Fixtures for push tests: a Vobiz, Plivo or Twilio account whose callbacks reach Home Assistant.

Home Assistant's HTTP app is served on a loopback port and made the external URL (the
harness's test server), so the sandbox sends its signed callbacks over real HTTP, as
the provider would; the account's options turn push on and let Home Assistant set the
callback URL at the provider: the sandbox application's hangup URL (Vobiz, Plivo), the
sandbox number's status callback (Twilio).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

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
from sandbox import (
    SANDBOX_PLIVO_APP_ID,
    SANDBOX_TWILIO_NUMBER_SID,
    SANDBOX_VOBIZ_APP_ID,
    PlivoAccount,
    Sandbox,
    SandboxApplication,
    SandboxCall,
    TwilioAccount,
    TwilioNumber,
    VobizAccount,
)
from sandbox.signing import new_nonce, plivo_v3, twilio, vobiz_v2, vobiz_v3
from sandbox.twilio_callbacks import ended_params
from tests.helpers.entries import add_entry
from tests.helpers.provider_cases import PROVIDER_CASES, ProviderCase

PUSH_PROVIDERS: Final = ("vobiz", "plivo", "twilio")
PLIVO_STYLE: Final = ("vobiz", "plivo")
# What each provider's registration sets the callback URL on: the option, its value.
TARGETS: Final = {
    "vobiz": ("application_id", SANDBOX_VOBIZ_APP_ID),
    "plivo": ("application_id", SANDBOX_PLIVO_APP_ID),
    "twilio": ("phone_number_sid", SANDBOX_TWILIO_NUMBER_SID),
}
APPS: Final = {"vobiz": SANDBOX_VOBIZ_APP_ID, "plivo": SANDBOX_PLIVO_APP_ID}
SCAN_INTERVAL: Final = timedelta(seconds=10)
FORM: Final = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class PushAccount:
    """A Vobiz, Plivo or Twilio account in the test's Home Assistant, receiving its callbacks."""

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
    def account(self) -> PlivoAccount | VobizAccount | TwilioAccount:
        """The sandbox account."""
        account = self.sandbox.accounts[self.case.provider][self.case.account]
        assert isinstance(account, PlivoAccount | VobizAccount | TwilioAccount)
        return account

    @property
    def app(self) -> SandboxApplication:
        """The sandbox account's application (Vobiz, Plivo: its numbers' calls run on it)."""
        account = self.account
        assert not isinstance(account, TwilioAccount)
        return account.applications[APPS[self.provider]]

    @property
    def number(self) -> TwilioNumber:
        """The sandbox account's phone number (Twilio: the calls started here ring it)."""
        account = self.account
        assert isinstance(account, TwilioAccount)
        return account.numbers[SANDBOX_TWILIO_NUMBER_SID]

    @property
    def target_option(self) -> str:
        """The option naming what registration sets the callback URL on."""
        return TARGETS[self.provider][0]

    @property
    def target(self) -> str:
        """The sandbox's application id or number SID that registration sets it on."""
        return TARGETS[self.provider][1]

    @property
    def registered(self) -> tuple[str, str]:
        """The URL and method at the provider where registration sets the callback URL."""
        if self.provider == "twilio":
            return self.number.status_callback, self.number.status_callback_method
        return self.app.hangup_url, self.app.hangup_method

    @registered.setter
    def registered(self, value: tuple[str, str]) -> None:
        if self.provider == "twilio":
            self.number.status_callback, self.number.status_callback_method = value
        else:
            self.app.hangup_url, self.app.hangup_method = value

    @property
    def answer_url(self) -> str:
        """Where the provider asks how to answer the calls (never registration's)."""
        if self.provider == "twilio":
            return self.number.voice_url
        return self.app.answer_url

    @property
    def target_path(self) -> str:
        """A fragment of the path of the API resource registration sets the URL on."""
        return (
            "/IncomingPhoneNumbers/" if self.provider == "twilio" else "/Application/"
        )

    @property
    def registered_url(self) -> str:
        """The URL at the provider where registration sets the callback URL."""
        return self.registered[0]

    @property
    def callback_url(self) -> str:
        """The callback URL Home Assistant set at the provider."""
        assert self.registered_url.startswith("http://127.0.0.1:")
        return self.registered_url

    async def set_up(self, **options: Any) -> None:
        """Set the account up with push on and its callback URL set (unless ``options`` say).

        An option given as None is left out; ``target`` stands for the option naming
        what registration sets the URL on.
        """
        given = {
            "scan_interval": 10,
            "push": True,
            "push_register": True,
            self.target_option: options.pop("target", self.target),
        } | options
        self.hass.config_entries.async_update_entry(
            self.entry,
            options={key: value for key, value in given.items() if value is not None},
        )
        await self.hass.config_entries.async_setup(self.entry.entry_id)
        await self.hass.async_block_till_done()

    async def start_call(self, **fields: str) -> SandboxCall:
        """Start a call on the account over the sandbox's control plane.

        On Twilio, by default to the account's number (whose status callback it reports to).
        """
        if self.provider == "twilio":
            fields = {"to": self.number.phone_number} | fields
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
        params: dict[str, str],
        *,
        url: str | None = None,
        token: str | None = None,
    ) -> dict[str, str]:
        """Return the signature headers the provider sends with ``params`` to ``url``."""
        url = url or self.callback_url
        token = token or self.account.auth_token
        nonce = new_nonce()
        if self.provider == "twilio":
            listed = {name: [value] for name, value in params.items()}
            return FORM | {"X-Twilio-Signature": twilio(token, url, listed)}
        if self.provider == "plivo":
            listed = {name: [value] for name, value in params.items()}
            return FORM | {
                "X-Plivo-Signature-V3": plivo_v3(token, "POST", url, listed, nonce),
                "X-Plivo-Signature-V3-Nonce": nonce,
            }
        return FORM | {
            "X-Vobiz-Signature-V3": vobiz_v3(token, url, nonce),
            "X-Vobiz-Signature-V3-Nonce": nonce,
            "X-Vobiz-Signature-V2": vobiz_v2(token, url, f"{nonce[:-1]}9"),
            "X-Vobiz-Signature-V2-Nonce": f"{nonce[:-1]}9",
        }

    async def post(
        self,
        headers: dict[str, str],
        body: bytes | dict[str, str],
        url: str | None = None,
    ) -> tuple[int, str]:
        """Send a request to the callback URL as anyone could; return the status and body."""
        data = urlencode(body).encode() if isinstance(body, dict) else body
        async with self.http.post(
            url or self.callback_url, data=data, headers=headers
        ) as response:
            return response.status, await response.text()

    def dial_report(self, call_id: str) -> dict[str, str]:
        """Return the Dial's attributes asking for the last transfer's outcome ({} if none).

        Of the Dial XML the transferred leg fetched (Vobiz, Plivo), of the TwiML the
        call was updated with (Twilio).
        """
        if self.provider != "twilio":
            return self.sandbox.leg_fetches[-1].report
        twiml = self.sandbox.calls[call_id].transfers[-1]["Twiml"]
        dial = ET.fromstring(twiml).find("Dial")  # noqa: S314 - our own
        assert dial is not None
        return {k: v for k, v in dial.attrib.items() if k in ("action", "method")}

    def dial_status(self, call_id: str, status: str) -> dict[str, str]:
        """Return the form of a Dial's final report about ``call_id``, as the provider sends it."""
        if self.provider == "twilio":
            return {"CallSid": call_id, "DialCallStatus": status}
        return {"DialStatus": status, "DialALegUUID": call_id}

    def hangup(self, call: SandboxCall) -> dict[str, str]:
        """Return the form of a hangup callback of a sandbox call, as the provider sends it."""
        if self.provider == "twilio":
            return ended_params(call)
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
