#!/usr/bin/env bash
# drw's local Temporal: obtains the Temporal CLI by itself and runs its dev server
# (SQLite on disk, Web UI) with every search attribute drw's workflows use.
#
#   ./temporal-dev.sh [start]   start the dev server in the background (idempotent)
#   ./temporal-dev.sh stop      stop the server this script started (recorded PID)
#   ./temporal-dev.sh status    say whether it runs; exit 0 if it answers
#   ./temporal-dev.sh path      obtain the CLI if needed and print its path
#   ./temporal-dev.sh search-attributes   print the --search-attribute arguments
#   ./temporal-dev.sh dynamic-config      print the server settings it starts with (key=value)
#   ./temporal-dev.sh sqlite-pragmas      print the SQLite pragmas it opens its database with
#
# Environment: TEMPORAL_CLI (a binary to use), DRW_TEMPORAL_VERSION (1.5.1),
# TEMPORAL_IP (127.0.0.1), TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233),
# TEMPORAL_NAMESPACE (default), TEMPORAL_UI_CODEC_ENDPOINT (the Web UI's codec server, which
# npm start serves: drw's payloads are compressed), DRW_DATA_DIR (<repo>/.drw), DRW_CACHE_DIR
# (${XDG_CACHE_HOME:-$HOME/.cache}/drw), DRW_RETENTION (30d: how long the namespace keeps
# closed workflows' histories; Nd or Nh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${DRW_TEMPORAL_VERSION:-1.5.1}"
ip="${TEMPORAL_IP:-127.0.0.1}"
port="${TEMPORAL_PORT:-7233}"
ui_port="${TEMPORAL_UI_PORT:-8233}"
namespace="${TEMPORAL_NAMESPACE:-default}"
ui_codec_endpoint="${TEMPORAL_UI_CODEC_ENDPOINT:-}"
data_dir="${DRW_DATA_DIR:-$here/.drw}"
cache_root="${DRW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/drw}"
pid_file="$data_dir/temporal.pid"
retention="${DRW_RETENTION:-30d}"
log_file="$data_dir/temporal.log"

# Every custom search attribute the workflows upsert. Keep in step with
# signals/search-attributes.ts (test/unit/search-attributes.test.ts checks it).
SEARCH_ATTRIBUTES=(
  DrwStatus=Keyword
  DrwSeverity=Keyword
  DrwRiskScore=Double
  DrwAsset=Keyword
  DrwSource=Keyword
  DrwDedupeKey=Keyword
  DrwPendingApproval=Bool
  DrwPolicyVersion=Keyword
  DrwPlaybook=Keyword
  DrwSlaDeadline=Datetime
  DrwApprovers=KeywordList
)

# The server's dynamic config for drw's shape (README, "temporal-dev.sh"; npm run bench starts its
# server with the same list, BENCH_SERVER=stock for the CLI's defaults):
# - One partition per task queue: the server splits a queue's activities-per-second limit across
#   partitions, so vendor quotas (DRW_RATE_LIMIT_<KIND>) hold per second only with one; on one
#   node, more partitions only add forwarding between them.
# - The transfer queue (what hands new workflow and activity tasks to matching) read up to 1,000
#   times a second, not 20: at 20 every hop of a remediation (a signal's workflow task, each
#   activity) waited 30-45 ms for the next read, on an idle server (a 4-activity workflow took
#   415 ms, 63 ms after; npm run bench (b) p50 50 -> 22 ms). A read is one indexed range
#   query of the shard's pending tasks; the rate is per shard.
DYNAMIC_CONFIG=(
  matching.numTaskqueueReadPartitions=1
  matching.numTaskqueueWritePartitions=1
  history.transferProcessorMaxPollRPS=1000
)

# How the server opens its SQLite database (--sqlite-pragma; npm run bench and the tests use the
# same list): a write-ahead log instead of SQLite's default rollback journal, which created,
# synced and deleted a journal file for every transaction. Still synced at every commit
# (synchronous=FULL, said here rather than left to the driver's default), so a committed
# transaction survives a power loss as before. npm run bench (a) at BENCH_SCALE=0.2, 2026-12-02,
# 4-5 runs each: drw 8.2-8.8 -> 9.1-10.3 remediations/s, the baseline 10.5-11.2 -> 9.9-13.8/s,
# the server's CPU per remediation 129-133 -> 106-119 ms. synchronous=NORMAL ran 9.7-11.0/s but
# may lose the last commits on a power loss. The fault suite kills the server mid-run in this mode.
SQLITE_PRAGMAS=(
  journal_mode=WAL
  synchronous=FULL
)

