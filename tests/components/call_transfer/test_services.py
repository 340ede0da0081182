"""The call_transfer.transfer action, driven through Home Assistant against the sandbox."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.service import async_get_all_descriptions
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.call_transfer.const import DOMAIN
from custom_components.call_transfer.providers import XML_URL_FIELDS
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_TELNYX_CALL_ID,
    SANDBOX_TWILIO_CALL_SID,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_CALL_ID,
    Fault,
    FaultKind,
    Sandbox,
)
from tests.helpers.entries import add_entry, setup_entry
from tests.helpers.hass import transfer
from tests.helpers.provider_cases import PROVIDER_CASES, ProviderCase, transfers_sent

ALEG_URL = "https://xml.example.com/transfer/aleg"
BLEG_URL = "https://xml.example.com/transfer/bleg"
SECRETS = (SANDBOX_VOBIZ_AUTH_TOKEN, SANDBOX_VOBIZ_AUTH_SECRET, SANDBOX_BLAND_API_KEY)


# Keys of the action's fields: a message shows the form's names, never these.
FIELD_KEYS = re.compile(
    r"\b(config_entry_id|call_id|aleg_url|bleg_url|aleg_method|bleg_method)\b"
)


def assert_reads_well(message: str) -> None:
    """Check a message names no field key and says nothing twice."""
    assert not FIELD_KEYS.search(message), message
    assert not re.search(r"\bset to\.", message), message
    words = re.findall(r"[a-z']+", message.lower())
    phrases = [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]
    assert len(phrases) == len(set(phrases)), message


async def test_vobiz_transfer(
    hass: HomeAssistant,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    events: dict[str, list[Any]],
) -> None:
    """A Vobiz transfer sends the documented request and reports success three ways."""
    await setup_entry(hass, vobiz_entry)
    context = Context()

    response = await transfer(
        hass,
        context,
        call_id=SANDBOX_VOBIZ_CALL_ID,
        legs="both",
        aleg_url=ALEG_URL,
        bleg_url=BLEG_URL,
        bleg_method="GET",
    )

    [sent] = transfers_sent(sandbox)
    assert sent.method == "POST"
    assert (
        sent.path
        == f"/vobiz/api/v1/Account/{SANDBOX_VOBIZ_AUTH_ID}/Call/{SANDBOX_VOBIZ_CALL_ID}/"
    )
    assert sent.json == {
        "legs": "both",
        "aleg_url": ALEG_URL,
        "aleg_method": "POST",
        "bleg_url": BLEG_URL,
        "bleg_method": "GET",
    }
    request_id = response["request_id"]
    assert isinstance(request_id, str)
    assert request_id
    assert response == {
        "provider": "vobiz",
        "call_id": SANDBOX_VOBIZ_CALL_ID,
        "to": None,
        "destination": None,
        "legs": "both",
        "message": "call transferred",
        "request_id": request_id,
    }
    [event] = events["succeeded"]
    assert event.data == {
        "config_entry_id": vobiz_entry.entry_id,
        "entity_id": "event.vobiz_ma_sandbox_0001_transfers",
        "provider": "vobiz",
        "call_id": SANDBOX_VOBIZ_CALL_ID,
        "to": None,
        "destination": None,
        "legs": "both",
        "message": "call transferred",
        "request_id": request_id,
    }
    assert event.context is context
    assert events["failed"] == []
    assert sandbox.calls[SANDBOX_VOBIZ_CALL_ID].transferred_to is not None


async def test_bland_transfer_normalises_the_number(
    hass: HomeAssistant,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
    events: dict[str, list[Any]],
) -> None:
    """A Bland transfer sends E.164, read in Home Assistant's country."""
    hass.config.country = "US"
    await setup_entry(hass, bland_entry)

    response = await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, to="(415) 555-0100")

    [sent] = sandbox.requests_to("/v1/calls/active/transfer")
    assert sent.json == {
        "call_id": SANDBOX_BLAND_CALL_ID,
        "transfer_number": "+14155550100",
    }
    assert response["to"] == "+14155550100"
    assert response["legs"] is None
    assert response["message"] == (
        f"Call {SANDBOX_BLAND_CALL_ID} transferred to +14155550100 successfully"
    )
    assert response["request_id"]
    [event] = events["succeeded"]
    assert event.data["legs"] is None
    assert event.data["to"] == "+14155550100"
    assert event.data["request_id"] == response["request_id"]
    assert sandbox.calls[SANDBOX_BLAND_CALL_ID].transferred_to == "+14155550100"


