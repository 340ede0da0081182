"""Property-based fuzzing of the transfer action, over every field.

The property: only valid input reaches the provider. Every call ends in one of
- a ServiceValidationError, with nothing sent and no event;
- one request the sandbox accepts (a transfer), with one succeeded event;
- one valid request for a call that is not live (the provider's 404), with one failed
  event.
A request the sandbox refuses as malformed (400), or any other exception, fails.
"""

from __future__ import annotations

from typing import Any

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from hypothesis import HealthCheck, example, given, settings, strategies as st
import pytest

from tests.helpers.hass import transfer
from tests.helpers.provider_cases import PROVIDER_CASES, transfers_sent

from .conftest import Accounts

# The reliability suite: 2,000 fuzzed action calls.
pytestmark = pytest.mark.slow

EXAMPLES = 2000
# Stands for a call of the chosen account that has ended (made per provider, in its form).
ENDED_CALL = "ended-call"

ANY_TEXT = st.text(max_size=40)
NOT_TEXT = st.one_of(
    st.none(), st.booleans(), st.lists(st.integers(), max_size=2), st.just({"a": 1})
)


def text_values(
    examples: list[str], pattern: str, largest: int
) -> st.SearchStrategy[Any]:
    """Draw a field's text: a telling example, text of the usual shape, a number, any text."""
    return st.one_of(
        st.sampled_from(examples),
        st.from_regex(pattern, fullmatch=True),
        st.integers(min_value=0, max_value=largest),
        ANY_TEXT,
    )


CALL_IDS = text_values(
    [*(case.call_id for case in PROVIDER_CASES.values()), ENDED_CALL],
    r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,20}",
    10**12,
)
NUMBERS = text_values(
    [
        *("+14155550100", "(415) 555-0100", "415.555.0100", "+44 20 7183 8750"),
        *("020 7183 8750", "011 44 20 7183 8750", "+881612345678", "+88212345678"),
        *("+10000000000", "+1 415 555 0100 ext. 123", "(415) 555-0100 x12"),
        *("tel:+1-415-555-0100", "+", ""),
    ],
    r"\+?[\d ().\-]{1,20}",
    10**15,
)
URLS = st.one_of(
    st.sampled_from(
        [
            "https://xml.example.com/aleg",
            "http://127.0.0.1:8080/x.xml",
            "http://[::1]/x",
            "http://[::1",
            "https://xml.example.com:99999/a",
            "https://exa mple.com/a",
            "ftp://xml.example.com/a",
            "javascript:alert(1)",
            "/relative",
            "",
        ]
    ),
    ANY_TEXT,
)
CHOICES = st.one_of(
    st.sampled_from(["aleg", "bleg", "both", "BOTH", " aleg ", "GET", "post", "PUT"]),
    ANY_TEXT,
)


def optional(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Draw a field's value, another type now and then, or None: the field left out."""
    return st.one_of(st.none(), values, NOT_TEXT)


@st.composite
def action_data(draw: st.DrawFn) -> dict[str, Any]:
    """Draw data for call_transfer.transfer, as a script or the UI might send it.

    The account is named by provider (the test maps it to the entry id), or is unknown.
    """
    fields = {
        "config_entry_id": draw(optional(st.sampled_from([*PROVIDER_CASES, "nope"]))),
        "call_id": draw(optional(CALL_IDS)),
        "to": draw(optional(NUMBERS)),
        "legs": draw(optional(CHOICES)),
        "aleg_url": draw(optional(URLS)),
        "aleg_method": draw(optional(CHOICES)),
        "bleg_url": draw(optional(URLS)),
        "bleg_method": draw(optional(CHOICES)),
    }
    data = {key: value for key, value in fields.items() if value is not None}
    # A field nobody documented, now and then; and None itself as a value.
    if draw(st.integers(0, 20)) == 0:
        data[draw(st.sampled_from(["transfer_to", "leg", "callId"]))] = "x"
    if draw(st.integers(0, 30)) == 0:
        data[draw(st.sampled_from(list(fields)))] = None
    return data


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    # One Home Assistant and sandbox serve every example, on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=action_data())
# Each outcome at least once, whatever the random examples are.
@example(data={"config_entry_id": "bland", "call_id": "a/b", "to": "+14155550100"})
@example(
    data={"config_entry_id": "telnyx", "call_id": ENDED_CALL, "to": "+14155550100"}
)
@example(
    data={
        "config_entry_id": "vobiz",
        "call_id": PROVIDER_CASES["vobiz"].call_id,
        "aleg_url": "https://xml.example.com/aleg",
    }
)
async def test_only_valid_input_reaches_the_provider(
    accounts: Accounts, data: dict[str, Any]
) -> None:
    """Generated calls on every provider: refused before sending, or sent and understood.

    A call that is not live is the caller's to fix (a validation error), but only the
    provider can tell: it is sent, and ends in one event.
    """
    hass, sandbox, events = accounts.hass, accounts.sandbox, accounts.events
    account = data.get("config_entry_id")
    if isinstance(account, str) and account in accounts.entries:
        data["config_entry_id"] = accounts.entry(account).entry_id
        if data.get("call_id") == ENDED_CALL:
            [data["call_id"]] = accounts.new_calls(account, 1)
            sandbox.end_call(data["call_id"])
    sent = len(transfers_sent(sandbox))
    fired = len(events["succeeded"]) + len(events["failed"])

    refused: ServiceValidationError | None = None
    failed: HomeAssistantError | None = None
    try:
        await transfer(hass, **data)
    except ServiceValidationError as err:
        refused = None if err.translation_key == "transfer_call_not_found" else err
        failed = err if refused is None else None
    except HomeAssistantError as err:
        failed = err

    sent = len(transfers_sent(sandbox)) - sent
    fired = len(events["succeeded"]) + len(events["failed"]) - fired
    if refused is not None:
        assert (sent, fired) == (0, 0), (data, refused)
        return
    assert (sent, fired) == (1, 1), data
    if failed is not None:
        assert failed.translation_key == "transfer_call_not_found", (data, failed)
