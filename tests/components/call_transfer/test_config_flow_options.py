"""The options flow: each provider's declared options, checked before they are saved."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.call_transfer.const import DOMAIN
from sandbox import (
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TWILIO_CALL_SID,
    Fault,
    FaultKind,
    Sandbox,
)
from tests.helpers.entries import add_entry, setup_entry
from tests.helpers.hass import transfer


async def open_options(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """Open the options form of a loaded entry and return the flow id."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    return str(result["flow_id"])


def fields_of(result: dict) -> list[str]:
    """Return the option keys a form shows, in order."""
    return [str(marker) for marker in result["data_schema"].schema]


async def test_vobiz_options_are_normalized_and_applied(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """A national caller id is stored in E.164; saving applies them to the account."""
    hass.config.country = "US"
    await setup_entry(hass, vobiz_entry)
    result = await hass.config_entries.options.async_init(vobiz_entry.entry_id)
    # The provider's options in the order it declares them (the application push
    # registration sets the URL on is the last), then polling, then push (answer-first
    # last: registration sets it up).
    assert fields_of(result) == [
        "caller_id",
        "announcement",
        "ring_timeout",
        "application_id",
        "scan_interval",
        "push",
        "push_register",
        "push_answer_first",
    ]
    client_before = vobiz_entry.runtime_data.client

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "caller_id": "(415) 555-0123",
            "announcement": "  Please hold.  ",
            "ring_timeout": 30.0,
            "scan_interval": 20.0,
        },
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert vobiz_entry.options == {
        "caller_id": "+14155550123",
        "announcement": "Please hold.",
        "ring_timeout": 30,
        "scan_interval": 20,
    }
    assert vobiz_entry.state is ConfigEntryState.LOADED
    assert vobiz_entry.runtime_data.client is not client_before
    assert vobiz_entry.runtime_data.options == vobiz_entry.options