async def test_twilio_transfer_to_a_number_sends_twiml(
    hass: HomeAssistant, sandbox: Sandbox, events: dict[str, list[Any]]
) -> None:
    """On Twilio a number is dialed by inline TwiML; the sandbox records what it got."""
    hass.config.country = "US"
    entry = add_entry(hass, sandbox, "twilio")
    await setup_entry(hass, entry)

    response = await transfer(hass, call_id=SANDBOX_TWILIO_CALL_SID, to="415 555 0100")

    [sent] = sandbox.requests_to(f"/Calls/{SANDBOX_TWILIO_CALL_SID}.json")
    assert sent.form == {
        "Twiml": '<?xml version="1.0" encoding="UTF-8"?>'
        "<Response><Dial><Number>+14155550100</Number></Dial></Response>"
    }
    assert sandbox.calls[SANDBOX_TWILIO_CALL_SID].transferred_to == "+14155550100"
    assert response["provider"] == "twilio"
    assert response["to"] == "+14155550100"
    assert response["message"] == "call updated, status in-progress"
    [event] = events["succeeded"]
    assert event.data["legs"] is None
    assert event.data["request_id"] == response["request_id"]


async def test_twilio_transfer_to_a_twiml_url(
    hass: HomeAssistant, sandbox: Sandbox, events: dict[str, list[Any]]
) -> None:
    """aleg_url points the Twilio call at TwiML on a URL, fetched with its method."""
    entry = add_entry(hass, sandbox, "twilio")
    await setup_entry(hass, entry)

    response = await transfer(
        hass, call_id=SANDBOX_TWILIO_CALL_SID, aleg_url=ALEG_URL, aleg_method="get"
    )

    [sent] = sandbox.requests_to(f"/Calls/{SANDBOX_TWILIO_CALL_SID}.json")
    assert sent.form == {"Url": ALEG_URL, "Method": "GET"}
    assert response["to"] is None
    [event] = events["succeeded"]
    assert event.data["legs"] == "aleg"


async def test_telnyx_transfer_to_a_sip_uri(
    hass: HomeAssistant,
    sandbox: Sandbox,
    events: dict[str, list[Any]],
    hass_client: ClientSessionGenerator,
) -> None:
    """Telnyx takes a SIP URI as the destination: sent as given, reported as given."""
    entry = add_entry(hass, sandbox, "telnyx")
    await setup_entry(hass, entry)
    uri = "sips:reception@pbx.example.com;transport=tls"

    response = await transfer(hass, call_id=SANDBOX_TELNYX_CALL_ID, to=f" {uri} ")

    [sent] = sandbox.requests_to("/actions/transfer")
    assert sent.json == {"to": uri}
    assert sandbox.calls[SANDBOX_TELNYX_CALL_ID].transferred_to == uri
    assert response["to"] == uri
    assert response["message"] == "transfer started, result ok"
    [event] = events["succeeded"]
    assert (event.data["to"], event.data["legs"]) == (uri, None)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    [recorded] = diagnostics["recent_transfers"]
    assert recorded["to"].endswith("=tls")
    assert uri not in str(recorded)


async def test_transfer_to_a_number_on_every_provider(
    hass: HomeAssistant,
    hass_url: str,
    sandbox: Sandbox,
    case: ProviderCase,
    entry: MockConfigEntry,
    events: dict[str, list[Any]],
) -> None:
    """``to`` works everywhere: named in the request, or in Dial XML Home Assistant serves.

    The sandbox records where the call went: the number the request named, the TwiML
    dials, or the Dial XML the provider fetched from Home Assistant dials.
    """
    hass.config.country = "US"
    await setup_entry(hass, entry)

    response = await transfer(hass, call_id=case.call_id, to="(415) 555-0100")
    await sandbox.fetches_settled()

    assert case.dialed(sandbox, case.call_id) == ("+14155550100",)
    assert (response["provider"], response["to"]) == (case.provider, "+14155550100")
    [event] = events["succeeded"]
    assert (event.data["call_id"], event.data["to"]) == (case.call_id, "+14155550100")


