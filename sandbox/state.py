"""What the sandbox knows: accounts, calls, faults, the requests it received, seed data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import secrets
from typing import Any, Final, Literal
import uuid

from .faults import Fault, FaultRule

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

# Destinations Bland refuses by default: international satellite networks.
DEFAULT_BLOCKED_PREFIXES: Final = frozenset({"+881", "+882"})
MASKED: Final = "***"
SECRET_HEADERS: Final = frozenset({"x-auth-token", "authorization"})

type ProviderName = Literal["vobiz", "bland"]


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


class LegResult(StrEnum):
    """What a transferred Vobiz leg did with the XML its URL answered."""

    DIALING = "dialing"  # the XML dials a number (after any announcement)
    HUNG_UP = "hung up"  # valid XML that dials nobody: the call ends after it
    DROPPED = "dropped"  # no usable XML: Vobiz drops the leg


@dataclass(frozen=True, slots=True)
class LegOutcome:
    """One fetch of a transferred Vobiz leg's URL, and what the leg did with the answer.

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
class SandboxCall:
    """A phone call on one provider account.

    ``transfers`` holds what each accepted transfer asked for (Vobiz: ``legs`` and
    the transferred legs' URL and method; Bland: ``transfer_number``), and
    ``transferred_to`` the latest destination (Vobiz: the transferred leg URLs,
    comma separated; Bland: the E.164 number). ``outcomes`` holds, for Vobiz, what
    each transferred leg did with the XML its URL answered, in the order they finished.
    """

    call_id: str
    provider: ProviderName
    account: str  # Vobiz auth_id or Bland API key
    from_number: str
    to_number: str
    direction: str
    caller_name: str
    started: datetime
    status: CallStatus = CallStatus.IN_PROGRESS
    request_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    # The UUID of the call's other leg (Vobiz B leg), which a B-leg URL fetch names.
    bleg_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    transferred_to: str | None = None
    transfers: list[dict[str, str]] = field(default_factory=list)
    outcomes: list[LegOutcome] = field(default_factory=list)

    @property
    def live(self) -> bool:
        """Whether the call is in progress, so it can be transferred."""
        return self.status is CallStatus.IN_PROGRESS


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
        self.calls: dict[str, SandboxCall] = {}
        self.requests: list[RecordedRequest] = []
        # The sandbox's own requests: each fetch of a transferred Vobiz leg's URL.
        self.leg_fetches: list[LegOutcome] = []
        self.faults: list[FaultRule] = []
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
    ) -> SandboxCall:
        """Add a call (by default in progress) to an existing account."""
        accounts: Mapping[str, object] = (
            self.vobiz_accounts if provider == "vobiz" else self.bland_accounts
        )
        if account not in accounts:
            raise ValueError(f"Unknown {provider} account")
        call_id = call_id or str(uuid.uuid4())
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
        )
        self.calls[call_id] = call
        if provider == "bland":
            self.bland_accounts[account].total_calls += 1
        return call

    def end_call(self, call_id: str) -> None:
        """Hang up a call: it is no longer live, transfers of it answer 404."""
        self.calls[call_id].status = CallStatus.COMPLETED

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

    def take_fault(
        self, account: str | None, call_id: str | None, path: str
    ) -> Fault | None:
        """Return the first fault matching a request, using up one of its ``times``."""
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

    def _seed(self) -> None:
        vobiz = self.add_vobiz_account(
            SANDBOX_VOBIZ_AUTH_ID,
            SANDBOX_VOBIZ_AUTH_TOKEN,
            auth_secret=SANDBOX_VOBIZ_AUTH_SECRET,
            name="Sandbox Vobiz account",
        )
        bland = self.add_bland_account(
            SANDBOX_BLAND_API_KEY, org_id=SANDBOX_BLAND_ORG_ID
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
            to_number="+12223334444",
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
