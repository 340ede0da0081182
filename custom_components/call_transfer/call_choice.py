"""Which live call a button or a voice command transfers, and how calls are named to a person.

A person picks a call by its caller: under the account's *Call to transfer* select
(callers masked to their last four digits, and when each call started), or by voice
("the call from 0142", "the newest call"). Nothing picked: the only live call. Never a
guess: a choice that matches no call, or several, is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import re
from typing import Final

from homeassistant.util import dt as dt_util

from .data import CallTransferConfigEntry
from .destinations import echoed, validation_error
from .phone import mask
from .providers import LiveCall

# The select's first option, translated: no call chosen. It reads "the only live call"
# while at most one call is live (a press transfers it), "choose a call" while several are
# (a press would be refused).
ONLY_LIVE_CALL: Final = "only_live_call"
CHOOSE_A_CALL: Final = "choose_a_call"
# A caller's number said by its last digits: at least this many of them.
MIN_DIGITS_SAID: Final = 2
_NOT_DIGIT: Final = re.compile(r"\D")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallChoice:
    """A call named by voice: by its caller's number (or its last digits), or the newest."""

    caller: str | None = None
    newest: bool = False


def other_party(call: LiveCall) -> str | None:
    """Return the number of the person on the call: the caller, or whom an outbound call rang.

    (An outbound call is from the account's own number.)
    """
    if (call.direction or "").startswith("out"):
        return call.to_number
    return call.from_number


def call_label(call: LiveCall) -> str:
    """Name a call for a person: its other party masked to the last four digits, and its start.

    A call whose numbers the provider does not tell is named by the end of its id.
    """
    number = other_party(call)
    who = mask(number) if number else f"#{call.call_id[-6:]}"
    if call.started is None:
        return str(who)
    return f"{who} · {dt_util.as_local(call.started):%H:%M}"


def call_labels(calls: Sequence[LiveCall]) -> dict[str, str]:
    """Return each call's label (unique: a repeated one is numbered) → its call id.

    Oldest first.
    """
    labels: dict[str, str] = {}
    for call in by_start(calls):
        label = base = call_label(call)
        number = 1
        while label in labels:
            number += 1
            label = f"{base} ({number})"
        labels[label] = call.call_id
    return labels


def calls_from(calls: Sequence[LiveCall], caller: str) -> list[LiveCall]:
    """Return the calls whose other party's number is, or ends with, the digits said."""
    digits = _NOT_DIGIT.sub("", caller)
    if len(digits) < MIN_DIGITS_SAID:
        return []
    return [
        call
        for call in calls
        if (number := other_party(call)) and _NOT_DIGIT.sub("", number).endswith(digits)
    ]


def by_start(calls: Sequence[LiveCall]) -> list[LiveCall]:
    """Return the calls oldest first (the provider's order where it does not say when)."""
    ordered = sorted(
        enumerate(calls),
        key=lambda pair: (pair[1].started is not None, pair[1].started, pair[0]),
    )
    return [call for _, call in ordered]


def newest_call(calls: Sequence[LiveCall]) -> LiveCall:
    """Return the call that started last (the last listed when the provider does not say)."""
    return by_start(calls)[-1]


def choose_call(
    entry: CallTransferConfigEntry,
    calls: Sequence[LiveCall],
    *,
    chosen_id: str | None,
    said: CallChoice | None,
    destination: str,
) -> LiveCall:
    """Return the call to transfer to ``destination``, from the live ``calls``; or refuse.

    ``said``: what a voice command named; else ``chosen_id``, the call chosen under
    the account's select (when the transfer was asked for); else the only live call.
    """
    title = entry.title
    if not calls:
        raise validation_error("no_live_call", title=title)
    if said is not None and said.caller is not None:
        matches = calls_from(calls, said.caller)
        if len(matches) == 1:
            return matches[0]
        raise validation_error(
            "several_calls_from" if matches else "no_call_from",
            title=title,
            caller=echoed(said.caller),
            count=str(len(matches)),
        )
    if said is not None and said.newest:
        return newest_call(calls)
    if chosen_id is not None:
        if (call := next((c for c in calls if c.call_id == chosen_id), None)) is None:
            raise validation_error("chosen_call_ended", title=title)
        return call
    if len(calls) == 1:
        return calls[0]
    raise validation_error(
        "several_live_calls_for_destination",
        title=title,
        count=str(len(calls)),
        destination=destination,
    )
