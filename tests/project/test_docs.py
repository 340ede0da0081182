"""The documentation's links, checked offline.

Every Markdown file's relative links and #anchors must resolve, and so must every link to
this repository's files on GitHub (the README uses absolute links: HACS renders it inside
Home Assistant, where relative ones break), also those in the integration's code and
metadata. Other links are checked for form only: nothing leaves the machine.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
import re
from urllib.parse import unquote, urlsplit

import pytest

from custom_components.call_transfer.providers import PROVIDERS
from custom_components.call_transfer.push import push_docs_url

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY = "https://github.com/call-transfer/ha-call-transfer"
# Pages of the repository on GitHub that are not files in it.
REPOSITORY_PAGES = re.compile(
    r"(issues(/new/choose)?|releases(/latest|/tag/v[\d.]+)?|compare/\S+|commits/main"
    r"|security/advisories/new|actions/workflows/[\w-]+\.yml(/badge\.svg)?)"
)
SKIPPED_DIRECTORIES = {
    ".git",
    ".venv",
    "config",
    ".hypothesis",
    ".bench",
    "node_modules",
}
MARKDOWN = sorted(
    path
    for path in ROOT.rglob("*.md")
    if not SKIPPED_DIRECTORIES & set(path.relative_to(ROOT).parts)
)
# Files outside Markdown that link to the repository (manifest, repair issue, blueprints).
LINKING_FILES = [
    ROOT / "custom_components/call_transfer/manifest.json",
    ROOT / "custom_components/call_transfer/dial.py",
    ROOT / "custom_components/call_transfer/push.py",
    *sorted((ROOT / "blueprints").rglob("*.yaml")),
    *sorted((ROOT / ".github").rglob("*.yml")),
    ROOT / "packages/call-transfer-providers/pyproject.toml",
]
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_REFERENCE = re.compile(r"^\[[^\]]+\]: (\S+)$", re.MULTILINE)
_HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)
_URL = re.compile(r"https?://[^\s\"'<>)\]`]+")


def prose(text: str) -> str:
    """Return Markdown without its code (fenced blocks and inline code)."""
    return _INLINE_CODE.sub("", _FENCE.sub("", text))


def slug(heading: str) -> str:
    """Return GitHub's anchor for a heading's text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Return the anchors of a Markdown file's headings (repeats get -1, -2, ...)."""
    seen: dict[str, int] = {}
    result = set()
    for heading in _HEADING.findall(_FENCE.sub("", path.read_text())):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return frozenset(result)


def problem(target: str, source: Path) -> str | None:
    """Return what is wrong with a link from ``source``, if anything."""
    if target.startswith(("http://", "https://")):
        if target == REPOSITORY or target.startswith(
            (f"{REPOSITORY}/", f"{REPOSITORY}#")
        ):
            return repository_link_problem(target.removeprefix(REPOSITORY))
        parts = urlsplit(target)
        return (
            None
            if parts.scheme == "https" and "." in parts.netloc
            else "not an https URL"
        )
    if target.startswith("mailto:"):
        return None
    path, _, anchor = target.partition("#")
    file = (source.parent / unquote(path)).resolve() if path else source
    return file_problem(file, anchor)


def repository_link_problem(rest: str) -> str | None:
    """Check a link to the repository on GitHub: its README, a file on main, or a page."""
    if not rest or REPOSITORY_PAGES.fullmatch(rest.removeprefix("/")):
        return None
    if match := re.fullmatch(r"/(?:blob|tree)/main/([^#?]+)(?:#(.+))?", rest):
        return file_problem(ROOT / unquote(match.group(1)), match.group(2) or "")
    if match := re.fullmatch(r"#(.+)", rest):
        return file_problem(ROOT / "README.md", match.group(1))
    return "not a file or page of the repository"


def file_problem(file: Path, anchor: str) -> str | None:
    """Check that a file exists and, for Markdown, that it has the anchor."""
    if not file.exists():
        return f"{file.relative_to(ROOT) if file.is_relative_to(ROOT) else file} does not exist"
    if anchor and (file.suffix != ".md" or anchor not in anchors(file)):
        return f"no #{anchor} in {file.name}"
    return None


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda path: str(path.relative_to(ROOT)))
def test_markdown_links_resolve(page: Path) -> None:
    """Relative links, anchors and repository links in a Markdown file lead somewhere."""
    text = prose(page.read_text())
    targets = _LINK.findall(text) + _REFERENCE.findall(text)
    broken = [
        f"{target}: {issue}" for target in targets if (issue := problem(target, page))
    ]
    assert not broken


@pytest.mark.parametrize("path", LINKING_FILES, ids=lambda path: path.name)
def test_repository_links_in_code_and_metadata_resolve(path: Path) -> None:
    """Links to the repository (documentation, repair issue, blueprint sources) resolve."""
    broken = [
        f"{url}: {issue}"
        for url in _URL.findall(path.read_text())
        if url.startswith(REPOSITORY) and (issue := problem(url, path))
    ]
    assert not broken


def test_every_push_providers_page_explains_its_callbacks() -> None:
    """The options form and the repair issues link each push provider's own section."""
    pages = {
        provider_id: push_docs_url(provider_id)
        for provider_id, provider in PROVIDERS.items()
        if provider.push is not None
    }
    assert pages
    broken = {
        provider_id: issue
        for provider_id, url in pages.items()
        if (issue := problem(url, ROOT / "README.md"))
    }
    assert not broken


def test_the_checks_find_broken_links(tmp_path: Path) -> None:
    """A missing file, a missing anchor and an unknown repository path are each reported."""
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## A section\n")
    assert problem("#a-section", page) is None
    assert problem("#title", page) is None
    assert problem("#nowhere", page) == "no #nowhere in page.md"
    assert problem("other.md", page) == f"{tmp_path / 'other.md'} does not exist"
    assert (
        problem(
            f"{REPOSITORY}/blob/main/docs/voice.md#voice-assist-and-llm-agents", page
        )
        is None
    )
    assert (
        problem(f"{REPOSITORY}/blob/main/docs/nothing.md", page)
        == "docs/nothing.md does not exist"
    )
    assert problem(f"{REPOSITORY}/wiki", page) == "not a file or page of the repository"
    assert problem(f"{REPOSITORY}#quick-start", page) is None
    assert problem(f"{REPOSITORY}#nowhere", page) == "no #nowhere in README.md"
    assert problem("http://example.com", page) == "not an https URL"


def test_slugs_are_githubs() -> None:
    """Headings become anchors as GitHub makes them."""
    assert slug("Transfers to a phone number on Vobiz and Plivo") == (
        "transfers-to-a-phone-number-on-vobiz-and-plivo"
    )
    assert slug("`call_transfer.transfer`") == "call_transfertransfer"
    assert slug("2. Dashboard cards") == "2-dashboard-cards"
    assert slug("Voice: Assist and LLM agents") == "voice-assist-and-llm-agents"


def test_readme_stays_short_and_gives_the_two_commands() -> None:
    """The README is the user's page: at most ~250 lines, and the two commands of a fresh clone."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    assert re.search(r"^scripts/develop +#", readme, re.MULTILINE)
    assert re.search(r"^scripts/test +#", readme, re.MULTILINE)
    assert "## Quick start" in readme
