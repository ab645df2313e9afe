#!/usr/bin/env bash
# Run Airflow on this checkout with the environment of scripts/airflow_env.sh.
#   scripts/airflow.sh serve      # what `make airflow` runs: api-server, scheduler, dag-processor and triggerer with
#                                 # the FAB auth manager, in one process group, in the foreground (Ctrl-C stops all)
#   scripts/airflow.sh ARGS...    # any other airflow command, e.g. `scripts/airflow.sh dags list`
# serve reads AIRFLOW_PORT (default 8080) and DATABRIDGE_HOME (default <repo>/.databridge; AIRFLOW_HOME is its
# airflow/ folder); once Airflow answers it prints a line starting "airflow.sh: ready on http://".
# (`airflow standalone` is not used: it forces the simple auth manager, so the FAB users would not exist.)
set -euo pipefail
# shellcheck source=scripts/airflow_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/airflow_env.sh"

COMPONENTS=(api-server scheduler dag-processor triggerer)
START_TIMEOUT=${AIRFLOW_START_TIMEOUT:-180}
PY="$DATABRIDGE_REPO/.venv/bin/python"
LOGS="$DATABRIDGE_HOME/logs/airflow"
USERS_FILE="$AIRFLOW_HOME/databridge_users.json"
URL="http://127.0.0.1:$AIRFLOW_PORT"

say() { echo "airflow.sh: $*"; }
die() { echo "airflow.sh: $*" >&2; exit 1; }

[[ -x "$DATABRIDGE_REPO/.venv/bin/airflow" ]] || die "no venv at $DATABRIDGE_REPO/.venv; run 'make venv' first"
[[ "${1:-}" == "serve" ]] || exec airflow "$@"

# Run a set-up command quietly; on failure show the tail of its log.
quietly() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "'${*:1:3}' failed (log: $log)"; }
}

# The metadata database and the users admin and viewer (kept in sync with $USERS_FILE; made on the first start, so
# this works without `make demo` too, only without the demo's connections and run).
prepare() {
  mkdir -p "$AIRFLOW_HOME" "$LOGS"
  if (exec 3<>"/dev/tcp/127.0.0.1/$AIRFLOW_PORT") 2>/dev/null; then
    die "port $AIRFLOW_PORT is in use (another Airflow?); choose another: make airflow AIRFLOW_PORT=8081"
  fi
  # The demo's target connection points at the embedded PostgreSQL: make sure it is up (no-op if running).
  if [[ -z "${DATABRIDGE_TARGET_URI:-}" && -f "$DATABRIDGE_HOME/pg/PG_VERSION" ]]; then
    "$PY" "$DATABRIDGE_REPO/scripts/embedded_pg.py" start --dir "$DATABRIDGE_HOME/pg" >/dev/null
  fi
  [[ -f "$USERS_FILE" ]] || say "no $USERS_FILE yet: making the users (run 'make demo' for the demo project's connections and run)"
  say "airflow db migrate and the users admin and viewer (AIRFLOW_HOME=$AIRFLOW_HOME)"
  quietly "$LOGS/db-migrate.log" airflow db migrate
  quietly "$LOGS/users.log" "$PY" "$DATABRIDGE_REPO/scripts/demo_users.py" --file "$USERS_FILE"
}

# The components, each logging to $LOGS/<name>.log, under one bash that leaves as soon as any of them stops.
supervise() {
  declare -A names=()
  local name pid
  for name in "${COMPONENTS[@]}"; do
    airflow "$name" >"$LOGS/$name.log" 2>&1 &
    names[$!]=$name
  done
  wait -n -p pid || true
  echo "airflow.sh: airflow ${names[$pid]} stopped; its log: $LOGS/${names[$pid]}.log" >&2
}

# A process of the group that is not a zombie (zombies are left to whoever reaps them).
group_alive() { [[ -n "$pgid" ]] && ps -e -o pgid=,stat= | awk -v g="$pgid" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'; }
wait_group() { for _ in $(seq "$1"); do group_alive || return 0; sleep 1; done; return 1; }
stop_group() {
  trap '' INT TERM PIPE
  trap - EXIT
  group_alive || return 0
  say "stopping Airflow (process group $pgid)" >&2 || true
  kill -TERM -- "-$pgid" 2>/dev/null || true
  wait_group 30 && return 0
  kill -KILL -- "-$pgid" 2>/dev/null || true
  wait_group 5 || true
}

healthy() {
  curl -fsS --max-time 5 -o /dev/null "$URL/auth/login/" 2>/dev/null || return 1
  curl -fsS --max-time 5 "$URL/api/v2/monitor/health" 2>/dev/null | "$PY" -c '
import json, sys
health = json.load(sys.stdin)
sys.exit(not all((health.get(k) or {}).get("status") == "healthy" for k in ("metadatabase", "scheduler", "dag_processor", "triggerer")))'
}

wait_ready() {
  local started=$SECONDS
  while (( SECONDS - started < START_TIMEOUT )); do
    group_alive || die "Airflow stopped while starting; logs in $LOGS"
    healthy && return 0
    sleep 2
  done
  die "Airflow was not ready after $START_TIMEOUT s; logs in $LOGS"
}

prepare
say "starting ${COMPONENTS[*]} (logs: $LOGS/<name>.log); Ctrl-C stops all of them"
# One new process group (setsid) for every component and what it forks; Ctrl-C or SIGTERM to this script stops the
# whole group. (A background job of a script starts with SIGINT ignored: `trap - INT` gives it back.)
export -f supervise
export COMPONENTS_LIST="${COMPONENTS[*]}" LOGS
pgid=""
trap 'stop_group; exit 130' INT
trap 'stop_group; exit 143' TERM
trap 'stop_group' EXIT
(trap - INT && exec setsid bash -c 'COMPONENTS=($COMPONENTS_LIST); supervise') &
pgid=$!
say "process group $pgid"
wait_ready
say "ready on $URL (log in as admin or viewer; passwords in $USERS_FILE)"
wait "$pgid" || true
stop_group
exit 1
