"""The run-time sandbox on a real PostgreSQL: what custom SQL could do if the allowlist ever let a call through.

The statements here go to the sandboxed executor directly, past the parser, as the connection's superuser would
run them: the role switch alone must keep them from files, programs, the password catalog and other tables. Then
every entry of the allowlist runs under that role, so the list holds nothing the sandbox cannot run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from databridge.compiler import allowlist
from databridge.compiler.expressions import check_expression, check_select
from databridge.compiler.sql_check import Scope
from databridge.engines import sandbox
from databridge.errors import EngineError
from tests.conftest import pg_admin, pg_connect, unique_name

pytestmark = pytest.mark.integration


@pytest.fixture
def conn(pg_database: str) -> Iterator[psycopg.Connection[Any]]:
    with pg_connect(pg_database) as connection:
        connection.autocommit = False
        connection.execute("CREATE TABLE granted (id int, secret text)")
        connection.execute("CREATE TABLE other (id int, secret text)")
        connection.execute("INSERT INTO granted VALUES (1, 'mine'); INSERT INTO other VALUES (1, 'not yours')")
        connection.commit()
        yield connection


def sandboxed(conn: psycopg.Connection[Any], statement: str, *, timeout: float | None = 30) -> list[tuple[Any, ...]]:
    """Run one statement as mapping SQL runs: granted the table ``granted`` only, in a transaction rolled back."""
    with conn.transaction() as tx, conn.cursor() as cur:
        sandbox.prepare(cur, reads=['"public"."granted"'])
        with sandbox.entered(cur, timeout_seconds=timeout, doing="the test"):
            rows = cur.execute(statement).fetchall()  # type: ignore[arg-type]
        raise psycopg.Rollback(tx)
    return rows


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT pg_read_file('/etc/hostname')",
        "SELECT pg_read_binary_file('/etc/passwd')",
        "SELECT pg_ls_dir('.')",
        "SELECT lo_import('/etc/hostname')",
        "SELECT lo_export(lo_from_bytea(0, 'x'::bytea), '/tmp/databridge_sandbox_escape')",
        "COPY (SELECT 1) TO '/tmp/databridge_sandbox_escape'",
        "COPY granted FROM PROGRAM 'id'",
        "SELECT rolpassword FROM pg_authid",
        "SELECT secret FROM other",
        "SELECT pg_reload_conf()",
        "SELECT pg_terminate_backend(pg_backend_pid())",
        "CREATE TABLE public.planted (x int)",
        "SELECT count(*) FROM ts_stat('select to_tsvector(''simple'', pg_read_file(''/etc/hostname''))')",
        "SELECT query_to_xml('select secret from other', true, true, '')",
    ],
)
def test_the_sandbox_role_cannot_reach_beyond_what_it_is_granted(conn: psycopg.Connection[Any], statement: str) -> None:
    assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (True,)
    conn.rollback()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sandboxed(conn, statement)


def test_the_sandbox_reads_what_it_is_granted_and_gives_the_role_back(conn: psycopg.Connection[Any]) -> None:
    assert sandboxed(conn, "SELECT secret, current_user, current_setting('statement_timeout') FROM granted") == [
        ("mine", sandbox.ROLE, "30s")
    ]
    with conn.transaction(), conn.cursor() as cur:
        sandbox.prepare(cur, reads=['"public"."granted"'])
        cur.execute("SET LOCAL statement_timeout = '7min'")
        with sandbox.entered(cur, timeout_seconds=5, doing="the test"):
            cur.execute("SELECT 1")
        assert cur.execute("SELECT current_user = session_user, current_setting('statement_timeout')").fetchone() == (
            True,
            "7min",
        )
        sandbox.revoke(cur, ['"public"."granted"'])  # in a transaction that commits, the grant is taken back
    grants = conn.execute(
        "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = %s", (sandbox.ROLE,)
    ).fetchone()
    assert grants == (0,)


def test_sql_that_changes_the_role_is_stopped(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(EngineError, match="the custom SQL changed the session's role; it was stopped"):
        sandboxed(conn, "SELECT set_config('role', 'none', true)")


def test_a_long_statement_is_cancelled_on_the_server_at_the_limit(conn: psycopg.Connection[Any]) -> None:
    started = time.monotonic()
    with pytest.raises(sandbox.TimedOut, match=r"the test: cancelled on the server after 1 s"):
        sandboxed(conn, "SELECT pg_sleep(600)", timeout=1)
    assert time.monotonic() - started < 15
    with pg_admin() as admin:
        left = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)' AND state = 'active'"
        ).fetchone()
    assert left == (0,)


def test_a_sandbox_role_with_powers_is_refused(conn: psycopg.Connection[Any]) -> None:
    """Checked inside a transaction that is rolled back, so no other session ever sees the role with that power."""
    with conn.transaction() as tx, conn.cursor() as cur:
        sandbox.ensure_role(cur)
        cur.execute(f"GRANT pg_read_server_files TO {sandbox.ROLE}")
        with pytest.raises(
            EngineError,
            match=f"the role {sandbox.ROLE} is a member of pg_read_server_files; .* REVOKE pg_read_server_files FROM "
            f"{sandbox.ROLE}",
        ):
            sandbox.ensure_role(cur)
        raise psycopg.Rollback(tx)


def test_a_connection_that_may_not_use_the_sandbox_is_told_what_to_grant(pg_database: str) -> None:
    user = unique_name("databridge_plain")
    with pg_admin() as admin:
        admin.execute(f"CREATE ROLE {user} LOGIN")
        admin.execute(f'GRANT ALL ON DATABASE "{pg_database}" TO {user}')
    try:
        expected = (
            f"may not SET ROLE {sandbox.ROLE}; ask a database administrator to run: GRANT {sandbox.ROLE} TO {user};"
        )
        with (
            psycopg.connect(host="127.0.0.1", user=user, dbname=pg_database) as plain,
            plain.cursor() as cur,
            pytest.raises(EngineError, match=expected),
        ):
            sandbox.ensure_role(cur)
    finally:
        with pg_admin() as admin:
            admin.execute(f'REVOKE ALL ON DATABASE "{pg_database}" FROM {user}')
            admin.execute(f"DROP ROLE {user}")


# --- every allowlist entry runs under the sandbox ---------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox_cursor() -> Iterator[psycopg.Cursor[Any]]:
    with pg_admin() as connection, connection.cursor() as cur:
        connection.autocommit = False
        connection.execute("CREATE TEMP TABLE t (a int, b text)")
        connection.execute("INSERT INTO t VALUES (1, 'x'), (2, 'y')")
        sandbox.prepare(cur, reads=["pg_temp.t"])
        with sandbox.entered(cur, timeout_seconds=30, doing="the allowlist"):
            yield cur
        connection.rollback()


def _run(cur: psycopg.Cursor[Any], sql: str) -> Any:
    with cur.connection.transaction():
        assert cur.execute("SELECT current_user").fetchone() == (sandbox.ROLE,)
        return cur.execute(sql).fetchone()  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "example"), sorted(allowlist.FUNCTIONS.items()))
def test_every_allowed_function_passes_the_check_and_runs_in_the_sandbox(
    sandbox_cursor: psycopg.Cursor[Any], name: str, example: str
) -> None:
    checked = check_expression(example)
    assert _run(sandbox_cursor, f"SELECT {checked.sql}") is not None


@pytest.mark.parametrize(("name", "example"), sorted(allowlist.OPERATORS.items()))
def test_every_allowed_operator_passes_the_check_and_runs_in_the_sandbox(
    sandbox_cursor: psycopg.Cursor[Any], name: str, example: str
) -> None:
    checked = check_expression(example)
    assert _run(sandbox_cursor, f"SELECT {checked.sql}") is not None


@pytest.mark.parametrize(("name", "example"), sorted(allowlist.AGGREGATES.items()))
def test_every_allowed_aggregate_runs_in_a_check(sandbox_cursor: psycopg.Cursor[Any], name: str, example: str) -> None:
    checked = check_select(
        f"SELECT {example} FROM t", Scope(check=True, tables=frozenset({("pg_temp", "t")}), default_schema="pg_temp")
    )
    assert _run(sandbox_cursor, checked) is not None


@pytest.mark.parametrize("type_name", allowlist.CAST_TYPES)
def test_every_allowed_cast_runs_in_the_sandbox(sandbox_cursor: psycopg.Cursor[Any], type_name: str) -> None:
    checked = check_expression(f"CAST(NULL AS {type_name})")
    assert _run(sandbox_cursor, f"SELECT {checked.sql}") == (None,)
