#!/usr/bin/env bash
# Installs chDB (ClickHouse run in-process, the `chdb` package from PyPI) in a
# venv for the test that runs docs/calls-table.md's ClickHouse SQL over an
# exported calls table, and for people who want to try those queries.
#
#   scripts/chdb.sh install   create (or reuse) the venv, print CHDB_PYTHON=... and the install time
#   scripts/chdb.sh paths     print CHDB_PYTHON=... (no install)
#
# The venv lives under ~/.cache/moa-otel (MOA_OTEL_CACHE overrides the root),
# never inside the repository; its name carries the chdb version and a hash of
# the Python version, so a change to either installs a new venv.
set -euo pipefail

CHDB_VERSION="4.4.0"
LOG_PREFIX=chdb
# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
PYTHON="${CHDB_PYTHON_BASE:-python3}"

venv_dir() {
  local key
  key="$({ echo "$CHDB_VERSION"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-12)"
  echo "$CACHE_ROOT/venv-chdb-$CHDB_VERSION-$key"
}

cmd_paths() {
  echo "CHDB_PYTHON=$(venv_dir)/bin/python"
}

cmd_install() {
  command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON is not on PATH (CHDB_PYTHON_BASE picks another)"
  lock_cache chdb-install
  install_venv "$(venv_dir)" "chdb==$CHDB_VERSION" bin/python "chdb==$CHDB_VERSION"
  "$(venv_dir)/bin/python" -c 'import chdb' || die "chdb does not import in $(venv_dir)"
  cmd_paths
}

case "${1:-}" in
  install) cmd_install ;;
  paths) cmd_paths ;;
  *) echo "usage: scripts/chdb.sh install|paths" >&2; exit 2 ;;
esac
