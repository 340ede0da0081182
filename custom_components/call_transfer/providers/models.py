"""Provider-neutral data models shared by every client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, NamedTuple, cast


class TransferLegs(StrEnum):
    """Which leg(s) of a call an XML-URL transfer redirects (Vobiz/Plivo style)."""

    ALEG = "aleg"
    BLEG = "bleg"
    BOTH = "both"

    @property
    def redirected(self) -> tuple[TransferLegs, ...]:
        """The single legs this choice redirects: ``(ALEG,)``, ``(BLEG,)`` or both."""
        if self is TransferLegs.BOTH:
            return (TransferLegs.ALEG, TransferLegs.BLEG)
        return (self,)


class LegFields(NamedTuple):
    """The names of a single leg's URL and method fields."""

    url: str
    method: str


# The one place a leg is tied to its fields. The names are those of TransferRequest's
# fields, of the transfer action's fields and of Plivo's (and Vobiz's) transfer body.
LEG_FIELDS: Final[Mapping[TransferLegs, LegFields]] = {
    TransferLegs.ALEG: LegFields(url="aleg_url", method="aleg_method"),
    TransferLegs.BLEG: LegFields(url="bleg_url", method="bleg_method"),
}
LEGS_FIELD: Final = "legs"
# Every field of a transfer that points legs at XML URLs, in the order forms show them.
XML_URL_FIELDS: Final = (
    LEGS_FIELD,
    *(name for names in LEG_FIELDS.values() for name in names),
)


class NumberTransfer(StrEnum):
    """How a provider sends a live call to a phone number, if it can."""

    UNSUPPORTED = "unsupported"
    # The transfer request itself names the number (``TransferRequest.to``).
    IN_REQUEST = "in_request"
    # The provider fetches call XML from a URL; the caller serves ``dial_xml()`` there
    # and transfers a leg to that URL.
    DIAL_URL = "dial_url"


class OptionKind(StrEnum):
    """What kind of value a provider option holds, so a UI can ask for and check it."""

    TEXT = "text"  # free text, such as an announcement
    PHONE_NUMBER = "phone_number"  # an E.164 number, such as a caller id
    SECONDS = "seconds"  # a whole number of seconds within [minimum, maximum]
    IDENTIFIER = "identifier"  # an id the provider checks (async_validate_options)
    PUBLIC_KEY = "public_key"  # a base64 Ed25519 public key (32 bytes); not secret
    SWITCH = "switch"  # on or off; stored only when on
    SECRET = (
        "secret"  # a secret (a signing secret): never shown, redacted, kept when empty
    )


class XmlUrlMethod(StrEnum):
    """HTTP method the provider uses to fetch a transfer XML URL."""

    GET = "GET"
    POST = "POST"


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialField:
    """One credential a provider needs, as asked for in a config flow.

    An optional credential (``required=False``) may be left out, such as Twilio's API
    key SID (without it the auth token authenticates). It is not what names the
    account, and a new secret may come with a new value of it, so reauthentication
    asks for it again together with the secrets.
    """

    key: str
    secret: bool
    required: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionField:
    """One optional setting of a provider account, passed to the client's constructor."""

    key: str
    kind: OptionKind
    # The range of a SECONDS option.
    minimum: int = 1
    maximum: int = 3600
    # The longest TEXT a provider accepts.
    max_length: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountInfo:
    """Who the credentials belong to.

    ``account_id`` is stable for the account and safe to store and show: for a
    provider whose API has no account id it is a non-reversible fingerprint of the key.
    ``details`` holds non-secret facts about the account for diagnostics.
    """

    account_id: str
    name: str
    details: dict[str, str | int | float | bool | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferRequest:
    """A request to transfer a live call.

    ``to`` is the destination, for providers that transfer to a number: an E.164
    number, or a SIP URI where the provider's capabilities take one (``sip_destinations``).
    ``legs`` and the ``*_url``/``*_method`` fields are for providers that redirect
    a leg to a URL answering call-control XML (``TransferCapabilities.xml_url_legs``).
    ``report_url``: where a provider that dials ``to`` in the request itself
    (``NumberTransfer.IN_REQUEST``) and whose ``push`` reports transfer outcomes is
    asked to report whether the number answered.
    """

    call_id: str
    to: str | None = None
    legs: TransferLegs = TransferLegs.ALEG
    aleg_url: str | None = None
    aleg_method: XmlUrlMethod = XmlUrlMethod.POST
    bleg_url: str | None = None
    bleg_method: XmlUrlMethod = XmlUrlMethod.POST
    report_url: str | None = None

    @property
    def names_xml_urls(self) -> bool:
        """Whether the request uses a field of transfers to XML URLs (legs, URLs)."""
        return bool(
            self.aleg_url or self.bleg_url or self.legs is not TransferLegs.ALEG
        )

    def leg_url(self, leg: TransferLegs) -> tuple[str | None, XmlUrlMethod]:
        """Return a single leg's URL (None when not given) and its method."""
        names = LEG_FIELDS[leg]
        return (
            cast("str | None", getattr(self, names.url)),
            cast("XmlUrlMethod", getattr(self, names.method)),
        )

    def with_leg_url(
        self,
        leg: TransferLegs,
        url: str | None,
        method: XmlUrlMethod | None = None,
    ) -> TransferRequest:
        """Return this request with a single leg's URL (and method, if given) set."""
        names = LEG_FIELDS[leg]
        changes: dict[str, Any] = {names.url: url}
        if method is not None:
            changes[names.method] = method
        return replace(self, **changes)


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferResult:
    """What the provider said when it accepted a transfer."""

    call_id: str
    message: str
    request_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveCall:
    """A call that is in progress on the account."""

    call_id: str
    from_number: str | None
    to_number: str | None
    started: datetime | None
    status: str | None = None
    direction: str | None = None  # "inbound" or "outbound" when the provider says


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmedCall:
    """The provider's own record of one call (``async_confirm_call``), live or ended.

    ``call`` holds what the provider says of it (numbers, direction, start), never what
    a callback said.
    """

    call: LiveCall
    live: bool
