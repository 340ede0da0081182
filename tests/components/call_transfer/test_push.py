"""Instant call events on each push provider: signed callbacks, as Home Assistant users see them.

The sandbox sends the providers' callbacks, signed with each one's scheme, to the URL
Home Assistant set at the sandbox's application or number; anything else is a request anyone
could send to that URL. What Home Assistant does of them shows in events, entity
states, the webhook's answers and diagnostics.
"""

from __future__ import annotations

import logging
from typing import Any
from unittest.mock import patch

from aiohttp.web_log import AccessLogger
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.call_transfer.const import DOMAIN
from custom_components.call_transfer.providers import PROVIDERS, BlandClient
from sandbox import (
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_TWILIO_API_KEY_SECRET,
    SANDBOX_TWILIO_API_KEY_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    CallbackFault,
    Fault,
    FaultKind,
    Sandbox,
)
from tests.helpers.entries import add_entry
from tests.helpers.push import REGISTERING_PROVIDERS, REGISTRATION_PATHS, PushAccount


def ids(events: list[Any]) -> list[str]:
    """Return the call ids of captured events, in order."""
    return [event.data["call_id"] for event in events]


async def test_callbacks_served_under_the_frozen_clock_log_no_error(
    push: PushAccount, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A callback served when aiohttp re-reads the local time zone (each half hour).

    Under freezegun that read fails and each served request logged "Error in logging":
    CI failed so at a half hour. The suite keeps the access log off (tests/helpers/hass.py).
    """
    monkeypatch.setattr(AccessLogger, "_cached_tz", None, raising=False)
    await push.set_up()
    call = await push.start_call()
    push.sandbox.end_call(call.call_id)
    await push.settle()

    assert len(push.ended) == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


async def test_a_call_shorter_than_a_poll_starts_and_ends_once(
    push: PushAccount,
) -> None:
    """A call of 2 s between two polls: its hangup reports it started, then ended, once."""
    await push.set_up()
    call = await push.start_call(**{"from": "+14155550142"})
    push.freezer.tick(2)
    push.sandbox.end_call(call.call_id)
    await push.settle()

    [started], [ended] = push.started, push.ended
    assert started.data["call_id"] == ended.data["call_id"] == call.call_id
    assert started.data["source"] == ended.data["source"] == "push"
    assert started.data["from"] == "+14155550142"
    assert started.data["started"] == call.started.isoformat()
    calls_entity = er.async_get(push.hass).async_get_entity_id(
        "event", DOMAIN, f"{push.entry.entry_id}_calls"
    )
    assert calls_entity is not None
    state = push.hass.states.get(calls_entity)
    assert state is not None
    assert (state.attributes["event_type"], state.attributes["source"]) == (
        "ended",
        "push",
    )
    # Polls that follow (the call never listed) add nothing.
    await push.poll()
    await push.poll()
    assert (len(push.started), len(push.ended)) == (1, 1)


async def test_push_and_poll_see_a_call_once(push: PushAccount) -> None:
    """Push or a poll sees the call start, its hangup ends it: one event each, each its source.

    Telnyx's webhooks tell the start before the poll; Vobiz's and Plivo's do not.
    """
    await push.set_up()
    call = await push.start_call()
    await push.settle()
    await push.poll()
    assert [e.data["source"] for e in push.started] == [
        "push" if push.reports_call_starts else "poll"
    ]

    push.sandbox.end_call(call.call_id)
    await push.settle()
    await push.poll()
    await push.poll()

    assert ids(push.started) == ids(push.ended) == [call.call_id]
    assert push.ended[0].data["source"] == "push"


async def test_a_late_hangup_after_the_poll_changes_nothing(push: PushAccount) -> None:
    """Polls confirm the end first; the hangup that arrives late adds no second event."""
    await push.set_up()
    call = await push.start_call()
    await push.settle()
    await push.poll()
    push.sandbox.callbacks_released.clear()  # held: the hangup arrives late
    push.sandbox.end_call(call.call_id)
    await push.poll()
    await push.poll()
    assert [e.data["source"] for e in push.ended] == ["poll"]

    push.sandbox.callbacks_released.set()
    await push.settle()

    statuses = [sent.status for sent in push.sandbox.callbacks_sent]
    assert statuses == [200] * (3 if push.reports_call_starts else 1)
    assert ids(push.ended) == [call.call_id]


@pytest.mark.parametrize(
    "fault", [CallbackFault.FORGED, CallbackFault.UNSIGNED, CallbackFault.REPLAYED]
)
async def test_forged_callbacks_change_nothing(
    push: PushAccount,
    hass_client: ClientSessionGenerator,
    fault: CallbackFault,
) -> None:
    """Another key, no signature, or a replay: answered 401, no event, counted."""
    await push.set_up()
    push.account.callback_fault = fault
    call = await push.start_call()
    push.sandbox.end_call(call.call_id)
    await push.settle()

    statuses = [sent.status for sent in push.sandbox.callbacks_sent]
    # Telnyx's start and answer come before the hangup.
    sent = 3 if push.reports_call_starts else 1
    # A replay's first copy is the provider's own request: accepted, once.
    assert statuses == (
        [200, 401] * sent if fault is CallbackFault.REPLAYED else [401] * sent
    )
    assert len(push.ended) == (1 if fault is CallbackFault.REPLAYED else 0)
    assert len(push.started) == len(push.ended)
    diagnostics = await get_diagnostics_for_config_entry(
        push.hass, hass_client, push.entry
    )
    reason = {
        CallbackFault.FORGED: "bad_signature",
        CallbackFault.UNSIGNED: "missing_signature",
        CallbackFault.REPLAYED: "replayed",
    }[fault]
    assert diagnostics["push"]["refused"] == {reason: sent}
    assert diagnostics["push"]["verified"] == statuses.count(200)


async def test_each_forgery_is_refused_with_nothing_changed(
    push: PushAccount,
) -> None:
    """Wrong key, URL or body altered, missing or malformed headers, a replay, a stale time.

    Which forgeries there are depends on what the provider signs (``PushAccount.forgeries``):
    Telnyx signs the body and a timestamp, Plivo and Twilio the URL and body (Twilio's
    status callbacks carry their time), Vobiz the URL.
    """
    await push.set_up()
    call = await push.start_call()
    await push.settle()
    await push.poll()
    # The call ends; the provider's own hangup is held back while the test sends.
    push.sandbox.callbacks_released.clear()
    push.sandbox.end_call(call.call_id)
    body = push.hangup(call)

    for name, (headers, forged) in push.forgeries(body).items():
        assert (await push.post(headers, forged))[0] in (400, 401), name
    assert push.ended == []
    genuine = push.signed(body)
    assert (await push.post(genuine, body))[0] == 200
    assert (await push.post(genuine, body))[0] == 401  # replayed nonce or event id
    await push.hass.async_block_till_done(wait_background_tasks=True)
    push.sandbox.callbacks_released.set()
    await push.settle()

    # Only the genuine hangups counted, once (on Vobiz once the provider confirmed it).
    assert ids(push.ended) == [call.call_id]
    assert push.ended[0].data["source"] == "push"


@pytest.mark.parametrize("push_provider", ["vobiz"])
async def test_vobiz_body_altered_ends_no_live_call(push: PushAccount) -> None:
    """Vobiz's documented signature leaves the body open: what holds instead.

    A hangup naming a call still live at the provider is confirmed before it ends it
    (and is not), a spent signature cannot serve the genuine body again, and a body
    naming a call the provider does not know is refused. Plivo's covers the body: see
    the test above (more in test_push_unsigned_body.py).
    """
    await push.set_up()
    live_call = await push.start_call()
    await push.poll()
    form = push.hangup(live_call)
    headers = push.signed(form)

    assert (await push.post(headers, form | {"Duration": "99"}))[0] == 200
    await push.hass.async_block_till_done(wait_background_tasks=True)
    assert push.ended == []  # Vobiz says the call is live: nothing ended
    assert (await push.post(headers, form))[0] == 401  # the nonce is spent

    fake = form | {"CallUUID": "4f9a0d7e-0000-4000-8000-00000000dead"}
    assert (await push.post(push.signed(fake), fake))[0] == 403
    await push.hass.async_block_till_done(wait_background_tasks=True)
    assert [e.data["call_id"] for e in push.started] == [live_call.call_id]
    assert push.ended == []
    assert live_call.live


@pytest.mark.parametrize("push_provider", ["vobiz"])
async def test_vobiz_sdk_form_signature_ends_calls_at_once(
    push: PushAccount, hass_client: ClientSessionGenerator
) -> None:
    """V3 signed as Vobiz's Go SDK does covers the body: the end is applied, no lookup."""
    await push.set_up()
    push.account.callback_fault = CallbackFault.SDK_FORM
    call = await push.start_call()
    await push.poll()
    push.sandbox.requests.clear()

    push.sandbox.end_call(call.call_id)
    await push.settle()

    assert ids(push.ended) == [call.call_id]
    assert push.sandbox.requests == []  # not confirmed with a lookup
    diagnostics = await get_diagnostics_for_config_entry(
        push.hass, hass_client, push.entry
    )
    assert diagnostics["push"]["signatures"] == {"V3 (SDK form)": 1}


async def test_repair_issue_after_repeated_refusals_goes_with_an_accepted_one(
    push: PushAccount, issue_registry: ir.IssueRegistry
) -> None:
    """Five refusals within 10 minutes raise an issue naming the cause; one accepted clears it."""
    await push.set_up()
    issue_id = f"push_refused_{push.entry.entry_id}"
    form = push.hangup(await push.start_call())
    await push.settle()  # the provider's own callbacks (Telnyx: the start) first
    for count in range(5):
        assert issue_registry.async_get_issue(DOMAIN, issue_id) is None, count
        await push.post(push.signed(form, token="wrong"), form)

    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "push_refused_bad_signature"
    assert issue.translation_placeholders == {
        "title": push.entry.title,
        "provider": PROVIDERS[push.provider].display_name,
    }
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.learn_more_url == (
        "https://github.com/call-transfer/ha-call-transfer/blob/main/docs/providers/"
        f"{push.provider}.md#instant-call-events-signed-callbacks"
    )

    assert (await push.post(push.signed(form), form))[0] == 200
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_refusals_spread_over_time_raise_no_issue(
    push: PushAccount, issue_registry: ir.IssueRegistry
) -> None:
    """Refusals further apart than 10 minutes, or with an accepted one between: no issue."""
    await push.set_up()
    call = await push.start_call()
    form = push.hangup(call)
    for _ in range(4):
        await push.post(push.unsigned, form)
    push.freezer.tick(601)
    form = push.hangup(call)  # Twilio's Timestamp, Telnyx's event: sent now
    await push.post(push.unsigned, form)
    assert (await push.post(push.signed(form), form))[0] == 200
    for _ in range(4):
        await push.post(push.unsigned, form)
    assert not [
        issue
        for (domain, _), issue in issue_registry.issues.items()
        if domain == DOMAIN
    ]


@pytest.mark.parametrize("push_provider", REGISTERING_PROVIDERS)
async def test_registration_sets_and_restores_the_callback_url(
    push: PushAccount, hass: HomeAssistant
) -> None:
    """Opted in, the provider's callback URL is Home Assistant's; opted out, it is back.

    Vobiz and Plivo: the application's hangup URL and method; Twilio: the number's
    status callback and method; Telnyx: the webhook URL and API version.
    """
    push.set_target(*push.users_target)
    await push.set_up()
    assert push.target[0].startswith("http://127.0.0.1:")
    assert "/api/webhook/" in push.target[0]
    assert push.target[1] == push.registered_second
    assert push.untouched_url in (None, "https://app.example.com/answer")

    hass.config_entries.async_update_entry(
        push.entry, options=push.entry.options | {"push_register": False}
    )
    await hass.async_block_till_done()
    assert push.target == push.users_target

    hass.config_entries.async_update_entry(
        push.entry, options=push.entry.options | {"push_register": True}
    )
    await hass.async_block_till_done()
    assert push.target[0].startswith("http://127.0.0.1:")
    # Removing the account puts the user's URL back too.
    await hass.config_entries.async_remove(push.entry.entry_id)
    await hass.async_block_till_done()
    assert push.target == push.users_target


async def test_turning_push_off_restores_and_stops_answering(
    push: PushAccount, hass: HomeAssistant
) -> None:
    """Push off: the URL is the user's again, and callbacks get the unknown webhook's 200.

    Where the user pasted the URL (Bland), it is theirs to remove: it stays.
    """
    before = push.target
    await push.set_up()
    url = push.callback_url
    call = await push.start_call()
    await push.settle()
    form = push.hangup(call)

    hass.config_entries.async_update_entry(push.entry, options={"scan_interval": 10})
    await hass.async_block_till_done()

    assert push.target == (before if push.registers else (url, "POST"))
    assert await push.post(push.signed(form, url=url), form, url=url) == (200, "")
    assert push.ended == []


async def test_the_webhook_answers_as_the_provider_expects(push: PushAccount) -> None:
    """Accepted: 200 with empty call XML (Vobiz, Plivo) or empty (Telnyx); refused: 401 (400)."""
    await push.set_up()
    form = push.hangup(await push.start_call())
    push_capabilities = PROVIDERS[push.provider].push
    assert push_capabilities is not None
    async with push.http.post(
        push.callback_url,
        data=form,
        headers=push.signed(form),
    ) as response:
        assert response.status == 200
        assert response.content_type == push_capabilities.answer_content_type
        assert await response.text() == push_capabilities.answer_body
    unreadable = b"\xff\xfe"
    for headers, body, status in (
        (push.unsigned, form, 401),
        (push.signed(unreadable if push.json else {}), unreadable, 400),
        (push.signed(b"x" * 70_000 if push.json else form), b"x" * 70_000, 400),
    ):
        assert (await push.post(headers, body))[0] == status
    async with push.http.get(push.callback_url) as response:
        assert response.status == 405


@pytest.mark.parametrize("push_provider", ["vobiz"])
async def test_an_unconfirmed_vobiz_end_waits_for_the_poll(
    push: PushAccount,
) -> None:
    """Vobiz: a hangup whose end the provider cannot confirm now is left to the polls."""
    await push.set_up()
    call = await push.start_call()
    await push.poll()
    push.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=503), call_id=call.call_id, times=1
    )

    push.sandbox.end_call(call.call_id)
    await push.settle()
    assert push.ended == []

    await push.poll()
    await push.poll()
    assert [e.data["source"] for e in push.ended] == ["poll"]


