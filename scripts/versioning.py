"""The project's version and its changelog, shared by scripts/bump_version and scripts/release_assets.

One version for everything released from a ``vX.Y.Z`` tag: the integration's manifest.json
(what Home Assistant and HACS show), the project's pyproject.toml and the provider clients'
package (packages/call-transfer-providers). CHANGELOG.md follows Keep a Changelog: an
``## [Unreleased]`` section, then one ``## [X.Y.Z] - YYYY-MM-DD`` section per release, and
link references at the end. Standard library only: the release workflow runs it on the
runner's own Python.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from pathlib import Path
import re
import tomllib

REPOSITORY_URL = "https://github.com/call-transfer/ha-call-transfer"
MANIFEST = Path("custom_components", "call_transfer", "manifest.json")
PYPROJECTS = (
    Path("pyproject.toml"),
    Path("packages", "call-transfer-providers", "pyproject.toml"),
)
CHANGELOG = Path("CHANGELOG.md")
HACS = Path("hacs.json")
INTEGRATION = MANIFEST.parent

VERSION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
UNRELEASED_HEADING = "## [Unreleased]"
_SECTION_HEADING = re.compile(
    r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>\S+))?$", re.MULTILINE
)
_LINK_REFERENCE = re.compile(r"^\[(?P<name>[^\]]+)\]: \S+$", re.MULTILINE)
_MANIFEST_VERSION = re.compile(r'^(\s*"version": )"[^"]*"', re.MULTILINE)
_PYPROJECT_VERSION = re.compile(r'^version = "[^"]*"', re.MULTILINE)


class VersionError(Exception):
    """The versions or the changelog do not allow what was asked."""


def parse_version(text: str) -> tuple[int, int, int]:
    """Return ``X.Y.Z`` as numbers; refuse anything else (no ``v``, no suffix)."""
    if not (match := VERSION.fullmatch(text)):
        raise VersionError(f"{text!r} is not a version X.Y.Z")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def version_files(root: Path) -> dict[Path, str]:
    """Return the version each versioned file states, by path relative to ``root``."""
    versions = {MANIFEST: json.loads((root / MANIFEST).read_text())["version"]}
    for pyproject in PYPROJECTS:
        versions[pyproject] = tomllib.loads((root / pyproject).read_text())["project"][
            "version"
        ]
    return versions


def current_version(root: Path) -> str:
    """Return the one version every versioned file states."""
    versions = version_files(root)
    if len(set(versions.values())) != 1:
        stated = ", ".join(f"{path} {version}" for path, version in versions.items())
        raise VersionError(f"the versioned files disagree: {stated}")
    return versions[MANIFEST]


def write_version(root: Path, version: str) -> None:
    """State ``version`` in every versioned file, changing nothing else in them."""
    for path, pattern, replacement in (
        (MANIFEST, _MANIFEST_VERSION, rf'\g<1>"{version}"'),
        *(
            (pyproject, _PYPROJECT_VERSION, f'version = "{version}"')
            for pyproject in PYPROJECTS
        ),
    ):
        text = (root / path).read_text()
        new_text, count = pattern.subn(replacement, text, count=1)
        if count != 1:
            raise VersionError(f"no version line in {path}")
        (root / path).write_text(new_text)


@dataclass(frozen=True, slots=True)
class Section:
    """One ``## [name]`` section of the changelog: its heading's date and its text."""

    name: str
    date: str | None
    body: str


def changelog_sections(text: str) -> list[Section]:
    """Return the changelog's sections in order (the link references excluded)."""
    headings = list(_SECTION_HEADING.finditer(text))
    sections = []
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        end = following.start() if following else len(text)
        body = _LINK_REFERENCE.sub("", text[heading.end() : end]).strip()
        sections.append(Section(heading["name"], heading["date"], body))
    return sections


def released_versions(text: str) -> list[str]:
    """Return the versions the changelog has a section for, newest first."""
    return [
        section.name
        for section in changelog_sections(text)
        if section.name != "Unreleased"
    ]


def release_notes(text: str, version: str) -> str:
    """Return the text of the changelog's section for ``version``."""
    for section in changelog_sections(text):
        if section.name == version:
            if not section.body:
                raise VersionError(f"CHANGELOG.md's section for {version} is empty")
            return section.body + "\n"
    raise VersionError(f"CHANGELOG.md has no section for {version}")


def open_release_section(text: str, version: str, date: str) -> str:
    """Turn the Unreleased section into ``version``'s and open a new, empty Unreleased.

    The link references follow: Unreleased compares from the new tag, and the new
    version links to its comparison with the previous one (or its tag, the first time).
    """
    sections = changelog_sections(text)
    if not sections or sections[0].name != "Unreleased":
        raise VersionError(f"CHANGELOG.md does not start with {UNRELEASED_HEADING}")
    if not sections[0].body:
        raise VersionError(
            "CHANGELOG.md's Unreleased section is empty: nothing to release"
        )
    previous = released_versions(text)
    text = text.replace(
        UNRELEASED_HEADING, f"{UNRELEASED_HEADING}\n\n## [{version}] - {date}", 1
    )
    unreleased_link = f"[Unreleased]: {REPOSITORY_URL}/compare/v{version}...HEAD"
    version_link = (
        f"[{version}]: {REPOSITORY_URL}/compare/v{previous[0]}...v{version}"
        if previous
        else f"[{version}]: {REPOSITORY_URL}/releases/tag/v{version}"
    )
    text, count = re.subn(
        r"^\[Unreleased\]: \S+$",
        f"{unreleased_link}\n{version_link}",
        text,
        count=1,
        flags=re.MULTILINE,
    )
    if count != 1:
        raise VersionError("CHANGELOG.md has no [Unreleased] link reference")
    return text
