#!/usr/bin/env bash
# shellcheck disable=SC2317  # the <server>_ready/_start functions are called by name
# The test servers that run from the venv (not the machine's own services): started for `make test`, stopped by PID.
#   scripts/test_servers.sh start [mongo]    # start (or reuse) and wait until it answers; default: all
#   scripts/test_servers.sh stop [mongo]     # stop what `start` started, by its PID file
# Each server is four small functions: <name>_url, <name>_ready, <name>_start (prints nothing, backgrounds itself).
# CouchDB and S3 are added the same way. State lives in ${DATABRIDGE_HOME:-.databridge}/test-servers/<name>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HOME_DIR="${DATABRIDGE_HOME:-.databridge}/test-servers"
VENV_BIN="${VENV_BIN:-.venv/bin}"
WAIT="${SERVICE_WAIT:-60}"
SERVERS=(mongo)

# --- MongoDB wire protocol: secantusdb (a Python server on WiredTiger, see requirements-dev.txt) ---
mongo_url() { echo "${DATABRIDGE_TEST_MONGO_URL:-mongodb://127.0.0.1:27017}"; }
mongo_ready() {
  "$VENV_BIN/python" - "$(mongo_url)" <<'EOF' >/dev/null 2>&1
import sys, pymongo
pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=1000).admin.command("ping")
EOF
}
mongo_start() {
  local dir=$1
  mkdir -p "$dir/data"
  nohup "$VENV_BIN/secantusd-py" --host 127.0.0.1 --port 27017 --storage-path "$dir/data" >"$dir/server.log" 2>&1 &
  echo $!
}

# --- shared: start/reuse, wait, PID file; stop by PID ---
start_one() {
  local name=$1 dir="$HOME_DIR/$1" pid
  if "${name}_ready"; then
    echo "test-servers: $name at $("${name}_url") is up (reused)"
    return 0
  fi
  mkdir -p "$dir"
  pid=$("${name}_start" "$dir")
  echo "$pid" >"$dir/pid"
  for ((i = 0; i < WAIT; i++)); do
    if "${name}_ready"; then
      echo "test-servers: $name at $("${name}_url") is up (pid $pid, started in ${i}s)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  echo "test-servers: FAILED: $name did not answer at $("${name}_url") within ${WAIT}s; last lines of $dir/server.log:" >&2
  tail -n 20 "$dir/server.log" >&2 || true
  stop_one "$name"
  return 1
}

stop_one() {
  local name=$1 file="$HOME_DIR/$1/pid" pid
  [[ -f "$file" ]] || { echo "test-servers: $name: not started by this script (no $file)"; return 0; }
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "test-servers: $name (pid $pid) stopped"
  fi
  rm -f "$file"
}

command=${1:-}
shift || true
names=("$@")
[[ $# -gt 0 ]] || names=("${SERVERS[@]}")
for name in "${names[@]}"; do
  [[ " ${SERVERS[*]} " == *" $name "* ]] || { echo "test-servers: unknown server '$name' (${SERVERS[*]})" >&2; exit 2; }
done
case "$command" in
  start) status=0; for name in "${names[@]}"; do start_one "$name" || status=1; done; exit "$status" ;;
  stop) for name in "${names[@]}"; do stop_one "$name"; done ;;
  *) echo "usage: $0 start|stop [${SERVERS[*]}]" >&2; exit 2 ;;
esac