async def test_an_account_whose_calls_are_not_followed(push: PushAccount) -> None:
    """No live calls listed: callbacks still verify, their calls change nothing."""
    provider = PROVIDERS[push.provider]
    with patch.object(provider, "supports_live_calls", property(lambda _: False)):
        await push.set_up()
        assert push.entry.runtime_data.coordinator is None
        call = await push.start_call()
        push.sandbox.end_call(call.call_id)
        await push.settle()
        form = push.hangup(call)
        assert (await push.post(push.unsigned, form))[0] == 401
    statuses = [sent.status for sent in push.sandbox.callbacks_sent]
    assert statuses == [200] * (3 if push.reports_call_starts else 1)
    assert push.started == push.ended == []


async def test_without_a_public_url_nothing_verifies(
    push: PushAccount, hass: HomeAssistant, hass_url: str
) -> None:
    """Push on, but no URL was ever given to the provider: nothing is set, all refused."""
    await hass.config.async_update(external_url=None)
    before = push.target
    await push.set_up()
    assert push.target == before
    runtime = push.entry.runtime_data.push
    assert runtime is not None
    url = f"{hass_url}/api/webhook/{runtime.account.webhook_id}"
    form = push.hangup(next(iter(push.sandbox.calls.values())), url)
    if isinstance(form, dict):
        form = {"Event": "Hangup", "CallUUID": "c1"}

    assert (await push.post(push.signed(form, url=url), form, url=url))[0] == 401


