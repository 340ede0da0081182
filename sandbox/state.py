"""What the sandbox knows: accounts, calls, faults, the requests it received, seed data."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import secrets
from typing import Any, Final, Literal
import uuid

from .faults import Fault, FaultKind, FaultRule
from .signing import ed25519_public_key

# Documented test credentials and call ids: stable, safe to print and to put in tests.
SANDBOX_VOBIZ_AUTH_ID: Final = "MA_SANDBOX_0001"
SANDBOX_VOBIZ_AUTH_TOKEN: Final = "sandbox-vobiz-token-0001"  # noqa: S105
SANDBOX_VOBIZ_AUTH_SECRET: Final = "sandbox-vobiz-auth-secret-0001"  # noqa: S105
SANDBOX_BLAND_API_KEY: Final = "sk-sandbox-bland-0001"
SANDBOX_BLAND_ORG_ID: Final = "org-sandbox-0001"
SANDBOX_VOBIZ_CALL_ID: Final = "3a1c6f2e-8b4d-4e0f-9a7b-000000000001"
SANDBOX_VOBIZ_SECOND_CALL_ID: Final = "3a1c6f2e-8b4d-4e0f-9a7b-000000000002"
SANDBOX_BLAND_CALL_ID: Final = "29f01d00-5197-4b83-bc0f-161e14533a78"
SANDBOX_BLAND_SECOND_CALL_ID: Final = "29f01d00-5197-4b83-bc0f-161e14533a79"
# The Bland account's inbound number (the seeded inbound call rang it), where its
# webhook setting points until told otherwise (never sent to), and the webhook signing
# secret the account signs with (what the account's ``webhook_signing_secret`` holds).
SANDBOX_BLAND_NUMBER: Final = "+12223334444"
SANDBOX_BLAND_WEBHOOK_URL: Final = "https://app.example.com/bland-webhook"
SANDBOX_BLAND_SIGNING_SECRET: Final = "sandbox-bland-webhook-secret-0001"  # noqa: S105
SANDBOX_TWILIO_ACCOUNT_SID: Final = "AC5a4db0c0000000000000000000000001"
SANDBOX_TWILIO_AUTH_TOKEN: Final = "sandbox-twilio-auth-token-0001"  # noqa: S105
SANDBOX_TWILIO_API_KEY_SID: Final = "SK5a4db0c0000000000000000000000001"
SANDBOX_TWILIO_API_KEY_SECRET: Final = "sandbox-twilio-key-secret-0001"  # noqa: S105
SANDBOX_TWILIO_CALL_SID: Final = "CA5a4db0c0000000000000000000000001"
SANDBOX_TWILIO_SECOND_CALL_SID: Final = "CA5a4db0c0000000000000000000000002"
# The Twilio account's phone number (IncomingPhoneNumber): the seeded inbound call rang it.
SANDBOX_TWILIO_NUMBER_SID: Final = "PN5a4db0c0000000000000000000000001"
SANDBOX_TWILIO_NUMBER: Final = "+14155550111"
SANDBOX_TELNYX_API_KEY: Final = "KEYSANDBOXTELNYX0001_sandboxsecret"
SANDBOX_TELNYX_CONNECTION_ID: Final = "1494404757140276705"
SANDBOX_TELNYX_CALL_ID: Final = "v3:sandbox-telnyx-call-0001"
SANDBOX_TELNYX_SECOND_CALL_ID: Final = "v3:sandbox-telnyx-call-0002"
# The seed of the Ed25519 key pair the seeded Telnyx account signs its webhooks with
# (its public key: ``signing.ed25519_public_key``, also on the control plane).
SANDBOX_TELNYX_SIGNING_SEED: Final = bytes.fromhex(
    "5a4e4458c0ffee0073616e64626f782074656c6e797820303030312d6b657921"
)
# Its public key, base64: what the Telnyx account's ``webhook_public_key`` option holds.
SANDBOX_TELNYX_PUBLIC_KEY: Final = ed25519_public_key(SANDBOX_TELNYX_SIGNING_SEED)
# Where a Telnyx application sends its webhooks until told otherwise: never sent to.
SANDBOX_TELNYX_WEBHOOK_URL: Final = "https://app.example.com/telnyx-webhooks"
SANDBOX_PLIVO_AUTH_ID: Final = "MAPLIVOSANDBOX000001"
SANDBOX_PLIVO_AUTH_TOKEN: Final = "sandbox-plivo-auth-token-0001"  # noqa: S105
SANDBOX_PLIVO_CALL_ID: Final = "5bd78c3c-5020-4a32-a495-000000000001"
SANDBOX_PLIVO_SECOND_CALL_ID: Final = "5bd78c3c-5020-4a32-a495-000000000002"
# The application each Vobiz and Plivo account's numbers (and so its calls) belong to.
SANDBOX_VOBIZ_APP_ID: Final = "20372631212782780"
SANDBOX_PLIVO_APP_ID: Final = "20372631212782781"
# Where the seeded applications answer calls: the user's own server, never fetched.
SANDBOX_ANSWER_URL: Final = "https://app.example.com/answer"

# Destinations Bland refuses by default: international satellite networks.
DEFAULT_BLOCKED_PREFIXES: Final = frozenset({"+881", "+882"})
MASKED: Final = "***"
SECRET_HEADERS: Final = frozenset({"x-auth-token", "authorization"})

type ProviderName = Literal["vobiz", "bland", "twilio", "telnyx", "plivo"]
# How each provider spells a new call's id (a UUID where not listed).
_NEW_CALL_ID: Final[Mapping[ProviderName, Callable[[], str]]] = {
    "twilio": lambda: f"CA{uuid.uuid4().hex}",
    "telnyx": lambda: f"v3:{secrets.token_urlsafe(24)}",
}


class CallbackFault(StrEnum):
    """How the callbacks of an account go wrong on purpose (``callback_fault``)."""

    FORGED = "forged"  # signed with another key
    UNSIGNED = (
        "unsigned"  # no signature headers at all (Vobiz, for a URL without credentials)
    )
    TAMPERED = "tampered"  # a field changed after signing
    REPLAYED = "replayed"  # sent twice, the second a byte-for-byte copy (same nonce)
    SDK_FORM = "sdk-form"  # Vobiz only: V3 alone, computed as Vobiz's Go SDK does
    # Telnyx and Twilio: signed with a timestamp ten minutes old (Twilio: a status
    # callback's Timestamp; its voice requests and Dial action reports carry none,
    # and go as Twilio sends them)
    STALE = "stale"


class DialBehaviour(StrEnum):
    """What a number does when a Dial calls it (``dial_behaviours``)."""

    ANSWER = "answer"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAIL = "fail"


@dataclass(slots=True)
class SandboxApplication:
    """A Vobiz or Plivo application: where its numbers' calls are answered and end.

    An empty ``hangup_url`` sends the hangup to ``answer_url``, as both document.
    """

    app_id: str
    app_name: str
    answer_url: str = SANDBOX_ANSWER_URL
    answer_method: str = "POST"
    hangup_url: str = ""
    hangup_method: str = "POST"
    fallback_answer_url: str = ""
    fallback_method: str = "POST"

    @property
    def effective_hangup_url(self) -> str:
        """Where a call's hangup is sent."""
        return self.hangup_url or self.answer_url


