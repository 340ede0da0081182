"""What a provider's transfers can do, and the transfer it makes of a user's fields.

Every provider declares one ``TransferCapabilities``; everything that asks, checks or
describes a transfer (an action, a form, the Dial XML webhook) reads it there, so no
caller branches on a provider.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .errors import InvalidRequestError
from .models import (
    LEG_FIELDS,
    LEGS_FIELD,
    XML_URL_FIELDS,
    NumberTransfer,
    TransferLegs,
    TransferRequest,
    XmlUrlMethod,
)
from .validation import is_sip_uri, require_call_id, require_http_url, require_sip_uri

CALL_ID_FIELD: Final = "call_id"
TO_FIELD: Final = "to"

# Parses a phone number as the user wrote it into E.164, or raises (the caller's errors).
type NumberParser = Callable[[str], Awaitable[str]]


class PlanRefusal(StrEnum):
    """Why no transfer can be made of the fields given; nothing was sent.

    Each value is also the key of the message that says so to the user.
    """

    INVALID_CALL_ID = "invalid_call_id"
    FIELDS_NOT_SUPPORTED = "fields_not_supported"
    OTHER_LEG_NOT_SUPPORTED = "other_leg_not_supported"
    TO_NOT_SUPPORTED = "to_not_supported"
    TO_OR_URL = "to_or_url"
    TO_REQUIRED = "to_required"
    TO_OR_URL_REQUIRED = "to_or_url_required"
    SIP_NOT_SUPPORTED = "sip_not_supported"
    INVALID_SIP_URI = "invalid_sip_uri"
    INVALID_LEGS = "invalid_legs"
    TO_WITH_LEG_URL = "to_with_leg_url"
    TO_WITH_BOTH_LEGS = "to_with_both_legs"
    INVALID_ALEG_URL = "invalid_aleg_url"
    INVALID_BLEG_URL = "invalid_bleg_url"
    MISSING_ALEG_URL = "missing_aleg_url"
    MISSING_BLEG_URL = "missing_bleg_url"
    MISSING_LEG_URLS = "missing_leg_urls"
    INVALID_METHOD = "invalid_method"


class TransferPlanError(ValueError):
    """The fields make no transfer the provider can send: ``refusal`` says why.

    ``placeholders`` hold what the message names (the value refused, the choices...).
    """

    def __init__(self, refusal: PlanRefusal, **placeholders: str) -> None:
        """Record the refusal and what its message names."""
        super().__init__(refusal.value)
        self.refusal = refusal
        self.placeholders = placeholders


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferCapabilities:
    """How a provider's transfers reach a destination."""

    # How a transfer reaches a phone number, if it can.
    number_transfer: NumberTransfer
    # Which ``legs`` a transfer to XML URLs can redirect; none: the provider takes no URL.
    # Vobiz points either leg (or both) at a URL; Twilio redirects the one call it is
    # given, which is ``aleg`` here.
    xml_url_legs: frozenset[TransferLegs] = frozenset()
    # Whether a destination may be a SIP URI (``sip:``/``sips:``) as well as a number.
    sip_destinations: bool = False

    @property
    def takes_number(self) -> bool:
        """Whether a transfer can go to a phone number."""
        return self.number_transfer is not NumberTransfer.UNSUPPORTED

    @property
    def takes_xml_urls(self) -> bool:
        """Whether a transfer can point the call's legs at URLs that answer call XML."""
        return bool(self.xml_url_legs)

    @property
    def legs_choices(self) -> tuple[TransferLegs, ...]:
        """The ``legs`` a transfer to XML URLs may name, in their usual order."""
        return tuple(leg for leg in TransferLegs if leg in self.xml_url_legs)

    @property
    def url_fields(self) -> tuple[str, ...]:
        """The fields of a transfer to XML URLs this provider takes, in form order."""
        if not self.takes_xml_urls:
            return ()
        redirected = {leg for legs in self.xml_url_legs for leg in legs.redirected}
        return (
            LEGS_FIELD,
            *(
                name
                for leg, names in LEG_FIELDS.items()
                if leg in redirected
                for name in names
            ),
        )

    def reported_legs(self, request: TransferRequest) -> TransferLegs | None:
        """Return the legs a request redirects to a URL (a served Dial XML's included).

        None for a transfer whose request itself names the number.
        """
        if self.takes_xml_urls and (
            request.to is None or self.number_transfer is NumberTransfer.DIAL_URL
        ):
            return request.legs
        return None

    def sip_destination(self, uri: str, *, provider: str) -> str:
        """Return a SIP URI destination as sent, or refuse it."""
        if not self.sip_destinations:
            raise TransferPlanError(
                PlanRefusal.SIP_NOT_SUPPORTED, provider=provider, uri=uri
            )
        try:
            return require_sip_uri(uri.strip(), TO_FIELD)
        except InvalidRequestError:
            raise TransferPlanError(PlanRefusal.INVALID_SIP_URI, uri=uri) from None

    async def plan(
        self,
        fields: Mapping[str, str],
        *,
        provider: str,
        parse_number: NumberParser,
    ) -> TransferRequest:
        """Make the transfer request of a user's fields, checked against what this takes.

        ``fields`` are ``call_id``, ``to`` and ``XML_URL_FIELDS``, as text; ``provider``
        is the provider's name as messages show it. Without a call id the request's
        ``call_id`` is empty: the caller picks the call. Raises ``TransferPlanError``.
        """
        call_id = ""
        if CALL_ID_FIELD in fields:
            try:
                call_id = require_call_id(fields[CALL_ID_FIELD].strip())
            except InvalidRequestError:
                raise TransferPlanError(
                    PlanRefusal.INVALID_CALL_ID, call_id=fields[CALL_ID_FIELD]
                ) from None
        given_url_fields = [name for name in XML_URL_FIELDS if name in fields]
        if any(name not in self.url_fields for name in given_url_fields):
            raise TransferPlanError(
                PlanRefusal.OTHER_LEG_NOT_SUPPORTED
                if self.takes_xml_urls
                else PlanRefusal.FIELDS_NOT_SUPPORTED,
                provider=provider,
            )
        names_number = self.number_transfer is NumberTransfer.IN_REQUEST
        to: str | None = fields.get(TO_FIELD)
        if to is not None:
            if not self.takes_number:
                raise TransferPlanError(PlanRefusal.TO_NOT_SUPPORTED, provider=provider)
            if names_number and given_url_fields:
                raise TransferPlanError(PlanRefusal.TO_OR_URL)
            to = (
                self.sip_destination(to, provider=provider)
                if is_sip_uri(to)
                else await parse_number(to)
            )
        elif not self.takes_xml_urls:
            raise TransferPlanError(PlanRefusal.TO_REQUIRED, provider=provider)
        elif names_number and not given_url_fields:
            raise TransferPlanError(PlanRefusal.TO_OR_URL_REQUIRED, provider=provider)
        if not self.takes_xml_urls or (to is not None and names_number):
            return TransferRequest(call_id=call_id, to=to)
        return self._plan_xml_urls(fields, TransferRequest(call_id=call_id, to=to))

    def _plan_xml_urls(
        self, fields: Mapping[str, str], request: TransferRequest
    ) -> TransferRequest:
        """Add the legs and their URLs; a ``to`` of the request is served as Dial XML."""
        legs = _choice(
            TransferLegs,
            fields.get(LEGS_FIELD, TransferLegs.ALEG),
            PlanRefusal.INVALID_LEGS,
        )
        if legs not in self.xml_url_legs:
            raise TransferPlanError(
                PlanRefusal.INVALID_LEGS,
                value=legs.value,
                choices=", ".join(self.legs_choices),
            )
        if request.to is not None:
            if any(names.url in fields for names in LEG_FIELDS.values()):
                raise TransferPlanError(PlanRefusal.TO_WITH_LEG_URL)
            if legs is TransferLegs.BOTH:
                raise TransferPlanError(PlanRefusal.TO_WITH_BOTH_LEGS)
        urls: dict[TransferLegs, str | None] = {}
        for leg, names in LEG_FIELDS.items():
            if (url := fields.get(names.url)) is not None:
                try:
                    url = require_http_url(url, names.url)
                except InvalidRequestError:
                    raise TransferPlanError(
                        PlanRefusal(f"invalid_{names.url}")
                    ) from None
            urls[leg] = url
        if request.to is None and (
            missing := [leg for leg in legs.redirected if urls[leg] is None]
        ):
            # One message per case, naming the fields as the action form shows them.
            raise TransferPlanError(
                PlanRefusal.MISSING_LEG_URLS
                if len(missing) > 1
                else PlanRefusal(f"missing_{LEG_FIELDS[missing[0]].url}")
            )
        request = TransferRequest(call_id=request.call_id, to=request.to, legs=legs)
        for leg, names in LEG_FIELDS.items():
            method = fields.get(names.method, XmlUrlMethod.POST)
            request = request.with_leg_url(
                leg,
                urls[leg],
                _choice(XmlUrlMethod, method, PlanRefusal.INVALID_METHOD),
            )
        return request


def _choice[ChoiceT: (TransferLegs, XmlUrlMethod)](
    choices: type[ChoiceT], value: str, refusal: PlanRefusal
) -> ChoiceT:
    """Read one of an enumeration's values (legs in lower case, methods in upper)."""
    try:
        return choices(
            value.strip().upper() if choices is XmlUrlMethod else value.strip().lower()
        )
    except ValueError:
        raise TransferPlanError(
            refusal, value=value, choices=", ".join(choice.value for choice in choices)
        ) from None
