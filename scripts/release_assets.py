"""Build what a release publishes: the integration's zip and the release notes.

Usage: scripts/release_assets vX.Y.Z [--out dist]

Checks that the tag names the version every versioned file states, then writes
  dist/<hacs.json filename>  the integration directory's contents at the zip's root, as
                             HACS unpacks a zip_release into custom_components/call_transfer/
                             (no caches);
  dist/release-notes.md      CHANGELOG.md's section for that version.
The release workflow (.github/workflows/release.yml) runs it for a pushed v* tag.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
import zipfile

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from scripts.versioning import (  # noqa: E402
    CHANGELOG,
    HACS,
    INTEGRATION,
    VersionError,
    current_version,
    parse_version,
    release_notes,
)

# A fixed time for every entry, so the same tree gives the same zip.
ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def integration_files(root: Path) -> list[Path]:
    """Return the integration's files, relative to its directory, without caches."""
    directory = root / INTEGRATION
    return sorted(
        path.relative_to(directory)
        for path in directory.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in (".pyc", ".pyo")
    )


def build(root: Path, tag: str, out: Path) -> tuple[Path, Path]:
    """Write the zip and the notes for ``tag``; return their paths."""
    version = tag.removeprefix("v")
    parse_version(version)
    if not tag.startswith("v"):
        raise VersionError(f"release tags are vX.Y.Z, not {tag!r}")
    if (current := current_version(root)) != version:
        raise VersionError(f"tag {tag} but the versioned files say {current}")
    notes = release_notes((root / CHANGELOG).read_text(), version)
    hacs = json.loads((root / HACS).read_text())
    if not hacs.get("zip_release") or not hacs.get("filename", "").endswith(".zip"):
        raise VersionError("hacs.json does not name a zip_release filename")
    out.mkdir(parents=True, exist_ok=True)
    archive_path = out / hacs["filename"]
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in integration_files(root):
            entry = zipfile.ZipInfo(relative.as_posix(), ZIP_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, (root / INTEGRATION / relative).read_bytes())
    notes_path = out / "release-notes.md"
    notes_path.write_text(notes)
    return archive_path, notes_path


def main() -> int:
    """Parse the arguments and build; print what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tag", help="the release tag, vX.Y.Z")
    parser.add_argument(
        "--out", type=Path, default=Path("dist"), help="output directory"
    )
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        for path in build(args.root, args.tag, args.out):
            print(path)
    except VersionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
