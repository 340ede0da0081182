"""translations/en.json, services.yaml and icons.json agree, and hassfest accepts them.

translations/en.json is the integration's one source of texts: Home Assistant reads a
custom integration's translations/<language>.json (only core generates en.json from a
strings.json), and hassfest validates a custom integration's translations/en.json.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import yaml

from custom_components.call_transfer.providers import (
    PROVIDERS,
    XML_URL_FIELDS,
    PlanRefusal,
)

INTEGRATION = (
    Path(__file__).resolve().parents[3] / "custom_components" / "call_transfer"
)
ENGLISH = "translations/en.json"


def load_json(name: str) -> dict:
    """Read one of the integration's JSON files."""
    return json.loads((INTEGRATION / name).read_text(encoding="utf-8"))


def test_english_is_the_only_source_of_texts() -> None:
    """No strings.json beside it to keep equal (nothing at runtime reads one)."""
    assert not (INTEGRATION / "strings.json").exists()


def load_services() -> dict[str, Any]:
    """Read services.yaml."""
    services: dict[str, Any] = yaml.safe_load(
        (INTEGRATION / "services.yaml").read_text(encoding="utf-8")
    )
    return services


def action_fields(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every field of an action, the ones inside sections included."""
    fields: dict[str, dict[str, Any]] = {}
    for name, field in service["fields"].items():
        if "fields" in field:  # a section
            assert not set(field["fields"]) & set(fields), "a field in two places"
            fields |= field["fields"]
        else:
            fields[name] = field
    return fields


def sections(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the sections of an action's form."""
    return {
        name: field for name, field in service["fields"].items() if "fields" in field
    }


def test_every_action_field_is_translated_and_selected() -> None:
    """Each services.yaml field and section has its texts; each field a selector."""
    services = load_services()
    strings = load_json(ENGLISH)["services"]
    assert set(services) == set(strings) == {"transfer", "list_calls"}
    icons = load_json("icons.json")["services"]
    assert set(icons) == set(services)
    for service, schema in services.items():
        assert strings[service]["name"]
        assert strings[service]["description"]
        for name, field in action_fields(schema).items():
            assert "selector" in field, name
            assert strings[service]["fields"][name]["name"]
            assert strings[service]["fields"][name]["description"]
        assert set(strings[service]["fields"]) == set(action_fields(schema))
        for name in sections(schema):
            assert strings[service]["sections"][name]["name"]
            assert strings[service]["sections"][name]["description"]
        assert set(strings[service].get("sections", {})) == set(sections(schema))
        assert icons[service]["service"].startswith("mdi:")
        assert set(icons[service].get("sections", {})) <= set(sections(schema))


def test_fields_that_only_some_providers_use_are_collapsed() -> None:
    """The call-leg fields sit in a collapsed section: other providers never need them."""
    [section] = sections(load_services()["transfer"]).values()
    assert section["collapsed"] is True
    assert tuple(section["fields"]) == XML_URL_FIELDS


# hassfest's translation key rule: lowercase letters, digits, - and _, not at either
# end and never two in a row. Selector option values are translation keys too.
TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")


def translation_keys(strings: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (where, key) for every key hassfest checks with its translation key rule."""
    keys: list[tuple[str, str]] = []

    def add(where: str, mapping: dict[str, Any]) -> None:
        keys.extend((f"{where}.{key}", key) for key in mapping)

    for name, selector in strings.get("selector", {}).items():
        add(f"selector.{name}.options", selector["options"])
    add("services", strings.get("services", {}))
    for name, service in strings.get("services", {}).items():
        add(f"services.{name}.fields", service.get("fields", {}))
        add(f"services.{name}.sections", service.get("sections", {}))
    add("exceptions", strings.get("exceptions", {}))
    for platform, entities in strings.get("entity", {}).items():
        add(f"entity.{platform}", entities)
        for name, entity in entities.items():
            add(f"entity.{platform}.{name}.state", entity.get("state", {}))
            for attribute, values in entity.get("state_attributes", {}).items():
                keys.append((f"entity.{platform}.{name}.state_attributes", attribute))
                add(
                    f"entity.{platform}.{name}.state_attributes.{attribute}.state",
                    values.get("state", {}),
                )
    return keys


def test_translation_keys_follow_hassfest_rule() -> None:
    """One bad key makes hassfest reject the integration (and HACS with it)."""
    strings = load_json(ENGLISH)
    assert translation_keys(strings)  # the walk found the keys
    assert [
        where
        for where, key in translation_keys(strings)
        if not TRANSLATION_KEY.match(key)
    ] == []


def test_translated_select_options_are_valid_keys() -> None:
    """A select with a translation_key uses its option values as translation keys."""
    strings = load_json(ENGLISH)
    for name, field in action_fields(load_services()["transfer"]).items():
        select = field["selector"].get("select")
        if not select or "translation_key" not in select:
            continue
        options = strings["selector"][select["translation_key"]]["options"]
        assert set(options) == set(select["options"]), name
        assert all(TRANSLATION_KEY.match(option) for option in select["options"])


def strings_and_paths(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every text in a translations file, with where it is."""
    if isinstance(value, dict):
        return [
            item
            for key, nested in value.items()
            for item in strings_and_paths(nested, f"{path}.{key}")
        ]
    return [(path, value)]


def test_texts_follow_hassfest_value_rules() -> None:
    """No HTML, no placeholder in single quotes, no surrounding spaces (hassfest)."""
    for where, text in strings_and_paths(load_json(ENGLISH)):
        assert isinstance(text, str), where
        assert text == text.strip(), where
        assert not re.search(r"<[a-z/][^>]*>", text), where
        assert not re.search(r"'\{\w+\}'", text), where


def test_data_descriptions_describe_form_fields() -> None:
    """hassfest: each data_description key is a field of the same step."""
    strings = load_json(ENGLISH)
    flows = {flow: strings[flow] for flow in ("config", "options")} | {
        f"config_subentries.{name}": subentry
        for name, subentry in strings["config_subentries"].items()
    }
    for flow, texts in flows.items():
        for step_id, step in texts["step"].items():
            forms = [step, *step.get("sections", {}).values()]
            for form in forms:
                assert set(form.get("data_description", {})) <= set(
                    form.get("data", {})
                ), f"{flow}.{step_id}"


def test_subentry_flows_have_what_hassfest_requires() -> None:
    """hassfest: a subentry type names its entry type and its add (and edit) links."""
    for name, subentry in load_json(ENGLISH)["config_subentries"].items():
        assert subentry["entry_type"], name
        assert subentry["initiate_flow"]["user"], name
        assert set(subentry["initiate_flow"]) <= set(subentry["step"]), name
        # Home Assistant 2025.4 reads the edit's abort from the integration's strings.
        assert subentry["abort"]["reconfigure_successful"], name


# The menu dialog is narrow and its help icon sits over the end of the title.
MENU_TITLE_MAX_LENGTH = 20


def test_menu_titles_fit_beside_the_help_icon() -> None:
    """Found in a browser: "Choose your telephony provider" ran under the help icon."""
    steps = load_json(ENGLISH)["config"]["step"]
    for step_id, step in steps.items():
        if "menu_options" in step:
            assert len(step["title"]) <= MENU_TITLE_MAX_LENGTH, step_id


def test_every_provider_has_a_menu_entry_and_a_form() -> None:
    """Adding a provider to the registry without its strings fails here."""
    steps = load_json(ENGLISH)["config"]["step"]
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
    exceptions = load_json(ENGLISH)["exceptions"]
    source = "\n".join(path.read_text() for path in INTEGRATION.glob("*.py"))
    keys = set(re.findall(r'translation_key="(\w+)"', source))
    keys |= set(re.findall(r'_invalid\(\s*"(\w+)"', source))
    keys |= set(re.findall(r'live_calls_coordinator\(\s*entry,\s*"(\w+)"', source))
    keys |= set(re.findall(r'(?:unlisted|several)(?:: str)? ?= ?"(\w+)"', source))
    keys |= set(re.findall(r'"(intent_\w+)"', source))
    keys |= set(re.findall(r'validation_error\(\s*"(\w+)"', source))
    keys |= set(re.findall(r'_async_translate\(\s*hass,\s*[\w.]+,\s*"(\w+)"', source))
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
    # Why no transfer can be made of the fields given, as the providers' plans say.
    keys |= {refusal.value for refusal in PlanRefusal}
    assert keys - set(exceptions) == set()
    assert {
        "transfer_in_progress",
        "call_id_required",
        "several_live_calls",
        "several_live_calls_for_destination",
        "destination_not_found",
        "intent_transferred",
    } <= keys


def test_provider_specific_fields_have_no_ui_default() -> None:
    """A UI default would tick the field in the action form and send it for every provider."""
    assert [
        name
        for name, field in action_fields(load_services()["transfer"]).items()
        if "default" in field
    ] == []
