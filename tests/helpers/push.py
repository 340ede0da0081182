"""Fixtures for push tests: an account of each push provider, its callbacks reaching Home Assistant.

Home Assistant's HTTP app is served on a loopback port and made the external URL (the
harness's test server), so the sandbox sends its signed callbacks over real HTTP, as
the provider would; the account's options turn push on and let Home Assistant set the
callback URL at the provider (Vobiz and Plivo: the application's hangup URL; Twilio:
the number's status callback; Telnyx: its Call Control application's webhook URL, with
the sandbox's public key as the option). Bland's URL is pasted as its user does: read
from the options form, set as the sandbox inbound number's webhook (with the sandbox's
signing secret as the option). The providers are those whose client declares ``push``;
what differs between them (the body, the signature, what the URL is set on) is here,
so the tests read the same for each.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import hashlib
from typing import Any, Final
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

# Diagnostics imports it on its first request; its models are built when imported,
# which fails under the frozen clock (mashumaro looks datetime's class up by name).
import aiohasupervisor  # noqa: F401
import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
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
from custom_components.call_transfer.providers import PROVIDERS, NumberTransfer
from sandbox import (
    SANDBOX_BLAND_NUMBER,
    SANDBOX_BLAND_SIGNING_SECRET,
    SANDBOX_PLIVO_APP_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TELNYX_PUBLIC_KEY,
    SANDBOX_TWILIO_NUMBER_SID,
    SANDBOX_VOBIZ_APP_ID,
    BlandAccount,
    PlivoAccount,
    Sandbox,
    SandboxApplication,
    SandboxCall,
    TelnyxAccount,
    TelnyxApplication,
    TwilioAccount,
    TwilioNumber,
    VobizAccount,
)
from sandbox.bland_webhooks import post_call_record, webhook_body as bland_body
from sandbox.signing import (
    bland,
    new_nonce,
    plivo_v3,
    telnyx_ed25519,
    twilio,
    vobiz_v2,
    vobiz_v3,
)
from sandbox.telnyx_webhooks import hangup_payload, webhook_body
from sandbox.twilio_callbacks import ended_params
from tests.helpers.entries import add_entry
from tests.helpers.provider_cases import PROVIDER_CASES, ProviderCase

# Every provider whose client declares push (each needs its entries below).
PUSH_PROVIDERS: Final = tuple(
    provider_id for provider_id, client in PROVIDERS.items() if client.push is not None
)
# The providers whose number transfers dial through Dial XML Home Assistant serves.
DIAL_XML_PROVIDERS: Final = tuple(
    provider_id
    for provider_id in PUSH_PROVIDERS
    if PROVIDERS[provider_id].capabilities.number_transfer is NumberTransfer.DIAL_URL
)
# The providers whose transfer's <Dial> reports its outcome to its ``action`` URL, a
# form (Vobiz and Plivo: the Dial XML Home Assistant serves; Twilio: the TwiML sent).
DIAL_ACTION_PROVIDERS: Final = ("vobiz", "plivo", "twilio")
# The providers whose sandbox can report a call's start to Home Assistant (Vobiz and
# Plivo: the application's answer URL pointed at it; Twilio: the number's voice URL;
# Telnyx's webhooks do). Bland's post-call webhook tells only ends.
CALL_START_PROVIDERS: Final = ("vobiz", "plivo", "twilio", "telnyx")
# The providers whose client can answer calls first (``push.answer_first_option``):
# registration points the calls' answer URL (Twilio: the number's voice URL) at
# Home Assistant too.
ANSWER_FIRST_PROVIDERS: Final = tuple(
    provider_id
    for provider_id in PUSH_PROVIDERS
    if (push := PROVIDERS[provider_id].push) is not None and push.answer_first_option
)
# The providers whose client sets the callback URL itself (``registration_option``);
# Bland's is pasted by hand.
REGISTERING_PROVIDERS: Final = tuple(
    provider_id
    for provider_id in PUSH_PROVIDERS
    if (push := PROVIDERS[provider_id].push) is not None and push.registration_option
)
# The providers whose callbacks tell whether a transferred-to number answered.
OUTCOME_PROVIDERS: Final = tuple(
    provider_id
    for provider_id in PUSH_PROVIDERS
    if (push := PROVIDERS[provider_id].push) is not None
    and push.reports_transfer_outcomes
)
# What verifies each provider's callbacks, where it is an option: its sandbox value.
VERIFICATION_VALUES: Final = {
    "telnyx": SANDBOX_TELNYX_PUBLIC_KEY,
    "bland": SANDBOX_BLAND_SIGNING_SECRET,
}
# What push registration sets the URL on, by provider: its value (the option is the
# client's ``push.registration_option``).
APPS: Final = {
    "vobiz": SANDBOX_VOBIZ_APP_ID,
    "plivo": SANDBOX_PLIVO_APP_ID,
    "twilio": SANDBOX_TWILIO_NUMBER_SID,
    "telnyx": SANDBOX_TELNYX_CONNECTION_ID,
}
REGISTRATION_OPTIONS: Final = {
    provider_id: str(push.registration_option)
    for provider_id, client in PROVIDERS.items()
    if (push := client.push) is not None and push.registration_option
}
# The request path of what registration sets, as the sandbox serves it.
REGISTRATION_PATHS: Final = {
    "vobiz": "/Application/",
    "plivo": "/Application/",
    "twilio": "/IncomingPhoneNumbers/",
    "telnyx": "/call_control_applications/",
}
# Another application (Twilio: number) of the account, that registration can move to.
OTHER_TARGETS: Final = {
    "vobiz": "999000",
    "plivo": "999000",
    "twilio": f"PN{'9' * 32}",
    "telnyx": "999000",
}
SCAN_INTERVAL: Final = timedelta(seconds=10)
FORM: Final = {"Content-Type": "application/x-www-form-urlencoded"}
JSON: Final = {"Content-Type": "application/json"}

# A callback's body: form fields (Vobiz, Plivo, Twilio) or the raw JSON (Telnyx, Bland).
type Body = dict[str, str] | bytes


@dataclass
class PushAccount:
    """A push provider's account in the test's Home Assistant, receiving its callbacks."""

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
        """Whether the provider's callbacks are JSON (Telnyx, Bland), not form fields."""
        return self.provider in ("telnyx", "bland")

    @property
    def telnyx(self) -> bool:
        """Whether the provider is Telnyx (its own key pair, application, timestamps)."""
        return self.provider == "telnyx"

    @property
    def registers(self) -> bool:
        """Whether Home Assistant sets the callback URL at the provider (not Bland)."""
        return self.provider in REGISTERING_PROVIDERS

    @property
    def verification(self) -> dict[str, str]:
        """The option that verifies the callbacks and its value ({} where none is one)."""
        push = PROVIDERS[self.provider].push
        assert push is not None
        if push.verification_option is None:
            return {}
        return {push.verification_option: VERIFICATION_VALUES[self.provider]}

    @property
    def reports_call_starts(self) -> bool:
        """Whether the provider's callbacks report calls starting (Telnyx's do)."""
        push = PROVIDERS[self.provider].push
        return push is not None and push.reports_call_starts

    @property
    def account(
        self,
    ) -> PlivoAccount | VobizAccount | TwilioAccount | TelnyxAccount | BlandAccount:
        """The sandbox account."""
        account = self.sandbox.accounts[self.case.provider][self.case.account]
        assert isinstance(
            account,
            PlivoAccount | VobizAccount | TwilioAccount | TelnyxAccount | BlandAccount,
        )
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
    def number(self) -> TwilioNumber:
        """The Twilio account's phone number (the calls started here ring it)."""
        account = self.account
        assert isinstance(account, TwilioAccount)
        return account.numbers[APPS[self.provider]]

    @property
    def target(self) -> tuple[str, str]:
        """What registration sets: the URL and its method (Telnyx: API version).

        The application's hangup URL (Vobiz, Plivo), the number's status callback
        (Twilio), the Call Control application's webhook URL (Telnyx); on Bland, what
        its user pasted: the inbound number's webhook.
        """
        if isinstance(self.account, BlandAccount):
            return self.account.inbound_numbers.get(SANDBOX_BLAND_NUMBER, ""), "POST"
        if self.telnyx:
            app = self.telnyx_app
            return app.webhook_event_url, app.webhook_api_version
        if isinstance(self.account, TwilioAccount):
            return self.number.status_callback, self.number.status_callback_method
        return self.app.hangup_url, self.app.hangup_method

    @property
    def answer(self) -> tuple[str, str]:
        """Where the provider asks what a call does, and with which method.

        The application's answer URL (Vobiz, Plivo), the number's voice URL (Twilio).
        """
        if isinstance(self.account, TwilioAccount):
            return self.number.voice_url, self.number.voice_method
        return self.app.answer_url, self.app.answer_method

    def set_answer(self, url: str, method: str = "POST") -> None:
        """Set where the provider asks what a call does, as the user had it."""
        if isinstance(self.account, TwilioAccount):
            self.number.voice_url, self.number.voice_method = url, method
        else:
            self.app.answer_url, self.app.answer_method = url, method

    def set_target(self, url: str, second: str) -> None:
        """Set what registration sets, as the user had it (``second``: method or version)."""
        if self.telnyx:
            self.telnyx_app.webhook_event_url = url
            self.telnyx_app.webhook_api_version = second
        elif isinstance(self.account, TwilioAccount):
            self.number.status_callback, self.number.status_callback_method = (
                url,
                second,
            )
        else:
            self.app.hangup_url, self.app.hangup_method = url, second

    @property
    def users_target(self) -> tuple[str, str]:
        """A callback URL of the user's own, and its method (Telnyx: API version)."""
        return "https://mine.example.com/h", "1" if self.telnyx else "GET"

    @property
    def registered_second(self) -> str:
        """The method (Telnyx: API version) registration sets with the URL."""
        return "2" if self.telnyx else "POST"

    @property
    def untouched_url(self) -> str | None:
        """The URL registration leaves alone, None on Telnyx (one URL an application).

        The application's answer URL (Vobiz, Plivo), the number's voice URL (Twilio).
        """
        if self.telnyx:
            return None
        if isinstance(self.account, TwilioAccount):
            return self.number.voice_url
        return self.app.answer_url

    def add_registration_target(self) -> tuple[str, Callable[[], str]]:
        """Add another application (Twilio: number) to the account.

        Return its id and what reads the callback URL set on it.
        """
        other = OTHER_TARGETS[self.provider]
        account = self.account
        if isinstance(account, TelnyxAccount):
            account.connections.add(other)
            telnyx = account.applications[other] = TelnyxApplication(other, "Second")
            return other, lambda: telnyx.webhook_event_url
        if isinstance(account, TwilioAccount):
            number = account.numbers[other] = TwilioNumber(
                other, "+14155550112", "Second number"
            )
            return other, lambda: number.status_callback
        app = account.applications[other] = type(self.app)(other, "Second application")
        return other, lambda: app.hangup_url

    @property
    def callback_url(self) -> str:
        """The callback URL Home Assistant set at the provider."""
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
        given: dict[str, Any] = {"scan_interval": 10, "push": True, **self.verification}
        if self.registers:
            given |= {
                "push_register": True,
                REGISTRATION_OPTIONS[self.provider]: APPS[self.provider],
            }
        else:
            given |= (
                self.case.live_options
            )  # Bland lists calls with its organization ID
        given |= options
        self.hass.config_entries.async_update_entry(
            self.entry,
            options={key: value for key, value in given.items() if value is not None},
        )
        await self.hass.config_entries.async_setup(self.entry.entry_id)
        await self.hass.async_block_till_done()
        if not self.registers and self.entry.options.get("push"):
            await self.paste_callback_url()

    async def paste_callback_url(self) -> None:
        """Set the URL the options form shows as the inbound number's webhook (Bland).

        As its user does, in Bland's Dev Portal; with no URL shown ("—"), nothing.
        """
        manager = self.hass.config_entries.options
        form = await manager.async_init(self.entry.entry_id)
        assert form["type"] is FlowResultType.FORM
        manager.async_abort(form["flow_id"])
        url = str((form["description_placeholders"] or {})["callback_url"])
        account = self.account
        if url != "—" and isinstance(account, BlandAccount):
            account.inbound_numbers[SANDBOX_BLAND_NUMBER] = url

    async def start_call(self, **fields: str) -> SandboxCall:
        """Start a call on the account over the sandbox's control plane.

        On Twilio, by default to the account's number (whose status callback it reports
        to); on Bland, to its inbound number (whose webhook it reports to).
        """
        if isinstance(self.account, TwilioAccount):
            fields = {"to": self.number.phone_number} | fields
        elif isinstance(self.account, BlandAccount):
            fields = {"to": SANDBOX_BLAND_NUMBER} | fields
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
        if isinstance(self.account, BlandAccount):
            assert isinstance(body, bytes)
            secret = token or self.account.signing_secret
            return JSON | {"X-Webhook-Signature": bland(secret, body)}
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
        assert isinstance(account, PlivoAccount | VobizAccount | TwilioAccount)
        auth_token = token or account.auth_token
        listed = {name: [value] for name, value in body.items()}
        if isinstance(account, TwilioAccount):
            return FORM | {"X-Twilio-Signature": twilio(auth_token, url, listed)}
        nonce = new_nonce()
        if isinstance(account, PlivoAccount):
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
        if isinstance(self.account, BlandAccount):
            assert isinstance(body, bytes)
            signed = self.signed(body)
            signature = signed["X-Webhook-Signature"]
            return forged | {
                "body altered": (signed, body.replace(b'"to":"', b'"to":"+1', 1)),
                "body reformatted": (signed, body.replace(b",", b", ")),
                "signature of another body": (self.signed(body + b" "), body),
                "signature not hex": (
                    signed | {"X-Webhook-Signature": "z" * 64},
                    body,
                ),
                "signature too short": (
                    signed | {"X-Webhook-Signature": signature[:-2]},
                    body,
                ),
                "signature as base64": (
                    signed
                    | {
                        "X-Webhook-Signature": base64.b64encode(
                            bytes.fromhex(signature)
                        ).decode()
                    },
                    body,
                ),
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
        forged |= {"URL altered": (self.signed(body, url=other_url), body)}
        if isinstance(self.account, TwilioAccount):
            # Twilio signs the body and sends no nonce; a status callback's Timestamp
            # is at most 5 minutes old.
            stale = self.sandbox_now() - timedelta(minutes=6)
            old = body | {"Timestamp": format_datetime(stale)}
            return forged | {
                "body altered": (signed, body | {"CallSid": "CA" + "0" * 32}),
                "field added": (signed, body | {"More": "x"}),
                "field left out": (
                    signed,
                    {k: v for k, v in body.items() if k != "To"},
                ),
                "stale timestamp": (self.signed(old), old),
            }
        forged["nonce without signature"] = (
            {k: v for k, v in signed.items() if "Signature" not in k}
            | {k: v for k, v in signed.items() if k.endswith("Nonce")},
            body,
        )
        if isinstance(self.account, PlivoAccount):
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

    def dial_report(self, call_id: str) -> dict[str, str]:
        """Return the Dial's attributes asking for the last transfer's outcome ({} if none).

        Of the Dial XML the transferred leg fetched (Vobiz, Plivo), of the TwiML the
        call was updated with (Twilio).
        """
        if not isinstance(self.account, TwilioAccount):
            return self.sandbox.leg_fetches[-1].report
        twiml = self.sandbox.calls[call_id].transfers[-1]["Twiml"]
        dial = ET.fromstring(twiml).find("Dial")  # noqa: S314 - our own
        assert dial is not None
        return {k: v for k, v in dial.attrib.items() if k in ("action", "method")}

    def dial_status(self, call_id: str, status: str) -> dict[str, str]:
        """Return the form of a Dial's final report about ``call_id``, as the provider sends it."""
        if isinstance(self.account, TwilioAccount):
            return {"CallSid": call_id, "DialCallStatus": status}
        return {"DialStatus": status, "DialALegUUID": call_id}

    def hangup(self, call: SandboxCall, url: str | None = None) -> Body:
        """Return the body of a hangup callback of a sandbox call, as the provider sends it."""
        if isinstance(self.account, BlandAccount):
            return bland_body(post_call_record(call))
        if self.json:
            return webhook_body(
                "call.hangup", hangup_payload(call), url or "http://127.0.0.1/"
            )
        if isinstance(self.account, TwilioAccount):
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
