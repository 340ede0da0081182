"""Polling as reconciliation while pushed call starts arrive, and back when push fails.

Telnyx's webhooks report calls starting. Vobiz, Plivo and Twilio report a call's start
only to the URL that answers it (the application's answer URL, the number's voice URL),
which is the user's own unless Home Assistant answers calls first: without that their
clients declare no pushed starts, so polling keeps its interval. These tests declare
pushed starts (as the account does answering calls first, test_push_answer_first) and
point the sandbox's answer URL at Home Assistant, to show the rule: while callbacks
verify and report starts and no call is live, polling only reconciles, every 5 minutes;
a refused callback, or a start only a poll found, brings the account's interval back at
once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from unittest.mock import patch

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.call_transfer.providers import PROVIDERS
from sandbox import SANDBOX_ANSWER_URL, CallbackFault
from sandbox.state import SANDBOX_TELNYX_WEBHOOK_URL
from tests.helpers.push import CALL_START_PROVIDERS, PUSH_PROVIDERS, PushAccount

RECONCILIATION = timedelta(minutes=5)
# The providers whose client declares no pushed starts, as they are.
UNPUSHED_STARTS = [
    provider
    for provider in PUSH_PROVIDERS
    if not (push := PROVIDERS[provider].push) or not push.reports_call_starts
]


@contextmanager
def pushed_starts(provider: str) -> Iterator[None]:
    """Let the provider's client declare that its callbacks report calls starting."""
    client = PROVIDERS[provider]
    assert client.push is not None
    with patch.object(client, "push", replace(client.push, reports_call_starts=True)):
        yield


def listings(push: PushAccount) -> int:
    """Return how many live-call listings the sandbox answered since it was cleared."""
    return sum(1 for request in push.sandbox.requests if push.case.is_listing(request))


async def listings_after_a_short_call(push: PushAccount) -> int:
    """Start and end a call, poll once, then return the listings of the next minute."""
    call = await push.start_call()
    push.sandbox.end_call(call.call_id)
    await push.settle()
    await push.poll()
    push.sandbox.requests.clear()
    for _ in range(6):
        await push.poll()
    return listings(push)


async def reconciling(push: PushAccount) -> None:
    """Set the account up, push a call's start and end, and poll once: it reconciles.

    The seeded calls end first: polling reconciles only while no call is live.
    """
    for call in push.sandbox.account_calls(push.case.provider, push.case.account):
        push.sandbox.end_call(call.call_id)
    await push.set_up()
    if not push.json:
        push.set_answer(push.callback_url)  # Home Assistant answers calls first
    call = await push.start_call()
    await push.settle()
    push.sandbox.end_call(call.call_id)
    await push.settle()
    assert [(e.data["call_id"], e.data["source"]) for e in push.started] == [
        (call.call_id, "push")
    ]
    assert [e.data["source"] for e in push.ended] == ["push"]
    await push.poll()
    push.sandbox.requests.clear()


@pytest.mark.parametrize("push_provider", CALL_START_PROVIDERS)
async def test_polling_reconciles_while_pushed_starts_arrive(
    push: PushAccount, hass_client: ClientSessionGenerator
) -> None:
    """Idle with healthy callbacks: one listing every 5 minutes, not every 10 s."""
    with pushed_starts(push.provider):
        await reconciling(push)
        for _ in range(29):
            await push.poll()
        assert listings(push) == 0
        await push.poll()
        assert listings(push) == 1
        diagnostics = await get_diagnostics_for_config_entry(
            push.hass, hass_client, push.entry
        )
    assert diagnostics["push"]["reconciling"] is True
    assert diagnostics["push"]["healthy"] is True
    assert diagnostics["push"]["reports_call_starts"] is True


@pytest.mark.parametrize("push_provider", CALL_START_PROVIDERS)
async def test_a_refused_callback_brings_polling_back(push: PushAccount) -> None:
    """Callbacks refused (forged): a poll at once finds the call, then every 10 s."""
    with pushed_starts(push.provider):
        await reconciling(push)
        push.account.callback_fault = CallbackFault.FORGED
        call = await push.start_call()
        await push.settle()

        assert [sent.status for sent in push.sandbox.callbacks_sent][-1] == 401
        assert listings(push) == 1
        assert [(e.data["call_id"], e.data["source"]) for e in push.started][-1] == (
            call.call_id,
            "poll",
        )
        push.sandbox.requests.clear()
        for _ in range(6):
            await push.poll()
        assert listings(push) == 6


@pytest.mark.parametrize("push_provider", CALL_START_PROVIDERS)
async def test_no_callbacks_bring_polling_back(push: PushAccount) -> None:
    """Callbacks stop (the answer URL moved): the next reconciliation finds the call."""
    with pushed_starts(push.provider):
        await reconciling(push)
        if push.json:
            push.telnyx_app.webhook_event_url = SANDBOX_TELNYX_WEBHOOK_URL
        else:
            push.set_answer(SANDBOX_ANSWER_URL)
        call = await push.start_call()
        await push.settle()
        assert len(push.started) == 1

        await push.poll(RECONCILIATION)
        assert push.started[-1].data["call_id"] == call.call_id
        assert push.started[-1].data["source"] == "poll"
        push.sandbox.requests.clear()
        for _ in range(6):
            await push.poll()
        assert listings(push) == 6


@pytest.mark.parametrize("push_provider", CALL_START_PROVIDERS)
async def test_a_pushed_start_polls_at_the_interval_during_the_call(
    push: PushAccount,
) -> None:
    """A call live keeps polling at the account's interval, so its end is never missed."""
    with pushed_starts(push.provider):
        await reconciling(push)
        await push.start_call()
        await push.settle()
        assert listings(push) == 1  # the pushed start is looked at right away
        push.sandbox.requests.clear()
        for _ in range(3):
            await push.poll()
        assert listings(push) == 3


@pytest.mark.parametrize("push_provider", UNPUSHED_STARTS)
async def test_without_pushed_starts_polling_keeps_its_interval(
    push: PushAccount, hass: HomeAssistant
) -> None:
    """Vobiz, Plivo and Twilio as they are: callbacks healthy, still a listing every 10 s."""
    await push.set_up()
    assert await listings_after_a_short_call(push) == 6
    assert push.entry.runtime_data.coordinator is not None
    assert not push.entry.runtime_data.coordinator.reconciling
