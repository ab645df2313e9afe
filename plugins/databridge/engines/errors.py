"""Sorting driver errors into transient (retry) and permanent (fail now), per engine."""

from __future__ import annotations

from databridge.errors import EngineError

# PostgreSQL SQLSTATE classes and codes worth a retry: connection, serialization/deadlock,
# resources, operator intervention (admin shutdown, crash recovery), cannot connect now.
_PG_TRANSIENT_CLASSES = ("08", "40", "53", "57")
_PG_PERMANENT_CODES = {"57014"}  # query_canceled: a timeout we set, not a passing fault
# A server refusing a new session gives libpq no SQLSTATE: its words tell a wrong setting from a passing fault.
_PG_REFUSALS = (
    "does not exist", "authentication failed", "no pg_hba.conf entry", "permission denied",
    "certificate verify failed", "does not support SSL",  # the connection's TLS extras (sslmode, sslrootcert) to fix
)  # fmt: skip

# MySQL/MariaDB error numbers worth a retry: lost/refused connections, lock timeouts, deadlocks, too many connections.
_MYSQL_TRANSIENT = {1040, 1205, 1213, 2002, 2003, 2006, 2013, 2055, 1927, 4031}


def postgres_error(exc: BaseException, doing: str) -> EngineError:
    import psycopg

    state = getattr(exc, "sqlstate", None) or ""
    refused = any(words in str(exc) for words in _PG_REFUSALS)
    transient = (
        (isinstance(exc, psycopg.OperationalError) and not state and not refused)
        or (state[:2] in _PG_TRANSIENT_CLASSES and state not in _PG_PERMANENT_CODES)
        or _catalog_race(exc, state)
    )
    return EngineError(f"PostgreSQL: {doing}: {_first_line(exc)}{_detail(exc)}", transient=transient, engine="postgres")


def _catalog_race(exc: BaseException, state: str) -> bool:
    """Two sessions creating or changing one catalog entry at once (CREATE TABLE or CREATE SCHEMA of one name, IF NOT
    EXISTS or not; GRANT or ALTER of one object): the later fails on a unique index of pg_catalog, or with "tuple
    concurrently updated"; the same statement a moment later finds the entry made."""
    diag = getattr(exc, "diag", None)
    on_catalog = getattr(diag, "schema_name", None) == "pg_catalog"
    return (state == "23505" and on_catalog) or (state == "XX000" and "tuple concurrently" in str(exc))


def _detail(exc: BaseException) -> str:
    """The server's DETAIL line (e.g. which key is duplicated), when it sent one."""
    diag = getattr(exc, "diag", None)
    detail = getattr(diag, "message_detail", None) if diag is not None else None
    return f" ({detail})" if detail else ""


def mysql_error(exc: BaseException, doing: str) -> EngineError:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    message = exc.args[1] if len(exc.args) > 1 else str(exc)
    transient = code in _MYSQL_TRANSIENT
    return EngineError(f"MySQL: {doing}: ({code}) {message}", transient=transient, engine="mysql")


def sqlite_error(exc: BaseException, doing: str) -> EngineError:
    text = str(exc)
    transient = "locked" in text or "busy" in text
    return EngineError(f"SQLite: {doing}: {text}", transient=transient, engine="sqlite")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