class CallStatus(StrEnum):
    """Where a call is in its life; only in-progress calls can be transferred."""

    QUEUED = "queued"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"


@dataclass(slots=True)
class VobizAccount:
    """A Vobiz account, as ``GET /auth/me`` describes it."""

    auth_id: str
    auth_token: str
    auth_secret: str
    name: str
    is_active: bool = True
    enabled: bool = True
    concurrent_calls_limit: int = 10
    cps_limit: int = 2
    applications: dict[str, SandboxApplication] = field(default_factory=dict)
    callback_fault: CallbackFault | None = None


def _default_billing() -> dict[str, Any]:
    return {"current_balance": 25.0, "refill_to": None}


@dataclass(slots=True)
class BlandAccount:
    """A Bland AI API key and the organization it belongs to."""

    api_key: str
    org_id: str
    status: str = "active"
    total_calls: int = 0
    billing: dict[str, Any] = field(default_factory=_default_billing)
    blocked_prefixes: set[str] = field(
        default_factory=lambda: set(DEFAULT_BLOCKED_PREFIXES)
    )
    # Each inbound number's webhook setting (Dev Portal: Inbound Phone Numbers →
    # Advanced → webhook), by E.164 number: a call to it reports its end there.
    inbound_numbers: dict[str, str] = field(default_factory=dict)
    # The webhook signing secret (Dev Portal: Account Settings → Keys).
    signing_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    callback_fault: CallbackFault | None = None


