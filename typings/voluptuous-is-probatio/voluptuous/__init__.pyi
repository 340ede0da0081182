# Home Assistant 2026.x installs probatio under the name ``voluptuous`` when it is
# imported (``probatio.compat.install_as_voluptuous``), so at run time every
# ``import voluptuous`` in an integration is probatio. scripts/checks puts this folder
# on MYPYPATH for environments that ship probatio, so mypy sees the same thing.
from probatio import *  # noqa: F403 - the whole surface, as the run-time shim re-exports it
