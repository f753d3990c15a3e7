#!/usr/bin/env bash
# Installs and runs Arize Phoenix (the `arize-phoenix` package from PyPI) for
# moa-otel's end-to-end tests and for people who want to look at turns in it,
# without Docker. Phoenix listens on 127.0.0.1 only (its HTTP side: UI, API and
# OTLP/HTTP on one port) and never calls home (see phoenix_env below).
#
#   scripts/phoenix.sh install   create (or reuse) the venv, print PHOENIX_BIN=... and the install time
#   scripts/phoenix.sh paths     print PHOENIX_BIN=... (no install)
#   scripts/phoenix.sh up        install if needed, start Phoenix in the background on 127.0.0.1:6006
#   scripts/phoenix.sh down      stop what `up` started
#   scripts/phoenix.sh status    show whether it is running and healthy
#
# The venv lives under ~/.cache/moa-otel (MOA_OTEL_CACHE overrides the root),
# never inside the repository. Its name carries the Phoenix version and a hash
# of the pinned package set (collector/phoenix-constraints.txt) and of the
# Python version, so a change to any of them installs a new venv instead of
# reusing a stale one.
set -euo pipefail

PHOENIX_VERSION="20.26.1"
LOG_PREFIX=phoenix
# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
CONSTRAINTS="$REPO_ROOT/collector/phoenix-constraints.txt"
PYTHON="${PHOENIX_PYTHON:-python3}"

require_python() {
  command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON is not on PATH (Phoenix $PHOENIX_VERSION needs Python 3.11 to 3.14; PHOENIX_PYTHON picks another)"
  "$PYTHON" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 15) else 1)' ||
    die "$("$PYTHON" --version 2>&1) is not supported by Phoenix $PHOENIX_VERSION (needs 3.11 to 3.14; PHOENIX_PYTHON picks another)"
}

venv_dir() {
  local key
  key="$({ echo "$PHOENIX_VERSION"; cat "$CONSTRAINTS"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-12)"
  echo "$CACHE_ROOT/venv-phoenix-$PHOENIX_VERSION-$key"
}

phoenix_bin() { echo "$(venv_dir)/bin/phoenix"; }

cmd_install() {
  require_python
  lock_cache phoenix-install
  install_venv "$(venv_dir)" "arize-phoenix==$PHOENIX_VERSION" bin/phoenix "arize-phoenix==$PHOENIX_VERSION" -c "$CONSTRAINTS"
  cmd_paths
}

cmd_paths() {
  echo "PHOENIX_BIN=$(phoenix_bin)"
}

# --- running (for people; the e2e tests start their own Phoenix) --------------
export PHOENIX_HOST="${PHOENIX_HOST:-127.0.0.1}"
export PHOENIX_PORT="${PHOENIX_PORT:-6006}"
# Phoenix's OTLP/gRPC receiver always listens on every interface ([::]); there
# is no host setting for it. Nothing here sends to it; the port only moves it
# off the collector's 4317.
export PHOENIX_GRPC_PORT="${PHOENIX_GRPC_PORT:-14007}"
export PHOENIX_WORKING_DIR="${PHOENIX_WORKING_DIR:-$RUN_DIR/phoenix}"
# No usage telemetry (FullStory, Scarf pixel) and no downloads of its own
# (sandbox binaries); both default to on.
export PHOENIX_TELEMETRY_ENABLED=false
export PHOENIX_ALLOW_EXTERNAL_RESOURCES=false
PHOENIX_URL="http://$PHOENIX_HOST:$PHOENIX_PORT"

cmd_up() {
  cmd_install >/dev/null
  mkdir -p "$RUN_DIR" "$PHOENIX_WORKING_DIR"
  start_service phoenix "$(phoenix_bin)" serve
  # Its first start creates the database: up to a minute on two busy cores.
  wait_healthy phoenix "$PHOENIX_URL/healthz" 240
  log "UI and API at $PHOENIX_URL, OTLP/HTTP at $PHOENIX_URL/v1/traces (e.g. npx moa-otel demo --otlp $PHOENIX_URL)"
}

cmd_down() { stop_service phoenix; }

cmd_status() {
  local status=0
  service_status phoenix "$PHOENIX_URL/healthz" || status=1
  binary_status "$(phoenix_bin)" "scripts/phoenix.sh install"
  return "$status"
}

dispatch "install paths up down status" "$@"
