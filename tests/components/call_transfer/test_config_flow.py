"""Config, reauth and reconfigure flows, against the sandbox over real HTTP."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from aiohttp.resolver import AsyncResolver
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, UnknownStep, section
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import pytest_socket
import voluptuous as vol

from custom_components.call_transfer.const import DOMAIN
from custom_components.call_transfer.providers import PROVIDERS
from custom_components.call_transfer.providers.base import key_fingerprint
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_API_KEY_SECRET,
    SANDBOX_TWILIO_API_KEY_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    Fault,
    FaultKind,
    Sandbox,
)
from tests.helpers.entries import add_entry, form_input
from tests.helpers.provider_cases import (
    PROVIDER_CASES,
    TELNYX_FINGERPRINT,
    ProviderCase,
    bland_data,
    plivo_data,
    telnyx_data,
    twilio_data,
    vobiz_data,
)


def suggested_values(schema: vol.Schema) -> dict[str, Any]:
    """Return the values a form shows filled in, section by section."""
    values: dict[str, Any] = {}
    for key, value in schema.schema.items():
        if isinstance(value, section):
            values[str(key)] = suggested_values(value.schema)
        elif key.description and "suggested_value" in key.description:
            values[str(key)] = key.description["suggested_value"]
    return values


async def start_flow(hass: HomeAssistant, provider: str) -> dict[str, Any]:
    """Open the add-account flow and pick a provider from the menu."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == list(PROVIDERS)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": provider}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == provider
    assert result["errors"] == {}
    return result


async def test_every_registered_provider_has_a_step(hass: HomeAssistant) -> None:
    """The menu offers each provider in the registry, and each opens its credentials form."""
    for provider_id, provider in PROVIDERS.items():
        result = await start_flow(hass, provider_id)
        assert [str(key) for key in result["data_schema"].schema][
            : len(provider.credential_fields)
        ] == [cred.key for cred in provider.credential_fields]


async def test_only_registered_providers_are_steps(hass: HomeAssistant) -> None:
    """A step that is neither a flow step nor a registered provider does not exist."""
    with pytest.raises(UnknownStep):
        await hass.config_entries.flow.async_init(DOMAIN, context={"source": "sinch"})


