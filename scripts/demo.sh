#!/usr/bin/env bash
# The body of `make demo`: run the demo_shop mapping project end to end through Airflow.
#   target: $DATABRIDGE_TARGET_URI (postgresql://user:pass@host:port/db) or an embedded PostgreSQL in $DATABRIDGE_HOME/pg
#   source: a generated SQLite shop in $DATABRIDGE_HOME/demo/shop.db
set -euo pipefail
# shellcheck source=scripts/airflow_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/airflow_env.sh"
cd "$DATABRIDGE_REPO"
# The demo runs the repository's demo_shop project, whatever DATABRIDGE_MAPPINGS_DIR says.
export DATABRIDGE_MAPPINGS_DIR="$DATABRIDGE_REPO/include/mappings"
PY="$DATABRIDGE_REPO/.venv/bin/python"
LOGS="$DATABRIDGE_HOME/logs"
mkdir -p "$DATABRIDGE_HOME" "$LOGS"

say() { echo "demo: $*"; }
# Run a command with its output in a log file; show the log's tail and stop if it fails.
# (Only the command's first three words are echoed: later ones may hold a password.)
quietly() {
  local log=$1 lines=$2
  shift 2
  if ! "$@" >"$log" 2>&1; then
    echo "demo: FAILED: ${*:1:3} ... (last $lines lines of $log):" >&2
    tail -n "$lines" "$log" >&2
    exit 1
  fi
}

# b. The target database.
if [[ -n "${DATABRIDGE_TARGET_URI:-}" ]]; then
  URI=$DATABRIDGE_TARGET_URI
  say "target: DATABRIDGE_TARGET_URI"
else
  BASE=$("$PY" scripts/embedded_pg.py start --dir "$DATABRIDGE_HOME/pg")
  # As the README's Security section recommends: the target connection is a non-superuser that owns its database,
  # and a member of the sandbox role that custom SQL runs under. (A database left by an older demo, owned by the
  # superuser, is made again.)
  "$PY" - "$BASE" <<'PY'
import sys

import psycopg

with psycopg.connect(sys.argv[1] + "postgres", autocommit=True) as conn:
    for role, options in (("databridge", "LOGIN NOSUPERUSER"), ("databridge_sandbox", "NOLOGIN NOSUPERUSER NOINHERIT")):
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            conn.execute(f"CREATE ROLE {role} {options}")
    conn.execute("GRANT databridge_sandbox TO databridge")
    owner = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'databridge'").fetchone()
    if owner and owner[0] != "databridge":
        conn.execute("DROP DATABASE databridge WITH (FORCE)")
    if owner is None or owner[0] != "databridge":
        conn.execute("CREATE DATABASE databridge OWNER databridge")
PY
  URI="${BASE/postgres@/databridge@}databridge"
  say "target: embedded PostgreSQL $URI (data in $DATABRIDGE_HOME/pg)"
fi

# c. The source database.
SOURCE_DB="$DATABRIDGE_HOME/demo/shop.db"
"$PY" scripts/demo_source.py --path "$SOURCE_DB"

# d. Airflow's metadata database (SQLite in $AIRFLOW_HOME).
say "airflow db migrate (AIRFLOW_HOME=$AIRFLOW_HOME)"
quietly "$LOGS/db_migrate.log" 40 airflow db migrate
USERS_FILE="$AIRFLOW_HOME/databridge_users.json"
quietly "$LOGS/users.log" 40 "$PY" scripts/demo_users.py --file "$USERS_FILE"
say "Airflow users admin (Admin) and viewer (Viewer); passwords in $USERS_FILE"

# e. Connections, replaced on every run. The target's parts come from the URI; the password is never printed.
target_parts=$(TARGET_URI="$URI" "$PY" - <<'PY'
import os
import shlex
from urllib.parse import parse_qs, unquote, urlsplit

uri = urlsplit(os.environ["TARGET_URI"])
if uri.scheme not in ("postgresql", "postgres"):
    raise SystemExit(f"demo: the target URI must start with postgresql://, not {uri.scheme}://")
parts = {
    "PG_HOST": uri.hostname or parse_qs(uri.query).get("host", ["127.0.0.1"])[0],
    "PG_PORT": str(uri.port or 5432),
    "PG_LOGIN": unquote(uri.username or "postgres"),
    "PG_PASSWORD": unquote(uri.password or ""),
    "PG_DB": unquote(uri.path.lstrip("/")) or "postgres",
}
print("\n".join(f"{name}={shlex.quote(value)}" for name, value in parts.items()))
PY
)
eval "$target_parts"
password_arg=()
[[ -z "$PG_PASSWORD" ]] || password_arg=(--conn-password "$PG_PASSWORD")
airflow connections delete demo_shop_source >/dev/null 2>&1 || true
airflow connections delete databridge_target >/dev/null 2>&1 || true
# No SQLite provider is installed, so `--conn-type sqlite` would be turned into `generic`: pass the type as JSON.
source_json=$("$PY" -c 'import json, sys; print(json.dumps({"conn_type": "sqlite", "host": sys.argv[1]}))' "$SOURCE_DB")
quietly "$LOGS/connection_source.log" 20 airflow connections add demo_shop_source --conn-json "$source_json"
quietly "$LOGS/connection_target.log" 20 \
  airflow connections add databridge_target --conn-type postgres --conn-host "$PG_HOST" --conn-port "$PG_PORT" \
  --conn-login "$PG_LOGIN" --conn-schema "$PG_DB" "${password_arg[@]}"
say "connections: demo_shop_source → sqlite $SOURCE_DB; databridge_target → postgres $PG_LOGIN@$PG_HOST:$PG_PORT/$PG_DB"
unset PG_PASSWORD password_arg target_parts

# f. Parse the DAGs and run the demo project once, in-process.
say "airflow dags reserialize"
quietly "$LOGS/reserialize.log" 40 airflow dags reserialize
say "airflow dags test demo_shop (log: $LOGS/demo_shop.log)"
quietly "$LOGS/demo_shop.log" 60 airflow dags test demo_shop

# g. What was migrated.
"$PY" -m databridge.cli report --target-uri "$URI" --project demo_shop

# h. Where to look next.
cat <<EOF

demo: done. To browse the run in the Airflow UI on the same set-up:
  make airflow                 # then open http://127.0.0.1:8080
  users: admin (Admin: designs and runs), viewer (Viewer: only looks)
  passwords: in $USERS_FILE (readable only by you)
EOF
