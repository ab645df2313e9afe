"""Hostile custom SQL: each fragment is refused by the allowlist with a message naming what was refused.

Expressions and filters (``check_expression``) and custom checks (``check_select``) are tried as an attacker would:
functions that evaluate SQL text, touch files, large objects, settings, sequences, locks or other databases; catalog
casts and names; set-returning functions; statements, comments, escapes and quoting tricks. The run-time sandbox
behind this list is tested in tests/integration/test_sandbox.py.
"""

from __future__ import annotations

import re

import pytest

from databridge.compiler.expressions import MAX_LENGTH, ExpressionError, check_expression, check_select
from databridge.compiler.sql_check import Scope

SCOPE = Scope(
    check=True, tables=frozenset({("analytics", "orders"), ("public", "t")}), schemas=frozenset({"databridge"})
)
CALLS = "calls {}(), which custom SQL may not use"
STATEMENT = "must be a single expression; statements and subqueries (SELECT ...) are not allowed"
CAST = "casts to {}, "
NOT_OURS = "reads {}, which is not a target table of this project"

EXPRESSIONS: list[tuple[str, str]] = [
    # Functions that run a SQL string inside the server.
    (
        "{id}::text || (ts_stat('select to_tsvector(''simple'', pg_read_file(''/etc/hostname''))')).word",
        CALLS.format("ts_stat"),
    ),
    ("ts_rewrite('a & b'::tsquery, 'select ''a''::tsquery, ''c''::tsquery')", CALLS.format("ts_rewrite")),
    ("query_to_xml('select rolpassword from pg_authid', true, true, '')", CALLS.format("query_to_xml")),
    ("query_to_xml_and_xmlschema('select 1', true, true, '')", CALLS.format("query_to_xml_and_xmlschema")),
    ("cursor_to_xml('c', 1, true, true, '')", CALLS.format("cursor_to_xml")),
    ("table_to_xml('pg_authid', true, true, '')", CALLS.format("table_to_xml")),
    ("schema_to_xml('pg_catalog', true, true, '')", CALLS.format("schema_to_xml")),
    ("database_to_xml(true, true, '')", CALLS.format("database_to_xml")),
    ("xpath('/a', {doc}::xml)", CALLS.format("xpath")),
    ("dblink('host=evil', 'select 1')", CALLS.format("dblink")),
    ("dblink_exec('dbname=postgres', 'DROP TABLE x')", CALLS.format("dblink_exec")),
    # Server files and programs.
    ("pg_read_file('/etc/passwd')", CALLS.format("pg_read_file")),
    ("pg_read_binary_file('/etc/passwd')", CALLS.format("pg_read_binary_file")),
    ("pg_ls_dir('.')", CALLS.format("pg_ls_dir")),
    ("pg_stat_file('postgresql.conf')", CALLS.format("pg_stat_file")),
    ("pg_ls_logdir()", CALLS.format("pg_ls_logdir")),
    ("pg_ls_waldir()", CALLS.format("pg_ls_waldir")),
    ("pg_file_write('x', 'y', false)", CALLS.format("pg_file_write")),
    ("pg_catalog.pg_read_file('/etc/passwd')", CALLS.format("pg_catalog.pg_read_file")),
    # Large objects.
    ("lo_import('/etc/passwd')", CALLS.format("lo_import")),
    ("lo_export(16384, '/tmp/x')", CALLS.format("lo_export")),
    ("lo_from_bytea(0, 'x'::bytea)", CALLS.format("lo_from_bytea")),
    ("lo_get(16384)", CALLS.format("lo_get")),
    ("lo_put(16384, 0, 'x'::bytea)", CALLS.format("lo_put")),
    ("lo_unlink(16384)", CALLS.format("lo_unlink")),
    ("loread(lo_open(16384, 262144), 100)", CALLS.format("loread")),
    # Settings and the server.
    ("set_config('role', 'postgres', false)", CALLS.format("set_config")),
    ("current_setting('data_directory')", CALLS.format("current_setting")),
    ("pg_reload_conf()", CALLS.format("pg_reload_conf")),
    ("pg_terminate_backend(1)", CALLS.format("pg_terminate_backend")),
    ("pg_cancel_backend(1)", CALLS.format("pg_cancel_backend")),
    ("pg_sleep(600)", CALLS.format("pg_sleep")),
    ("pg_sleep_for('10 minutes')", CALLS.format("pg_sleep_for")),
    ("version()", CALLS.format("version")),
    ("current_database()", CALLS.format("current_database")),
    ("inet_server_addr()", CALLS.format("inet_server_addr")),
    ("pg_backend_pid()", CALLS.format("pg_backend_pid")),
    ("txid_current()", CALLS.format("txid_current")),
    ("current_user", "uses CURRENT_USER, which custom SQL may not use"),
    ("session_user", "uses SESSION_USER, which custom SQL may not use"),
    # Sequences and locks.
    ("nextval('orders_id_seq')", CALLS.format("nextval")),
    ("setval('orders_id_seq', 1)", CALLS.format("setval")),
    ("currval('orders_id_seq')", CALLS.format("currval")),
    ("lastval()", CALLS.format("lastval")),
    ("pg_advisory_lock(1)", CALLS.format("pg_advisory_lock")),
    ("pg_try_advisory_xact_lock(1)", CALLS.format("pg_try_advisory_xact_lock")),
    # Catalog look-ups, by call and by cast.
    ("to_regclass('pg_authid')", CALLS.format("to_regclass")),
    ("has_table_privilege('pg_authid', 'select')", CALLS.format("has_table_privilege")),
    ("pg_get_functiondef('pg_read_file'::regproc)", CALLS.format("pg_get_functiondef")),
    ("{a}::regclass", CAST.format("regclass")),
    ("'pg_read_file'::regproc", CAST.format("regproc")),
    ("'pg_read_file(text)'::regprocedure", CAST.format("regprocedure")),
    ("'int4'::regtype", CAST.format("regtype")),
    ("CAST({a} AS oid)", CAST.format("oid")),
    ("'postgres'::regrole", CAST.format("regrole")),
    ("'pg_catalog'::regnamespace", CAST.format("regnamespace")),
    ("{a}::pg_catalog.text", CAST.format("pg_catalog.text")),
    ("'x'::tsvector", CAST.format("tsvector")),
    ("{a}::record", CAST.format("record")),
    # Set-returning functions.
    ("generate_series(1, {a})", CALLS.format("generate_series")),
    ("unnest(ARRAY[{a}])", CALLS.format("unnest")),
    ("regexp_matches({a}, '.')", CALLS.format("regexp_matches")),
    ("regexp_split_to_table({a}, ',')", CALLS.format("regexp_split_to_table")),
    ("jsonb_array_elements({doc}::jsonb)", CALLS.format("jsonb_array_elements")),
    ("json_each({doc}::json)", CALLS.format("json_each")),
    ("jsonb_each_text({doc}::jsonb)", CALLS.format("jsonb_each_text")),
    # Statements and subqueries.
    ("(SELECT rolpassword FROM pg_authid LIMIT 1)", STATEMENT),
    ("{a} IN (SELECT 1)", STATEMENT),
    ("EXISTS (SELECT 1 FROM pg_authid)", STATEMENT),
    ("ARRAY(SELECT rolname FROM pg_roles)", STATEMENT),
    ("DO $$ BEGIN PERFORM pg_sleep(1); END $$", STATEMENT),
    ("COPY t TO '/tmp/x'", STATEMENT),
    ("COMMIT", STATEMENT),
    ("TRUNCATE shop.orders", STATEMENT),
    ("{a}; DROP TABLE t", "contains a semicolon"),
    # Names of other tables or the catalog.
    ("pg_authid.rolpassword", "names 'pg_authid.rolpassword' directly"),
    ("information_schema.tables.table_name", "names 'information_schema.tables.table_name' directly"),
    ("t.*", "uses *"),
    ("{a} OPERATOR(pg_catalog.+) 1", "uses OPERATOR"),
    ("pg_catalog.upper({a})", CALLS.format("pg_catalog.upper")),
    # Aggregates and windows.
    ("sum({a})", "uses sum(): aggregates and window functions are not allowed"),
    ("count(*) OVER ()", "uses count(): aggregates and window functions are not allowed"),
    ("string_agg({a}, ',')", "uses string_agg(): aggregates and window functions are not allowed"),
    # Escapes, quoting and comments.
    ('U&"d\\0061ta"', 'uses a Unicode-escaped name (U&"...")'),
    ('u&"pg_authid"', 'uses a Unicode-escaped name (U&"...")'),
    ("U&'\\0070g_read_file'", "uses a Unicode escape string (U&'...')"),
    ("$a$ $$ $a$ || lo_import('/etc/passwd')", CALLS.format("lo_import")),
    ("$q$'$q$ || pg_read_file($$/etc/passwd$$) || $q$'$q$", CALLS.format("pg_read_file")),
    ("$$x$$ || $b$ $a$ $b$ || pg_sleep(1)::text", CALLS.format("pg_sleep")),
    ("{a} /* ; SELECT pg_read_file('/etc/passwd') */", "contains a comment"),
    ("{a} -- || pg_read_file('/etc/passwd')", "contains a comment"),
    ("/* a /* nested */ */ {a}", "contains a comment"),
    ('{a} COLLATE "C"', 'uses COLLATE ({a} COLLATE "C")'),
    ("$1", "uses PARAMETER ($1)"),
    ("ROW({a}, 1)", CALLS.format("row")),
    ("x" * (MAX_LENGTH + 1), "characters long; custom SQL may be at most 10,000"),
]