async def test_number_without_country_code_uses_home_assistant_country(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """A national number is read in the country Home Assistant is configured for."""
    hass.config.country = "GB"
    await setup_entry(hass, bland_entry)

    response = await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, to="020 7183 8750")

    assert response["to"] == "+442071838750"


async def test_response_is_optional(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """Automations may call the action without asking for its response."""
    await setup_entry(hass, bland_entry)

    result = await hass.services.async_call(
        DOMAIN,
        "transfer",
        {"call_id": SANDBOX_BLAND_CALL_ID, "to": "+14155550100"},
        blocking=True,
    )

    assert result is None
    assert len(sandbox.requests_to("/v1/calls/active/transfer")) == 1


# (error code, HTTP status, the fault): every code on every provider. A fault of None is
# the provider's own error envelope with that status, as its sandbox API builds it.
PROVIDER_FAILURES: list[tuple[str, int | None, Fault | None]] = [
    ("forbidden", 403, None),
    ("invalid_request", 400, None),
    ("rate_limited", 429, Fault(kind=FaultKind.RATE_LIMIT, retry_after="30")),
    ("provider_error", 503, Fault(kind=FaultKind.STATUS, status=503)),
    ("provider_error", 502, Fault(kind=FaultKind.HTML, status=502)),
    ("unexpected_response", 200, Fault(kind=FaultKind.MALFORMED_JSON)),
    ("unexpected_response", 200, Fault(kind=FaultKind.EMPTY, status=200)),
    ("cannot_connect", None, Fault(kind=FaultKind.RESET)),
    ("timeout", None, Fault(kind=FaultKind.HANG)),
]


@pytest.mark.parametrize(
    ("provider", "error", "status", "fault"),
    [
        pytest.param(
            provider,
            error,
            status,
            fault,
            id=f"{provider}-{error}-{status}-{fault.kind if fault else 'envelope'}",
        )
        for error, status, fault in PROVIDER_FAILURES
        for provider in PROVIDER_CASES
    ],
    indirect=["provider"],
)
async def test_provider_failures(
    hass: HomeAssistant,
    sandbox: Sandbox,
    case: ProviderCase,
    entry: MockConfigEntry,
    events: dict[str, list[Any]],
    error: str,
    status: int | None,
    fault: Fault | None,
) -> None:
    """Every provider failure fires call_transfer_failed and raises a translated error."""
    with patch("custom_components.call_transfer.data.DEFAULT_TIMEOUT", 0.5):
        await setup_entry(hass, entry)
    if fault is None:
        assert status is not None
        body = sandbox.error_body(case.provider, status, "refused by the sandbox")
        fault = Fault(kind=FaultKind.STATUS, status=status, body=body)
    sandbox.add_fault(fault, path_contains=case.transfer_path)
    data = case.transfer

    with pytest.raises(HomeAssistantError) as raised:
        await transfer(hass, config_entry_id=entry.entry_id, **data)

    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == f"transfer_{error}"
    [event] = events["failed"]
    # Our words around the provider's own (which the sandbox makes up here).
    assert_reads_well(str(raised.value).replace(event.data["error_message"], "…"))
    assert event.data["config_entry_id"] == entry.entry_id
    assert event.data["provider"] == case.provider
    assert event.data["call_id"] == data["call_id"]
    assert event.data["error"] == error
    assert event.data["status"] == status
    assert event.data["error_message"]
    assert events["succeeded"] == []
    assert not any(secret in str(event.data) for secret in SECRETS)
    assert not any(secret in str(raised.value) for secret in SECRETS)


async def test_call_not_in_progress(
    hass: HomeAssistant,
    sandbox: Sandbox,
    case: ProviderCase,
    entry: MockConfigEntry,
    events: dict[str, list[Any]],
) -> None:
    """A call that has ended is reported as call_not_found."""
    await setup_entry(hass, entry)
    sandbox.end_call(case.call_id)

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, config_entry_id=entry.entry_id, **case.transfer)

    assert raised.value.translation_key == "transfer_call_not_found"
    assert str(raised.value) == (
        f"Call {case.call_id} is not in progress (it has ended, or it belongs to"
        " another account), so it was not transferred"
    )
    assert events["failed"][0].data["error"] == "call_not_found"
    assert events["failed"][0].data["status"] == case.ended_status


