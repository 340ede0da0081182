"""Transfers to a phone number on Vobiz: Home Assistant serves the Dial XML the sandbox fetches.

Home Assistant's HTTP app is served on a loopback port (the harness's test server) and
made the external URL, so the sandbox fetches the webhook over real HTTP, as Vobiz would.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any
from unittest.mock import AsyncMock, patch
from xml.etree.ElementTree import Element, fromstring

from aiohttp import ClientSession, web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import cloud, webhook
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util.aiohttp import MockRequest, serialize_response
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from yarl import URL

from custom_components.call_transfer.const import DOMAIN
from custom_components.call_transfer.dial import DIAL_URL_LIFETIME
from custom_components.call_transfer.providers import NumberTransfer, VobizClient
from sandbox import (
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_CALL_ID,
    SANDBOX_VOBIZ_CALL_ID,
    SANDBOX_VOBIZ_SECOND_CALL_ID,
    Fault,
    FaultKind,
    LegResult,
    Sandbox,
)
from tests.helpers.entries import add_entry, setup_entry
from tests.helpers.hass import transfer
from tests.helpers.provider_cases import transfers_sent

TO = "+14155550100"
CALLER_ID = "+14155550123"
ANNOUNCEMENT = "Please hold while we transfer your call."
ISSUE = "dial_url_unavailable"


def parse(xml: str) -> Element:
    """Parse the XML Home Assistant served (the integration's own output)."""
    return fromstring(xml)  # noqa: S314


@pytest.fixture
def cloud_set_up(hass: HomeAssistant) -> None:
    """Home Assistant Cloud counts as set up (its functions are patched per test)."""
    hass.config.components.add("cloud")


@pytest.fixture
async def dial_entry(
    hass: HomeAssistant, hass_url: str, vobiz_entry: MockConfigEntry
) -> MockConfigEntry:
    """Load the sandbox's Vobiz account with dial options, Home Assistant reachable."""
    hass.config_entries.async_update_entry(
        vobiz_entry,
        options={
            "caller_id": CALLER_ID,
            "announcement": ANNOUNCEMENT,
            "ring_timeout": 30,
            "scan_interval": 10,
        },
    )
    await setup_entry(hass, vobiz_entry)
    return vobiz_entry


@pytest.fixture
async def http() -> AsyncGenerator[ClientSession]:
    """Yield a plain HTTP client, for requests the way a provider (or anyone) makes them."""
    async with ClientSession() as session:
        yield session


async def refuse_for_want_of_a_url(hass: HomeAssistant, **data: str) -> None:
    """Clear the external URL and try a number transfer, which opens the repair issue."""
    await hass.config.async_update(external_url=None)
    with pytest.raises(ServiceValidationError):
        await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO, **data)


def sent_transfer(sandbox: Sandbox, call_id: str = SANDBOX_VOBIZ_CALL_ID) -> Any:
    """Return the body of the one transfer request the sandbox received for a call."""
    [sent] = [r for r in transfers_sent(sandbox) if f"/Call/{call_id}/" in r.path]
    return sent.json


async def test_number_transfer_dials_through_home_assistant(
    hass: HomeAssistant,
    events: dict[str, list[Any]],
    dial_entry: MockConfigEntry,
    hass_url: str,
    sandbox: Sandbox,
) -> None:
    """The action with to: Vobiz gets Home Assistant's URL, fetches it, dials the number."""
    hass.config.country = "US"

    response = await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to="(415) 555-0100")
    await sandbox.fetches_settled()

    body = sent_transfer(sandbox)
    assert set(body) == {"legs", "aleg_url", "aleg_method"}
    assert body["legs"] == "aleg"
    assert body["aleg_method"] == "POST"
    url = URL(body["aleg_url"])
    assert str(url).startswith(f"{hass_url}/api/webhook/")
    # Both the webhook id and the transfer's token carry at least 128 random bits.
    assert len(url.name) >= 32
    assert set(url.query) == {"token"}
    assert len(url.query["token"]) >= 22
    [outcome] = sandbox.calls[SANDBOX_VOBIZ_CALL_ID].outcomes
    assert outcome.result is LegResult.DIALING
    assert (
        str(outcome) == f'dialing {TO} (caller id {CALLER_ID}) after "{ANNOUNCEMENT}"'
    )
    assert outcome.ring_timeout == 30
    assert outcome.method == "POST"
    assert outcome.params["CallUUID"] == SANDBOX_VOBIZ_CALL_ID
    assert response == {
        "provider": "vobiz",
        "call_id": SANDBOX_VOBIZ_CALL_ID,
        "to": TO,
        "destination": None,
        "legs": "aleg",
        "message": "call transferred",
        "request_id": response["request_id"],
    }
    [event] = events["succeeded"]
    assert event.data["to"] == TO
    assert event.data["legs"] == "aleg"
    assert event.data["provider"] == "vobiz"
    assert events["failed"] == []


