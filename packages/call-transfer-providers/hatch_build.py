"""Build hook: the package's modules are the integration's vendored ``providers/``.

The integration keeps working from its own copy (custom_components/call_transfer/providers)
until it requires this package, so that directory is the one source: it is mapped onto the
import name when a wheel or an sdist is built from the repository. Its modules import each
other relatively and nothing of Home Assistant, so they run unchanged under the new name.
A wheel built from the sdist (what ``uv build`` and ``python -m build`` do) reads the copy
the sdist holds under the import name, and finds the repository's LICENSE the sdist got.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

IMPORT_NAME = "call_transfer_providers"
REPOSITORY = Path("..", "..")
VENDORED = REPOSITORY / "custom_components" / "call_transfer" / "providers"


class VendoredProvidersHook(BuildHookInterface[BuilderConfig]):
    """Add the provider modules under ``call_transfer_providers/``."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Map each module (and the py.typed marker) onto the package's path."""
        source = module_directory(Path(self.root))
        for module in package_files(source):
            build_data["force_include"][str(module)] = f"{IMPORT_NAME}/{module.name}"
        license_file = Path(self.root, REPOSITORY, "LICENSE")
        if self.target_name == "sdist" and license_file.is_file():
            build_data["force_include"][str(license_file.resolve())] = "LICENSE"


def module_directory(root: Path) -> Path:
    """Return where the modules are: the repository's copy, else the sdist's."""
    for candidate in (root / VENDORED, root / IMPORT_NAME):
        if (candidate / "__init__.py").is_file():
            return candidate.resolve()
    raise FileNotFoundError(f"no {VENDORED} (repository) or {IMPORT_NAME}/ (sdist)")


def package_files(source: Path) -> list[Path]:
    """Return the modules and the typing marker, not caches or stray files."""
    return sorted(
        path
        for path in source.iterdir()
        if path.is_file() and (path.suffix == ".py" or path.name == "py.typed")
    )