async def test_add_vobiz_account(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """Credentials are checked with GET /auth/me before the entry is created."""
    result = await start_flow(hass, "vobiz")

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(vobiz_data(sandbox))
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"].startswith("Vobiz (")
    assert result["data"] == vobiz_data(sandbox)
    assert result["result"].unique_id == f"vobiz_{SANDBOX_VOBIZ_AUTH_ID}"
    # Checked by the flow, then again by the entry's setup.
    check = sandbox.requests_to("/auth/me")[0]
    assert check.method == "GET"
    assert check.headers["x-auth-id"] == SANDBOX_VOBIZ_AUTH_ID


async def test_add_bland_account(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """A Bland key is checked with GET /v1/me; the entry is keyed by its fingerprint."""
    result = await start_flow(hass, "bland")

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(bland_data(sandbox))
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    fingerprint = key_fingerprint("bland", SANDBOX_BLAND_API_KEY)
    assert result["result"].unique_id == f"bland_{fingerprint}"
    assert result["title"] == f"Bland AI (key …{fingerprint[:8]})"
    assert SANDBOX_BLAND_API_KEY not in result["title"]
    assert result["data"] == bland_data(sandbox)
    assert sandbox.requests_to("/v1/me")[0].headers["authorization"] == "***"


async def test_base_url_waits_in_a_collapsed_section(
    hass: HomeAssistant, bland_entry: MockConfigEntry, vobiz_entry: MockConfigEntry
) -> None:
    """The API base URL, which few need, is under Advanced options, collapsed.

    Reconfiguring an account that uses one opens the section; reauthentication asks
    only for the secret.
    """
    result = await start_flow(hass, "vobiz")
    schema = result["data_schema"].schema
    assert list(map(str, schema)) == ["auth_id", "auth_token", "advanced_options"]
    advanced = schema["advanced_options"]
    assert isinstance(advanced, section)
    assert list(map(str, advanced.schema.schema)) == ["base_url"]
    assert advanced.options["collapsed"] is True

    hass.config_entries.async_update_entry(
        bland_entry,
        data={key: v for key, v in bland_entry.data.items() if key != "base_url"},
    )
    result = await bland_entry.start_reconfigure_flow(hass)
    assert result["data_schema"].schema["advanced_options"].options["collapsed"]
    result = await vobiz_entry.start_reconfigure_flow(hass)
    assert not result["data_schema"].schema["advanced_options"].options["collapsed"]
    result = await vobiz_entry.start_reauth_flow(hass)
    assert "advanced_options" not in map(str, result["data_schema"].schema)


async def test_blank_base_url_means_public_api(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """An emptied base URL is not stored: the entry uses the provider's public API."""
    result = await start_flow(hass, "bland")
    # The sandbox answers for the public API here, so nothing leaves the machine.
    with patch(
        "custom_components.call_transfer.providers.bland.BLAND_API_URL",
        sandbox.bland_base_url,
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {"api_key": SANDBOX_BLAND_API_KEY, "advanced_options": {"base_url": "  "}},
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"provider": "bland", "api_key": SANDBOX_BLAND_API_KEY}


@pytest.mark.parametrize(
    ("provider", "bad_input", "fault", "errors"),
    [
        ("vobiz", {"auth_token": "wrong-token"}, None, {"base": "invalid_auth"}),
        ("vobiz", {"auth_id": "MA_NOBODY"}, None, {"base": "invalid_auth"}),
        ("vobiz", {"auth_id": "../auth"}, None, {"base": "invalid_auth"}),
        ("bland", {"api_key": "sk-not-a-key"}, None, {"base": "invalid_auth"}),
        ("vobiz", {}, Fault(kind=FaultKind.RESET), {"base": "cannot_connect_base_url"}),
        (
            "bland",
            {},
            Fault(kind=FaultKind.STATUS, status=503),
            {"base": "cannot_connect_base_url"},
        ),
        (
            "bland",
            {},
            Fault(kind=FaultKind.HTML, status=200),
            {"base": "cannot_connect_base_url"},
        ),
        (
            "vobiz",
            {"advanced_options": {"base_url": "http://vobiz.example.com/api/v1"}},
            None,
            {"base": "invalid_base_url"},
        ),
        (
            "bland",
            {"advanced_options": {"base_url": "not a url"}},
            None,
            {"base": "invalid_base_url"},
        ),
        ("twilio", {"secret": "wrong-token"}, None, {"base": "invalid_auth"}),
        ("twilio", {"account_sid": "AC-typo"}, None, {"base": "invalid_auth"}),
        ("twilio", {"api_key_sid": "SK-typo"}, None, {"base": "invalid_auth"}),
        (
            "twilio",
            {"api_key_sid": SANDBOX_TWILIO_API_KEY_SID},
            None,
            {"base": "invalid_auth"},
        ),
        (
            "twilio",
            {},
            Fault(kind=FaultKind.STATUS, status=500),
            {"base": "cannot_connect_base_url"},
        ),
        ("telnyx", {"api_key": "KEYwrong"}, None, {"base": "invalid_auth"}),
        (
            "telnyx",
            {},
            Fault(kind=FaultKind.RESET),
            {"base": "cannot_connect_base_url"},
        ),
        ("plivo", {"auth_token": "wrong-token"}, None, {"base": "invalid_auth"}),
        ("plivo", {"auth_id": "MA_SANDBOX_0001"}, None, {"base": "invalid_auth"}),
        ("plivo", {"auth_id": "SA" + "0" * 18}, None, {"base": "invalid_auth"}),
        (
            "plivo",
            {},
            Fault(kind=FaultKind.STATUS, status=500),
            {"base": "cannot_connect_base_url"},
        ),
    ],
)
async def test_errors_can_be_corrected(
    hass: HomeAssistant,
    sandbox: Sandbox,
    provider: str,
    bad_input: dict[str, str],
    fault: Fault | None,
    errors: dict[str, str],
) -> None:
    """Each error shows on the form; the user fixes it and finishes the same flow."""
    good_input = form_input(PROVIDER_CASES[provider].data(sandbox))
    result = await start_flow(hass, provider)
    if fault is not None:
        sandbox.add_fault(fault)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], good_input | bad_input
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    # What was typed comes back, secrets too (a password field shows them masked):
    # the user corrects one field instead of typing every key again.
    suggested = suggested_values(result["data_schema"])
    assert suggested == good_input | bad_input
    assert any(
        c.secret for c in PROVIDERS[provider].credential_fields if c.key in suggested
    )

    sandbox.clear_faults()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], good_input
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("provider", "bad_input", "errors"),
    [
        (
            "vobiz",
            {"advanced_options": {"base_url": "http://[::1"}},
            {"base": "invalid_base_url"},
        ),
        (
            "bland",
            {"advanced_options": {"base_url": "http://[::1]:99999/x"}},
            {"base": "invalid_base_url"},
        ),
        (
            "bland",
            {"advanced_options": {"base_url": "https://[zz]/"}},
            {"base": "invalid_base_url"},
        ),
        (
            "vobiz",
            {"auth_token": "token\r\nX-Injected: 1"},
            {"base": "invalid_credentials"},
        ),
        ("bland", {"api_key": "sk-line\nbreak"}, {"base": "invalid_credentials"}),
        ("bland", {"api_key": "sk-nul\x00byte"}, {"base": "invalid_credentials"}),
    ],
)
async def test_malformed_input_is_a_form_error(
    hass: HomeAssistant,
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
    provider: str,
    bad_input: dict[str, str],
    errors: dict[str, str],
) -> None:
    """Issue 12, finding 4: unparsable URLs and unsendable secrets are form errors.

    Nothing is sent, nothing is logged as unexpected, and the form says what is wrong.
    """
    good_input = form_input(
        vobiz_data(sandbox) if provider == "vobiz" else bland_data(sandbox)
    )
    result = await start_flow(hass, provider)
    requests = len(sandbox.requests)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], good_input | bad_input
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert len(sandbox.requests) == requests
    assert "Unexpected error" not in caplog.text
    assert "Traceback" not in caplog.text