class LegResult(StrEnum):
    """What a transferred leg (Vobiz, Plivo) did with the XML its URL answered."""

    DIALING = "dialing"  # the XML dials a number (after any announcement)
    HUNG_UP = "hung up"  # valid XML that dials nobody: the call ends after it
    DROPPED = "dropped"  # no usable XML: the provider drops the leg


@dataclass(frozen=True, slots=True)
class LegOutcome:
    """One fetch of a transferred leg's URL, and what the leg did with the answer.

    ``params`` are the form fields sent (in the query for GET); ``status`` is the
    HTTP status of the answer (None when there was none); ``reason`` says why a
    leg was dropped.
    """

    call_id: str
    leg: str
    method: str
    url: str
    params: dict[str, str]
    result: LegResult
    status: int | None = None
    numbers: tuple[str, ...] = ()
    caller_id: str | None = None
    announcement: str | None = None
    ring_timeout: int | None = None
    reason: str | None = None
    # The Dial's attributes that ask for its outcome (action, callbackUrl, their
    # methods, redirect), where the XML has them.
    report: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        """Describe it as a person would: ``dialing +1… (caller id +1…) after "…"``."""
        if self.result is LegResult.DROPPED:
            return f"dropped: {self.reason}"
        said = f' after "{self.announcement}"' if self.announcement else ""
        if self.result is LegResult.HUNG_UP:
            return f"hung up{said}"
        caller_id = f" (caller id {self.caller_id})" if self.caller_id else ""
        return f"dialing {', '.join(self.numbers)}{caller_id}{said}"


@dataclass(slots=True)
class PlivoAccount:
    """A Plivo account, as ``GET /Account/{auth_id}/`` describes it."""

    auth_id: str
    auth_token: str
    name: str
    account_type: str = "standard"
    billing_mode: str = "prepaid"
    auto_recharge: bool = False
    cash_credits: str = "25.00000"
    timezone: str = "America/New_York"
    applications: dict[str, SandboxApplication] = field(default_factory=dict)
    callback_fault: CallbackFault | None = None


@dataclass(slots=True)
class TwilioNumber:
    """A Twilio phone number (IncomingPhoneNumber): where its incoming calls report.

    ``status_callback`` gets the calls' final status (Twilio's default event);
    ``voice_url`` each call's voice request, unless ``voice_application_sid`` names a
    TwiML App, whose own voice URL Twilio then requests instead.
    """

    sid: str
    phone_number: str
    friendly_name: str
    voice_url: str = SANDBOX_ANSWER_URL
    voice_method: str = "POST"
    voice_application_sid: str = ""
    status_callback: str = ""
    status_callback_method: str = "POST"


@dataclass(slots=True)
class TwilioAccount:
    """A Twilio account, its auth token, its API keys (SID to secret) and numbers."""

    sid: str
    auth_token: str
    friendly_name: str
    status: str = "active"
    type: str = "Full"
    api_keys: dict[str, str] = field(default_factory=dict)
    # The largest PageSize the call list honours (Twilio's maximum); lower it to page.
    page_size_limit: int = 1000
    numbers: dict[str, TwilioNumber] = field(default_factory=dict)
    callback_fault: CallbackFault | None = None

    def number_called(self, call: SandboxCall) -> TwilioNumber | None:
        """Return the account's number an incoming call rang, if it is one of them."""
        if call.direction != "inbound":
            return None
        return next(
            (n for n in self.numbers.values() if n.phone_number == call.to_number),
            None,
        )