async def test_forbidden_destination(
    hass: HomeAssistant,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
    events: dict[str, list[Any]],
) -> None:
    """Bland's FORBIDDEN envelope (international restrictions) is reported as forbidden."""
    await setup_entry(hass, bland_entry)

    with pytest.raises(HomeAssistantError):
        await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, to="+881612345678")

    [event] = events["failed"]
    assert event.data["error"] == "forbidden"
    assert event.data["status"] == 403
    assert "international restrictions" in event.data["error_message"]


async def test_rejected_credentials_start_reauth(
    hass: HomeAssistant,
    sandbox: Sandbox,
    case: ProviderCase,
    entry: MockConfigEntry,
    events: dict[str, list[Any]],
) -> None:
    """A 401 during a transfer fires invalid_auth and opens a reauth flow."""
    await setup_entry(hass, entry)
    case.revoke(sandbox)

    with pytest.raises(HomeAssistantError) as raised:
        await transfer(hass, config_entry_id=entry.entry_id, **case.transfer)
    await hass.async_block_till_done()

    assert raised.value.translation_key == "transfer_invalid_auth"
    assert events["failed"][0].data["error"] == "invalid_auth"
    assert events["failed"][0].data["status"] == 401
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["context"]["entry_id"] == entry.entry_id


@pytest.mark.parametrize(
    ("provider", "data", "translation_key"),
    [
        ("vobiz", {"to": "+14155550100", "aleg_url": ALEG_URL}, "to_with_leg_url"),
        ("vobiz", {}, "where_required"),
        ("vobiz", {"legs": "both", "aleg_url": ALEG_URL}, "missing_bleg_url"),
        ("vobiz", {"legs": "bleg", "aleg_url": ALEG_URL}, "missing_bleg_url"),
        ("vobiz", {"legs": "both", "bleg_url": BLEG_URL}, "missing_aleg_url"),
        ("vobiz", {"legs": "both"}, "missing_leg_urls"),
        ("vobiz", {"aleg_url": "/transfer/aleg"}, "invalid_aleg_url"),
        ("vobiz", {"aleg_url": "javascript:alert(1)"}, "invalid_aleg_url"),
        ("vobiz", {"aleg_url": "ftp://xml.example.com/aleg"}, "invalid_aleg_url"),
        ("vobiz", {"legs": "bleg", "bleg_url": "xml.example.com"}, "invalid_bleg_url"),
        ("vobiz", {"legs": "cleg", "aleg_url": ALEG_URL}, "invalid_legs"),
        ("vobiz", {"aleg_url": ALEG_URL, "aleg_method": "PUT"}, "invalid_method"),
        (
            "vobiz",
            {"call_id": "../../auth/me", "aleg_url": ALEG_URL},
            "invalid_call_id",
        ),
        ("vobiz", {"call_id": "abc?x=1", "aleg_url": ALEG_URL}, "invalid_call_id"),
        ("bland", {"call_id": "abc#frag", "to": "+14155550100"}, "invalid_call_id"),
        ("bland", {"call_id": "a/b", "to": "+14155550100"}, "invalid_call_id"),
        ("bland", {}, "where_required"),
        ("bland", {"to": "call me maybe"}, "invalid_phone_number"),
        ("bland", {"to": "123"}, "invalid_phone_number"),
        ("bland", {"to": "+1 555 01"}, "invalid_phone_number"),
        ("bland", {"to": "+14155550100", "aleg_url": ALEG_URL}, "fields_not_supported"),
        ("bland", {"to": "+14155550100", "legs": "aleg"}, "fields_not_supported"),
        ("bland", {"to": "sip:alice@pbx.example.com"}, "sip_not_supported"),
        ("twilio", {}, "where_required"),
        ("twilio", {"to": "+14155550100", "aleg_url": ALEG_URL}, "to_or_url"),
        ("twilio", {"to": "+14155550100", "legs": "aleg"}, "to_or_url"),
        ("twilio", {"bleg_url": BLEG_URL}, "other_leg_not_supported"),
        ("twilio", {"legs": "both", "aleg_url": ALEG_URL}, "invalid_legs"),
        ("twilio", {"legs": "aleg"}, "missing_aleg_url"),
        ("twilio", {"aleg_url": ALEG_URL, "aleg_method": "PUT"}, "invalid_method"),
        ("twilio", {"to": "sips:bob@pbx.example.com"}, "sip_not_supported"),
        ("twilio", {"to": "call me"}, "invalid_phone_number"),
        ("twilio", {"call_id": "CA1/../x", "to": "+14155550100"}, "invalid_call_id"),
        ("telnyx", {}, "where_required"),
        ("telnyx", {"to": "sip:alice"}, "invalid_sip_uri"),
        ("telnyx", {"to": "sip:a b@pbx.example.com"}, "invalid_sip_uri"),
        (
            "telnyx",
            {"to": "+14155550100", "aleg_url": ALEG_URL},
            "fields_not_supported",
        ),
        ("telnyx", {"call_id": "v3:a/b", "to": "+14155550100"}, "invalid_call_id"),
        # Issue 12, finding 3: unparsable leg URLs raised a raw ValueError.
        ("vobiz", {"aleg_url": "http://[::1"}, "invalid_aleg_url"),
        ("vobiz", {"aleg_url": "https://xml.example.com:99999/a"}, "invalid_aleg_url"),
        ("vobiz", {"bleg_url": "http://[zz]/x", "legs": "bleg"}, "invalid_bleg_url"),
        # Issue 12, finding 12: an extension was dropped; impossible numbers were accepted.
        ("bland", {"to": "+1 415 555 0100 ext. 123"}, "extension_not_supported"),
        ("bland", {"to": "+14155550100;ext=9"}, "extension_not_supported"),
        ("twilio", {"to": "+1 (415) 555-0100 x12"}, "extension_not_supported"),
        ("vobiz", {"to": "+14155550100 ext. 7"}, "extension_not_supported"),
        ("bland", {"to": "+10000000000"}, "invalid_phone_number"),
        ("telnyx", {"to": "+1 555 555 0100"}, "invalid_phone_number"),
        # The action's structure: unknown fields, values that are not text.
        ("bland", {"to": "+14155550100", "transfer_to": "x"}, "unknown_fields"),
        ("bland", {"to": ["+14155550100"]}, "field_not_text"),
        ("telnyx", {"to": None}, "field_not_text"),
        ("vobiz", {"call_id": True, "aleg_url": ALEG_URL}, "field_not_text"),
        ("plivo", {"legs": {"aleg": True}}, "field_not_text"),
    ],
    indirect=["provider"],
)
async def test_validation_rejects_before_any_request(
    hass: HomeAssistant,
    sandbox: Sandbox,
    case: ProviderCase,
    entry: MockConfigEntry,
    events: dict[str, list[Any]],
    data: dict[str, Any],
    translation_key: str,
) -> None:
    """Invalid input raises a translated validation error, sends nothing, fires nothing."""
    await setup_entry(hass, entry)
    requests_before = len(sandbox.requests)

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(
            hass, config_entry_id=entry.entry_id, **({"call_id": case.call_id} | data)
        )

    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == translation_key
    assert_reads_well(str(raised.value))
    assert len(sandbox.requests) == requests_before
    assert events == {"succeeded": [], "failed": []}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"call_id": True}, "The Call ID field must be text"),
        ({"aleg_url": ["https://xml.example.com"]}, "The A leg URL field must be text"),
    ],
)
async def test_a_field_that_is_not_text_is_named_as_the_form_names_it(
    hass: HomeAssistant,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    data: dict[str, Any],
    message: str,
) -> None:
    """The message names the field by its translated name (services.transfer.fields)."""
    await setup_entry(hass, vobiz_entry)

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, **data)

    assert str(raised.value) == message


