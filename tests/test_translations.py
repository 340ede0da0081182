"""strings.json, translations/en.json, services.yaml and icons.json agree."""

from __future__ import annotations

import json
from pathlib import Path
import re

import yaml

from custom_components.call_transfer.providers import PROVIDERS

INTEGRATION = (
    Path(__file__).resolve().parents[1] / "custom_components" / "call_transfer"
)


def load_json(name: str) -> dict:
    """Read one of the integration's JSON files."""
    return json.loads((INTEGRATION / name).read_text(encoding="utf-8"))


def test_english_translation_is_strings_json() -> None:
    """The English translation is kept identical to strings.json."""
    assert load_json("translations/en.json") == load_json("strings.json")


def test_every_action_field_is_translated_and_selected() -> None:
    """Each services.yaml field has a selector, a name and a description."""
    services = yaml.safe_load(
        (INTEGRATION / "services.yaml").read_text(encoding="utf-8")
    )
    strings = load_json("strings.json")["services"]
    assert set(services) == set(strings) == {"transfer", "list_calls"}
    for service, schema in services.items():
        assert strings[service]["name"]
        assert strings[service]["description"]
        for name, field in schema["fields"].items():
            assert "selector" in field, name
            assert strings[service]["fields"][name]["name"]
            assert strings[service]["fields"][name]["description"]
    assert set(load_json("icons.json")["services"]) == set(services)


def test_every_provider_has_a_menu_entry_and_a_form() -> None:
    """Adding a provider to the registry without its strings fails here."""
    steps = load_json("strings.json")["config"]["step"]
    assert set(steps["user"]["menu_options"]) == set(PROVIDERS)
    for provider_id, provider in PROVIDERS.items():
        form = steps[provider_id]
        for credential in provider.credential_fields:
            assert form["data"][credential.key]
            assert form["data_description"][credential.key]
            assert steps["reconfigure"]["data"][credential.key]
            if credential.secret:
                assert steps["reauth_confirm"]["data"][credential.key]


def test_every_raised_translation_key_exists() -> None:
    """Every translation_key the code raises (literal or per error code) is translated."""
    exceptions = load_json("strings.json")["exceptions"]
    source = "\n".join(path.read_text() for path in INTEGRATION.glob("*.py"))
    keys = set(re.findall(r'translation_key="(\w+)"', source))
    keys |= set(re.findall(r'_invalid\(\s*"(\w+)"', source))
    keys |= set(re.findall(r'_live_calls_coordinator\(\s*entry,\s*"(\w+)"', source))
    codes = {
        "invalid_auth",
        "forbidden",
        "call_not_found",
        "invalid_request",
        "rate_limited",
        "timeout",
        "cannot_connect",
        "provider_error",
        "unexpected_response",
    }
    keys |= {f"transfer_{code}" for code in codes}
    assert keys - set(exceptions) == set()
    assert {"transfer_in_progress", "call_id_required", "several_live_calls"} <= keys


def test_provider_specific_fields_have_no_ui_default() -> None:
    """A UI default would tick the field in the action form and send it for every provider."""
    services = yaml.safe_load(
        (INTEGRATION / "services.yaml").read_text(encoding="utf-8")
    )
    assert [
        name
        for name, field in services["transfer"]["fields"].items()
        if "default" in field
    ] == []
