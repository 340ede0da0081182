"""The record of an account's live calls, on its own: what each report changes.

Polls report complete listings (test_coordinator_races.py drives them through Home
Assistant and the sandbox); provider callbacks (issue 18) will report single calls
starting or ending. Whatever order those reports come in, late or early, each call
starts and ends once. These tests give the record such reports directly: the record
is plain bookkeeping, and no provider sends callbacks yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.call_transfer.coordinator import (
    ENDED_CALLS_KEPT,
    CallReport,
    LiveCallRecord,
)
from custom_components.call_transfer.providers import LiveCall


def call(call_id: str) -> LiveCall:
    """Return a live call with nothing but its id."""
    return LiveCall(call_id=call_id, from_number=None, to_number=None, started=None)


def listing(*call_ids: str, **changes: frozenset[str]) -> CallReport:
    """Return a poll's report: these calls live, and what its lookups told."""
    return CallReport(live={i: call(i) for i in call_ids}, complete=True, **changes)


@dataclass
class World:
    """The provider's calls, and what the record said of them."""

    record: LiveCallRecord = field(default_factory=LiveCallRecord)
    live: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)
    next_id: int = 0

    def apply(self, report: CallReport) -> None:
        """Give the record a report; keep the changes it makes."""
        self.events += [(c.kind, c.call.call_id) for c in self.record.apply(report)]


# A step: a call starts or ends at the provider; a poll (its listing may leave one call
# out, which it confirms by a lookup or a second listing, as the coordinator does); a
# listing that lags (it still shows the call that ended last); a callback about one
# call starting or ending, in time or late.
STEPS = st.lists(
    st.one_of(
        st.just(("start", 0)),
        st.tuples(st.just("end"), st.integers(0, 5)),
        st.tuples(st.just("poll"), st.integers(-1, 5)),
        st.tuples(st.just("poll looking up"), st.integers(-1, 5)),
        st.just(("lagging listing", 0)),
        st.tuples(st.just("callback started"), st.integers(0, 5)),
        st.tuples(st.just("callback ended"), st.integers(0, 5)),
    ),
    max_size=30,
)


def pick(calls: list[str], index: int) -> str | None:
    """Return the call ``index`` picks, if there is any (and ``index`` is not -1)."""
    return calls[index % len(calls)] if calls and index >= 0 else None


def poll(world: World, omitted: str | None, *, looks_up: bool) -> None:
    """List the calls (leaving ``omitted`` out), confirming what the listing misses."""
    report = listing(*[i for i in world.live if i != omitted])
    missing = world.record.missing_from(report.live)
    if not missing:
        world.apply(report)
    elif looks_up:
        world.apply(
            replace(
                report,
                ended=frozenset(i for i in missing if i not in world.live),
                confirmed=frozenset(i for i in missing if i in world.live),
            )
        )
    else:
        world.apply(report)
        world.apply(listing(*world.live))


def run(world: World, kind: str, index: int) -> None:
    """Do one step."""
    if kind == "start":
        world.live.append(f"call-{world.next_id}")
        world.next_id += 1
    elif kind == "end" and (ending := pick(world.live, index)) is not None:
        world.live.remove(ending)
        world.ended.append(ending)
    elif kind.startswith("poll"):
        poll(world, pick(world.live, index), looks_up=kind == "poll looking up")
    elif kind == "lagging listing":
        world.apply(listing(*world.live, *world.ended[-1:]))
    elif kind == "callback started" and (known := pick(world.live, index)):
        world.apply(CallReport(live={known: call(known)}))
    elif kind == "callback ended" and (over := pick(world.ended, index)):
        world.apply(CallReport(ended=frozenset({over})))


@pytest.mark.slow  # a property test: 300 examples
@settings(max_examples=300, derandomize=True, database=None)
@given(initial=st.integers(0, 3), steps=STEPS)
def test_each_call_starts_and_ends_once_whichever_report_tells_first(
    initial: int, steps: list[tuple[str, int]]
) -> None:
    """Property: each call starts and ends once, and the record ends up right.

    Once a poll's listing is right, the record has the provider's live calls, and each
    call fired started and ended at most once each, in that order, as it came and went.
    """
    world = World(live=[f"initial-{n}" for n in range(initial)])
    world.apply(listing(*world.live))
    for kind, index in steps:
        run(world, kind, index)
    poll(world, None, looks_up=False)
    poll(world, None, looks_up=False)

    assert set(world.record.calls) == set(world.live)
    for call_id in world.live + world.ended:
        fired = [kind for kind, named in world.events if named == call_id]
        if call_id.startswith("initial"):
            expected = [] if call_id in world.live else ["ended"]
        elif call_id in world.live:
            expected = ["started"]
        else:  # seen live (started, then ended), or never seen
            expected = ["started", "ended"] if "started" in fired else []
        assert fired == expected, (call_id, steps)


def test_a_listing_that_lags_keeps_an_ended_call_silently() -> None:
    """A call whose end was told stays ended; a late listing shows it, without events."""
    world = World()
    world.apply(listing("a", "b"))
    world.apply(CallReport(ended=frozenset({"a"})))
    assert world.events == [("ended", "a")]

    world.apply(listing("a", "b"))  # taken before "a" ended
    assert set(world.record.calls) == {"a", "b"}
    world.apply(listing("b"))
    world.apply(listing("b"))
    world.apply(CallReport(live={"a": call("a")}))  # a late callback

    assert world.events == [("ended", "a")]
    assert set(world.record.calls) == {"b"}


def test_the_last_thousand_ended_calls_are_remembered() -> None:
    """Calls ended longer ago than the last ENDED_CALLS_KEPT are forgotten."""
    world = World()
    world.apply(listing())
    ended = [f"call-{n}" for n in range(ENDED_CALLS_KEPT + 1)]
    world.apply(CallReport(ended=frozenset(ended[:1])))
    world.apply(CallReport(ended=frozenset(ended[1:])))

    world.apply(CallReport(live={i: call(i) for i in (ended[0], ended[-1])}))

    assert world.events == [("started", ended[0])]