async def test_b_leg_by_get(
    hass: HomeAssistant, sandbox: Sandbox, dial_entry: MockConfigEntry
) -> None:
    """legs: bleg points the B leg at the URL; its fetch names the A leg, and GET works."""
    response = await transfer(
        hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO, legs="bleg", bleg_method="GET"
    )
    await sandbox.fetches_settled()

    body = sent_transfer(sandbox)
    assert set(body) == {"legs", "bleg_url", "bleg_method"}
    assert body["legs"] == "bleg"
    assert body["bleg_method"] == "GET"
    call = sandbox.calls[SANDBOX_VOBIZ_CALL_ID]
    [outcome] = call.outcomes
    assert outcome.leg == "bleg"
    assert outcome.params["CallUUID"] == call.bleg_uuid
    assert outcome.params["ALegUUID"] == SANDBOX_VOBIZ_CALL_ID
    assert str(outcome).startswith(f"dialing {TO} (caller id {CALLER_ID})")
    assert response["to"] == TO


@pytest.mark.parametrize(
    ("data", "translation_key"),
    [
        ({"legs": "both"}, "to_with_both_legs"),
        ({"aleg_url": "https://xml.example.com/aleg"}, "to_with_leg_url"),
        ({"legs": "bleg", "bleg_url": "https://xml.example.com/b"}, "to_with_leg_url"),
        ({"legs": "cleg"}, "invalid_legs"),
        ({"aleg_method": "PUT"}, "invalid_method"),
        ({"to": "call me"}, "invalid_phone_number"),
    ],
)
async def test_number_transfer_validation(
    hass: HomeAssistant,
    sandbox: Sandbox,
    dial_entry: MockConfigEntry,
    events: dict[str, list[Any]],
    data: dict[str, str],
    translation_key: str,
) -> None:
    """Leg URLs with to, both legs with to, and bad values are refused before sending."""
    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, **({"call_id": SANDBOX_VOBIZ_CALL_ID, "to": TO} | data))

    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == translation_key
    assert not transfers_sent(sandbox)
    assert events == {"succeeded": [], "failed": []}


async def test_provider_that_cannot_dial_refuses_to(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """A provider declaring no way to reach a number refuses to, naming the alternative."""
    await setup_entry(hass, vobiz_entry)

    with (
        patch.object(
            VobizClient,
            "capabilities",
            replace(
                VobizClient.capabilities, number_transfer=NumberTransfer.UNSUPPORTED
            ),
        ),
        pytest.raises(ServiceValidationError) as raised,
    ):
        await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO)

    assert raised.value.translation_key == "to_not_supported"
    assert not transfers_sent(sandbox)


