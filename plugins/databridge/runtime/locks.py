"""The advisory locks DataBridge takes in a target database, keyed in one place so that no two uses collide.

Each is a two-key lock (``pg_advisory_lock(int4, int4)``): the first key says what kind of thing is locked, the
second is ``hashtext`` of its name. Two names whose hashes collide only wait for (or refuse beside) each other: slower,
never wrong. The results schema's creation lock (runtime/results.py) is a one-key lock, a space of its own.
"""

from __future__ import annotations

from typing import Any

from databridge.compiler.identifiers import qualified

LEASE = 0x6462_6C01
"""A pipeline's staging lease, held shared by every running stage of the run that holds it (runtime/lease.py)."""
CREATION = 0x6462_6302
"""A schema or target table some load is creating, held until that load's transaction ends."""
KEY = "%s, hashtext(%s)"
"""The two keys in SQL; its parameters are a ``Key``."""

Key = tuple[int, str]


def lease(project: str, pipeline: str) -> Key:
    return (LEASE, f"{project}\x1f{pipeline}")


def free(cur: Any, key: Key) -> bool:
    """Whether nobody holds ``key`` now: an exclusive try-lock, let go of in the same statement (it waits for
    nothing)."""
    row = cur.execute(
        f"SELECT CASE WHEN pg_try_advisory_lock({KEY}) THEN pg_advisory_unlock({KEY}) ELSE false END", key + key
    ).fetchone()
    return bool(row and row[0])


def create_in_turn(cur: Any, schema: str, table: str) -> None:
    """Inside a load's transaction, before it looks at its target: when the schema or the table does not exist yet,
    wait for any other load creating it to commit. Two loads creating one new table at once (two projects upserting
    into it) would otherwise both CREATE it, and one would fail on the catalog's unique index.

    The check reads the catalog tables, not the name caches: a name looked up (and found missing) before the wait
    would stay missing for this transaction after another one created it."""
    exists = cur.execute(
        """SELECT n.oid IS NOT NULL, EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname = %s)
        FROM (SELECT %s::text AS name) s LEFT JOIN pg_namespace n ON n.nspname = s.name""",
        (table, schema),
    ).fetchone()
    for name, there in ((schema, exists[0]), (qualified(schema, table), exists[1])):
        if not there:
            cur.execute(f"SELECT pg_advisory_xact_lock({KEY})", (CREATION, name))