say() { printf 'temporal-dev: %s\n' "$*" >&2; }

works() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

find_go() {
  if command -v go >/dev/null 2>&1; then command -v go
  elif [ -x "${GOROOT:-/usr/local/go}/bin/go" ]; then echo "${GOROOT:-/usr/local/go}/bin/go"
  else return 1
  fi
}

# go install builds from the module proxy; v1.5.1 is the newest release whose go.mod
# has no replace directive. Older go-installable releases are tried if it fails.
go_install() {
  local go dir v
  go="$(find_go)" || { say "go: not found"; return 1; }
  for v in "$version" 1.5.0 1.4.1 1.4.0 1.3.0 1.2.0 1.1.2 1.1.1 1.1.0; do
    dir="$cache_root/temporal-cli-$v"
    mkdir -p "$dir"
    say "building the Temporal CLI v$v with go install (first time only; several minutes on 2 cores)..."
    if GOBIN="$dir" "$go" install \
      -ldflags "-X github.com/temporalio/cli/temporalcli.Version=$v" \
      "github.com/temporalio/cli/cmd/temporal@v$v" >&2; then
      if works "$dir/temporal"; then echo "$dir/temporal"; return 0; fi
    fi
    say "go install of v$v failed"
    [ "${DRW_TEMPORAL_GO_FALLBACK:-1}" = 1 ] || break
  done
  return 1
}

download_release() {
  local dir="$cache_root/temporal-cli-$version" os arch url tmp
  os="$(uname -s | tr '[:upper:]' '[:lower:]')"
  case "$(uname -m)" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) return 1 ;; esac
  url="https://github.com/temporalio/cli/releases/download/v$version/temporal_cli_${version}_${os}_${arch}.tar.gz"
  command -v curl >/dev/null 2>&1 || { say "curl: not found"; return 1; }
  say "downloading $url"
  tmp="$(mktemp -d)"
  if curl -fsSL --connect-timeout 10 --max-time 300 "$url" -o "$tmp/cli.tgz" && tar -xzf "$tmp/cli.tgz" -C "$tmp" temporal; then
    mkdir -p "$dir" && mv "$tmp/temporal" "$dir/temporal" && chmod +x "$dir/temporal"
    rm -rf "$tmp"
    works "$dir/temporal" && { echo "$dir/temporal"; return 0; }
  fi
  rm -rf "$tmp"
  return 1
}

# Order: $TEMPORAL_CLI, PATH, user cache, go install, release download.
resolve_cli() {
  local p
  if [ -n "${TEMPORAL_CLI:-}" ]; then
    works "$TEMPORAL_CLI" && { echo "$TEMPORAL_CLI"; return 0; }
    say "TEMPORAL_CLI=$TEMPORAL_CLI is not a working Temporal CLI"
  fi
  if p="$(command -v temporal 2>/dev/null)" && works "$p"; then echo "$p"; return 0; fi
  for p in "$cache_root/temporal-cli-$version/temporal" "$cache_root"/temporal-cli-*/temporal; do
    works "$p" && { echo "$p"; return 0; }
  done
  go_install && return 0
  download_release && return 0
  cat >&2 <<EOF
temporal-dev: could not obtain the Temporal CLI. Tried, in order:
  1. \$TEMPORAL_CLI (${TEMPORAL_CLI:-not set})
  2. 'temporal' on PATH (not found)
  3. the user cache $cache_root/temporal-cli-$version/temporal (not there)
  4. go install github.com/temporalio/cli/cmd/temporal@v$version (needs Go and the Go module proxy)
  5. the release archive from github.com/temporalio/cli/releases (needs internet)
Install Go (https://go.dev/dl) or download the CLI yourself and set TEMPORAL_CLI=/path/to/temporal.
EOF
  return 1
}

healthy() {
  "$1" operator cluster health --address "$ip:$port" >/dev/null 2>&1
}

# The dev server creates its namespace with 24 h retention; drw sets its own (the sealed
# audit archive keeps records beyond it, see README "Audit archive").
set_retention() {
  local hours
  case "$retention" in
    *d) hours=$(( ${retention%d} * 24 )) ;;
    *h) hours="${retention%h}" ;;
    *) say "DRW_RETENTION: a number of days or hours, e.g. 30d or 720h (got '$retention')"; return 1 ;;
  esac
  [[ "$hours" =~ ^[0-9]+$ ]] && [ "$hours" -ge 24 ] || { say "DRW_RETENTION: at least 1d (the server's minimum), got '$retention'"; return 1; }
  "$1" operator namespace update --address "$ip:$port" --namespace "$namespace" --retention "${hours}h" >/dev/null
}

