# Shared by scripts/*: locating Python and uv, the cache, logging. Source it; do not run it.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Caches live outside the repo so a fresh clone reuses them and `git clean` never wipes them.
CACHE_DIR="${CALL_TRANSFER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/call_transfer}"
UV_VERSION="0.13.9"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A working python3.13: PATH first (pyenv shims can exist without working), then pyenv's install dir.
find_python313() {
  local candidate
  for candidate in python3.13 "$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then
      command -v "$candidate" 2>/dev/null || echo "$candidate"
      return 0
    fi
  done
  return 1
}

# uv from PATH, else a pinned copy in the cache, installed from the package index with pip.
ensure_uv() {
  # A version-manager shim can be on PATH without working, so ask it for its version.
  if command -v uv >/dev/null 2>&1 && uv --version >/dev/null 2>&1; then
    UV="$(command -v uv)"
    return 0
  fi
  UV="$CACHE_DIR/tools/bin/uv"
  if [ ! -x "$UV" ]; then
    local python
    python="$(find_python313)" || die "python3.13 is needed to install uv"
    say "Installing uv $UV_VERSION into $CACHE_DIR/tools"
    "$python" -m venv "$CACHE_DIR/tools"
    "$CACHE_DIR/tools/bin/python" -m pip install --quiet "uv==$UV_VERSION"
  fi
}

# Hash of a requirements lock, to know whether an environment is current.
lock_hash() { sha256sum "$1" | cut -c1-16; }
