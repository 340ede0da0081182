"""Releases: one version everywhere, the changelog, and what a v* tag publishes.

The scripts run as a maintainer runs them (scripts/bump_version, scripts/release_assets),
on a copy of the versioned files at version 0.1.0 with a changelog of the tests' own,
never on the repository itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest

# Runs the release scripts in child processes.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = Path("custom_components/call_transfer/manifest.json")
PYPROJECTS = (
    Path("pyproject.toml"),
    Path("packages/call-transfer-providers/pyproject.toml"),
)
URL = "https://github.com/call-transfer/ha-call-transfer"
RELEASE_DATE = "2026-12-04"
UNRELEASED = "### Added\n\n- Transfers.\n"
CHANGELOG = f"""# Changelog

What changed.

## [Unreleased]

{UNRELEASED}
[Unreleased]: {URL}/commits/main
"""


def versions(root: Path) -> set[str]:
    """Return the versions the versioned files state."""
    return {json.loads((root / MANIFEST).read_text())["version"]} | {
        tomllib.loads((root / path).read_text())["project"]["version"]
        for path in PYPROJECTS
    }


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """Return a copy of the versioned files and the integration at 0.1.0, nothing released."""
    (current,) = versions(ROOT)
    for path in (*PYPROJECTS, Path("hacs.json")):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    shutil.copytree(
        ROOT / MANIFEST.parent,
        tmp_path / MANIFEST.parent,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for path, line in (
        (MANIFEST, '"version": "{}"'),
        *((p, 'version = "{}"') for p in PYPROJECTS),
    ):
        text = (tmp_path / path).read_text()
        (tmp_path / path).write_text(
            text.replace(line.format(current), line.format("0.1.0"), 1)
        )
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    assert versions(tmp_path) == {"0.1.0"}
    return tmp_path


def run(script: str, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one of the release scripts on ``root``."""
    return subprocess.run(
        [str(ROOT / "scripts" / script), *args, "--root", str(root)],
        env=os.environ | {"PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_versioned_file_states_one_version() -> None:
    """manifest.json, pyproject.toml and the provider package's agree."""
    (version,) = versions(ROOT)
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)


def test_the_changelog_keeps_a_changelog() -> None:
    """An Unreleased section first, then releases newest first, each dated and linked."""
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## (.*)$", text, re.MULTILINE)
    references = dict(re.findall(r"^\[([^\]]+)\]: (\S+)$", text, re.MULTILINE))

    assert text.startswith("# Changelog\n")
    assert headings[0] == "[Unreleased]"
    released = [re.fullmatch(r"\[(\S+)\] - \d{4}-\d{2}-\d{2}", h) for h in headings[1:]]
    assert all(released)
    numbers = [tuple(map(int, m.group(1).split("."))) for m in released if m]
    assert numbers == sorted(numbers, reverse=True)
    assert set(references) == {"Unreleased"} | {m.group(1) for m in released if m}
    assert all(link.startswith(URL) for link in references.values())


def test_bump_releases_the_unreleased_section(copy: Path) -> None:
    """The first release: Unreleased becomes its dated section, linked to its tag."""
    manifest = (copy / MANIFEST).read_text()

    first = run("bump_version", copy, "0.1.0", "--date", RELEASE_DATE)
    second = run("bump_version", copy, "0.2.0", "--date", "2026-12-24")

    assert first.returncode == 0, first.stderr
    assert "git tag v0.1.0" in first.stdout
    assert (
        (copy / "CHANGELOG.md").read_text()
        == f"""# Changelog

What changed.

## [Unreleased]

## [0.1.0] - {RELEASE_DATE}

{UNRELEASED}
[Unreleased]: {URL}/compare/v0.1.0...HEAD
[0.1.0]: {URL}/releases/tag/v0.1.0
"""
    )
    assert (copy / MANIFEST).read_text() == manifest
    assert (second.returncode, second.stderr) == (
        1,
        "error: CHANGELOG.md's Unreleased section is empty: nothing to release\n",
    )


def test_bump_to_the_next_version(copy: Path) -> None:
    """A later release changes the version lines only, and links the comparison."""
    current = "0.1.0"
    assert run("bump_version", copy, current, "--date", RELEASE_DATE).returncode == 0
    changelog = copy / "CHANGELOG.md"
    changelog.write_text(
        changelog.read_text().replace(
            "## [Unreleased]\n", "## [Unreleased]\n\n### Fixed\n\n- Something.\n", 1
        )
    )
    before = {path: (copy / path).read_text() for path in (MANIFEST, *PYPROJECTS)}

    result = run("bump_version", copy, "0.2.0", "--date", "2026-12-24")

    assert result.returncode == 0, result.stderr
    assert versions(copy) == {"0.2.0"}
    for path, text in before.items():
        assert (copy / path).read_text() == text.replace(
            f'"{current}"', '"0.2.0"', 1
        ), path
    text = changelog.read_text()
    assert "## [0.2.0] - 2026-12-24\n\n### Fixed\n\n- Something.\n" in text
    assert f"[Unreleased]: {URL}/compare/v0.2.0...HEAD\n" in text
    assert f"[0.2.0]: {URL}/compare/v{current}...v0.2.0\n" in text


@pytest.mark.parametrize(
    ("version", "error"),
    [
        ("1.2", "'1.2' is not a version X.Y.Z"),
        ("v1.2.3", "'v1.2.3' is not a version X.Y.Z"),
        ("0.0.9", "0.0.9 is older than the current version, 0.1.0"),
    ],
)
def test_bump_refuses_and_changes_nothing(copy: Path, version: str, error: str) -> None:
    """A malformed or older version is refused before anything is written."""
    before = {path: path.read_bytes() for path in copy.rglob("*") if path.is_file()}

    result = run("bump_version", copy, version)

    assert (result.returncode, result.stderr) == (1, f"error: {error}\n")
    assert {
        path: path.read_bytes() for path in copy.rglob("*") if path.is_file()
    } == before


def test_bump_refuses_a_version_already_released(copy: Path) -> None:
    """A version the changelog has a section for cannot be released again."""
    assert run("bump_version", copy, "0.1.0", "--date", RELEASE_DATE).returncode == 0

    result = run("bump_version", copy, "0.1.0")

    assert result.stderr == "error: 0.1.0 is not newer than the last release, 0.1.0\n"


def test_bump_refuses_files_that_disagree(copy: Path) -> None:
    """Versioned files edited by hand to different versions are reported, not overwritten."""
    pyproject = copy / PYPROJECTS[1]
    pyproject.write_text(
        pyproject.read_text().replace('version = "0.1.0"', 'version = "0.3.0"')
    )

    result = run("bump_version", copy, "0.2.0")

    assert result.returncode == 1
    assert "the versioned files disagree" in result.stderr
    assert "packages/call-transfer-providers/pyproject.toml 0.3.0" in result.stderr


def test_release_assets(copy: Path, tmp_path: Path) -> None:
    """A tag's zip holds the integration directory's files at its root; the notes its section."""
    current = "0.1.0"
    assert run("bump_version", copy, current, "--date", RELEASE_DATE).returncode == 0
    (copy / MANIFEST.parent / "__pycache__").mkdir()
    (copy / MANIFEST.parent / "__pycache__" / "const.cpython-313.pyc").write_bytes(b"x")
    out = tmp_path / "dist"

    result = run("release_assets", copy, f"v{current}", "--out", str(out))

    assert result.returncode == 0, result.stderr
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert hacs["zip_release"] is True
    assert result.stdout.split() == [
        str(out / hacs["filename"]),
        str(out / "release-notes.md"),
    ]
    integration = ROOT / MANIFEST.parent
    expected = sorted(
        path.relative_to(integration).as_posix()
        for path in integration.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )
    with zipfile.ZipFile(out / hacs["filename"]) as archive:
        assert sorted(archive.namelist()) == expected
        assert json.loads(archive.read("manifest.json"))["version"] == current
        assert (
            archive.read("services.yaml")
            == (integration / "services.yaml").read_bytes()
        )
    assert (out / "release-notes.md").read_text() == UNRELEASED


@pytest.mark.parametrize(
    ("tag", "error"),
    [
        ("v9.9.9", "tag v9.9.9 but the versioned files say 0.1.0"),
        ("0.1.0", "release tags are vX.Y.Z, not '0.1.0'"),
        ("v0.1.0", "CHANGELOG.md has no section for 0.1.0"),
    ],
)
def test_release_assets_refuse(
    copy: Path, tmp_path: Path, tag: str, error: str
) -> None:
    """A tag that is not the stated version, or has no changelog section, builds nothing."""
    result = run("release_assets", copy, tag, "--out", str(tmp_path / "dist"))

    assert (result.returncode, result.stderr) == (1, f"error: {error}\n")
    assert not (tmp_path / "dist").exists()
