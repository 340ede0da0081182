"""Destinations: the named places an account transfers calls to (its config subentries).

A destination holds either a phone number (E.164, or a SIP URI where the provider takes
one) or, where the provider points call legs at URLs, a URL with its method and legs.
The action's ``destination`` field, the buttons and the voice intent name one; it is
turned into the action fields it stands for (``to``, or the leg URL fields), so the
transfer itself is checked and sent exactly as if those were given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.config_entries import ConfigSubentry
from homeassistant.exceptions import ServiceValidationError

from .const import (
    ATTR_DESTINATION,
    ATTR_LEGS,
    ATTR_TO,
    CONF_LEGS,
    CONF_METHOD,
    CONF_NUMBER,
    CONF_URL,
    DOMAIN,
    SUBENTRY_DESTINATION,
)
from .data import CallTransferConfigEntry
from .providers import LEG_FIELDS, XML_URL_FIELDS, TransferLegs, XmlUrlMethod

# The longest text of a request (a name said or typed) an answer repeats, and the most
# names an answer lists: an answer stays short, whatever was said or set up.
MAX_ECHOED_LENGTH: Final = 60
MAX_NAMES_LISTED: Final = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """One destination of an account: its name and where it sends a call."""

    subentry_id: str
    name: str
    # A phone number in E.164 (or a SIP URI), or else a URL that answers call XML.
    number: str | None = None
    url: str | None = None
    method: XmlUrlMethod = XmlUrlMethod.POST
    legs: TransferLegs = TransferLegs.ALEG

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> Destination:
        """Read a destination subentry."""
        data = subentry.data
        return cls(
            subentry_id=subentry.subentry_id,
            name=subentry.title,
            number=data.get(CONF_NUMBER),
            url=data.get(CONF_URL),
            method=XmlUrlMethod(data.get(CONF_METHOD, XmlUrlMethod.POST)),
            legs=TransferLegs(data.get(CONF_LEGS, TransferLegs.ALEG)),
        )

    def action_fields(self) -> dict[str, str]:
        """Return the action fields this destination stands for."""
        if self.url is None:
            return {ATTR_TO: str(self.number)}
        fields = {ATTR_LEGS: self.legs.value}
        for leg in self.legs.redirected:
            names = LEG_FIELDS[leg]
            fields |= {names.url: self.url, names.method: self.method.value}
        return fields


def account_destinations(entry: CallTransferConfigEntry) -> list[Destination]:
    """Return the account's destinations, in the order they were added."""
    return [
        Destination.from_subentry(subentry)
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_DESTINATION
    ]


def echoed(text: str) -> str:
    """Return a name fit to repeat in an answer: cut at ``MAX_ECHOED_LENGTH``."""
    text = text.strip()
    if len(text) > MAX_ECHOED_LENGTH:
        return text[: MAX_ECHOED_LENGTH - 1] + "…"
    return text


def listed(names: Sequence[str]) -> str:
    """Return names for an answer: the first ``MAX_NAMES_LISTED`` of them, then "…"."""
    shown = [echoed(name) for name in names[:MAX_NAMES_LISTED]]
    return ", ".join(shown + ["…"] * (len(names) > MAX_NAMES_LISTED))


def same_name(first: str, second: str) -> bool:
    """Whether two destination (or account) names are the same, case and spaces aside."""
    return first.strip().casefold() == second.strip().casefold()


def find_destination(entry: CallTransferConfigEntry, name: str) -> Destination | None:
    """Return the account's destination called ``name`` (not case-sensitive), if any."""
    return next(
        (dest for dest in account_destinations(entry) if same_name(dest.name, name)),
        None,
    )


def require_destination(entry: CallTransferConfigEntry, name: str) -> Destination:
    """Return the account's destination called ``name``, or refuse, naming the others."""
    if (destination := find_destination(entry, name)) is not None:
        return destination
    if names := [dest.name for dest in account_destinations(entry)]:
        raise validation_error(
            "destination_not_found",
            title=entry.title,
            destination=echoed(name),
            destinations=listed(names),
        )
    raise validation_error(
        "no_destinations", title=entry.title, destination=echoed(name)
    )


def resolve_destination(
    entry: CallTransferConfigEntry, data: dict[str, Any]
) -> tuple[str | None, dict[str, Any]]:
    """Return the destination's name (or None) and the action data it stands for.

    The ``destination`` field says where the call goes, so it cannot come with
    ``to`` or a leg field.
    """
    if ATTR_DESTINATION not in data:
        return None, data
    if ATTR_TO in data or any(field in data for field in XML_URL_FIELDS):
        raise validation_error("destination_with_to")
    destination = require_destination(entry, data[ATTR_DESTINATION])
    rest = {key: value for key, value in data.items() if key != ATTR_DESTINATION}
    return destination.name, rest | destination.action_fields()


def validation_error(
    translation_key: str, **placeholders: str
) -> ServiceValidationError:
    """Return a translated refusal of the user's input (nothing was sent)."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=translation_key,
        translation_placeholders=placeholders,
    )
