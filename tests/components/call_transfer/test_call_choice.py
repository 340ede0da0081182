"""How a call is named to a person and picked by what was said, where providers say little."""

from __future__ import annotations

from datetime import UTC, datetime

from custom_components.call_transfer.call_choice import (
    call_label,
    calls_from,
    newest_call,
)
from custom_components.call_transfer.providers import LiveCall

EARLY = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def call(call_id: str, number: str | None, started: datetime | None) -> LiveCall:
    """Return an inbound call as a provider lists it."""
    return LiveCall(
        call_id=call_id,
        from_number=number,
        to_number="+14155550100",
        started=started,
        direction="inbound",
    )


def test_a_call_without_its_start_is_named_by_its_caller_alone() -> None:
    """A provider that does not say when the call started: no time in its name."""
    assert call_label(call("c-123456789", "+14155550142", None)) == "••••••••0142"
    assert call_label(call("c-123456789", None, None)) == "#456789"


def test_a_digit_alone_names_no_caller() -> None:
    """One digit said would match every other call: it matches none."""
    calls = [call("a", "+14155550142", EARLY), call("b", "+14155550172", EARLY)]

    assert calls_from(calls, "2") == []
    assert calls_from(calls, "42") == [calls[0]]


def test_the_newest_of_calls_without_a_start_is_the_last_listed() -> None:
    """Calls with a start come after those without; among equals, the listing's order."""
    calls = [call("a", None, EARLY), call("b", None, None), call("c", None, None)]

    assert newest_call(calls).call_id == "a"
    assert newest_call(calls[1:]).call_id == "c"
