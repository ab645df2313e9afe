"""Replacing a table that other tables reference, and checking those references once every table is loaded.

PostgreSQL refuses to TRUNCATE a table a foreign key points at, and a cycle of keys (store ↔ staff) has no load
order that satisfies every key at every moment. So a replace takes the foreign keys of other tables that reference
its table off, refills the table, and puts them back NOT VALID, all in the table's one transaction (a failed load
leaves the keys as they were). When the last load stage ends, every key of the pipeline's tables that is still NOT
VALID is validated: the keys hold again, or the stage fails naming the key and a row that breaks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from databridge.compiler.identifiers import qualified, quote_ident
from databridge.engines.errors import postgres_error
from databridge.errors import EngineError
from databridge.runtime.context import StageContext

_REFERENCING = """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
    WHERE contype = 'f' AND confrelid = %s::regclass AND conrelid <> confrelid ORDER BY conname"""
_NOT_VALID = """SELECT conrelid::regclass::text, conname FROM pg_constraint
    WHERE contype = 'f' AND NOT convalidated AND (conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[]))
    ORDER BY 1, 2"""


@dataclass(frozen=True)
class Key:
    table: str
    """The referencing table, as regclass text (quoted where needed)."""
    name: str
    definition: str


def truncate(cur: psycopg.Cursor[Any], table: str) -> list[Key]:
    """Empty a replaced table; the keys of other tables pointing at it are taken off first and returned."""
    keys = [Key(*row) for row in cur.execute(_REFERENCING, (table,)).fetchall()]
    for key in keys:
        cur.execute(f"ALTER TABLE {key.table} DROP CONSTRAINT {quote_ident(key.name)}")
    cur.execute(f"TRUNCATE {table}")
    return keys


def put_back(cur: psycopg.Cursor[Any], keys: list[Key], *, validate: bool = False) -> None:
    """The keys ``truncate`` took off, back as NOT VALID: checked for new rows now, for old ones when the load ends
    (or here, with ``validate``: a rollback puts back tables that held together before)."""
    for key in keys:
        cur.execute(f"ALTER TABLE {key.table} ADD CONSTRAINT {quote_ident(key.name)} {key.definition} NOT VALID")
        if validate:
            cur.execute(f"ALTER TABLE {key.table} VALIDATE CONSTRAINT {quote_ident(key.name)}")


def validate_all(ctx: StageContext) -> list[str]:
    """Validate every NOT VALID foreign key from or to the pipeline's target tables; the keys validated."""
    tables = [qualified(t.schema, t.name) for t in ctx.plan.load_order]
    found = ctx.target.rows(
        "SELECT t FROM unnest(%s::text[]) AS t WHERE to_regclass(t) IS NOT NULL", (tables,), doing="finding the tables"
    )
    present = [t for (t,) in found]
    pending = (
        ctx.target.rows(_NOT_VALID, (present, present), doing="finding foreign keys to validate") if present else []
    )
    for table, name in pending:
        _validate(ctx, table, name)
    return [f"{table}.{name}" for table, name in pending]


def _validate(ctx: StageContext, table: str, name: str) -> None:
    try:
        with ctx.target.conn.transaction(), ctx.target.conn.cursor() as cur:
            cur.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {quote_ident(name)}")
    except psycopg.errors.ForeignKeyViolation as exc:
        detail = (exc.diag.message_detail or "").strip()
        raise EngineError(
            f"foreign key {name} of {table} does not hold after this run's load: {detail or str(exc).splitlines()[0]} "
            "The rows are loaded and the key is left NOT VALID; fix the referencing rows (or load the referenced ones) "
            "and run again",
            transient=False,
        ) from None
    except psycopg.Error as exc:
        raise postgres_error(exc, f"validating foreign key {name} of {table}") from None
    ctx.log.info("foreign key %s of %s validated", name, table)
