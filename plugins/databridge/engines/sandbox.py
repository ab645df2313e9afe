"""The sandbox user-written SQL runs in: a role that can read what it is handed and nothing else, under a time limit.

Custom SQL is refused unless every node of it is on the allowlist (``compiler/allowlist.py``); this is the second
line, for the day the parser misses something. Every statement that carries a mapping's expression or filter, or a
custom check, runs after ``SET LOCAL ROLE databridge_sandbox``: a role with no login, no superuser, no membership in
``pg_read_server_files``, ``pg_write_server_files``, ``pg_execute_server_program`` or any other predefined role, and
no table privileges but those granted to it for the statement (SELECT on the staging table or the tables a check
reads, USAGE and CREATE on the staging schema). So a call that slipped through cannot read or write a server file,
run a program, read another table or the password catalog, or reach another database.

``SET ROLE`` keeps the session's own user: SQL that could call ``set_config('role', ...)`` could go back to the
connection's role, which is why the allowlist refuses ``set_config`` and why the target connection should not be a
superuser (the report and the Connections page warn when it is). The README's security section says which grants
the target connection needs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from sqlglot import exp

from databridge.compiler.identifiers import quote_ident
from databridge.errors import EngineError

ROLE = "databridge_sandbox"
POWERFUL_ROLES = (
    "pg_read_server_files", "pg_write_server_files", "pg_execute_server_program", "pg_read_all_data",
    "pg_write_all_data", "pg_read_all_settings", "pg_read_all_stats", "pg_signal_backend", "pg_monitor",
)  # fmt: skip
"""Predefined roles the sandbox must not be a member of: each reaches beyond the tables handed to it."""
INTERACTIVE_TIMEOUT_SECONDS = 30.0
"""Default limit of one statement of the wizard's preview and lint; DATABRIDGE_INTERACTIVE_SQL_TIMEOUT overrides it."""
_LOCK_CLASS = "databridge.sandbox"
"""Advisory-lock namespace for the grants: two sessions granting on one object at once would race in the catalog."""


def prepare(
    cur: psycopg.Cursor[Any], *, reads: Sequence[str] = (), writes: Sequence[str] = (), schemas: Sequence[str] = ()
) -> None:
    """In the caller's transaction: the role exists and is harmless, may read ``reads`` (qualified, quoted table
    names), insert into ``writes``, and use and create in ``schemas`` (and use the schemas of the tables). Grants end
    with the caller's transaction when it rolls back; table grants with ``revoke`` too."""
    ensure_role(cur)
    role = sql.Identifier(ROLE)
    for schema in schemas:
        _granted(
            cur,
            f"schema {schema}",
            sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(sql.Identifier(schema), role),
        )
    for used in dict.fromkeys(_schema_of(t) for t in [*reads, *writes]):
        if used and used != "pg_temp" and used not in schemas:
            _granted(
                cur, f"schema {used}", sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(used), role)
            )
    for table in dict.fromkeys(reads):
        _granted(cur, table, sql.SQL("GRANT SELECT ON TABLE {} TO {}").format(sql.SQL(table), role))
    for table in dict.fromkeys(writes):
        _granted(cur, table, sql.SQL("GRANT SELECT, INSERT ON TABLE {} TO {}").format(sql.SQL(table), role))


def _schema_of(table: str) -> str:
    """The schema of a qualified table name as DataBridge writes them ("schema"."table", pg_temp.name)."""
    return exp.to_table(table, dialect="postgres").db


def revoke(cur: psycopg.Cursor[Any], tables: Sequence[str]) -> None:
    """Take back table grants in a transaction that commits (the schema's stay: other runs may be using them)."""
    for table in dict.fromkeys(tables):
        _granted(cur, table, sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(sql.SQL(table), sql.Identifier(ROLE)))


def _granted(cur: psycopg.Cursor[Any], key: str, statement: sql.Composed) -> None:
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))", (_LOCK_CLASS, key))
    cur.execute(statement)


def ensure_role(cur: psycopg.Cursor[Any]) -> None:
    """Create the sandbox role when it is missing (and the connection may), and refuse one that could do harm."""
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s), 0)", (_LOCK_CLASS,))
    row = cur.execute(
        "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication FROM pg_roles "
        "WHERE rolname = %s",
        (ROLE,),
    ).fetchone()
    if row is None:
        _create_role(cur)
    elif row[0]:
        raise EngineError(
            f"the role {ROLE} has superuser, CREATEROLE, CREATEDB, BYPASSRLS or REPLICATION; custom SQL runs "
            f"under it, so it must have none: {_ALTER}",
            transient=False,
        )
    _refuse_powerful(cur)
    _require_membership(cur)


_ALTER = f"ALTER ROLE {ROLE} NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS NOREPLICATION NOLOGIN"