@pytest.mark.parametrize(
    ("external_url", "reason", "found"),
    [
        (None, ISSUE, None),
        (
            "http://homeassistant.example.com:8123",
            "dial_url_not_https",
            "http://homeassistant.example.com:8123",
        ),
        ("http://192.168.1.10:8123/", "dial_url_not_https", "http://192.168.1.10:8123"),
    ],
)
async def test_no_public_url(
    hass: HomeAssistant,
    sandbox: Sandbox,
    dial_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    events: dict[str, list[Any]],
    external_url: str | None,
    reason: str,
    found: str | None,
) -> None:
    """Without a URL Vobiz could reach: a translated error, a repair issue, nothing sent.

    An http external URL is named, as found, in both: it must be https (or Cloud).
    """
    await hass.config.async_update(external_url=external_url)
    placeholders = {"provider": "Vobiz"} | ({"found": found} if found else {})

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO)

    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == reason
    assert raised.value.translation_placeholders == placeholders
    if found:
        assert f"must be https: Home Assistant's external URL is {found}." in str(
            raised.value
        )
        assert "no URL" not in str(raised.value)
    assert not transfers_sent(sandbox)
    assert events == {"succeeded": [], "failed": []}
    issue = issue_registry.async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert issue.translation_key == reason
    assert issue.translation_placeholders == placeholders
    assert issue.severity is ir.IssueSeverity.ERROR
    assert not issue.is_fixable
    assert issue.learn_more_url is not None
    # The call can still be transferred right away to a URL of the user's own.
    await transfer(
        hass, call_id=SANDBOX_VOBIZ_CALL_ID, aleg_url="https://xml.example.com/a"
    )


async def test_repair_issue_of_an_http_url_reads_what_was_found(
    hass: HomeAssistant,
    dial_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The repair's text says https and shows the URL found, never the webhook."""
    await hass.config.async_update(external_url="http://ha.example.com:8123")
    with pytest.raises(ServiceValidationError):
        await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO)

    issue = issue_registry.async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert issue.translation_key is not None
    texts = await async_get_translations(hass, "en", "issues", [DOMAIN])
    key = f"component.{DOMAIN}.issues.{issue.translation_key}"
    description = texts[f"{key}.description"].format(
        **(issue.translation_placeholders or {})
    )
    assert (
        "must be https, and Home Assistant's external URL is http://ha.example.com:8123,"
        in description
    )
    assert "/api/webhook" not in description
    assert texts[f"{key}.title"] == "{provider} needs an https URL of Home Assistant"


async def test_repair_issue_goes_when_a_number_transfer_works_again(
    hass: HomeAssistant,
    dial_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    hass_url: str,
) -> None:
    """The issue stays while the URL is unusable and goes once a number transfer works."""
    await refuse_for_want_of_a_url(hass)
    await hass.config.async_update(external_url="http://homeassistant.local:8123")
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None

    # Fixed outside Home Assistant's settings (a proxy, say): the next transfer clears it.
    with patch(
        "custom_components.call_transfer.webhooks.external_base_url",
        return_value=hass_url,
    ):
        await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO)

    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None


@pytest.mark.parametrize("fix", ["external_url", "cloud"])
async def test_repair_issue_goes_when_the_url_is_fixed(
    hass: HomeAssistant,
    cloud_set_up: None,
    dial_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    fix: str,
) -> None:
    """Setting a usable external URL, or connecting Cloud, removes the issue at once."""
    await refuse_for_want_of_a_url(hass)

    if fix == "external_url":
        await hass.config.async_update(external_url="https://homeassistant.example.com")
    else:
        with (
            patch.object(cloud, "async_active_subscription", return_value=True),
            patch.object(cloud, "async_is_connected", return_value=True),
        ):
            async_dispatcher_send(
                hass,
                cloud.SIGNAL_CLOUD_CONNECTION_STATE,
                cloud.CloudConnectionState.CLOUD_CONNECTED,
            )
    await hass.async_block_till_done()

    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None


async def test_https_external_url_on_another_host(
    hass: HomeAssistant, sandbox: Sandbox, dial_entry: MockConfigEntry
) -> None:
    """An https external URL is used as is (the sandbox itself only reaches loopback)."""
    await hass.config.async_update(external_url="https://homeassistant.example.com")

    await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO)
    await sandbox.fetches_settled()

    assert sent_transfer(sandbox)["aleg_url"].startswith(
        "https://homeassistant.example.com/api/webhook/"
    )
    [outcome] = sandbox.calls[SANDBOX_VOBIZ_CALL_ID].outcomes
    assert str(outcome) == "dropped: unreachable (not a loopback address)"


