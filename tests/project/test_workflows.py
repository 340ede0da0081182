"""The GitHub workflows, checked offline by scripts/check_workflows.py.

The real files must pass; each kind of mistake, made in a copy, must be reported.
"""

from __future__ import annotations

from pathlib import Path
import shutil
import subprocess
import sys

import pytest

# Runs scripts/check_workflows in child processes.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "scripts" / "check_workflows.py"
WORKFLOWS = Path(".github", "workflows")


def check(root: Path) -> subprocess.CompletedProcess[str]:
    """Run the check on the workflows and README under ``root``."""
    return subprocess.run(
        [sys.executable, str(CHECK), "--root", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_workflows_pass() -> None:
    """hassfest, HACS, the README's test command, the release and the package publish."""
    result = check(ROOT)

    assert (result.returncode, result.stdout) == (0, "4 workflows checked\n")


@pytest.mark.parametrize(
    ("workflow", "old", "new", "problem"),
    [
        (
            "validate.yml",
            "actions/checkout@v7.0.1",
            "actions/checkout@v7",
            ".github/workflows/validate.yml: job hassfest: actions/checkout@v7 is not pinned to a version",
        ),
        (
            "validate.yml",
            "hacs/action@22.5.0",
            "hacs/action@main",
            ".github/workflows/validate.yml: job hacs: hacs/action@main is not pinned to a version",
        ),
        (
            "validate.yml",
            "uses: home-assistant/actions/hassfest@",
            "uses: home-assistant/actions/hassfest-renamed@",
            "no workflow runs home-assistant/actions/hassfest on pull requests",
        ),
        (
            "validate.yml",
            "category: integration",
            "category: plugin",
            "no workflow runs hacs/action with category integration on pull requests",
        ),
        (
            "tests.yml",
            "run: scripts/test\n",
            "run: scripts/test --leg min\n",
            "no workflow runs the README's test command (scripts/test) on pull requests",
        ),
        (
            "tests.yml",
            "  pull_request:\n",
            "",
            "no workflow runs the README's test command (scripts/test) on pull requests",
        ),
        (
            "release.yml",
            "    needs: tests\n",
            "",
            ".github/workflows/release.yml: the release is not published after the tests",
        ),
        (
            "release.yml",
            'run: scripts/release_assets "$GITHUB_REF_NAME" --out dist',
            "run: mkdir dist",
            ".github/workflows/release.yml: the release is not built by scripts/release_assets",
        ),
        (
            "release.yml",
            'tags: ["v*"]',
            "branches: [main]",
            "no workflow publishes a GitHub release (gh release create) for a v* tag",
        ),
        (
            "publish-providers.yml",
            "      - uses: pypa/gh-action-pypi-publish@v1.14.2\n",
            (
                "      - uses: pypa/gh-action-pypi-publish@v1.14.2\n"
                "        with:\n          password: ${{ secrets.PYPI_TOKEN }}\n"
            ),
            ".github/workflows/publish-providers.yml: pypa/gh-action-pypi-publish is given a token, not trusted publishing",
        ),
        (
            "publish-providers.yml",
            "      id-token: write\n",
            "      contents: read\n",
            ".github/workflows/publish-providers.yml: the publishing job lacks id-token: write",
        ),
        (
            "tests.yml",
            "jobs:\n",
            "jobs: [\n",
            ".github/workflows/tests.yml: not YAML:",
        ),
    ],
)
def test_mistakes_are_reported(
    tmp_path: Path, workflow: str, old: str, new: str, problem: str
) -> None:
    """A copy with one mistake fails the check, which names it."""
    shutil.copytree(ROOT / WORKFLOWS, tmp_path / WORKFLOWS)
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    path = tmp_path / WORKFLOWS / workflow
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))

    result = check(tmp_path)

    assert result.returncode == 1
    assert problem in result.stdout


def test_the_test_command_is_read_from_the_readme(tmp_path: Path) -> None:
    """A README without the test command is reported, whatever the workflows run."""
    shutil.copytree(ROOT / WORKFLOWS, tmp_path / WORKFLOWS)
    (tmp_path / "README.md").write_text(
        "# Call Transfer\n\n```bash\nscripts/develop\n```\n"
    )

    result = check(tmp_path)

    assert result.stdout == "README.md has no ```bash line starting with scripts/test\n"