def _create_role(cur: psycopg.Cursor[Any]) -> None:
    try:
        with cur.connection.transaction():
            cur.execute(
                sql.SQL(
                    "CREATE ROLE {} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"
                ).format(sql.Identifier(ROLE))
            )
            cur.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(ROLE)))
    except psycopg.errors.InsufficientPrivilege:
        user = cur.execute("SELECT current_user").fetchone()[0]  # type: ignore[index]
        raise EngineError(
            f"custom SQL runs under the role {ROLE}, which does not exist and which {user!r} may not create; ask a "
            f"database administrator to run: CREATE ROLE {ROLE} NOLOGIN; GRANT {ROLE} TO {user};",
            transient=False,
        ) from None


def _refuse_powerful(cur: psycopg.Cursor[Any]) -> None:
    held = [r for r in POWERFUL_ROLES if _member(cur, ROLE, r)]
    if held:
        revoke_sql = "; ".join(f"REVOKE {r} FROM {ROLE}" for r in held)
        raise EngineError(
            f"the role {ROLE} is a member of {', '.join(held)}; custom SQL runs under it, so revoke: {revoke_sql}",
            transient=False,
        )


def _require_membership(cur: psycopg.Cursor[Any]) -> None:
    user = cur.execute("SELECT current_user").fetchone()[0]  # type: ignore[index]
    if not _member(cur, user, ROLE):
        raise EngineError(
            f"the target connection's user {user!r} may not SET ROLE {ROLE}; ask a database administrator to "
            f"run: GRANT {ROLE} TO {user};",
            transient=False,
        )


def _member(cur: psycopg.Cursor[Any], user: str, role: str) -> bool:
    found = cur.execute(
        "SELECT to_regrole(%s) IS NOT NULL AND pg_has_role(%s, %s::regrole, 'MEMBER')",
        (quote_ident(role), user, quote_ident(role)),
    ).fetchone()
    return bool(found and found[0])


def superuser_warning(cur: psycopg.Cursor[Any]) -> str | None:
    """A warning when the target connection's user is a superuser: SQL that escaped both the allowlist and the
    role switch (``set_config('role', ...)``) would then run with every power of the server."""
    row = cur.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    if not row or not row[1]:
        return None
    return (
        f"the target connection's user {row[0]!r} is a superuser; custom SQL runs as {ROLE}, but a superuser session "
        "is one escape away from every file and database of the server: connect as a non-superuser that owns the "
        "target schemas (README: Security)"
    )


def interactive_timeout() -> float:
    """Seconds one preview or lint statement may run (set by the operator, not by the project being previewed)."""
    text = os.environ.get("DATABRIDGE_INTERACTIVE_SQL_TIMEOUT", "")
    try:
        return float(text) if text.strip() else INTERACTIVE_TIMEOUT_SECONDS
    except ValueError:
        raise EngineError(
            f"DATABRIDGE_INTERACTIVE_SQL_TIMEOUT={text!r} is not a number of seconds; set it to e.g. 30",
            transient=False,
        ) from None


@contextmanager
def entered(cur: psycopg.Cursor[Any], *, timeout_seconds: float | None, doing: str) -> Iterator[None]:
    """Statements inside run as the sandbox role, each cancelled on the server after ``timeout_seconds``.

    A savepoint of its own: when a statement fails, its rollback also undoes the role and the limit."""
    with cur.connection.transaction():
        limit = cur.execute("SELECT current_setting('statement_timeout')").fetchone()[0]  # type: ignore[index]
        cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(ROLE)))
        cur.execute("SET LOCAL standard_conforming_strings = on")
        if timeout_seconds is not None:
            cur.execute("SELECT set_config('statement_timeout', %s, true)", (f"{int(timeout_seconds * 1000)}ms",))
        try:
            yield
        except psycopg.errors.QueryCanceled:
            raise TimedOut(doing, timeout_seconds) from None
        _leave(cur, doing, limit)


def _leave(cur: psycopg.Cursor[Any], doing: str, limit: str) -> None:
    """Back to the connection's own role and limit; custom SQL that changed the role is caught here."""
    current = cur.execute("SELECT current_user").fetchone()
    if current is None or current[0] != ROLE:
        raise EngineError(
            f"{doing}: the custom SQL changed the session's role; it was stopped and nothing it did is kept",
            transient=False,
        )
    cur.execute("RESET ROLE")
    cur.execute("SELECT set_config('statement_timeout', %s, true)", (limit,))


class TimedOut(EngineError):
    """A sandboxed statement ran past its limit and the server cancelled it."""

    def __init__(self, doing: str, timeout_seconds: float | None) -> None:
        super().__init__(f"{doing}: cancelled on the server after {timeout_seconds:g} s", transient=False)
        self.timeout_seconds = timeout_seconds
