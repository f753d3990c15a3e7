#!/usr/bin/env bash
# Builds and runs the real telemetry pipeline of moa-otel without Docker:
# an OpenTelemetry Collector built from collector/builder-config.yaml and
# Jaeger v2 built from source. Both listen on 127.0.0.1 only.
#
#   scripts/stack.sh build    build (or reuse) both binaries, print their paths and build times
#   scripts/stack.sh paths    print OTELCOL_BIN=... and JAEGER_BIN=... (no build)
#   scripts/stack.sh up       build if needed, start Jaeger then the collector in the background
#                             (traces to Phoenix too: TRACES_EXPORTERS='[otlp_grpc/jaeger, file/spans, otlp_http/phoenix]',
#                             with scripts/phoenix.sh up)
#   scripts/stack.sh down     stop what `up` started
#   scripts/stack.sh status   show whether each service is running and healthy
#
# Binaries are cached under ~/.cache/moa-otel/bin (MOA_OTEL_CACHE overrides the
# root), never inside the repository, and reused while their inputs are unchanged.
set -euo pipefail

LOG_PREFIX=stack
# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"

BIN_DIR="$CACHE_ROOT/bin"
BUILD_DIR="$CACHE_ROOT/build"
TOOLS_DIR="$CACHE_ROOT/tools"

COLLECTOR_RELEASE="v0.161.0"
JAEGER_MODULE_VERSION="v1.76.0" # same code as Jaeger v2.13.0; v2 tags are not `go install`able
MANIFEST="$REPO_ROOT/collector/builder-config.yaml"
COLLECTOR_CONFIG="$REPO_ROOT/collector/otelcol.yaml"
JAEGER_CONFIG="$REPO_ROOT/collector/jaeger-local.yaml"

# --- Go environment ------------------------------------------------------------
# Keep the build cache beside the binaries so a rerun on the same machine is an
# incremental link, not a full compile. Module downloads stay in Go's usual
# GOMODCACHE (shared with any other Go work on the machine) unless set.
export GOCACHE="${MOA_OTEL_GOCACHE:-$CACHE_ROOT/go-build}"
export GOMODCACHE="${GOMODCACHE:-$(go env GOMODCACHE 2>/dev/null || echo "$HOME/go/pkg/mod")}"
# Never fetch another Go toolchain: build with the one installed, or fail clearly.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
# The generated modules live outside any VCS checkout; don't let Go look for one.
case " ${GOFLAGS:-} " in *" -buildvcs="*) ;; *) export GOFLAGS="${GOFLAGS:-} -buildvcs=false" ;; esac

manifest_key() {
  # A changed manifest (or Go version) must produce a new binary, not reuse a stale one.
  { cat "$MANIFEST"; go env GOVERSION; } | sha256sum | cut -c1-12
}

collector_bin() { echo "$BIN_DIR/otelcol-moa-${COLLECTOR_RELEASE#v}-$(manifest_key)"; }
jaeger_bin() { echo "$BIN_DIR/jaeger-${JAEGER_MODULE_VERSION}"; }

require_go() {
  command -v go >/dev/null 2>&1 || die "go is not on PATH (needs Go >= 1.25)"
}

build_collector() {
  local target start builder
  target="$(collector_bin)"
  if [[ -x "$target" ]]; then
    log "collector: reusing $target (0.0s)"
    return
  fi
  start="$(now_s)"
  builder="$TOOLS_DIR/builder-$COLLECTOR_RELEASE"
  if [[ ! -x "$builder" ]]; then
    log "collector: installing the collector builder $COLLECTOR_RELEASE"
    local gobin="$TOOLS_DIR/gobin.$$"
    mkdir -p "$gobin"
    GOBIN="$gobin" go install "go.opentelemetry.io/collector/cmd/builder@$COLLECTOR_RELEASE"
    mv "$gobin/builder" "$builder"
    rmdir "$gobin"
  fi
  local out="$BUILD_DIR/otelcol-moa"
  mkdir -p "$out"
  # The committed manifest writes into the repo; build into the cache instead.
  sed "s|^\(  output_path:\).*|\1 $out|" "$MANIFEST" >"$BUILD_DIR/builder-config.yaml"
  log "collector: building with $builder (log: $BUILD_DIR/otelcol-moa.log)"
  if ! "$builder" --config="$BUILD_DIR/builder-config.yaml" >"$BUILD_DIR/otelcol-moa.log" 2>&1; then
    tail -n 40 "$BUILD_DIR/otelcol-moa.log" >&2
    die "collector build failed"
  fi
  install -m 0755 "$out/otelcol-moa" "$target.tmp"
  mv "$target.tmp" "$target"
  log "collector: built $target in $(elapsed "$start")s"
}

