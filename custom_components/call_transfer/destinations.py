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
import re
from typing import Any, Final

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
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
_WORD: Final = re.compile(r"\w+")


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


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _said_in(name: str, said: list[str]) -> int:
    """Return how many words ``name`` has if they are all in ``said`` in a row; else 0."""
    wanted = _words(name)
    size = len(wanted)
    if size and any(said[i : i + size] == wanted for i in range(len(said) - size + 1)):
        return size
    return 0


def matching_destinations(
    entries: Sequence[CallTransferConfigEntry], name: str
) -> list[tuple[CallTransferConfigEntry, Destination]]:
    """Return the destinations of these accounts that ``name`` names.

    Those called exactly that (case and spaces aside); else those whose whole name is
    said in it, the longest such names only: "the front desk" and "reception please"
    name Front desk and Reception.
    """
    every = [(entry, dest) for entry in entries for dest in account_destinations(entry)]
    if exact := [(e, dest) for e, dest in every if same_name(dest.name, name)]:
        return exact
    said = _words(name)
    lengths = [_said_in(dest.name, said) for _, dest in every]
    longest = max(lengths, default=0)
    return [
        pair for pair, size in zip(every, lengths, strict=True) if size == longest > 0
    ]


def find_destination(entry: CallTransferConfigEntry, name: str) -> Destination | None:
    """Return the account's one destination ``name`` names (``matching_destinations``)."""
    found = matching_destinations([entry], name)
    return found[0][1] if len(found) == 1 else None


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


def find_account_destination(
    hass: HomeAssistant, name: str, account: str | None = None
) -> tuple[CallTransferConfigEntry, Destination]:
    """Return the loaded account and its destination ``name`` names, or refuse.

    Without ``account`` (an account's title, or its beginning), the one account that
    has such a destination.
    """
    entries: list[CallTransferConfigEntry] = hass.config_entries.async_loaded_entries(
        DOMAIN
    )
    if not entries:
        raise validation_error("no_loaded_entry")
    if account is not None:
        matches = [entry for entry in entries if same_name(entry.title, account)] or [
            entry
            for entry in entries
            if entry.title.casefold().startswith(account.strip().casefold())
        ]
        if len(matches) != 1:
            raise validation_error(
                "intent_account_not_found",
                account=echoed(account),
                accounts=listed([entry.title for entry in entries]),
            )
        return matches[0], require_destination(matches[0], name)
    if len(entries) == 1:
        # Its own refusal names the account and its destinations.
        return entries[0], require_destination(entries[0], name)
    found = matching_destinations(entries, name)
    if len(found) == 1:
        return found[0]
    if found:
        raise validation_error(
            "intent_destination_ambiguous",
            destination=echoed(name),
            accounts=listed(list(dict.fromkeys(entry.title for entry, _ in found))),
        )
    if any(account_destinations(entry) for entry in entries):
        raise validation_error(
            "intent_destination_not_found",
            destination=echoed(name),
            destinations=destinations_by_account(entries),
        )
    raise validation_error("intent_no_destinations", destination=echoed(name))


def destinations_by_account(entries: Sequence[CallTransferConfigEntry]) -> str:
    """Return every account's destinations for an answer, each after its account.

    "Vobiz: Reception, Sales; Bland AI: On-call", at most ``MAX_NAMES_LISTED`` names.
    """
    groups: list[str] = []
    room = MAX_NAMES_LISTED
    for entry in entries:
        names = [dest.name for dest in account_destinations(entry)]
        if not names:
            continue
        if room <= 0:
            groups.append("…")
            break
        shown = [echoed(dest) for dest in names[:room]]
        more = ["…"] * (len(names) > room)
        groups.append(f"{echoed(entry.title)}: {', '.join(shown + more)}")
        room -= len(shown)
    return "; ".join(groups)


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