async def test_unexpected_error(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """A bug while checking credentials shows 'unknown' and the flow can go on."""
    result = await start_flow(hass, "vobiz")
    with patch(
        "custom_components.call_transfer.config_flow.create_client",
        side_effect=RuntimeError("boom"),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], form_input(vobiz_data(sandbox))
        )
    assert result["errors"] == {"base": "unknown"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(vobiz_data(sandbox))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_same_account_twice_aborts(
    hass: HomeAssistant, sandbox: Sandbox, case: ProviderCase, entry: MockConfigEntry
) -> None:
    """Adding an account that is already configured aborts."""
    result = await start_flow(hass, case.provider)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(case.data(sandbox))
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_vobiz_reauth(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """Reauth asks only for the token, checks it, and updates the entry."""
    sandbox.vobiz_accounts[SANDBOX_VOBIZ_AUTH_ID].auth_token = "new-token"
    result = await vobiz_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert [str(key) for key in result["data_schema"].schema] == ["auth_token"]
    # The stored token is never sent to the browser; one typed comes back after an error.
    assert not any(key.description for key in result["data_schema"].schema)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"auth_token": "typed-token"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    [field] = result["data_schema"].schema
    assert field.description == {"suggested_value": "typed-token"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"auth_token": "new-token"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert vobiz_entry.data == vobiz_data(sandbox, auth_token="new-token")


async def test_vobiz_reauth_wrong_account(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """Credentials that Vobiz says belong to another account abort the reauth."""
    result = await vobiz_entry.start_reauth_flow(hass)
    sandbox.add_fault(
        Fault(kind=FaultKind.STATUS, status=200, body={"auth_id": "MA_SOMEONE_ELSE"}),
        path_contains="/auth/me",
        times=1,
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"auth_token": SANDBOX_VOBIZ_AUTH_TOKEN}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert vobiz_entry.unique_id == f"vobiz_{SANDBOX_VOBIZ_AUTH_ID}"


async def test_bland_reauth_with_rotated_key(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """Bland names no account, so a rotated key is accepted and re-keys the entry."""
    sandbox.add_bland_account(api_key="sk-rotated-key-0002")
    result = await bland_entry.start_reauth_flow(hass)
    assert [str(key) for key in result["data_schema"].schema] == ["api_key"]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": "sk-rotated-key-0002"}
    )

    assert result["reason"] == "reauth_successful"
    assert bland_entry.data["api_key"] == "sk-rotated-key-0002"
    assert (
        bland_entry.unique_id
        == f"bland_{key_fingerprint('bland', 'sk-rotated-key-0002')}"
    )


async def test_bland_reauth_with_another_entrys_key(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """A key that another entry already uses is refused."""
    sandbox.add_bland_account(api_key="sk-other-key-0003")
    other = MockConfigEntry(
        domain=DOMAIN,
        unique_id=f"bland_{key_fingerprint('bland', 'sk-other-key-0003')}",
        data=bland_data(sandbox, api_key="sk-other-key-0003"),
    )
    other.add_to_hass(hass)
    result = await bland_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": "sk-other-key-0003"}
    )
    assert result["reason"] == "already_configured"
    assert bland_entry.data["api_key"] == SANDBOX_BLAND_API_KEY


async def test_reconfigure_vobiz(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """Reconfigure shows the current non-secret values and validates the change."""
    result = await vobiz_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    assert suggested_values(result["data_schema"]) == {
        "auth_id": SANDBOX_VOBIZ_AUTH_ID,
        "advanced_options": {"base_url": sandbox.vobiz_base_url},
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(vobiz_data(sandbox, auth_token="bad"))
    )
    assert result["errors"] == {"base": "invalid_auth"}

    sandbox.vobiz_accounts[SANDBOX_VOBIZ_AUTH_ID].auth_token = "rotated-token"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        form_input(
            vobiz_data(
                sandbox,
                auth_token="rotated-token",
                base_url=f"{sandbox.vobiz_base_url}/",
            )
        ),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert vobiz_entry.data == vobiz_data(sandbox, auth_token="rotated-token")


async def test_reconfigure_to_another_vobiz_account_aborts(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """Reconfigure cannot switch the entry to a different Vobiz account."""
    sandbox.add_vobiz_account(auth_id="MA_SANDBOX_0002", auth_token="token-0002")
    result = await vobiz_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        form_input(
            vobiz_data(sandbox, auth_id="MA_SANDBOX_0002", auth_token="token-0002")
        ),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert vobiz_entry.data == vobiz_data(sandbox)


async def test_reconfigure_bland_key(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """Reconfigure replaces the Bland key."""
    sandbox.add_bland_account(api_key="sk-rotated-key-0004")
    result = await bland_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        form_input(bland_data(sandbox, api_key="sk-rotated-key-0004")),
    )
    assert result["reason"] == "reconfigure_successful"
    assert bland_entry.data["api_key"] == "sk-rotated-key-0004"


async def test_add_twilio_account_with_its_auth_token(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """The Account SID names the entry; the API key SID is optional and not stored empty."""
    result = await start_flow(hass, "twilio")
    schema = result["data_schema"].schema
    assert [str(key) for key in schema] == [
        "account_sid",
        "secret",
        "api_key_sid",
        "auth_token",
        "advanced_options",
    ]
    assert [type(key).__name__ for key in schema][:4] == [
        "Required",
        "Required",
        "Optional",
        "Optional",
    ]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(twilio_data(sandbox, api_key_sid="  "))
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Twilio (Sandbox Twilio account)"
    assert result["result"].unique_id == f"twilio_{SANDBOX_TWILIO_ACCOUNT_SID}"
    assert result["data"] == twilio_data(sandbox)
    assert sandbox.requests_to(f"{SANDBOX_TWILIO_ACCOUNT_SID}.json")


async def test_add_twilio_account_with_an_api_key(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """An API key SID and its secret authenticate; the account is checked by its calls."""
    result = await start_flow(hass, "twilio")
    data = twilio_data(
        sandbox,
        secret=SANDBOX_TWILIO_API_KEY_SECRET,
        api_key_sid=SANDBOX_TWILIO_API_KEY_SID,
    )

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(data)
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Twilio ({SANDBOX_TWILIO_ACCOUNT_SID})"
    assert result["result"].unique_id == f"twilio_{SANDBOX_TWILIO_ACCOUNT_SID}"
    assert result["data"] == data
    assert not sandbox.requests_to(f"{SANDBOX_TWILIO_ACCOUNT_SID}.json")


async def test_twilio_reauth_moves_to_an_api_key_and_back(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Reauth asks for the secrets and the optional API key SID, and keeps the account.

    With an API key, the auth token (for callbacks) may come along.
    """
    entry = add_entry(hass, sandbox, "twilio")
    result = await entry.start_reauth_flow(hass)
    assert [str(key) for key in result["data_schema"].schema] == [
        "secret",
        "api_key_sid",
        "auth_token",
    ]
    assert result["description_placeholders"]["provider"] == "Twilio"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "secret": SANDBOX_TWILIO_API_KEY_SECRET,
            "api_key_sid": SANDBOX_TWILIO_API_KEY_SID,
            "auth_token": SANDBOX_TWILIO_AUTH_TOKEN,
        },
    )
    assert result["reason"] == "reauth_successful"
    assert entry.data == twilio_data(
        sandbox,
        secret=SANDBOX_TWILIO_API_KEY_SECRET,
        api_key_sid=SANDBOX_TWILIO_API_KEY_SID,
        auth_token=SANDBOX_TWILIO_AUTH_TOKEN,
    )

    result = await entry.start_reauth_flow(hass)
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested == {"api_key_sid": SANDBOX_TWILIO_API_KEY_SID}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": SANDBOX_TWILIO_AUTH_TOKEN}
    )
    assert result["reason"] == "reauth_successful"
    assert entry.data == twilio_data(sandbox)
    assert entry.unique_id == f"twilio_{SANDBOX_TWILIO_ACCOUNT_SID}"


async def test_reconfigure_to_another_twilio_account_aborts(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Reconfigure cannot switch the entry to a different Account SID."""
    entry = add_entry(hass, sandbox, "twilio")
    other = sandbox.add_twilio_account("AC" + "b" * 32, "other-token")
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        form_input(twilio_data(sandbox, account_sid=other.sid, secret="other-token")),
    )
    assert result["reason"] == "wrong_account"
    assert entry.data == twilio_data(sandbox)


async def test_add_telnyx_account(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """A Telnyx key is checked with GET /balance; the entry is keyed by its fingerprint."""
    result = await start_flow(hass, "telnyx")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(telnyx_data(sandbox))
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"telnyx_{TELNYX_FINGERPRINT}"
    assert result["title"] == f"Telnyx (key …{TELNYX_FINGERPRINT[:8]})"
    assert SANDBOX_TELNYX_API_KEY not in result["title"]
    assert result["data"] == telnyx_data(sandbox)
    assert (
        sandbox.requests_to("/telnyx/v2/balance")[0].headers["authorization"] == "***"
    )


async def test_telnyx_reauth_with_a_new_key(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """Telnyx names no account either: a new key is accepted and re-keys the entry."""
    entry = add_entry(hass, sandbox, "telnyx")
    sandbox.add_telnyx_account("KEYsandbox-rotated-0002")
    result = await entry.start_reauth_flow(hass)
    assert [str(key) for key in result["data_schema"].schema] == ["api_key"]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": "KEYsandbox-rotated-0002"}
    )

    assert result["reason"] == "reauth_successful"
    assert entry.data["api_key"] == "KEYsandbox-rotated-0002"
    assert entry.unique_id != f"telnyx_{TELNYX_FINGERPRINT}"


async def test_add_plivo_account(hass: HomeAssistant, sandbox: Sandbox) -> None:
    """Plivo's credentials are checked with GET /Account/{auth_id}/ over HTTP Basic."""
    result = await start_flow(hass, "plivo")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(plivo_data(sandbox))
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Plivo (Sandbox Plivo account)"
    assert result["result"].unique_id == f"plivo_{SANDBOX_PLIVO_AUTH_ID}"
    assert result["data"] == plivo_data(sandbox)
    check = sandbox.requests_to(f"/plivo/v1/Account/{SANDBOX_PLIVO_AUTH_ID}/")[0]
    assert check.headers["authorization"] == "***"


async def test_plivo_reauth_and_reconfigure(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """A regenerated Auth Token is asked for alone; reconfigure stays on the account."""
    entry = add_entry(hass, sandbox, "plivo")
    sandbox.plivo_accounts[SANDBOX_PLIVO_AUTH_ID].auth_token = "regenerated-token"
    result = await entry.start_reauth_flow(hass)
    assert [str(key) for key in result["data_schema"].schema] == ["auth_token"]
    assert result["description_placeholders"]["provider"] == "Plivo"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"auth_token": "regenerated-token"}
    )
    assert result["reason"] == "reauth_successful"
    assert entry.data == plivo_data(sandbox, auth_token="regenerated-token")
    await hass.async_block_till_done()  # the reload the reauth started

    other = sandbox.add_plivo_account("MA" + "9" * 18, "other-token")
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        form_input(
            plivo_data(sandbox, auth_id=other.auth_id, auth_token="other-token")
        ),
    )
    assert result["reason"] == "wrong_account"
    assert entry.data["auth_id"] == SANDBOX_PLIVO_AUTH_ID


async def test_host_name_in_base_url_resolves(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """A base URL with a host name is looked up through Home Assistant's shared session.

    Found in the dev instance: with pycares 5 beside aiodns 3.2.0 every lookup raised
    a TypeError and the form said "Unexpected error"; only 127.0.0.1 worked. The
    session looks names up with aiodns (pycares), as in Home Assistant, whose
    resolver adds mDNS for .local names on top; the harness shares one resolver
    across tests and closes it, so this test gets its own.
    """
    # localhost is ::1 too, which newer aiohttp tries first (the sandbox listens on
    # 127.0.0.1 only): loopback both, and allowed, so the harness does not warn.
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"])
    result = await start_flow(hass, "bland")
    resolver = AsyncResolver()
    resolver.real_close = resolver.close  # what newer Home Assistant closes at shutdown

    with patch(
        "homeassistant.helpers.aiohttp_client._async_make_resolver",
        return_value=resolver,
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                "api_key": SANDBOX_BLAND_API_KEY,
                "advanced_options": {
                    "base_url": f"http://localhost:{sandbox.port}/bland"
                },
            },
        )

    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["data"]["base_url"] == f"http://localhost:{sandbox.port}/bland"
    assert sandbox.requests_to("/v1/me")


async def test_reconfigure_keeps_the_secret_left_empty(
    hass: HomeAssistant, sandbox: Sandbox, bland_entry: MockConfigEntry
) -> None:
    """Changing only the base URL does not mean typing the API key again."""
    result = await bland_entry.start_reconfigure_flow(hass)
    schema = {str(key): key for key in result["data_schema"].schema}
    assert not isinstance(schema["api_key"], vol.Required)  # may stay empty

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"advanced_options": {"base_url": f"{sandbox.bland_base_url}/"}},
    )

    assert result["reason"] == "reconfigure_successful"
    assert bland_entry.data == bland_data(sandbox)
    # The kept key was checked with the provider like a typed one.
    assert sandbox.requests_to("/v1/me")[-1].headers["authorization"] == "***"


async def test_reconfigure_checks_the_kept_secret(
    hass: HomeAssistant, sandbox: Sandbox, vobiz_entry: MockConfigEntry
) -> None:
    """A kept token the provider no longer accepts is reported, not saved blindly."""
    sandbox.vobiz_accounts[SANDBOX_VOBIZ_AUTH_ID].auth_token = "rotated-elsewhere"
    result = await vobiz_entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        form_input(
            {"auth_id": SANDBOX_VOBIZ_AUTH_ID, "base_url": sandbox.vobiz_base_url}
        ),
    )

    assert result["errors"] == {"base": "invalid_auth"}
    assert vobiz_entry.data == vobiz_data(sandbox)


async def test_twilio_api_key_with_its_auth_token_for_callbacks(
    hass: HomeAssistant, sandbox: Sandbox
) -> None:
    """The account form takes the auth token beside an API key; it is never shown back.

    Reconfigure keeps it when left empty (also when there is none), and takes a new one.
    """
    key = {
        "secret": SANDBOX_TWILIO_API_KEY_SECRET,
        "api_key_sid": SANDBOX_TWILIO_API_KEY_SID,
    }
    result = await start_flow(hass, "twilio")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        form_input(twilio_data(sandbox, **key, auth_token=SANDBOX_TWILIO_AUTH_TOKEN)),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].data["auth_token"] == SANDBOX_TWILIO_AUTH_TOKEN
    await hass.config_entries.async_remove(result["result"].entry_id)

    entry = add_entry(hass, sandbox, "twilio")
    hass.config_entries.async_update_entry(
        entry, data=entry.data | key | {"auth_token": SANDBOX_TWILIO_AUTH_TOKEN}
    )
    result = await entry.start_reconfigure_flow(hass)
    shown = result["data_schema"].schema
    assert "auth_token" in [str(k) for k in shown]
    suggested = {str(k): (k.description or {}).get("suggested_value") for k in shown}
    assert suggested["auth_token"] is None
    assert suggested["secret"] is None
    assert SANDBOX_TWILIO_AUTH_TOKEN not in str(result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "account_sid": SANDBOX_TWILIO_ACCOUNT_SID,
            "api_key_sid": SANDBOX_TWILIO_API_KEY_SID,
            "advanced_options": {"base_url": sandbox.twilio_base_url},
        },
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == twilio_data(
        sandbox, **key, auth_token=SANDBOX_TWILIO_AUTH_TOKEN
    )

    # Without one stored, none is kept.
    hass.config_entries.async_update_entry(
        entry, data={k: v for k, v in entry.data.items() if k != "auth_token"}
    )
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "account_sid": SANDBOX_TWILIO_ACCOUNT_SID,
            "api_key_sid": SANDBOX_TWILIO_API_KEY_SID,
            "auth_token": "",
            "advanced_options": {"base_url": sandbox.twilio_base_url},
        },
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == twilio_data(sandbox, **key)
