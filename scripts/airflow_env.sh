# shellcheck shell=bash
# Environment for running Airflow on this checkout. Source it: `source scripts/airflow_env.sh`.
# Everything Airflow writes goes under $DATABRIDGE_HOME (default <repo>/.databridge, git-ignored).
# (No `set -e` here: this file runs inside the caller's shell.)

DATABRIDGE_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DATABRIDGE_REPO
export DATABRIDGE_HOME="${DATABRIDGE_HOME:-$DATABRIDGE_REPO/.databridge}"
export DATABRIDGE_MAPPINGS_DIR="$DATABRIDGE_REPO/include/mappings"

export AIRFLOW_HOME="$DATABRIDGE_HOME/airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$DATABRIDGE_REPO/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$DATABRIDGE_REPO/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM=4  # standalone forks this many workers; keep it low on a 2-core machine
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL=15
# Real users and roles (Admin designs and runs, Viewer only looks), created by scripts/demo.sh. FAB's server-side
# session backend sends the UI's login into a redirect loop here; signed cookies work.
export AIRFLOW__CORE__AUTH_MANAGER=airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager
export AIRFLOW__FAB__SESSION_BACKEND=securecookie

# `airflow standalone` starts its sub-commands by name: the venv's bin must come first on PATH.
case ":$PATH:" in
  *":$DATABRIDGE_REPO/.venv/bin:"*) ;;
  *) export PATH="$DATABRIDGE_REPO/.venv/bin:$PATH" ;;
esac