build_jaeger() {
  local target start
  target="$(jaeger_bin)"
  if [[ -x "$target" ]]; then
    log "jaeger: reusing $target (0.0s)"
    return
  fi
  start="$(now_s)"
  # Jaeger's go.mod carries a replace directive that `go install pkg@version`
  # refuses; a throwaway wrapper module requires Jaeger and repeats it.
  local wrapper="$BUILD_DIR/jaeger-wrapper-$JAEGER_MODULE_VERSION"
  mkdir -p "$wrapper"
  cat >"$wrapper/go.mod" <<EOF
module moa-otel.local/jaeger-wrapper

go 1.25

replace github.com/Shopify/sarama => github.com/Shopify/sarama v1.33.0
EOF
  rm -f "$wrapper/go.sum"
  log "jaeger: resolving github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION (log: $BUILD_DIR/jaeger.log)"
  if ! (cd "$wrapper" &&
    go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_MODULE_VERSION" &&
    go build -trimpath -ldflags="-s -w" -o "$target.tmp" github.com/jaegertracing/jaeger/cmd/jaeger) \
    >"$BUILD_DIR/jaeger.log" 2>&1; then
    tail -n 40 "$BUILD_DIR/jaeger.log" >&2
    die "jaeger build failed"
  fi
  mv "$target.tmp" "$target"
  log "jaeger: built $target in $(elapsed "$start")s"
}

cmd_build() {
  require_go
  mkdir -p "$BIN_DIR" "$BUILD_DIR" "$TOOLS_DIR" "$GOCACHE"
  lock_cache build
  local total
  total="$(now_s)"
  build_collector
  build_jaeger
  log "build: done in $(elapsed "$total")s"
  cmd_paths
}

cmd_paths() {
  echo "OTELCOL_BIN=$(collector_bin)"
  echo "JAEGER_BIN=$(jaeger_bin)"
}

# --- running (for people; the e2e tests start their own processes) ------------
export OTLP_HOST="${OTLP_HOST:-127.0.0.1}"
export OTLP_GRPC_PORT="${OTLP_GRPC_PORT:-4317}"
export OTLP_HTTP_PORT="${OTLP_HTTP_PORT:-4318}"
export HEALTH_CHECK_PORT="${HEALTH_CHECK_PORT:-13133}"
# The collector's Prometheus exporter: every metric it received, at /metrics.
export PROMETHEUS_PORT="${PROMETHEUS_PORT:-8889}"
export JAEGER_HOST="${JAEGER_HOST:-127.0.0.1}"
export JAEGER_OTLP_GRPC_PORT="${JAEGER_OTLP_GRPC_PORT:-14317}"
export JAEGER_QUERY_HTTP_PORT="${JAEGER_QUERY_HTTP_PORT:-16686}"
export JAEGER_QUERY_GRPC_PORT="${JAEGER_QUERY_GRPC_PORT:-16685}"
export JAEGER_HEALTH_PORT="${JAEGER_HEALTH_PORT:-13134}"
export JAEGER_OTLP_ENDPOINT="${JAEGER_OTLP_ENDPOINT:-127.0.0.1:$JAEGER_OTLP_GRPC_PORT}"
export SPAN_FILE_PATH="${SPAN_FILE_PATH:-$RUN_DIR/data/spans.jsonl}"
export METRICS_FILE_PATH="${METRICS_FILE_PATH:-$RUN_DIR/data/metrics.jsonl}"
# Where scripts/phoenix.sh up serves; the collector sends there only when
# TRACES_EXPORTERS names otlp_http/phoenix (see collector/otelcol.yaml).
export PHOENIX_ENDPOINT="${PHOENIX_ENDPOINT:-http://127.0.0.1:6006}"
export COLLECTOR_METRICS_LEVEL="${COLLECTOR_METRICS_LEVEL:-none}"
JAEGER_HEALTH_URL="http://$JAEGER_HOST:$JAEGER_HEALTH_PORT/status"
COLLECTOR_HEALTH_URL="http://$OTLP_HOST:$HEALTH_CHECK_PORT/"

cmd_up() {
  cmd_build >/dev/null
  mkdir -p "$RUN_DIR" "$(dirname "$SPAN_FILE_PATH")"
  start_service jaeger "$(jaeger_bin)" --config "$JAEGER_CONFIG"
  wait_healthy jaeger "$JAEGER_HEALTH_URL"
  start_service collector "$(collector_bin)" --config "$COLLECTOR_CONFIG"
  wait_healthy collector "$COLLECTOR_HEALTH_URL"
  log "send OTLP/HTTP to http://$OTLP_HOST:$OTLP_HTTP_PORT (e.g. npx moa-otel demo --otlp http://$OTLP_HOST:$OTLP_HTTP_PORT)"
  log "Jaeger query API: http://$JAEGER_HOST:$JAEGER_QUERY_HTTP_PORT/api/v3/services (no UI: a source build has no UI assets and no registry offers them; the UI is in docker-compose.yml's image, see collector/README.md)"
  log "metrics for Prometheus (or curl): http://$OTLP_HOST:$PROMETHEUS_PORT/metrics (moa_cost_total, gen_ai_client_token_usage_*, ...; see collector/README.md)"
  log "collector file exporters: $SPAN_FILE_PATH, $METRICS_FILE_PATH"
}

cmd_down() {
  # Collector first, so it can flush its queue into a still-running Jaeger.
  stop_service collector
  stop_service jaeger
}

cmd_status() {
  local status=0
  service_status collector "$COLLECTOR_HEALTH_URL" || status=1
  service_status jaeger "$JAEGER_HEALTH_URL" || status=1
  binary_status "$(collector_bin)" "scripts/stack.sh build"
  binary_status "$(jaeger_bin)" "scripts/stack.sh build"
  return "$status"
}

dispatch "build paths up down status" "$@"
