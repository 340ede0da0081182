"""The interface every provider client implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
import hashlib
from typing import Any, ClassVar, Self

import aiohttp

from .callbacks import (
    CallbackRequest,
    PushCapabilities,
    RegisteredCallback,
    ReplayGuard,
    VerifiedCallback,
)
from .capabilities import TransferCapabilities
from .errors import UnexpectedResponseError
from .http import DEFAULT_TIMEOUT
from .models import (
    AccountInfo,
    ConfirmedCall,
    CredentialField,
    LiveCall,
    OptionField,
    TransferRequest,
    TransferResult,
)


def key_fingerprint(provider_id: str, key: str) -> str:
    """Return a stable, non-reversible id for a provider's API key.

    For providers whose API names no account (``account_id_is_key_fingerprint``).
    """
    return hashlib.sha256(f"call_transfer:{provider_id}:{key}".encode()).hexdigest()[
        :32
    ]


def accepted_transfer(
    call_id: str, message: str | None, request_id: str | None, *, unreadable: str
) -> TransferResult:
    """Return what a provider said when it accepted a transfer.

    An acceptance without what it should say (``message`` None) may still have
    transferred the call: that is ``UnexpectedResponseError`` with the outcome unknown.
    """
    if message is None:
        raise UnexpectedResponseError(
            unreadable, request_id=request_id, outcome_unknown=True
        )
    return TransferResult(call_id=call_id, message=message, request_id=request_id)


class TransferProvider(ABC):
    """A cloud telephony provider that can transfer live calls.

    A new provider is one module with a subclass of this and one line in the
    registry (``providers/__init__.py``). What it can do is declared here, so
    callers ask for a capability and never test for a provider.
    """

    provider_id: ClassVar[str]
    display_name: ClassVar[str]
    default_base_url: ClassVar[str]
    credential_fields: ClassVar[tuple[CredentialField, ...]]
    # Optional settings of an account, given to the constructor by key when set.
    option_fields: ClassVar[tuple[OptionField, ...]] = ()
    # Where a transfer can send a call: a number, a SIP URI, legs pointed at XML URLs.
    capabilities: ClassVar[TransferCapabilities]
    # True when the API names no account, so ``AccountInfo.account_id`` fingerprints the key:
    # a rotated key then looks like another account and cannot be told apart from one.
    account_id_is_key_fingerprint: ClassVar[bool] = False
    # Whether ``async_call_is_live`` can ask about one call: a call a listing leaves out
    # (paging, a listing that lags) is then confirmed ended or live at once; otherwise
    # the next listing confirms it.
    looks_up_calls: ClassVar[bool] = False
    # What its signed callbacks tell and how their URL is set up; None: it sends none
    # that the client can verify.
    push: ClassVar[PushCapabilities | None] = None
    # Set by a client whose ``push.answer_first_option`` is on: its callbacks then
    # report calls starting (their answer requests).
    answer_first: bool = False

    @abstractmethod
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **settings: Any,
    ) -> None:
        """Create a client; each provider names its credentials and options as keywords."""

    @classmethod
    def from_credentials(
        cls,
        session: aiohttp.ClientSession,
        credentials: Mapping[str, Any],
        *,
        options: Mapping[str, Any] | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Self:
        """Build a client from mappings holding ``credential_fields`` and any ``option_fields``.

        Keys of other providers (or of the caller's own settings) are ignored, and
        an option or optional credential that is absent, ``None`` or empty is not
        passed, so the client's default holds.
        """
        settings: dict[str, Any] = {}
        for cred in cls.credential_fields:
            if cred.required:
                settings[cred.key] = credentials[cred.key]
            elif value := credentials.get(cred.key):
                settings[cred.key] = value
        for option in cls.option_fields:
            if (value := (options or {}).get(option.key)) is not None:
                settings[option.key] = value
        return cls(session, base_url=base_url, timeout=timeout, **settings)

    @property
    def supports_live_calls(self) -> bool:
        """Whether ``async_live_calls`` works with this client's settings."""
        return True

    @abstractmethod
    async def async_validate(self) -> AccountInfo:
        """Check the credentials and return who they belong to."""

    async def async_validate_options(self) -> None:
        """Check the options that the provider must accept (``OptionKind.IDENTIFIER``).

        Raises ``InvalidOptionError`` naming the refused option; other failures as usual.
        """

    @abstractmethod
    async def async_transfer(self, request: TransferRequest) -> TransferResult:
        """Transfer a live call; raise a ``CallTransferError`` on any failure."""

    @abstractmethod
    async def async_live_calls(
        self, known: Mapping[str, LiveCall] | None = None
    ) -> list[LiveCall]:
        """List the calls in progress on the account.

        ``known`` holds calls listed before, by id: a provider whose listing gives
        only ids reuses their details instead of fetching them again.
        """

    async def async_call_is_live(self, call_id: str) -> bool:
        """Ask the provider whether one call is still live (``looks_up_calls``).

        A call the provider no longer knows is not live.
        """
        raise NotImplementedError

    async def async_confirm_call(self, call_id: str) -> ConfirmedCall | None:
        """Return the provider's own record of one call, live or ended; None if unknown.

        For a provider whose callbacks may be signed without their body or without
        anything that makes them fresh (``VerifiedCallback.needs_confirmation``): what
        such a callback says of a call is used only as this confirms it.
        """
        raise NotImplementedError

    def dial_xml(self, number: str, *, report_url: str | None = None) -> str:
        """Return the call XML that dials ``number`` (providers that dial by ``DIAL_URL``).

        Built with this client's dial options (caller id, announcement, ring timeout).
        With ``report_url`` (a provider whose ``push`` reports transfer outcomes), the
        provider is asked to report there whether the number answered.
        """
        raise NotImplementedError

    @property
    def push_reports_call_starts(self) -> bool:
        """Whether this client's callbacks, with its settings, report calls starting.

        Those of a client answering calls first do: each call's answer request.
        """
        return self.push is not None and (
            self.push.reports_call_starts or self.answer_first
        )

    def verify_callback(
        self, request: CallbackRequest, replay_guard: ReplayGuard
    ) -> VerifiedCallback:
        """Verify a callback (``push``), then read what it tells.

        Raises ``CallbackRefusedError`` for a missing, wrong or replayed signature (the
        nonce or event id is remembered in ``replay_guard`` only once it verified), and
        for a body that cannot be read. Nothing but the signature's inputs is read from
        the request before the signature verified.
        """
        raise NotImplementedError

    async def async_register_callback_url(self, url: str) -> RegisteredCallback:
        """Set ``url`` as the callback URL where ``push.registration_option`` says.

        Returns what was there before, for ``async_restore_callback_url``.
        """
        raise NotImplementedError

    async def async_restore_callback_url(self, registered: RegisteredCallback) -> None:
        """Put back what ``async_register_callback_url`` replaced."""
        raise NotImplementedError

    @property
    def callback_fields(self) -> frozenset[str]:
        """The fields ``async_register_callback_url`` sets with this client's settings.

        A registration that replaced other fields (a setting changed since) is undone
        and made again. Empty: the client does not say (a registration is kept).
        """
        return frozenset()

    def answer_redirect(self, registered: RegisteredCallback) -> str | None:
        """Return the answer to a call's answer request that sends it where it went before.

        For ``push.answer_first_option``: the call XML that redirects the call to the
        answer URL ``registered`` replaced; None when it replaced none.
        """
        return None
