# shellcheck shell=bash
# Environment for running Airflow on this checkout. Source it: `source scripts/airflow_env.sh`.
# Everything Airflow writes goes under $DATABRIDGE_HOME (default <repo>/.databridge, git-ignored).
# What a caller already set is kept (DATABRIDGE_MAPPINGS_DIR, the port, parallelism, a metadata database URL...);
# only what makes this checkout the Airflow set-up is forced: its home, dags, plugins and the FAB auth manager.
# (No `set -e` here: this file runs inside the caller's shell.)

DATABRIDGE_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DATABRIDGE_REPO
export DATABRIDGE_HOME="${DATABRIDGE_HOME:-$DATABRIDGE_REPO/.databridge}"
export DATABRIDGE_MAPPINGS_DIR="${DATABRIDGE_MAPPINGS_DIR:-$DATABRIDGE_REPO/include/mappings}"

export AIRFLOW_HOME="$DATABRIDGE_HOME/airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$DATABRIDGE_REPO/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$DATABRIDGE_REPO/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
# The LocalExecutor forks this many task workers, the api-server this many: keep both low on a 2-core machine.
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
export AIRFLOW__API__WORKERS="${AIRFLOW__API__WORKERS:-1}"
export AIRFLOW__CORE__EXECUTOR="${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"
export AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="${AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL:-15}"
# Real users and roles (Admin designs and runs, Viewer only looks), made by scripts/demo_users.py. FAB's server-side
# session backend sends the UI's login into a redirect loop here; signed cookies work.
export AIRFLOW__CORE__AUTH_MANAGER=airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager
export AIRFLOW__FAB__SESSION_BACKEND=securecookie
# The Connections page and the wizard test connections on this local Airflow; Airflow's own default (and the compose
# deployment's) is Disabled. Set AIRFLOW__CORE__TEST_CONNECTION=Disabled before `make airflow` to keep it off.
export AIRFLOW__CORE__TEST_CONNECTION="${AIRFLOW__CORE__TEST_CONNECTION:-Enabled}"

# The UI, REST API and the task workers' execution API, on loopback (AIRFLOW_PORT, default 8080).
export AIRFLOW_PORT="${AIRFLOW_PORT:-8080}"
export AIRFLOW__API__HOST="${AIRFLOW__API__HOST:-127.0.0.1}"
export AIRFLOW__API__PORT="$AIRFLOW_PORT"
export AIRFLOW__API__BASE_URL="http://127.0.0.1:$AIRFLOW_PORT"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$AIRFLOW_PORT/execution/"

# Airflow starts sub-processes by name: the venv's bin must come first on PATH.
case ":$PATH:" in
  *":$DATABRIDGE_REPO/.venv/bin:"*) ;;
  *) export PATH="$DATABRIDGE_REPO/.venv/bin:$PATH" ;;
esac