async def test_the_url_expires(
    hass: HomeAssistant,
    sandbox: Sandbox,
    dial_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    http: ClientSession,
) -> None:
    """After its lifetime (120 s) the transfer's URL answers 404, and Vobiz drops the leg."""
    await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO)
    await sandbox.fetches_settled()
    url = sent_transfer(sandbox)["aleg_url"]
    form = {"CallUUID": SANDBOX_VOBIZ_CALL_ID}

    freezer.tick(timedelta(seconds=119))
    async_fire_time_changed(hass)
    async with http.post(url, data=form) as answer:
        assert answer.status == 200
        assert answer.content_type == "application/xml"
        assert answer.headers["Cache-Control"] == "no-store"
        still_served = await answer.text()
    freezer.tick(timedelta(seconds=2))
    async_fire_time_changed(hass)
    async with http.post(url, data=form) as answer:
        assert answer.status == 404
        assert await answer.read() == b""

    # Pointing the call at the expired URL by hand: Vobiz gets the 404 and drops the leg.
    await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, aleg_url=url)
    await sandbox.fetches_settled()
    first, second = sandbox.calls[SANDBOX_VOBIZ_CALL_ID].outcomes
    assert first.result is LegResult.DIALING
    assert str(second) == "dropped: HTTP 404"
    assert parse(still_served)[1][0].text == TO


async def test_only_the_transferred_call_gets_the_xml(
    hass: HomeAssistant,
    sandbox: Sandbox,
    dial_entry: MockConfigEntry,
    http: ClientSession,
) -> None:
    """A request naming another CallUUID, or a wrong token, gets 404 and an empty body."""
    await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO)
    await transfer(hass, call_id=SANDBOX_VOBIZ_SECOND_CALL_ID, to=TO, legs="bleg")
    await sandbox.fetches_settled()
    aleg_url = URL(sent_transfer(sandbox)["aleg_url"])
    bleg_url = URL(sent_transfer(sandbox, SANDBOX_VOBIZ_SECOND_CALL_ID)["bleg_url"])
    other = SANDBOX_VOBIZ_SECOND_CALL_ID

    async def status(method: str, url: URL, params: dict[str, str]) -> int:
        get = method == "GET"
        async with http.request(
            method,
            url.extend_query(params) if get else url,
            data=None if get else params,
        ) as answer:
            body = await answer.read()
            assert (answer.status == 200) == bool(body)
            return answer.status

    # A leg: only its own CallUUID (or none, as from a browser).
    assert await status("POST", aleg_url, {"CallUUID": SANDBOX_VOBIZ_CALL_ID}) == 200
    assert await status("GET", aleg_url, {"CallUUID": SANDBOX_VOBIZ_CALL_ID}) == 200
    assert await status("GET", aleg_url, {}) == 200
    assert await status("POST", aleg_url, {"CallUUID": other}) == 404
    assert await status("GET", aleg_url, {"CallUUID": other}) == 404
    assert (
        await status(
            "POST", aleg_url, {"CallUUID": other, "ALegUUID": SANDBOX_VOBIZ_CALL_ID}
        )
        == 404
    )
    # B leg: its own UUID is unknown in advance; it must name the call as its A leg.
    assert await status("POST", bleg_url, {"CallUUID": "b", "ALegUUID": other}) == 200
    assert (
        await status(
            "POST", bleg_url, {"CallUUID": "b", "ALegUUID": SANDBOX_VOBIZ_CALL_ID}
        )
        == 404
    )
    # Another token, or none: nothing.
    assert await status("GET", aleg_url.with_query(token="guess"), {}) == 404
    assert await status("GET", aleg_url.with_query(None), {}) == 404
    # One call's token never serves another call's XML, even with that call's UUID.
    assert await status("GET", bleg_url, {"CallUUID": SANDBOX_VOBIZ_CALL_ID}) == 404