CHECKS: list[tuple[str, str]] = [
    (
        "SELECT string_agg(rolname||':'||coalesce(rolpassword,'-'),',') FROM pg_authid",
        NOT_OURS.format("public.pg_authid"),
    ),
    ("SELECT count(*) FROM pg_catalog.pg_authid", NOT_OURS.format("pg_catalog.pg_authid")),
    ('SELECT count(*) FROM "pg_catalog"."pg_shadow"', NOT_OURS.format("pg_catalog.pg_shadow")),
    ("SELECT count(*) FROM information_schema.tables", NOT_OURS.format("information_schema.tables")),
    ("SELECT count(*) FROM t, pg_roles", NOT_OURS.format("public.pg_roles")),
    ("SELECT count(*) FROM t WHERE EXISTS (SELECT 1 FROM pg_shadow)", NOT_OURS.format("public.pg_shadow")),
    ("SELECT count(*) FROM shop.customers", NOT_OURS.format("shop.customers")),
    ("TABLE pg_authid", NOT_OURS.format("public.pg_authid")),
    ("SELECT count(*) FROM otherdb.public.t", "reads from otherdb.public.t"),
    ("SELECT count(*) FROM generate_series(1, 3)", CALLS.format("generate_series")),
    ("SELECT count(*) FROM dblink('dbname=x', 'select 1') AS d(a int)", CALLS.format("dblink")),
    ("SELECT pg_read_file('/etc/passwd')", CALLS.format("pg_read_file")),
    ("SELECT lo_get(16384)", CALLS.format("lo_get")),
    ("SELECT count(*) FROM t WHERE current_setting('is_superuser') = 'on'", CALLS.format("current_setting")),
    ("SELECT count(*) FROM t CROSS JOIN LATERAL (SELECT 1) x", "uses LATERAL"),
    (
        "WITH d AS (DELETE FROM t RETURNING 1) SELECT count(*) FROM d",
        "must be one SELECT that only reads: WITH is not allowed",
    ),
    ("SELECT count(*) INTO copy FROM t", "must be one SELECT that only reads: SELECT INTO is not allowed"),
    ("SELECT count(*) FROM t FOR UPDATE", "must be one SELECT that only reads: FOR UPDATE is not allowed"),
    ("SELECT 1 UNION SELECT count(*) FROM pg_authid", "must be one SELECT returning one value"),
    ("VALUES (1)", "must be one SELECT returning one value"),
    ("DELETE FROM t", "must be one SELECT returning one value"),
    ("SELECT count(*) FROM t TABLESAMPLE SYSTEM (10)", "uses TABLESAMPLE"),
    ("SELECT 1; DROP TABLE t", "contains a semicolon"),
    ("SELECT count(*) FROM t -- AND pg_sleep(9)", "contains a comment"),
]