@dataclass(slots=True)
class TelnyxApplication:
    """A Telnyx Call Control application (a connection): where its webhooks go."""

    app_id: str
    application_name: str
    webhook_event_url: str = SANDBOX_TELNYX_WEBHOOK_URL
    webhook_api_version: str = "2"
    webhook_event_failover_url: str = ""
    webhook_timeout_secs: int | None = None


@dataclass(slots=True)
class TelnyxAccount:
    """A Telnyx API key, its balance, its Call Control connections and signing key.

    ``signing_seed`` is the private half of the key pair its webhooks are signed with.
    """

    api_key: str
    balance: str = "25.00"
    currency: str = "USD"
    connections: set[str] = field(default_factory=set)
    # The largest page[size] the active-call list honours; lower it to page.
    page_size_limit: int = 250
    applications: dict[str, TelnyxApplication] = field(default_factory=dict)
    signing_seed: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    callback_fault: CallbackFault | None = None


@dataclass(frozen=True, slots=True)
class Outage:
    """A provider, or one of its accounts, down: every request to its API fails alike.

    It answers ``status`` with the HTML error page a provider's edge sends, or with
    ``drop`` aborts the connection (no response). The control plane is never down.
    """

    provider: ProviderName
    account: str | None = None  # the key requests authenticate with; None: every one
    status: int = 503
    drop: bool = False

    def __post_init__(self) -> None:
        """Refuse a status that is not an HTTP error."""
        if not 400 <= self.status <= 599:
            raise ValueError("An outage's status is an HTTP error (400 to 599)")

    @property
    def fault(self) -> Fault:
        """How each request to the provider fails meanwhile."""
        if self.drop:
            return Fault(FaultKind.RESET)
        return Fault(FaultKind.HTML, status=self.status)

    def hits(self, provider: ProviderName, account: str | None) -> bool:
        """Say whether a request to ``provider`` as ``account`` falls in the outage."""
        return provider == self.provider and self.account in (None, account)


@dataclass(slots=True)
class SandboxCall:
    """A phone call on one provider account.

    ``transfers`` holds what each accepted transfer asked for (Vobiz, Plivo: ``legs``
    and the transferred legs' URL and method; Bland: ``transfer_number``; Twilio: the
    update's form; Telnyx: the transfer's body), and ``transferred_to`` the latest
    destination (Vobiz, Plivo: the transferred leg URLs, comma separated; Bland and
    Telnyx: the destination; Twilio: the numbers the TwiML dials, or its URL).
    ``outcomes`` holds, for Vobiz and Plivo, what each transferred leg did with the XML
    its URL answered, in the order they finished.
    """

    call_id: str
    provider: ProviderName
    account: str  # Vobiz/Plivo auth_id, Bland API key, Twilio SID or Telnyx API key
    from_number: str
    to_number: str
    direction: str
    caller_name: str
    started: datetime
    status: CallStatus = CallStatus.IN_PROGRESS
    request_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    # The UUID of the call's other leg (B leg), which a B-leg URL fetch names.
    bleg_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    transferred_to: str | None = None
    transfers: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[LegOutcome] = field(default_factory=list)
    connection: str | None = None  # the Telnyx connection the call runs on
    app_id: str | None = None  # the Vobiz or Plivo application the call runs on
    ended: datetime | None = None  # when it was hung up
    # Dials of the call answered and still connected: each Dial's report attributes,
    # with its A and B legs, reported again when the call ends.
    connected_dials: list[dict[str, str]] = field(default_factory=list)

    @property
    def live(self) -> bool:
        """Whether the call is in progress, so it can be transferred."""
        return self.status is CallStatus.IN_PROGRESS