@pytest.mark.parametrize(
    ("fault", "error", "url_status"),
    [
        # Refused: Vobiz will not fetch the URL, so it goes at once.
        (Fault(kind=FaultKind.STATUS, status=404), "call_not_found", 404),
        (Fault(kind=FaultKind.STATUS, status=400), "invalid_request", 404),
        # No answer: the transfer may have happened and Vobiz may still fetch it.
        (Fault(kind=FaultKind.HANG), "timeout", 200),
    ],
)
async def test_failed_transfer_keeps_the_url_only_when_it_may_have_happened(
    hass: HomeAssistant,
    sandbox: Sandbox,
    dial_entry: MockConfigEntry,
    http: ClientSession,
    fault: Fault,
    error: str,
    url_status: int,
) -> None:
    """A refused transfer's URL answers 404 at once; an unknown outcome's keeps serving."""
    sandbox.add_fault(fault, path_contains="/Call/")

    with patch("custom_components.call_transfer.data.DEFAULT_TIMEOUT", 0.3):
        await hass.config_entries.async_reload(dial_entry.entry_id)
    with pytest.raises(HomeAssistantError) as raised:
        await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO)

    assert raised.value.translation_key == f"transfer_{error}"
    async with http.get(sent_transfer(sandbox)["aleg_url"]) as answer:
        assert answer.status == url_status


@pytest.mark.parametrize(
    "announcement",
    [
        "</Speak><Dial><Number>+19005550000</Number></Dial><Speak>",
        '"/><Redirect>https://evil.example/</Redirect><Speak a="',
        "<![CDATA[ <Hangup/> ]]> & &amp; <!-- x -->",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>&e;',
    ],
)
async def test_announcement_cannot_inject_xml(
    hass: HomeAssistant,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    hass_url: str,
    http: ClientSession,
    announcement: str,
) -> None:
    """Markup in the announcement is spoken as text; the XML still dials only the number."""
    hass.config_entries.async_update_entry(
        vobiz_entry, options={"announcement": announcement, "scan_interval": 10}
    )
    await setup_entry(hass, vobiz_entry)

    await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO)
    await sandbox.fetches_settled()

    [outcome] = sandbox.calls[SANDBOX_VOBIZ_CALL_ID].outcomes
    assert outcome.result is LegResult.DIALING
    assert outcome.numbers == (TO,)
    assert outcome.announcement == announcement
    async with http.get(sent_transfer(sandbox)["aleg_url"]) as answer:
        root = parse(await answer.text())
    assert [child.tag for child in root] == ["Speak", "Dial"]
    assert root[0].text == announcement
    assert [number.text for number in root.iter("Number")] == [TO]


async def test_invalid_caller_id_fails_before_sending(
    hass: HomeAssistant,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    hass_url: str,
    events: dict[str, list[Any]],
) -> None:
    """Options written around the options flow cannot put a bad callerId into the XML."""
    hass.config_entries.async_update_entry(
        vobiz_entry, options={"caller_id": "<x/>", "scan_interval": 10}
    )
    await setup_entry(hass, vobiz_entry)

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO)

    assert raised.value.translation_key == "transfer_invalid_request"
    assert not transfers_sent(sandbox)
    # Refused before anything was sent, like the action's own checks: no transfer ended.
    assert events == {"succeeded": [], "failed": []}


async def served_url(hass: HomeAssistant, sandbox: Sandbox) -> str:
    """Transfer the seeded call to the number and return its Dial XML URL, once fetched."""
    await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO)
    await sandbox.fetches_settled()
    assert sandbox.calls[SANDBOX_VOBIZ_CALL_ID].outcomes[-1].result is (
        LegResult.DIALING
    )
    return str(sent_transfer(sandbox)["aleg_url"])


async def assert_unknown_webhook(http: ClientSession, url: str) -> None:
    """Home Assistant answers the URL as for any unknown webhook: 200, empty."""
    for method in ("GET", "POST"):
        async with http.request(method, url) as answer:
            assert answer.status == 200
            assert await answer.read() == b""


async def test_stop_removes_the_webhook(
    hass: HomeAssistant,
    sandbox: Sandbox,
    dial_entry: MockConfigEntry,
    http: ClientSession,
) -> None:
    """Home Assistant stopping ends the pending transfers' XML at once."""
    url = await served_url(hass, sandbox)

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()

    await assert_unknown_webhook(http, url)
    # Unloading after the stop (as a late reload does) is harmless.
    assert await hass.config_entries.async_unload(dial_entry.entry_id)
    assert dial_entry.state is ConfigEntryState.NOT_LOADED