async def test_account_is_required_when_several_are_loaded(
    hass: HomeAssistant,
    sandbox: Sandbox,
    vobiz_entry: MockConfigEntry,
    bland_entry: MockConfigEntry,
) -> None:
    """With two accounts the error names the choices; with one given, it is used."""
    await setup_entry(hass, vobiz_entry)

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, call_id=SANDBOX_BLAND_CALL_ID, to="+14155550100")

    assert raised.value.translation_key == "config_entry_required"
    choices = raised.value.translation_placeholders["choices"]
    assert_reads_well(str(raised.value).replace(choices, "…"))
    assert "in the Account field" in str(raised.value)
    assert vobiz_entry.entry_id in choices
    assert bland_entry.entry_id in choices
    response = await transfer(
        hass,
        config_entry_id=bland_entry.entry_id,
        call_id=SANDBOX_BLAND_CALL_ID,
        to="+14155550100",
    )
    assert response["provider"] == "bland"


async def test_entry_not_loaded(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """The action exists without a loaded entry and says so clearly."""
    await setup_entry(hass, vobiz_entry)
    await hass.config_entries.async_unload(vobiz_entry.entry_id)
    data = {"call_id": SANDBOX_VOBIZ_CALL_ID, "aleg_url": ALEG_URL}

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, config_entry_id=vobiz_entry.entry_id, **data)
    assert raised.value.translation_key == "config_entry_not_loaded"

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, **data)
    assert raised.value.translation_key == "no_loaded_entry"

    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, config_entry_id="not-an-entry", **data)
    assert raised.value.translation_key == "config_entry_not_found"


