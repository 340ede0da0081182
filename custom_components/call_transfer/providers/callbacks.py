"""Callbacks a provider sends about its calls: the request, what it says, and its checks.

A provider pushes facts (a call ended, a dialled number answered or not) to a URL,
signed. A client that can read them declares ``PushCapabilities`` and implements
``TransferProvider.verify_callback``: it checks the signature (and nonce or timestamp)
of a ``CallbackRequest`` strictly before it reads anything else from the body, and
returns a ``VerifiedCallback`` with the ``CallbackEvent``s it tells, or raises
``CallbackRefusedError`` saying why not. Nothing here knows Home Assistant.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import hashlib
import hmac
import json
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from .errors import CallTransferError
from .http import MAX_TEXT_LENGTH
from .models import LiveCall, OptionField, OptionKind

# The largest callback body read: the providers' call callbacks are a few kB.
MAX_CALLBACK_BYTES: Final = 64 * 1024
# The most form fields a callback body is read with (Plivo's have about 30).
MAX_CALLBACK_FIELDS: Final = 200
# Nonces and event ids remembered against replays: at most this many, this long. A
# nonce older than that cannot be told from a new one: the window is the guarantee.
REPLAY_WINDOW: Final = timedelta(minutes=10)
REPLAY_ENTRIES: Final = 10_000
# The query parameter that names one of Home Assistant's transfers in a callback URL.
TRANSFER_TOKEN_PARAM: Final = "transfer"
# The switch with which registration also points the calls' answer URL at the callback
# URL (``PushCapabilities.answer_first_option``), as a client declares it.
ANSWER_FIRST: Final = "push_answer_first"
ANSWER_FIRST_FIELD: Final = OptionField(key=ANSWER_FIRST, kind=OptionKind.SWITCH)


class CallbackRefusal(StrEnum):
    """Why a callback was refused; nothing it says was used."""

    MISSING_SIGNATURE = "missing_signature"
    BAD_SIGNATURE = "bad_signature"
    REPLAYED = "replayed"
    STALE = "stale"  # its timestamp is outside the provider's window
    MALFORMED = "malformed"  # signed, or not, but not a callback that can be read
    NOT_CONFIGURED = "not_configured"  # no key to verify it with
    UNSUPPORTED_SIGNING = "unsupported_signing"  # a scheme the client cannot check
    # Its signature leaves the body out, and the provider does not know the call it names.
    UNKNOWN_CALL = "unknown_call"


class CallbackRefusedError(CallTransferError):
    """A callback that does not verify. The message never holds a secret, a signature or the body."""

    code = "callback_refused"

    def __init__(self, reason: CallbackRefusal, message: str) -> None:
        """Record why it was refused."""
        super().__init__(message)
        self.reason = reason


class CallbackKind(StrEnum):
    """What a verified callback tells."""

    CALL_STARTED = "call_started"
    CALL_ANSWERED = "call_answered"
    CALL_ENDED = "call_ended"
    TRANSFER_ANSWERED = "transfer_answered"
    TRANSFER_UNANSWERED = "transfer_unanswered"
    IGNORED = "ignored"  # verified, but about nothing Home Assistant follows


class UnansweredReason(StrEnum):
    """Why a dialled number did not take a transfer."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackRequest:
    """One request to the callback URL, as the provider signed it.

    ``url`` is the URL exactly as it was given to the provider, plus ``?`` and the
    request's query string if it had one (never the URL the request reached: a proxy
    or Home Assistant Cloud changes that). ``headers`` are looked up without regard to
    case; ``body`` holds the raw bytes.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    received_at: datetime

    def header(self, name: str) -> str | None:
        """Return a header's value (any case of its name), or None when absent."""
        wanted = name.lower()
        return next(
            (value for key, value in self.headers.items() if key.lower() == wanted),
            None,
        )

    @property
    def media_type(self) -> str:
        """The body's media type, lower case, without parameters."""
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    @property
    def query(self) -> dict[str, list[str]]:
        """The URL's query parameters, decoded."""
        return parse_qs(urlsplit(self.url).query, keep_blank_values=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackEvent:
    """One fact a verified callback tells.

    ``call`` holds what the callback says of the call (its id always); for a
    transfer's outcome it is the call that was transferred. ``transfer_token`` is Home
    Assistant's own token of the transfer, from the callback URL.
    """

    kind: CallbackKind
    call: LiveCall | None = None
    ended_at: datetime | None = None
    transfer_token: str | None = None
    unanswered_reason: UnansweredReason | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedCallback:
    """A callback whose signature verified, and what it tells.

    ``signature`` names the scheme that matched (for diagnostics); ``body_signed`` says
    whether that scheme covers the body: where it does not (Vobiz's documented form),
    nothing the body says of a call is used before the provider confirms it
    (``TransferProvider.async_confirm_call``). ``fresh`` says whether the signature
    proves it new (a timestamp or nonce); one signed without either (Twilio's voice
    request) verifies forever once captured, so what it tells of a call is likewise
    used only as the provider confirms it.
    """

    events: tuple[CallbackEvent, ...]
    signature: str
    body_signed: bool
    fresh: bool = True

    @property
    def needs_confirmation(self) -> bool:
        """Whether what it tells of calls waits for the provider's own record."""
        return not (self.body_signed and self.fresh)


@dataclass(frozen=True, slots=True, kw_only=True)
class PushCapabilities:
    """What a provider's callbacks can tell, and how their URL is set up.

    ``reports_call_starts``: its callbacks report calls starting, so polling can fall
    back to reconciliation while they arrive. ``registration_option``: the option
    naming what the provider's API sets the callback URL on (an application, a number),
    when the client implements ``async_register_callback_url``; None when the URL is
    pasted by hand. ``verification_option``: the option holding what verifies the
    callbacks, where it is not among the credentials (a public key); push needs it.
    ``reports_transfer_outcomes`` with a number in the transfer request: the client
    passes ``TransferRequest.report_url`` to the provider.
    ``answer_content_type``/``answer_body``: the answer to an accepted callback.
    ``answer_first_option``: the switch option (among the client's ``option_fields``)
    with which registration also points the calls' answer URL at the callback URL,
    so the callbacks report calls starting; the webhook then answers each answer
    request with what sends the call on to the answer URL it replaced
    (``TransferProvider.answer_redirect``).
    """

    reports_call_starts: bool = False
    reports_transfer_outcomes: bool = False
    registration_option: str | None = None
    verification_option: str | None = None
    answer_content_type: str = "text/plain"
    answer_body: str = ""
    answer_first_option: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisteredCallback:
    """The callback URL a client set at the provider, and what was there before.

    ``target`` names what it was set on (an application id); ``previous`` holds the
    fields as they were, to be written back when the registration is undone.
    """

    target: str
    url: str
    previous: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return it as stored (JSON)."""
        return {"target": self.target, "url": self.url, "previous": dict(self.previous)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegisteredCallback:
        """Read it back as stored."""
        return cls(
            target=str(data["target"]),
            url=str(data["url"]),
            previous={str(k): str(v) for k, v in dict(data["previous"]).items()},
        )


class ReplayGuard:
    """Remembers the nonces (or event ids) of verified callbacks, bounded in count and age.

    Only callbacks that verified are remembered, so forged ones cannot fill it.
    """

    def __init__(
        self, *, window: timedelta = REPLAY_WINDOW, max_entries: int = REPLAY_ENTRIES
    ) -> None:
        """Remember at most ``max_entries`` keys, each for ``window``."""
        self.window = window
        self.max_entries = max_entries
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        self._spent: list[str] | None = None

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._seen)

    def remember(self, key: str, seen_at: datetime) -> bool:
        """Remember a key; return whether it is new (not seen within the window)."""
        while self._seen and (
            len(self._seen) >= self.max_entries
            or seen_at - next(iter(self._seen.values())) > self.window
        ):
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = seen_at
        if self._spent is not None:
            self._spent.append(key)
        return True

    @contextmanager
    def spending(self) -> Iterator[list[str]]:
        """Collect the keys one callback's verification remembers (it is synchronous).

        So a callback that verified but could not be taken (the provider could not
        confirm it: 503) gives them back (``forget``), and the provider's retry of it,
        with the same nonce, is not refused as a replay.
        """
        spent: list[str] = []
        self._spent = spent
        try:
            yield spent
        finally:
            self._spent = None

    def forget(self, keys: list[str]) -> None:
        """Forget keys remembered for a callback that was not taken after all."""
        for key in keys:
            self._seen.pop(key, None)

    def check_and_remember(self, key: str, seen_at: datetime) -> None:
        """Remember a key, or refuse it as replayed when seen within the window."""
        if not self.remember(key, seen_at):
            raise CallbackRefusedError(
                CallbackRefusal.REPLAYED, "The callback's nonce was seen before"
            )


def configured[T](verifier: T | None, missing: str) -> T:
    """Return what verifies an account's callbacks; refuse them all when it is not set.

    ``missing`` says what is not set (a message without any secret).
    """
    if verifier is None:
        raise CallbackRefusedError(CallbackRefusal.NOT_CONFIGURED, missing)
    return verifier


def hmac_sha256_base64(key: str, message: str) -> str:
    """Return base64(HMAC-SHA256(key, message)), both UTF-8."""
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(header: str, expected: str) -> bool:
    """Whether any comma-separated signature of a header equals ``expected`` (constant time).

    Every element is compared, so the time taken does not tell which one matched.
    """
    matched = False
    for given in header.split(","):
        matched |= hmac.compare_digest(given.strip().encode(), expected.encode())
    return matched


def url_without_query(url: str) -> str:
    """Return ``scheme://netloc/path`` of a URL: its query and fragment dropped."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def form_fields(body: bytes) -> dict[str, list[str]]:
    """Decode a form-encoded body; refuse one that is not UTF-8 form data.

    An empty body has no fields.
    """
    try:
        text = body.decode("utf-8")
        return parse_qs(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            max_num_fields=MAX_CALLBACK_FIELDS,
        )
    except ValueError:  # UnicodeDecodeError included
        raise CallbackRefusedError(
            CallbackRefusal.MALFORMED, "The callback's body is not form data"
        ) from None


def malformed(message: str) -> CallbackRefusedError:
    """Return the refusal of a callback that cannot be read (``message`` says why)."""
    return CallbackRefusedError(CallbackRefusal.MALFORMED, message)


def json_object(body: bytes, what: str) -> dict[str, Any]:
    """Read a JSON body that must be an object; refuse anything else as not ``what``."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError included
        value = None
    if not isinstance(value, dict):
        raise malformed(f"The webhook's body is not {what}")
    return value


def json_text(value: object) -> str | None:
    """Return a JSON value that is a non-empty string, capped as any provider text."""
    return value[:MAX_TEXT_LENGTH] if isinstance(value, str) and value else None


def first_values(fields: Mapping[str, list[str]]) -> dict[str, str]:
    """Return each field's first value, capped to the length any provider text gets."""
    return {key: values[0][:MAX_TEXT_LENGTH] for key, values in fields.items()}


def parse_time(value: object) -> datetime | None:
    """Read a time given as ISO 8601 or ``YYYY-MM-DD HH:MM:SS[.ffffff]``; no zone is UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def seconds(value: object) -> int | None:
    """Read a whole number of seconds given as text, or None."""
    if (
        isinstance(value, str)
        and value.isascii()
        and value.isdigit()
        and len(value) <= 9
    ):
        return int(value)
    return None