async def test_unload_removes_the_webhook_once_no_transfer_is_pending(
    hass: HomeAssistant,
    sandbox: Sandbox,
    dial_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    http: ClientSession,
) -> None:
    """An accepted transfer's XML outlives the account's unloading, for its lifetime."""
    url = await served_url(hass, sandbox)
    form = {"CallUUID": SANDBOX_VOBIZ_CALL_ID}

    assert await hass.config_entries.async_unload(dial_entry.entry_id)
    async with http.post(url, data=form) as answer:
        assert answer.status == 200
        assert answer.content_type == "application/xml"

    freezer.tick(DIAL_URL_LIFETIME)
    async_fire_time_changed(hass)
    await assert_unknown_webhook(http, url)


async def test_reload_keeps_the_webhook_and_the_pending_transfers(
    hass: HomeAssistant,
    dial_entry: MockConfigEntry,
    sandbox: Sandbox,
    http: ClientSession,
) -> None:
    """Reloaded, the account answers at the same webhook, an earlier transfer's XML too."""
    url = URL(await served_url(hass, sandbox))

    assert await hass.config_entries.async_reload(dial_entry.entry_id)
    await hass.async_block_till_done()

    async with http.get(url.update_query(CallUUID=SANDBOX_VOBIZ_CALL_ID)) as answer:
        assert answer.status == 200
        assert parse(await answer.text())[1][0].text == TO
    sandbox.requests.clear()
    new_url = URL(await served_url(hass, sandbox))
    # The account keeps its webhook id (so its cloudhook stays valid); the token is new.
    assert new_url.path == url.path
    assert new_url.query["token"] != url.query["token"]


@pytest.fixture
async def relayer(
    hass: HomeAssistant,
    aiohttp_client: Callable[[web.Application], Awaitable[Any]],
    socket_enabled: None,
) -> dict[str, Any]:
    """Stand in for Home Assistant Cloud's relayer, on loopback.

    It forwards a request for a cloudhook URL to Home Assistant the way the cloud
    integration does (``CloudClient.async_webhook_message``): as a ``MockRequest`` with
    the body, headers, method and query string, and returns the serialized answer.
    """
    hooks: dict[str, str] = {}  # cloudhook id -> webhook id
    app = web.Application()

    async def relay(request: web.Request) -> web.Response:
        mock = MockRequest(
            content=await request.read(),
            mock_source="cloud",
            method=request.method,
            headers=dict(request.headers),
            query_string=request.query_string,
        )
        answer = serialize_response(
            await webhook.async_handle_webhook(
                hass, hooks[request.match_info["hook"]], mock
            )
        )
        return web.Response(
            status=answer["status"],
            body=(answer["body"] or "").encode(),
            headers={"Content-Type": answer["headers"]["Content-Type"]},
        )

    app.router.add_route("*", "/{hook}", relay)
    client = await aiohttp_client(app)

    async def create(hass: HomeAssistant, webhook_id: str) -> str:
        cloudhook_id = f"hook{len(hooks)}"
        hooks[cloudhook_id] = webhook_id
        return f"http://{client.host}:{client.port}/{cloudhook_id}"

    return {"hooks": hooks, "create": create}


async def test_cloudhook_is_used_when_cloud_is_connected(
    hass: HomeAssistant,
    cloud_set_up: None,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    relayer: dict[str, Any],
) -> None:
    """With Cloud connected the URL is the account's cloudhook; query and form pass through."""
    with (
        patch.object(cloud, "async_active_subscription", return_value=True),
        patch.object(cloud, "async_is_connected", return_value=True),
        patch.object(
            cloud, "async_get_or_create_cloudhook", side_effect=relayer["create"]
        ) as get_or_create,
        patch.object(cloud, "async_delete_cloudhook") as delete,
    ):
        await setup_entry(hass, vobiz_entry)
        await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO)
        await transfer(hass, call_id=SANDBOX_VOBIZ_SECOND_CALL_ID, to=TO)
        await sandbox.fetches_settled()

        webhook_id = get_or_create.call_args.args[1]
        assert [call.args[1] for call in get_or_create.call_args_list] == [
            webhook_id,
            webhook_id,
        ]
        for call_id in (SANDBOX_VOBIZ_CALL_ID, SANDBOX_VOBIZ_SECOND_CALL_ID):
            [outcome] = sandbox.calls[call_id].outcomes
            assert str(outcome) == f"dialing {TO}"
            assert "/hook" in outcome.url
        # Removing the account deletes its cloudhook; the webhook id is not reused.
        await hass.config_entries.async_remove(vobiz_entry.entry_id)
        await hass.async_block_till_done()
    delete.assert_awaited_once_with(hass, webhook_id)