async def test_second_transfer_of_the_same_call_fails_fast(
    hass: HomeAssistant,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
    events: dict[str, list[Any]],
) -> None:
    """While a transfer is under way, another one of the same call is refused."""
    await setup_entry(hass, bland_entry)
    sandbox.add_fault(
        Fault(kind=FaultKind.LATENCY, delay=0.5), path_contains="transfer", times=1
    )
    data = {"call_id": SANDBOX_BLAND_CALL_ID, "to": "+14155550100"}

    first = hass.async_create_task(transfer(hass, **data))
    async with asyncio.timeout(5):
        while not sandbox.requests_to("/v1/calls/active/transfer"):
            await asyncio.sleep(0.01)
    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, **data)

    assert raised.value.translation_key == "transfer_in_progress"
    assert (await first)["call_id"] == SANDBOX_BLAND_CALL_ID
    assert len(sandbox.requests_to("/v1/calls/active/transfer")) == 1
    assert len(events["succeeded"]) == 1
    # Once the first transfer finished the call can be transferred again.
    await transfer(hass, **data)
    assert len(events["succeeded"]) == 2


async def test_dashboard_tap_on_an_ended_call_logs_no_traceback(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A button card performs the action over the WebSocket API, as here.

    Found in a browser: a tap on a call that had ended logged a full "Unexpected
    exception" traceback. The caller can fix that (the call id), so it is a
    validation error, which Home Assistant logs in one line.
    """
    await setup_entry(hass, bland_entry)
    sandbox.end_call(SANDBOX_BLAND_CALL_ID)
    client = await hass_ws_client()

    await client.send_json_auto_id(
        {
            "type": "call_service",
            "domain": DOMAIN,
            "service": "transfer",
            "service_data": {"call_id": SANDBOX_BLAND_CALL_ID, "to": "+14155550100"},
        }
    )
    response = await client.receive_json()

    assert not response["success"]
    assert response["error"]["code"] == "service_validation_error"
    assert response["error"]["translation_key"] == "transfer_call_not_found"
    assert "Unexpected exception" not in caplog.text
    # Logged at error level in one line; the traceback only at debug level.
    assert [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.INFO and record.exc_info
    ] == []
    assert any(
        record.levelno == logging.ERROR and "is not in progress" in record.getMessage()
        for record in caplog.records
    )


async def test_home_assistant_reads_the_form_with_its_collapsed_section(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """Home Assistant parses services.yaml's section: what the action form is built from."""
    await setup_entry(hass, bland_entry)

    descriptions = await async_get_all_descriptions(hass)

    fields = descriptions[DOMAIN]["transfer"]["fields"]
    assert list(fields) == [
        "config_entry_id",
        "call_id",
        "destination",
        "to",
        "call_legs",
    ]
    assert fields["call_legs"]["collapsed"] is True
    assert tuple(fields["call_legs"]["fields"]) == XML_URL_FIELDS
