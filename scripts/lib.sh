# Shared by scripts/*: locating Python and uv, the cache, logging. Source it; do not run it.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Caches live outside the repo so a fresh clone reuses them and `git clean` never wipes them.
CACHE_DIR="${CALL_TRANSFER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/call_transfer}"
UV_VERSION="0.13.9"
# Let Python write its bytecode caches: where the machine sets PYTHONDONTWRITEBYTECODE (this
# one does), every Python process on .venv (each pytest worker, the dev instance, the
# benchmark's hass) compiled Home Assistant and the rest from source again, about 4 s a
# process, a third of the fast suite's time. The latest leg's chroot starts from `env -i`.
unset PYTHONDONTWRITEBYTECODE

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

# The latest test leg: Python >= 3.14.2 from PATH, or a cached Debian forky chroot (root).
CHROOT="$CACHE_DIR/forky"
# The latest leg's environments, one per requirements lock (see run_latest_leg).
CHROOT_VENV="/opt/call_transfer-latest"
# python3.14-dev and g++ build the few requirements that have no wheel for Python 3.14 yet.
CHROOT_PACKAGES="python3.14,python3.14-venv,python3.14-dev,g++,ca-certificates"

python314_on_path() {
  command -v python3.14 >/dev/null 2>&1 &&
    python3.14 -c 'import sys; assert sys.version_info >= (3, 14, 2)' >/dev/null 2>&1
}

provision_chroot() {
  if [ -x "$CHROOT/usr/bin/python3.14" ]; then
    update_chroot_packages
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "latest leg: no python3.14 >= 3.14.2 on PATH, and building a Debian chroot needs root"
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "Installing debootstrap"
    apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null ||
      die "latest leg: could not install debootstrap"
  fi
  # Older debootstrap releases do not know forky yet; it uses the same script as sid.
  local scripts=/usr/share/debootstrap/scripts
  [ -e "$scripts/forky" ] || ln -s sid "$scripts/forky"
  say "Building a Debian forky chroot with Python 3.14 in $CHROOT (about a minute, once)"
  rm -rf "$CHROOT.partial"
  mkdir -p "$CACHE_DIR"
  debootstrap --variant=minbase --include="$CHROOT_PACKAGES" \
    forky "$CHROOT.partial" >"$CACHE_DIR/debootstrap.log" 2>&1 ||
    die "latest leg: debootstrap failed, see $CACHE_DIR/debootstrap.log"
  echo "$CHROOT_PACKAGES" >"$CHROOT.partial/.call_transfer-packages"
  mv "$CHROOT.partial" "$CHROOT"
}

# A chroot cached by an older version of this script: add what the package list gained since.
update_chroot_packages() {
  [ "$(cat "$CHROOT/.call_transfer-packages" 2>/dev/null)" = "$CHROOT_PACKAGES" ] && return 0
  say "Installing into the chroot: ${CHROOT_PACKAGES//,/ }"
  # The mirror may serve forky with a Release file past its Valid-Until, as debootstrap accepts.
  local apt="apt-get -o Acquire::Check-Valid-Until=false -qq"
  in_chroot "$apt update && DEBIAN_FRONTEND=noninteractive $apt install -y ${CHROOT_PACKAGES//,/ } >/dev/null" ||
    die "latest leg: could not install packages into the chroot"
  echo "$CHROOT_PACKAGES" >"$CHROOT/.call_transfer-packages"
}

# Run a command inside the chroot in a private mount namespace: the mounts of /proc, /dev and the
# repository vanish with the process, so nothing is left mounted even if the run is killed.
in_chroot() {
  cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
  cp /etc/ssl/certs/ca-certificates.crt "$CHROOT/etc/ssl/certs/ca-certificates.crt"
  install -m 0755 "$UV" "$CHROOT/usr/local/bin/uv"
  mkdir -p "$CHROOT/repo"
  unshare --mount --propagation private -- bash -c '
    set -e
    mount -t proc proc "$1/proc"
    mount --rbind /dev "$1/dev"
    mount --bind "$2" "$1/repo"
    shift 2
    exec chroot "$0" /usr/bin/env -i HOME=/root LANG=C.UTF-8 CI="${CI:-}" \
      PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
      UV_NATIVE_TLS=1 bash -c "cd /repo && $*"
  ' "$CHROOT" "$CHROOT" "$REPO_ROOT" "$@"
}

# run_latest_leg COMMAND [ARGS...]: run a command with the latest leg's environment, `{venv}` in
# any word replaced by its directory (created or synced to requirements/latest.txt first):
# python3.14 from PATH when it is new enough, otherwise inside the cached forky chroot, where the
# repository is /repo and the command runs from there.
run_latest_leg() {
  ensure_uv
  local wanted; wanted="$(lock_hash requirements/latest.txt)"
  # One environment per lock, named by its hash: the worktrees of one machine share the cache,
  # and a branch with another lock must not re-sync an environment another branch's run is using.
  if python314_on_path; then
    local venv="$CACHE_DIR/venv-latest-$wanted"
    if [ "$(cat "$venv/.call_transfer-lock" 2>/dev/null)" != "$wanted" ]; then
      say "Creating the latest-leg environment in $venv"
      "$UV" venv --quiet --allow-existing --python "$(command -v python3.14)" "$venv"
      "$UV" pip sync --quiet --python "$venv/bin/python" requirements/latest.txt
      echo "$wanted" >"$venv/.call_transfer-lock"
    fi
    "${@//\{venv\}/$venv}"
    return
  fi
  provision_chroot
  local venv="$CHROOT_VENV-$wanted"
  local command; command="$(printf '%q ' "${@//\{venv\}/$venv}")"
  in_chroot "
    set -e
    if [ \"\$(cat $venv/.call_transfer-lock 2>/dev/null)\" != '$wanted' ]; then
      echo '==> Creating the latest-leg environment in the chroot'
      uv venv --quiet --allow-existing --python /usr/bin/python3.14 $venv
      uv pip sync --quiet --python $venv/bin/python requirements/latest.txt
      echo '$wanted' > $venv/.call_transfer-lock
    fi
    $command"
}

# Read an optional leading `--leg min|latest|both` (default both): sets LEG, and LEG_ARGS_USED to
# the number of arguments it took (shift them away).
read_leg_option() {
  LEG="both"
  LEG_ARGS_USED=0
  if [ "${1:-}" = "--leg" ]; then
    LEG="${2:?--leg needs min, latest or both}"
    LEG_ARGS_USED=2
  fi
  case "$LEG" in min|latest|both) ;; *) die "unknown leg '$LEG' (min, latest or both)";; esac
}

timed() {
  local name="$1"; shift
  local started=$SECONDS status=0
  "$@" || status=$?
  echo "==> leg $name: $([ $status = 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
  return $status
}

# run_legs MIN_FUNCTION LATEST_FUNCTION [args...]: run the legs LEG names, each timed, both even
# when the first fails; fails when any did.
run_legs() {
  local min="$1" latest="$2" failed=0
  shift 2
  if [ "$LEG" = min ] || [ "$LEG" = both ]; then timed min "$min" "$@" || failed=1; fi
  if [ "$LEG" = latest ] || [ "$LEG" = both ]; then timed latest "$latest" "$@" || failed=1; fi
  return $failed
}