async def test_cloudhook_failure_falls_back_to_the_external_url(
    hass: HomeAssistant,
    cloud_set_up: None,
    sandbox: Sandbox,
    dial_entry: MockConfigEntry,
    hass_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When the cloud cannot create the cloudhook, the external URL still works."""
    with (
        patch.object(cloud, "async_active_subscription", return_value=True),
        patch.object(cloud, "async_is_connected", return_value=True),
        patch.object(
            cloud,
            "async_get_or_create_cloudhook",
            AsyncMock(side_effect=cloud.CloudNotConnected),
        ),
    ):
        await transfer(hass, call_id=SANDBOX_VOBIZ_CALL_ID, to=TO)
        await sandbox.fetches_settled()

    assert sent_transfer(sandbox)["aleg_url"].startswith(f"{hass_url}/api/webhook/")
    assert sandbox.calls[SANDBOX_VOBIZ_CALL_ID].outcomes[0].result is (
        LegResult.DIALING
    )
    assert "Could not get a Home Assistant Cloud webhook" in caplog.text


async def test_removing_the_last_vobiz_account_clears_the_repair_issue(
    hass: HomeAssistant,
    sandbox: Sandbox,
    dial_entry: MockConfigEntry,
    bland_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """An issue about Vobiz number transfers goes with the last Vobiz account."""
    await setup_entry(hass, bland_entry)
    await refuse_for_want_of_a_url(hass, config_entry_id=dial_entry.entry_id)

    await hass.config_entries.async_remove(bland_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None

    await hass.config_entries.async_remove(dial_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None


async def test_plivo_dials_through_home_assistant_with_its_options(
    hass: HomeAssistant, sandbox: Sandbox, hass_url: str
) -> None:
    """Plivo dials a number the way Vobiz does: its options shape the Dial XML it fetches."""
    hass.config.country = "US"
    entry = add_entry(hass, sandbox, "plivo")
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    refused = await hass.config_entries.options.async_configure(
        result["flow_id"], {"ring_timeout": 121, "scan_interval": 10}
    )
    # Plivo rings a number for 120 s at most here.
    assert refused["errors"] == {"ring_timeout": "ring_timeout_out_of_range"}
    assert refused["description_placeholders"]["ring_timeout_max"] == "120"
    await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "caller_id": "(415) 555-0123",
            "announcement": ANNOUNCEMENT,
            "ring_timeout": 45,
            "scan_interval": 10,
        },
    )
    await hass.async_block_till_done()

    response = await transfer(hass, call_id=SANDBOX_PLIVO_CALL_ID, to=TO)
    await sandbox.fetches_settled()

    [sent] = transfers_sent(sandbox)
    assert sent.path == (
        f"/plivo/v1/Account/{SANDBOX_PLIVO_AUTH_ID}/Call/{SANDBOX_PLIVO_CALL_ID}/"
    )
    assert sent.json["aleg_url"].startswith(f"{hass_url}/api/webhook/")
    [outcome] = sandbox.calls[SANDBOX_PLIVO_CALL_ID].outcomes
    assert (
        str(outcome) == f'dialing {TO} (caller id {CALLER_ID}) after "{ANNOUNCEMENT}"'
    )
    assert outcome.ring_timeout == 45
    assert outcome.params["CallUUID"] == SANDBOX_PLIVO_CALL_ID
    assert response["provider"] == "plivo"
    assert (response["to"], response["legs"]) == (TO, "aleg")
    assert response["message"] == "call transferred"