@pytest.mark.parametrize("push_provider", REGISTERING_PROVIDERS)
async def test_a_url_that_cannot_be_put_back_is_forgotten_with_the_account(
    push: PushAccount, hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """The provider refusing the restore on removal: logged; the account goes anyway."""
    await push.set_up()
    url = push.callback_url
    push.sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=503),
        path_contains=REGISTRATION_PATHS[push.provider],
    )

    await hass.config_entries.async_remove(push.entry.entry_id)
    await hass.async_block_till_done()

    assert push.target[0] == url
    assert "Could not put back the callback URL at the provider" in caplog.text


@pytest.mark.parametrize("push_provider", ["twilio"])
async def test_a_twilio_api_key_needs_the_auth_token_for_callbacks(
    push: PushAccount, hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """An API key's secret signs nothing: refused (403) until the auth token is given."""
    key = {
        "secret": SANDBOX_TWILIO_API_KEY_SECRET,
        "api_key_sid": SANDBOX_TWILIO_API_KEY_SID,
    }
    hass.config_entries.async_update_entry(push.entry, data=push.entry.data | key)
    await push.set_up()
    call = await push.start_call()
    push.sandbox.end_call(call.call_id)
    await push.settle()
    assert [sent.status for sent in push.sandbox.callbacks_sent] == [403]
    assert push.ended == []
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, push.entry)
    assert diagnostics["push"]["refused"] == {"not_configured": 1}

    hass.config_entries.async_update_entry(
        push.entry, data=push.entry.data | {"auth_token": SANDBOX_TWILIO_AUTH_TOKEN}
    )
    await hass.async_block_till_done()  # the loaded account takes it, no reload
    call = await push.start_call()
    push.sandbox.end_call(call.call_id)
    await push.settle()
    assert push.sandbox.callbacks_sent[-1].status == 200
    assert ids(push.ended) == [call.call_id]
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, push.entry)
    assert SANDBOX_TWILIO_AUTH_TOKEN not in str(diagnostics)


