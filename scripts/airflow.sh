#!/usr/bin/env bash
# Run Airflow on this checkout with the environment of scripts/airflow_env.sh.
#   scripts/airflow.sh standalone     # scheduler, dag-processor, triggerer and UI in the foreground (Ctrl-C stops all)
#   scripts/airflow.sh ARGS...        # any other airflow command, e.g. `scripts/airflow.sh dags list`
set -euo pipefail
# shellcheck source=scripts/airflow_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/airflow_env.sh"

if [[ ! -x "$DATABRIDGE_REPO/.venv/bin/airflow" ]]; then
  echo "airflow.sh: no venv at $DATABRIDGE_REPO/.venv; run 'make venv' first" >&2
  exit 1
fi
if [[ "${1:-}" != "standalone" ]]; then
  exec airflow "$@"
fi

mkdir -p "$AIRFLOW_HOME"
# The demo's target connection points at the embedded PostgreSQL: make sure it is up (no-op if running).
if [[ -z "${DATABRIDGE_TARGET_URI:-}" && -f "$DATABRIDGE_HOME/pg/PG_VERSION" ]]; then
  python "$DATABRIDGE_REPO/scripts/embedded_pg.py" start --dir "$DATABRIDGE_HOME/pg" >/dev/null
fi

echo "airflow.sh: starting Airflow standalone (AIRFLOW_HOME=$AIRFLOW_HOME); Ctrl-C stops it"
echo "airflow.sh: UI http://127.0.0.1:8080 (ready in ~30 s), users admin and viewer (made by 'make demo'),"
echo "airflow.sh: passwords in $AIRFLOW_HOME/databridge_users.json"

# `airflow standalone` forks scheduler, api-server, dag-processor, triggerer and workers, which survive a SIGTERM to
# the parent alone. Run it as the leader of its own process group; on exit or Ctrl-C ask it to shut down (SIGINT, as
# it expects), then stop whatever is left of the group.
group_alive() { kill -0 -- "-$pgid" 2>/dev/null; }
wait_group() { for _ in $(seq "$1"); do group_alive || return 0; sleep 1; done; return 1; }
stop_group() {
  trap '' INT TERM PIPE
  trap - EXIT
  group_alive || return 0
  echo "airflow.sh: stopping Airflow (process group $pgid)" >&2 || true
  kill -INT "$pgid" 2>/dev/null || true
  wait_group 20 && return 0
  kill -TERM -- "-$pgid" 2>/dev/null || true
  wait_group 15 && return 0
  kill -KILL -- "-$pgid" 2>/dev/null || true
}
export AIRFLOW__API__HOST="${AIRFLOW__API__HOST:-127.0.0.1}"  # the UI on loopback only (standalone's default: all)
# (A background job of a script starts with SIGINT ignored; `trap - INT` gives it back, so standalone's shutdown works.)
(trap - INT && exec setsid airflow standalone) &
pgid=$!
trap 'stop_group; exit 130' INT
trap 'stop_group; exit 143' TERM
trap 'stop_group' EXIT
wait "$pgid"
