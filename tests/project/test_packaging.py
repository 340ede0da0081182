"""What HACS and Home Assistant check before they load the integration."""

from __future__ import annotations

from importlib import metadata
import json
from pathlib import Path
import re
import subprocess
import sys

from homeassistant.components.logger.helpers import get_integration_loggers
from homeassistant.core import HomeAssistant
from PIL import Image
import pytest
import yaml

from custom_components.call_transfer.const import DOMAIN
from custom_components.call_transfer.providers import http as provider_http

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "call_transfer"
QUALITY_SCALE_RULES = {
    # Bronze
    "action-setup",
    "appropriate-polling",
    "brands",
    "common-modules",
    "config-flow-test-coverage",
    "config-flow",
    "dependency-transparency",
    "docs-actions",
    "docs-conditions",
    "docs-high-level-description",
    "docs-installation-instructions",
    "docs-removal-instructions",
    "docs-triggers",
    "entity-event-setup",
    "entity-unique-id",
    "has-entity-name",
    "runtime-data",
    "test-before-configure",
    "test-before-setup",
    "unique-config-entry",
    # Silver
    "action-exceptions",
    "config-entry-unloading",
    "docs-configuration-parameters",
    "docs-installation-parameters",
    "entity-unavailable",
    "integration-owner",
    "log-when-unavailable",
    "parallel-updates",
    "reauthentication-flow",
    "test-coverage",
    # Gold
    "devices",
    "diagnostics",
    "discovery-update-info",
    "discovery",
    "docs-data-update",
    "docs-examples",
    "docs-known-limitations",
    "docs-supported-devices",
    "docs-supported-functions",
    "docs-troubleshooting",
    "docs-use-cases",
    "dynamic-devices",
    "entity-category",
    "entity-device-class",
    "entity-disabled-by-default",
    "entity-translations",
    "exception-translations",
    "icon-translations",
    "reconfiguration-flow",
    "repair-issues",
    "stale-devices",
    # Platinum
    "async-dependency",
    "inject-websession",
    "strict-typing",
}


def test_manifest() -> None:
    """Every key hassfest and HACS need; domain and name first, the rest sorted."""
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == INTEGRATION.name
    assert manifest["config_flow"] is True
    assert manifest["integration_type"] == "service"
    assert manifest["iot_class"] == "cloud_polling"
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    for key in ("codeowners", "documentation", "issue_tracker", "requirements"):
        assert manifest[key], key
    assert all("==" in requirement for requirement in manifest["requirements"])


def test_manifest_loggers_are_those_of_requirements_that_log() -> None:
    """``loggers`` lists the loggers of third-party requirements, and only those.

    Home Assistant covers the integration's own package by itself (the next test);
    a requirement whose code logs must have its top-level logger listed, so that
    *Enable debug logging* and Cloud's log capture include it.
    """
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    listed = set(manifest.get("loggers", []))
    assert not {name for name in listed if name.split(".")[0] == "custom_components"}
    logging_packages = set()
    for requirement in manifest["requirements"]:
        distribution = metadata.distribution(requirement.split("==")[0])
        for file in distribution.files or ():
            if file.suffix == ".py" and re.search(
                r"^\s*(import logging|from logging import)",
                file.read_text(),
                re.MULTILINE,
            ):
                logging_packages.add(file.parts[0])
    assert listed == logging_packages


async def test_debug_logging_covers_the_provider_clients(hass: HomeAssistant) -> None:
    """The integration's loggers, as *Enable debug logging* sets them, hold the clients'."""
    loggers = await get_integration_loggers(hass, DOMAIN)

    assert "custom_components.call_transfer" in loggers
    # The clients log under their module's name.
    assert provider_http.__name__.startswith(tuple(f"{name}." for name in loggers))


def test_hacs_minimum_is_the_min_test_leg() -> None:
    """hacs.json promises the oldest Home Assistant the min leg tests."""
    hacs = json.loads((ROOT / "hacs.json").read_text())
    pinned = re.search(
        r"^homeassistant==(\S+)$",
        (ROOT / "requirements/min.txt").read_text(),
        re.MULTILINE,
    )
    assert pinned
    assert hacs["homeassistant"] == pinned.group(1)
    assert hacs["name"]


@pytest.mark.parametrize(("name", "size"), [("icon.png", 256), ("icon@2x.png", 512)])
def test_brand_icons(name: str, size: int) -> None:
    """The local brand icons: square PNGs of the right size with a transparent background."""
    with Image.open(INTEGRATION / "brand" / name) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        assert image.size == (size, size)
        assert image.getpixel((0, 0))[3] == 0
        assert image.getchannel("A").getextrema()[1] == 255


@pytest.mark.parametrize(
    ("name", "icon", "shortest"),
    [("logo.png", "icon.png", (128, 256)), ("logo@2x.png", "icon@2x.png", (256, 512))],
)
def test_brand_logos(name: str, icon: str, shortest: tuple[int, int]) -> None:
    """A logo is the landscape wordmark, not a copy of the icon (the brands rules).

    Trimmed to its content, transparent, its shortest side within the brands bounds.
    """
    brand = INTEGRATION / "brand"
    assert (brand / name).read_bytes() != (brand / icon).read_bytes()
    with Image.open(brand / name) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        width, height = image.size
        assert width > 2 * height  # the mark and the name side by side
        assert shortest[0] <= height <= shortest[1]
        assert image.getchannel("A").getbbox() == (0, 0, width, height)
        assert image.getpixel((width - 1, 0))[3] == 0


def test_logo_at_2x_is_the_logo_at_twice_the_size() -> None:
    """logo@2x.png is the same picture as logo.png, for high-density screens."""
    with (
        Image.open(INTEGRATION / "brand" / "logo.png") as logo,
        Image.open(INTEGRATION / "brand" / "logo@2x.png") as logo_2x,
    ):
        assert abs(logo_2x.width - 2 * logo.width) <= 2
        assert logo_2x.height == 2 * logo.height


def test_quality_scale_tracks_every_rule() -> None:
    """Every Integration Quality Scale rule has a status; exemptions say why."""
    rules = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]
    assert set(rules) == QUALITY_SCALE_RULES
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in ("done", "todo", "exempt"), rule
        if status == "exempt":
            assert value["comment"], rule


@pytest.mark.slow  # a child process
def test_importing_the_integration_leaves_cloud_alone() -> None:
    """Home Assistant Cloud's module is used only once Cloud is set up.

    Importing it (hass_nabucasa, Alexa, Google Assistant) takes about a second, which an
    installation without Cloud should not pay for this integration.
    """
    script = (
        "import sys, custom_components.call_transfer, custom_components.call_transfer.dial; "
        "print('homeassistant.components.cloud' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"