@pytest.mark.parametrize(("text", "message"), EXPRESSIONS, ids=[f"expr-{i:03d}" for i in range(len(EXPRESSIONS))])
def test_hostile_expression_is_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        check_expression(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(("text", "message"), CHECKS, ids=[f"check-{i:03d}" for i in range(len(CHECKS))])
def test_hostile_check_is_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        check_select(text, SCOPE)
    assert message in str(caught.value)


def test_the_corpus_is_large() -> None:
    assert len(EXPRESSIONS) + len(CHECKS) >= 90


@pytest.mark.parametrize(
    ("text", "sql"),
    [
        ("SELECT count(*) FROM orders", None),
        (
            "SELECT count(*) FROM analytics.orders o JOIN t ON o.id = t.id",
            'FROM "analytics"."orders" AS o JOIN "public"."t" ON',
        ),
        (
            "SELECT count(*) FROM t WHERE id NOT IN (SELECT id FROM analytics.orders)",
            'NOT id IN (SELECT id FROM "analytics"."orders")',
        ),
        ("SELECT count(*) FILTER (WHERE a > 0) FROM t", 'FILTER(WHERE a > 0) FROM "public"."t"'),
        ("SELECT count(*) FROM databridge.validation_results", 'FROM "databridge"."validation_results"'),
    ],
)
def test_checks_over_the_projects_tables_pass_with_every_table_qualified(text: str, sql: str | None) -> None:
    if sql is None:  # an unqualified name is the default schema's, not whatever search_path finds first
        with pytest.raises(ExpressionError, match="reads public.orders, which is not a target table"):
            check_select(text, SCOPE)
        return
    assert sql in check_select(text, SCOPE)


def test_string_literals_stay_text() -> None:
    """Quoting tricks only ever make text: the SQL that runs is sqlglot's own rendering of the literal."""
    assert check_expression("$$; DROP TABLE t; $$").sql == "'; DROP TABLE t; '"
    assert check_expression("$a$ it's $$ $a$ || {x}").sql == """' it''s $$ ' || "x\""""
    assert check_expression("'a\\' || {x}").sql == """'a\\' || "x\""""


def test_the_readme_lists_every_allowed_function() -> None:
    """What a user reads is what the allowlist holds: a function added or removed there must be named here too."""
    from pathlib import Path

    from databridge.compiler import allowlist

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### What custom SQL may do", 1)[1]
    functions = section.split("- **Functions**", 1)[1].split("- **Refused**", 1)[0]
    listed = set(re.findall(r"[a-z0-9_]+", functions))
    missing = [name for name in allowlist.FUNCTIONS if name not in listed]
    assert not missing, f"add to the README's 'What custom SQL may do': {missing}"
