# Shared by scripts/stack.sh and scripts/phoenix.sh (sourced, not run): the
# cache paths, log lines, timing, a lock on the cache, background services
# with a pid file and a log under RUN_DIR, and the command dispatch. The
# sourcing script sets LOG_PREFIX first.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Everything built, installed or run lives here, never inside the repository.
CACHE_ROOT="${MOA_OTEL_CACHE:-$HOME/.cache/moa-otel}"
RUN_DIR="$CACHE_ROOT/run"

log() { printf '[%s] %s\n' "$LOG_PREFIX" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$LOG_PREFIX" "$*" >&2; exit 1; }

now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }

# lock_cache NAME: holds $CACHE_ROOT/NAME.lock until the script exits, so a
# test run and a person building or installing at once wait for each other.
# The lock is on descriptor 9, which start_service keeps from its services.
lock_cache() {
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/$1.lock"
  flock 9
}

is_running() { [[ -f "$RUN_DIR/$1.pid" ]] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }

# wait_healthy NAME URL [SECONDS]: until URL answers 2xx; fails at once if NAME exited.
wait_healthy() {
  local name="$1" url="$2" seconds="${3:-30}" i start
  start="$(now_s)"
  for ((i = 0; i < seconds * 2; i++)); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then
      log "$name: healthy after $(elapsed "$start")s ($url)"
      return
    fi
    is_running "$name" || die "$name exited; see $RUN_DIR/$name.log"
    sleep 0.5
  done
  die "$name did not become healthy at $url; see $RUN_DIR/$name.log"
}

# start_service NAME COMMAND [ARGS...]: in the background, unless already running.
start_service() {
  local name="$1"
  shift
  if is_running "$name"; then
    log "$name: already running (pid $(cat "$RUN_DIR/$name.pid"))"
    return
  fi
  # 9>&-: `up` built or installed first under lock_cache; a service that
  # inherited the descriptor would hold the lock for as long as it runs.
  nohup "$@" >"$RUN_DIR/$name.log" 2>&1 9>&- &
  echo $! >"$RUN_DIR/$name.pid"
  log "$name: started (pid $!)"
}

# stop_service NAME: SIGTERM, then SIGKILL after 10 s.
stop_service() {
  local name="$1" pid i
  if ! is_running "$name"; then
    rm -f "$RUN_DIR/$name.pid"
    log "$name: not running"
    return
  fi
  pid="$(cat "$RUN_DIR/$name.pid")"
  kill -TERM "$pid"
  for ((i = 0; i < 40; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$RUN_DIR/$name.pid"
  log "$name: stopped (pid $pid)"
}

# service_status NAME URL: one line; returns 1 unless running and healthy.
service_status() {
  local name="$1" url="$2"
  if ! is_running "$name"; then
    echo "$name: stopped"
    return 1
  fi
  if curl -fsS -o /dev/null "$url" 2>/dev/null; then
    echo "$name: running (pid $(cat "$RUN_DIR/$name.pid")), healthy"
  else
    echo "$name: running (pid $(cat "$RUN_DIR/$name.pid")), NOT healthy at $url"
    return 1
  fi
}

# binary_status PATH HINT: one line saying whether PATH is there, and how to make it.
binary_status() {
  if [[ -x "$1" ]]; then echo "binary: $1"; else echo "binary missing: $1 (run: $2)"; fi
}

# dispatch "VERB VERB..." "$@": runs cmd_VERB for $1 when it is one of the VERBs, else prints the usage.
dispatch() {
  local verbs="$1" verb
  shift
  for verb in $verbs; do
    if [[ "${1:-}" == "$verb" ]]; then
      "cmd_$verb"
      return
    fi
  done
  echo "usage: $0 ${verbs// /|}" >&2
  exit 2
}

# Creates (or reuses) a venv at $1 with pip's arguments "${@:4}", for $2 (what
# the log names) once $3 (a path inside the venv) exists. The marker is
# written last: a venv without it is a cut-off install. A venv records its
# own absolute path, so it is built where it will stay.
install_venv() {
  local venv="$1" label="$2" needs="$3" start
  shift 3
  if [[ -f "$venv/.moa-otel-complete" && -x "$venv/$needs" ]]; then
    log "reusing $venv (0.0s)"
    return
  fi
  start="$(now_s)"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  log "installing $label into $venv (log: $venv.log)"
  if ! PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/pip" install --no-input "$@" >"$venv.log" 2>&1; then
    tail -n 40 "$venv.log" >&2
    rm -rf "$venv"
    die "pip install $label failed"
  fi
  touch "$venv/.moa-otel-complete"
  log "installed $label in $(elapsed "$start")s"
}
