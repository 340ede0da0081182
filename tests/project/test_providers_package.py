"""The provider clients as a package of their own (packages/call-transfer-providers).

It is built as the release workflow builds it (an sdist from the repository, then the
wheel from the unpacked sdist), offline with the hatchling the test legs pin, and the
built wheel runs the package's own tests against the sandbox.
"""

from __future__ import annotations

from pathlib import Path
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile

from packaging.requirements import Requirement
import pytest

from tests.helpers.processes import child_environment

# Builds the package and runs its tests in a child process.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "packages" / "call-transfer-providers"
VENDORED = ROOT / "custom_components" / "call_transfer" / "providers"
IMPORT_NAME = "call_transfer_providers"


def hatchling(hook: str, directory: Path, cwd: Path) -> Path:
    """Run one of hatchling's PEP 517 hooks in a fresh interpreter; return the artifact."""
    script = (
        f"import sys; from hatchling.build import {hook}; print({hook}(sys.argv[1]))"
    )
    built = subprocess.run(
        [sys.executable, "-c", script, str(directory)],
        cwd=cwd,
        env=child_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return directory / built.stdout.split()[-1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Return the sdist and the wheel built from it."""
    out = tmp_path_factory.mktemp("dist")
    sdist = hatchling("build_sdist", out, PROJECT)
    with tarfile.open(sdist) as archive:
        archive.extractall(out / "unpacked", filter="data")
    (unpacked,) = (out / "unpacked").iterdir()
    return sdist, hatchling("build_wheel", out, unpacked)


def test_the_package_is_the_vendored_directory(built: tuple[Path, Path]) -> None:
    """The sdist and the wheel hold the integration's provider modules, byte for byte."""
    sdist, wheel = built
    modules = sorted(
        path.name
        for path in VENDORED.iterdir()
        if path.suffix == ".py" or path.name == "py.typed"
    )
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = {
            name.removeprefix(f"{IMPORT_NAME}/"): archive.read(name)
            for name in archive.namelist()
            if name.startswith(f"{IMPORT_NAME}/")
        }
        assert any(name.endswith("licenses/LICENSE") for name in archive.namelist())
    with tarfile.open(sdist) as archive:
        in_sdist = {
            Path(member.name).name
            for member in archive.getmembers()
            if Path(member.name).parent.name == IMPORT_NAME
        }
    assert sorted(in_wheel) == modules
    assert sorted(in_sdist) == modules
    for name, content in in_wheel.items():
        assert content == (VENDORED / name).read_bytes(), name


def test_the_vendored_modules_import_each_other_relatively() -> None:
    """Nothing in the directory names the integration's package, so it runs renamed."""
    for module in VENDORED.glob("*.py"):
        assert "custom_components" not in module.read_text(), module.name


def test_the_built_wheel_passes_the_package_tests(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """The wheel, unpacked onto the path, imports and passes its own tests."""
    _, wheel = built
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "site")
    env = child_environment(PYTHONPATH=str(tmp_path / "site"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            # The package's tests use no Home Assistant, nor its test harness.
            "-p",
            "no:homeassistant",
            "-q",
            str(PROJECT / "tests"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout.splitlines()[-1]


def test_the_package_version_is_the_integration_version() -> None:
    """One version for both: a release tag publishes the package the manifest can require."""
    package = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    integration = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert package["version"] == integration["version"]


def test_aiohttp_is_the_only_dependency_and_the_min_leg_satisfies_it() -> None:
    """The clients need aiohttp alone, from the oldest version the min leg runs them on."""
    package = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    (requirement,) = (Requirement(line) for line in package["dependencies"])
    pinned = re.search(
        r"^aiohttp==(\S+)$", (ROOT / "requirements/min.txt").read_text(), re.MULTILINE
    )
    assert requirement.name == "aiohttp"
    assert pinned
    assert requirement.specifier.contains(pinned.group(1))
