"""Release version X.Y.Z: state it everywhere and give it its CHANGELOG.md section.

Usage: scripts/bump_version X.Y.Z [--date YYYY-MM-DD]

Sets the version in custom_components/call_transfer/manifest.json, pyproject.toml and
packages/call-transfer-providers/pyproject.toml; turns CHANGELOG.md's Unreleased section
into ``## [X.Y.Z] - date`` (today, UTC, by default) under a new empty Unreleased section,
with its link references. Refuses, changing nothing, a version that is not newer than the
last released one or older than the current one, versioned files that disagree, and an
empty Unreleased section. Then: commit, tag vX.Y.Z and push the tag (CONTRIBUTING.md).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
import sys

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from scripts.versioning import (  # noqa: E402
    CHANGELOG,
    VersionError,
    current_version,
    open_release_section,
    parse_version,
    released_versions,
    write_version,
)


def bump(root: Path, version: str, date: str) -> None:
    """Check that ``version`` may be released, then write it and its changelog section."""
    wanted = parse_version(version)
    current = current_version(root)
    changelog = (root / CHANGELOG).read_text()
    if released := released_versions(changelog):
        if wanted <= parse_version(released[0]):
            raise VersionError(
                f"{version} is not newer than the last release, {released[0]}"
            )
    if wanted < parse_version(current):
        raise VersionError(f"{version} is older than the current version, {current}")
    new_changelog = open_release_section(changelog, version, date)
    write_version(root, version)
    (root / CHANGELOG).write_text(new_changelog)


def main() -> int:
    """Parse the arguments and bump; print the next steps."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help="the new version, X.Y.Z")
    parser.add_argument(
        "--date",
        default=datetime.now(UTC).date().isoformat(),
        help="the release date for the changelog (default: today, UTC)",
    )
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        bump(args.root, args.version, args.date)
    except VersionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"Version {args.version}: review CHANGELOG.md, then")
    print(f'  git commit -am "Release {args.version}" && git tag v{args.version}')
    print(f"  git push && git push origin v{args.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