# A server started by an earlier drw knows the attributes it was started with: add the ones
# this drw's workflows upsert and it lacks (an upsert of an unknown one fails the workflow task).
add_search_attributes() {
  local have i name
  have="$("$1" operator search-attribute list --address "$ip:$port" --namespace "$namespace" 2>/dev/null)" || return 0
  for i in "${SEARCH_ATTRIBUTES[@]}"; do
    name="${i%%=*}"
    grep -qw "$name" <<<"$have" && continue
    "$1" operator search-attribute create --address "$ip:$port" --namespace "$namespace" --name "$name" --type "${i#*=}" >/dev/null 2>&1 \
      && say "registered search attribute $name" || say "could not register search attribute $name (register it: temporal operator search-attribute create --name $name --type ${i#*=})"
  done
}

recorded_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid="$(cat "$pid_file")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
  local cli pid args i
  cli="$(resolve_cli)"
  if pid="$(recorded_pid)"; then
    set_retention "$cli" || return 1
    add_search_attributes "$cli"
    say "already running (pid $pid) on $ip:$port, UI http://$ip:$ui_port, retention $retention"
    return 0
  fi
  if healthy "$cli"; then
    add_search_attributes "$cli"
    say "a Temporal server already answers on $ip:$port (not started by this script); using it"
    return 0
  fi
  mkdir -p "$data_dir"
  args=(server start-dev --ip "$ip" --port "$port" --ui-port "$ui_port" --namespace "$namespace"
        --db-filename "$data_dir/temporal.sqlite" --log-format json --log-level warn)
  [ -n "$ui_codec_endpoint" ] && args+=(--ui-codec-endpoint "$ui_codec_endpoint")
  for i in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$i"); done
  for i in "${DYNAMIC_CONFIG[@]}"; do args+=(--dynamic-config-value "$i"); done
  for i in "${SQLITE_PRAGMAS[@]}"; do args+=(--sqlite-pragma "$i"); done
  # setsid: the server outlives this script and is not hit by a Ctrl-C meant for npm.
  setsid "$cli" "${args[@]}" >>"$log_file" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" >"$pid_file"
  for i in $(seq 1 120); do
    if healthy "$cli"; then
      set_retention "$cli" || return 1
      # A data directory from an older drw lacks the attributes added since (--search-attribute only
      # registers them in a new database).
      add_search_attributes "$cli"
      say "started (pid $pid): gRPC $ip:$port, namespace $namespace (retention $retention), Web UI http://$ip:$ui_port, data $data_dir"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      say "the server exited at start; last lines of $log_file:"
      tail -n 20 "$log_file" >&2 || true
      return 1
    fi
    sleep 0.5
  done
  say "the server did not answer within 60 s; see $log_file"
  return 1
}

stop() {
  local pid i
  if ! pid="$(recorded_pid)"; then
    rm -f "$pid_file"
    say "not running (no live recorded PID in $pid_file)"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pid_file"; say "stopped (pid $pid)"; return 0; }
    sleep 0.25
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pid_file"
  say "killed (pid $pid) after it ignored SIGTERM for 10 s"
}

status() {
  local cli pid
  cli="$(resolve_cli)"
  if healthy "$cli"; then
    if pid="$(recorded_pid)"; then say "running (pid $pid) on $ip:$port"; else say "a server answers on $ip:$port (not started by this script)"; fi
    return 0
  fi
  say "no server answers on $ip:$port"
  return 1
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  path) resolve_cli ;;
  search-attributes) printf '%s\n' "${SEARCH_ATTRIBUTES[@]}" ;;
  dynamic-config) printf '%s\n' "${DYNAMIC_CONFIG[@]}" ;;
  sqlite-pragmas) printf '%s\n' "${SQLITE_PRAGMAS[@]}" ;;
  -h|--help|help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) say "unknown command '$1' (start, stop, status, path, search-attributes, dynamic-config, sqlite-pragmas)"; exit 2 ;;
esac