async def test_a_provider_whose_client_declares_no_push(
    hass: HomeAssistant,
    sandbox: Sandbox,
    diagnostics_served: None,
    hass_client: ClientSessionGenerator,
) -> None:
    """No ``push``: no webhook, no push option, none in diagnostics, nothing at removal.

    Every provider declares push today; one that does not (as Bland did) is still set
    up, configured and removed the way the others are, without callbacks.
    """
    with patch.object(BlandClient, "push", None):
        entry = add_entry(
            hass, sandbox, "bland", options={"org_id": SANDBOX_BLAND_ORG_ID}
        )
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.runtime_data.push is None
        registered = set(hass.data.get("webhook", {}))

        form = await hass.config_entries.options.async_init(entry.entry_id)
        assert form["type"] is FlowResultType.FORM
        assert "push" not in [str(key) for key in form["data_schema"].schema]
        placeholders = form["description_placeholders"] or {}
        assert placeholders["callback_url"] == "—"  # the form's description names it
        assert "push_docs_url" not in placeholders
        result = await hass.config_entries.options.async_configure(
            form["flow_id"], {"org_id": SANDBOX_BLAND_ORG_ID, "scan_interval": 20}
        )
        await hass.async_block_till_done()
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert entry.runtime_data.push is None
        assert set(hass.data.get("webhook", {})) == registered  # no callback webhook

        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
        assert diagnostics["push"] is None
        assert diagnostics["entry"]["options"] == {
            "org_id": "**REDACTED**",
            "scan_interval": 20,
        }

        await hass.config_entries.async_remove(entry.entry_id)
        await hass.async_block_till_done()
    assert hass.config_entries.async_get_entry(entry.entry_id) is None
