"""Whether the number a call was transferred to answered: awaited, then reported once.

A transfer to a number on a provider whose push reports it (``reports_transfer_outcomes``)
asks the provider to report the dialled leg's outcome to the account's callback
webhook, under a token of 256 random bits in the URL's query. The first verified report
of a token fires ``call_transfer_transfer_answered`` or ``call_transfer_transfer_unanswered``
(with the reason: busy, no_answer, failed); later ones (a Dial's final status after its
answer) and unknown or expired tokens change nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
import secrets
from typing import Any, Final

from homeassistant.const import ATTR_ENTITY_ID

from .const import (
    ATTR_CALL_ID,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DESTINATION,
    ATTR_LEGS,
    ATTR_PROVIDER,
    ATTR_REASON,
    ATTR_TO,
    EVENT_TRANSFER_ANSWERED,
    EVENT_TRANSFER_UNANSWERED,
)
from .providers import TransferLegs
from .providers.callbacks import CallbackEvent, CallbackKind

# How long a transfer's outcome is awaited: the provider fetches the Dial XML within its
# 120 s, then the number rings (at most 120 s on Vobiz and Plivo); with room to spare.
OUTCOME_LIFETIME: Final = timedelta(minutes=15)
# Transfers awaited at most per account; the oldest is dropped beyond.
MAX_AWAITED: Final = 1000
TOKEN_BYTES: Final = 32


@dataclass(slots=True, kw_only=True)
class AwaitedOutcome:
    """A transfer to a number whose outcome the provider will report."""

    call_id: str
    to: str
    destination: str | None
    legs: TransferLegs
    since: datetime

    def event(
        self, entry_id: str, entity_id: str | None, provider: str, told: CallbackEvent
    ) -> tuple[str, dict[str, Any]]:
        """Return the bus event reporting this transfer's outcome: its type and data."""
        data: dict[str, Any] = {
            ATTR_CONFIG_ENTRY_ID: entry_id,
            ATTR_ENTITY_ID: entity_id,
            ATTR_PROVIDER: provider,
            ATTR_CALL_ID: self.call_id,
            ATTR_TO: self.to,
            ATTR_DESTINATION: self.destination,
            ATTR_LEGS: self.legs.value,
        }
        if told.kind is CallbackKind.TRANSFER_ANSWERED:
            return EVENT_TRANSFER_ANSWERED, data
        assert told.unanswered_reason is not None
        return EVENT_TRANSFER_UNANSWERED, data | {
            ATTR_REASON: told.unanswered_reason.value
        }


class AwaitedOutcomes:
    """An account's transfers whose outcome is awaited, by token (bounded, expiring)."""

    def __init__(self) -> None:
        """Await nothing yet."""
        self._awaited: OrderedDict[str, AwaitedOutcome] = OrderedDict()

    def __len__(self) -> int:
        """How many transfers are awaited."""
        return len(self._awaited)

    def add(self, awaited: AwaitedOutcome) -> str:
        """Await a transfer's outcome; return its new token."""
        self._prune(awaited.since)
        while len(self._awaited) >= MAX_AWAITED:
            self._awaited.popitem(last=False)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self._awaited[token] = awaited
        return token

    def forget(self, token: str) -> None:
        """Stop awaiting a transfer (the provider refused it)."""
        self._awaited.pop(token, None)

    def take(self, told: CallbackEvent, now: datetime) -> AwaitedOutcome | None:
        """Return the transfer a verified outcome is about, once; None if it is none of ours.

        A transfer that moved the A leg must be the call the report names, if it names one.
        """
        self._prune(now)
        awaited = self._awaited.get(told.transfer_token or "")
        if awaited is None:
            return None
        if (
            awaited.legs is TransferLegs.ALEG
            and told.call is not None
            and told.call.call_id != awaited.call_id
        ):
            return None
        return self._awaited.pop(told.transfer_token or "")

    def _prune(self, now: datetime) -> None:
        while self._awaited and (
            now - next(iter(self._awaited.values())).since > OUTCOME_LIFETIME
        ):
            self._awaited.popitem(last=False)