@dataclass(frozen=True, slots=True)
class SentCallback:
    """One callback the sandbox sent (``params`` as sent, after any tampering).

    A Telnyx webhook's ``body`` is its JSON as sent; its ``params`` tell its event type,
    call control id and hangup cause.

    ``status`` is the HTTP status answered, None when there was no answer (``error``).
    """

    provider: str
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    fault: CallbackFault | None
    status: int | None
    error: str | None = None
    body: bytes | None = None  # a JSON body as sent (Telnyx); ``params`` summarize it
    answer: bytes = b""  # what was answered


@dataclass(frozen=True, slots=True)
class AnswerRedirect:
    """A ``<Redirect>`` a call's answer request was answered with, and its fetch.

    ``status`` is the redirected URL's HTTP status, None when it was not fetched (not a
    loopback address) or did not answer.
    """

    call_id: str
    url: str
    method: str
    status: int | None


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the sandbox received.

    Header names are lower-cased (HTTP header names are case-insensitive) and the
    values of ``x-auth-token`` and ``authorization`` are replaced by ``***``.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any  # the decoded body; None when it is empty or not JSON
    text: str
    form: Mapping[str, str] | None = None  # a form-encoded body, decoded
    # The provider whose API the path is under; None for a path under none.
    provider: ProviderName | None = None


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Copy headers, names lower-cased, credential header values replaced by ``***``."""
    return {
        name.lower(): MASKED if name.lower() in SECRET_HEADERS else value
        for name, value in headers.items()
    }


class SandboxState:
    """The accounts, calls, faults and recorded requests; public and mutable by tests."""

    def __init__(self, *, seed: bool = True) -> None:
        """Start empty, or with the documented test accounts and live calls."""
        self.vobiz_accounts: dict[str, VobizAccount] = {}
        self.bland_accounts: dict[str, BlandAccount] = {}
        self.twilio_accounts: dict[str, TwilioAccount] = {}
        self.telnyx_accounts: dict[str, TelnyxAccount] = {}
        self.plivo_accounts: dict[str, PlivoAccount] = {}
        self.calls: dict[str, SandboxCall] = {}
        self.requests: list[RecordedRequest] = []
        # The sandbox's own requests: each fetch of a transferred leg's URL.
        self.leg_fetches: list[LegOutcome] = []
        self.faults: list[FaultRule] = []
        self.outages: list[Outage] = []
        # Calls the next listings leave out (by id: how many listing requests), as a
        # listing that lags behind the calls does.
        self.omitted: dict[str, int] = {}
        # Called with each provider request as it arrives (its fault, if any, chosen)
        # before it is answered, so a test can make something happen between two
        # requests (a call ending mid-poll, a fault for the next request).
        self.request_hooks: list[Callable[[RecordedRequest], None]] = []
        # What a dialled number does (answers when not listed), by E.164 number.
        self.dial_behaviours: dict[str, DialBehaviour] = {}
        # The callbacks sent to Home Assistant (or anyone on loopback), in order, and
        # whether they go (cleared: held until set, so they arrive late).
        self.callbacks_sent: list[SentCallback] = []
        # The Redirects Vobiz and Plivo calls' answer requests were answered with.
        self.answer_redirects: list[AnswerRedirect] = []
        self.callbacks_released = asyncio.Event()
        self.callbacks_released.set()
        # Each provider's accounts by the key its requests authenticate with.
        self.accounts: dict[ProviderName, Mapping[str, object]] = {
            "vobiz": self.vobiz_accounts,
            "bland": self.bland_accounts,
            "twilio": self.twilio_accounts,
            "telnyx": self.telnyx_accounts,
            "plivo": self.plivo_accounts,
        }
        if seed:
            self._seed()

    def add_vobiz_account(
        self,
        auth_id: str,
        auth_token: str,
        *,
        auth_secret: str | None = None,
        name: str | None = None,
    ) -> VobizAccount:
        """Add a Vobiz account; change its other fields on the returned object."""
        account = VobizAccount(
            auth_id=auth_id,
            auth_token=auth_token,
            auth_secret=auth_secret or secrets.token_hex(16),
            name=name or auth_id,
        )
        self.vobiz_accounts[auth_id] = account
        return account

    def add_bland_account(
        self, api_key: str, *, org_id: str | None = None
    ) -> BlandAccount:
        """Add a Bland API key; change its other fields on the returned object."""
        account = BlandAccount(api_key=api_key, org_id=org_id or f"org-{uuid.uuid4()}")
        self.bland_accounts[api_key] = account
        return account

    def add_twilio_account(
        self, sid: str, auth_token: str, *, friendly_name: str | None = None
    ) -> TwilioAccount:
        """Add a Twilio account; add API keys and change fields on the returned object."""
        account = TwilioAccount(
            sid=sid, auth_token=auth_token, friendly_name=friendly_name or sid
        )
        self.twilio_accounts[sid] = account
        return account

    def add_telnyx_account(
        self,
        api_key: str,
        *,
        connections: tuple[str, ...] = (),
        signing_seed: bytes | None = None,
    ) -> TelnyxAccount:
        """Add a Telnyx API key with its connections; change fields on the returned object.

        Each connection is a Call Control application; the key pair its webhooks are
        signed with is new unless ``signing_seed`` is given.
        """
        account = TelnyxAccount(
            api_key=api_key,
            connections=set(connections),
            applications={
                app_id: TelnyxApplication(app_id, f"Sandbox application {app_id}")
                for app_id in connections
            },
        )
        if signing_seed is not None:
            account.signing_seed = signing_seed
        self.telnyx_accounts[api_key] = account
        return account

    def add_plivo_account(
        self, auth_id: str, auth_token: str, *, name: str | None = None
    ) -> PlivoAccount:
        """Add a Plivo account; change its other fields on the returned object."""
        account = PlivoAccount(
            auth_id=auth_id, auth_token=auth_token, name=name or auth_id
        )
        self.plivo_accounts[auth_id] = account
        return account

    def add_call(
        self,
        provider: ProviderName,
        account: str,
        call_id: str | None = None,
        *,
        from_number: str = "+14155550100",
        to_number: str = "+14155550199",
        direction: str = "inbound",
        caller_name: str = "",
        started: datetime | None = None,
        status: CallStatus = CallStatus.IN_PROGRESS,
        connection: str | None = None,
        app_id: str | None = None,
    ) -> SandboxCall:
        """Add a call (by default in progress) to an existing account.

        A Vobiz or Plivo call runs on ``app_id``, by default the account's first
        application.
        """
        owner = self.accounts[provider].get(account)
        if owner is None:
            raise ValueError(f"Unknown {provider} account")
        if app_id is None and isinstance(owner, VobizAccount | PlivoAccount):
            app_id = next(iter(owner.applications), None)
        call_id = call_id or _NEW_CALL_ID.get(provider, lambda: str(uuid.uuid4()))()
        if call_id in self.calls:
            raise ValueError(f"A call {call_id} already exists")
        call = SandboxCall(
            call_id=call_id,
            provider=provider,
            account=account,
            from_number=from_number,
            to_number=to_number,
            direction=direction,
            caller_name=caller_name,
            started=started or datetime.now(UTC).replace(microsecond=0),
            status=status,
            connection=connection,
            app_id=app_id,
        )
        self.calls[call_id] = call
        if provider == "bland":
            self.bland_accounts[account].total_calls += 1
        return call

    def end_call(self, call_id: str) -> None:
        """Hang up a call: it is no longer live, transfers of it answer 404."""
        call = self.calls[call_id]
        call.status = CallStatus.COMPLETED
        call.ended = datetime.now(UTC)

    def omit_from_listings(self, call_id: str, times: int = 1) -> None:
        """Leave a call out of the next ``times`` listing requests (each page is one)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self.omitted[call_id] = times

    def listed(self, calls: list[SandboxCall]) -> list[SandboxCall]:
        """Return the calls one listing request shows: without those it leaves out."""
        shown = []
        for call in calls:
            if (left := self.omitted.get(call.call_id)) is None:
                shown.append(call)
            elif left == 1:
                del self.omitted[call.call_id]
            else:
                self.omitted[call.call_id] = left - 1
        return shown

    def live_call(
        self, provider: ProviderName, account: str, call_id: str
    ) -> SandboxCall | None:
        """Return the account's call if it is in progress."""
        call = self.account_call(provider, account, call_id)
        return call if call is not None and call.live else None

    def account_call(
        self, provider: ProviderName, account: str, call_id: str
    ) -> SandboxCall | None:
        """Return the call if it exists and belongs to this account."""
        call = self.calls.get(call_id)
        if call is None or call.provider != provider or call.account != account:
            return None
        return call

    def account_calls(self, provider: ProviderName, account: str) -> list[SandboxCall]:
        """Return every call of one account, oldest first."""
        calls = (
            call
            for call in self.calls.values()
            if call.provider == provider and call.account == account
        )
        return sorted(calls, key=lambda call: call.started)

    def add_fault(
        self,
        fault: Fault,
        *,
        account: str | None = None,
        call_id: str | None = None,
        path_contains: str | None = None,
        times: int | None = None,
    ) -> None:
        """Inject a fault into matching requests: all of them, or only the next ``times``."""
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        self.faults.append(
            FaultRule(
                fault,
                account=account,
                call_id=call_id,
                path_contains=path_contains,
                remaining=times,
            )
        )

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.faults.clear()

    def start_outage(self, outage: Outage) -> None:
        """Take a provider (or one account) down, instead of any outage of it before."""
        self.end_outage(outage.provider, outage.account)
        self.outages.append(outage)

    def end_outage(
        self, provider: ProviderName | None = None, account: str | None = None
    ) -> list[Outage]:
        """End the outages of a provider (of one account), or every one; return them."""
        ended = [
            outage
            for outage in self.outages
            if provider in (None, outage.provider) and account in (None, outage.account)
        ]
        self.outages = [outage for outage in self.outages if outage not in ended]
        return ended

    def take_fault(
        self,
        provider: ProviderName,
        account: str | None,
        call_id: str | None,
        path: str,
    ) -> Fault | None:
        """Return how a request fails: an outage, or the first matching fault.

        A fault given ``times`` uses one up.
        """
        for outage in self.outages:
            if outage.hits(provider, account):
                return outage.fault
        for rule in self.faults:
            if not rule.matches(account, call_id, path):
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    self.faults.remove(rule)
            return rule.fault
        return None

    def requests_to(self, path_contains: str) -> list[RecordedRequest]:
        """Return the recorded requests whose path contains the given text."""
        return [request for request in self.requests if path_contains in request.path]

    def application(
        self, provider: ProviderName, account: str, app_id: str
    ) -> SandboxApplication | None:
        """Return a Vobiz or Plivo account's application, if it has this one."""
        owner = self.accounts[provider].get(account)
        if not isinstance(owner, VobizAccount | PlivoAccount):
            return None
        return owner.applications.get(app_id)

    def _seed(self) -> None:
        vobiz = self.add_vobiz_account(
            SANDBOX_VOBIZ_AUTH_ID,
            SANDBOX_VOBIZ_AUTH_TOKEN,
            auth_secret=SANDBOX_VOBIZ_AUTH_SECRET,
            name="Sandbox Vobiz account",
        )
        vobiz.applications[SANDBOX_VOBIZ_APP_ID] = SandboxApplication(
            SANDBOX_VOBIZ_APP_ID, "Sandbox Vobiz application"
        )
        bland = self.add_bland_account(
            SANDBOX_BLAND_API_KEY, org_id=SANDBOX_BLAND_ORG_ID
        )
        bland.signing_secret = SANDBOX_BLAND_SIGNING_SECRET
        bland.inbound_numbers[SANDBOX_BLAND_NUMBER] = SANDBOX_BLAND_WEBHOOK_URL
        twilio = self.add_twilio_account(
            SANDBOX_TWILIO_ACCOUNT_SID,
            SANDBOX_TWILIO_AUTH_TOKEN,
            friendly_name="Sandbox Twilio account",
        )
        twilio.api_keys[SANDBOX_TWILIO_API_KEY_SID] = SANDBOX_TWILIO_API_KEY_SECRET
        twilio.numbers[SANDBOX_TWILIO_NUMBER_SID] = TwilioNumber(
            SANDBOX_TWILIO_NUMBER_SID, SANDBOX_TWILIO_NUMBER, "Sandbox Twilio number"
        )
        now = datetime.now(UTC).replace(microsecond=0)
        self.add_call(
            "vobiz",
            vobiz.auth_id,
            SANDBOX_VOBIZ_CALL_ID,
            from_number="+14155550123",
            to_number="+918035735400",
            caller_name="Sandbox Caller",
            started=now - timedelta(minutes=3),
        )
        self.add_call(
            "vobiz",
            vobiz.auth_id,
            SANDBOX_VOBIZ_SECOND_CALL_ID,
            from_number="+918035735400",
            to_number="+14155550188",
            direction="outbound",
            started=now - timedelta(minutes=1),
        )
        self.add_call(
            "bland",
            bland.api_key,
            SANDBOX_BLAND_CALL_ID,
            from_number="+14155550150",
            to_number=SANDBOX_BLAND_NUMBER,
            started=now - timedelta(minutes=2),
        )
        self.add_call(
            "bland",
            bland.api_key,
            SANDBOX_BLAND_SECOND_CALL_ID,
            from_number="+12223334444",
            to_number="+14155550177",
            direction="outbound",
            started=now - timedelta(seconds=30),
        )
        self._seed_calls(
            "twilio",
            twilio.sid,
            (SANDBOX_TWILIO_CALL_SID, "+14155550142", "+14155550111", "inbound", 240),
            (
                SANDBOX_TWILIO_SECOND_CALL_SID,
                "+14155550111",
                "+14155550166",
                "outbound-api",
                45,
            ),
        )

        telnyx = self.add_telnyx_account(
            SANDBOX_TELNYX_API_KEY,
            connections=(SANDBOX_TELNYX_CONNECTION_ID,),
            signing_seed=SANDBOX_TELNYX_SIGNING_SEED,
        )
        self._seed_calls(
            "telnyx",
            telnyx.api_key,
            (SANDBOX_TELNYX_CALL_ID, "+13125550142", "+13125550100", "incoming", 150),
            (
                SANDBOX_TELNYX_SECOND_CALL_ID,
                "+13125550100",
                "+13125550177",
                "outgoing",
                20,
            ),
            connection=SANDBOX_TELNYX_CONNECTION_ID,
        )

        plivo = self.add_plivo_account(
            SANDBOX_PLIVO_AUTH_ID,
            SANDBOX_PLIVO_AUTH_TOKEN,
            name="Sandbox Plivo account",
        )
        plivo.applications[SANDBOX_PLIVO_APP_ID] = SandboxApplication(
            SANDBOX_PLIVO_APP_ID, "Sandbox Plivo application"
        )
        self._seed_calls(
            "plivo",
            plivo.auth_id,
            (SANDBOX_PLIVO_CALL_ID, "+14155550131", "+14155550120", "inbound", 200),
            (
                SANDBOX_PLIVO_SECOND_CALL_ID,
                "+14155550120",
                "+14155550181",
                "outbound",
                70,
            ),
        )

    def _seed_calls(
        self,
        provider: ProviderName,
        account: str,
        *calls: tuple[str, str, str, str, int],
        connection: str | None = None,
    ) -> None:
        """Add live calls: (call id, from, to, direction, seconds since it started)."""
        now = datetime.now(UTC).replace(microsecond=0)
        for call_id, from_number, to_number, direction, age in calls:
            self.add_call(
                provider,
                account,
                call_id,
                from_number=from_number,
                to_number=to_number,
                direction=direction,
                started=now - timedelta(seconds=age),
                connection=connection,
            )