async def test_vobiz_options_refuse_bad_values(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """A number that is not one, and a too long announcement, are shown on their fields."""
    await setup_entry(hass, vobiz_entry)
    flow_id = await open_options(hass, vobiz_entry)
    sandbox.requests.clear()

    result = await hass.config_entries.options.async_configure(
        flow_id,
        {"caller_id": "call me", "announcement": "x" * 501, "scan_interval": 10},
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {
        "caller_id": "invalid_phone_number",
        "announcement": "too_long",
    }
    assert vobiz_entry.options == {}
    assert sandbox.requests == []


async def test_emptied_option_is_removed(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """Clearing a field drops the option, so the provider's default applies again."""
    hass.config_entries.async_update_entry(
        vobiz_entry, options={"caller_id": "+14155550123", "scan_interval": 10}
    )
    await setup_entry(hass, vobiz_entry)
    flow_id = await open_options(hass, vobiz_entry)

    await hass.config_entries.options.async_configure(
        flow_id, {"caller_id": " ", "scan_interval": 10}
    )
    await hass.async_block_till_done()

    assert vobiz_entry.options == {"scan_interval": 10}


async def test_bland_org_id_is_checked_with_one_request(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """A wrong org id is refused on its field; the right one is saved."""
    await setup_entry(hass, bland_entry)
    flow_id = await open_options(hass, bland_entry)

    result = await hass.config_entries.options.async_configure(
        flow_id, {"org_id": "org-not-mine", "scan_interval": 10}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"org_id": "invalid_org_id"}
    [check] = sandbox.requests_to("/v1/calls/active")
    assert check.method == "GET"
    assert check.headers["x-bland-org-id"] == "org-not-mine"

    result = await hass.config_entries.options.async_configure(
        flow_id, {"org_id": f" {SANDBOX_BLAND_ORG_ID} ", "scan_interval": 10}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert bland_entry.options == {"org_id": SANDBOX_BLAND_ORG_ID, "scan_interval": 10}
    assert bland_entry.runtime_data.client.supports_live_calls


async def test_unchanged_org_id_is_not_checked_again(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """Changing only the interval sends nothing, so it works while Bland is down."""
    hass.config_entries.async_update_entry(
        bland_entry, options={"org_id": SANDBOX_BLAND_ORG_ID, "scan_interval": 10}
    )
    await setup_entry(hass, bland_entry)
    flow_id = await open_options(hass, bland_entry)
    sandbox.requests.clear()

    result = await hass.config_entries.options.async_configure(
        flow_id, {"org_id": SANDBOX_BLAND_ORG_ID, "scan_interval": 60}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert sandbox.requests_to("/v1/calls/active") == []


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(kind=FaultKind.STATUS, status=401, body={"errors": []}), "invalid_auth"),
        (Fault(kind=FaultKind.STATUS, status=503), "cannot_connect"),
    ],
)
async def test_org_id_check_failures(
    hass: HomeAssistant,
    sandbox: Sandbox,
    bland_entry: MockConfigEntry,
    fault: Fault,
    error: str,
) -> None:
    """Rejected credentials or an unreachable provider are said, nothing is saved."""
    await setup_entry(hass, bland_entry)
    flow_id = await open_options(hass, bland_entry)
    sandbox.add_fault(fault, path_contains="/v1/calls/active")

    result = await hass.config_entries.options.async_configure(
        flow_id, {"org_id": SANDBOX_BLAND_ORG_ID, "scan_interval": 10}
    )

    assert result["errors"] == {"base": error}
    assert bland_entry.options == {}


async def test_entry_changes_other_than_options_do_not_reload(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """A new title changes nothing the client was built with: nothing is redone."""
    await setup_entry(hass, vobiz_entry)
    runtime = vobiz_entry.runtime_data

    hass.config_entries.async_update_entry(vobiz_entry, title="Front desk line")
    await hass.async_block_till_done()

    assert vobiz_entry.runtime_data is runtime
    assert len(sandbox.requests_to("/auth/me")) == 1


async def test_twilio_dial_options_shape_the_twiml(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Twilio takes the dial options; the next transfer's TwiML carries them."""
    hass.config.country = "US"
    entry = add_entry(hass, sandbox, "twilio")
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert fields_of(result) == [
        "caller_id",
        "announcement",
        "ring_timeout",
        "phone_number_sid",
        "scan_interval",
        "push",
        "push_register",
        "push_answer_first",
    ]

    await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "caller_id": "(415) 555-0123",
            "announcement": "Connecting you now.",
            "ring_timeout": 600,
            "scan_interval": 10,
        },
    )
    await hass.async_block_till_done()
    await transfer(hass, call_id=SANDBOX_TWILIO_CALL_SID, to="+14155550100")

    [sent] = sandbox.requests_to(f"/Calls/{SANDBOX_TWILIO_CALL_SID}.json")
    assert sent.form == {
        "Twiml": '<?xml version="1.0" encoding="UTF-8"?><Response>'
        "<Say>Connecting you now.</Say>"
        '<Dial callerId="+14155550123" timeout="600">'
        "<Number>+14155550100</Number></Dial></Response>"
    }


async def test_telnyx_connection_id_is_checked_with_telnyx(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """An unknown connection is refused on its field; a known one enables live calls."""
    entry = add_entry(hass, sandbox, "telnyx")
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    # One field names the Call Control application: its calls are listed, and push
    # registration sets its webhook URL. The public key comes with the push switch.
    assert fields_of(result) == [
        "connection_id",
        "caller_id",
        "ring_timeout",
        "scan_interval",
        "push",
        "webhook_public_key",
        "push_register",
    ]
    assert not entry.runtime_data.client.supports_live_calls

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"connection_id": "999", "scan_interval": 10}
    )
    assert result["errors"] == {"connection_id": "invalid_connection_id"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"connection_id": SANDBOX_TELNYX_CONNECTION_ID, "scan_interval": 10},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.runtime_data.client.supports_live_calls
    # The two checks, then the first poll of the account's live calls.
    assert [r.path for r in sandbox.requests_to("/active_calls")] == [
        "/telnyx/v2/connections/999/active_calls",
        f"/telnyx/v2/connections/{SANDBOX_TELNYX_CONNECTION_ID}/active_calls",
        f"/telnyx/v2/connections/{SANDBOX_TELNYX_CONNECTION_ID}/active_calls",
    ]
    assert er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}_active_calls"
    )


@pytest.mark.parametrize(
    ("provider", "ring_timeouts"),
    [("vobiz", (5, 120)), ("twilio", (5, 600)), ("telnyx", (5, 600))],
)
async def test_seconds_out_of_range_name_the_range(
    hass: HomeAssistant, sandbox: Sandbox, provider: str, ring_timeouts: tuple[int, int]
) -> None:
    """A ring timeout or poll interval out of range: the error gives the range.

    As the form shows it, in the account's provider's range (not "Value 200.0 is too
    large", which the number selector's own check said); the field's help gives it too.
    """
    entry = add_entry(hass, sandbox, provider)
    await setup_entry(hass, entry)
    low, high = ring_timeouts
    flow_id = await open_options(hass, entry)

    result = await hass.config_entries.options.async_configure(
        flow_id, {"ring_timeout": high + 1.0, "scan_interval": 4}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {
        "ring_timeout": "ring_timeout_out_of_range",
        "scan_interval": "scan_interval_out_of_range",
    }
    texts = await async_get_translations(hass, "en", "options", [DOMAIN])
    shown = {
        field: texts[f"component.{DOMAIN}.options.error.{error}"].format(
            **result["description_placeholders"]
        )
        for field, error in result["errors"].items()
    }
    assert shown == {
        "ring_timeout": f"The ring timeout must be from {low} to {high} seconds.",
        "scan_interval": "The polling interval must be from 5 to 300 seconds.",
    }
    help_text = texts[
        f"component.{DOMAIN}.options.step.init.data_description.ring_timeout"
    ].format(**result["description_placeholders"])
    assert f"from {low} to {high} seconds" in help_text

    result = await hass.config_entries.options.async_configure(
        flow_id, {"ring_timeout": float(high), "scan_interval": 5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {"ring_timeout": high, "scan_interval": 5}
