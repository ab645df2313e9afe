"""The proof of migration against real servers: tricky values proven equal from MariaDB, PostgreSQL and SQLite, and a
target broken on purpose (one value changed, one row deleted, one added) named down to its ranges and keys."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from databridge.runtime.proof import SHOWN_DIFFERENCES
from databridge.runtime.report import format_report

from .conftest import SOURCE_CONN, TARGET_CONN, Source
from .runner import TargetDB, passthrough_yaml, pipeline_params, run_pipeline, run_stage

pytestmark = pytest.mark.integration

ROWS = 600
RANGE_ROWS = 50
COLUMNS = ["label", "amount", "ratio", "happened", "flag", "stamp", "payload"]
DDL = {
    "postgres": "id integer PRIMARY KEY, label text, amount numeric(12,4), ratio double precision, happened timestamp, "
    "flag boolean, stamp timestamptz, payload bytea",
    "mysql": "id INT PRIMARY KEY, label VARCHAR(200) CHARACTER SET utf8mb4, amount DECIMAL(12,4), "
    "ratio DOUBLE, happened DATETIME(6), flag BOOLEAN, stamp TIMESTAMP(6) NULL, payload VARBINARY(64)",
    "sqlite": "id INTEGER PRIMARY KEY, label TEXT, amount NUMERIC(12,4), ratio REAL, happened DATETIME, flag BOOLEAN, "
    "stamp TIMESTAMP, payload BLOB",
}
LABELS = [
    "plain",
    "tab\there",
    "new\nline",
    "crlf\r\nend",
    "ünïcødé 日本 🎉",
    "",
    None,
    "quote ' \" \\ back",
    "  padded  ",
]
RATIOS = [
    0.1 + 0.2,
    1e20,
    -1.5e-7,
    2.5e-310,
    1.7976931348623157e308,
    3.141592653589793,
    16777216.0,
    None,
    123456789012345.6,
    1e-5,
]


def tricky_row(i: int) -> tuple[Any, ...]:
    """Row ``i``: NULLs, decimals with trailing zeros, doubles that print differently per engine, microseconds,
    unicode."""
    amount = None if i % 11 == 0 else (Decimal(i * 37 % 1000) / 8).quantize(Decimal("0.0001")) * (-1 if i % 2 else 1)
    happened = None if i % 13 == 0 else dt.datetime(2024, 1, 1) + dt.timedelta(seconds=i * 3517, microseconds=i * 7)
    stamp = dt.datetime(2021, 6, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i * 41, microseconds=i)
    flag = [True, False, None][i % 3]
    payload = None if i % 17 == 0 else bytes([i % 256, 0, 255, 10, 9]) * (i % 4)
    return (i, LABELS[i % len(LABELS)], amount, RATIOS[i % len(RATIOS)], happened, flag, stamp, payload)


def create_tricky(source: Source) -> None:
    rows = [tricky_row(i) for i in range(1, ROWS + 1)]
    db = source.db
    db.execute(f"CREATE TABLE tricky ({DDL[source.engine]})")
    if source.engine == "sqlite":
        db.conn.executemany("INSERT INTO tricky VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [_for_sqlite(r) for r in rows])
        db.conn.commit()
        return
    if source.engine == "mysql":
        rows = [(*r[:6], r[6].replace(tzinfo=None), r[7]) for r in rows]  # TIMESTAMP: UTC in the session below
        db.execute("SET time_zone = '+00:00'")
    cur = db.conn.cursor()
    cur.executemany("INSERT INTO tricky VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
    cur.close()


def _for_sqlite(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """As an application writes SQLite: decimals and date-times as text, booleans as 0/1."""
    i, label, amount, ratio, happened, flag, stamp, payload = row
    text = lambda v: None if v is None else v.replace(tzinfo=None).isoformat(sep=" ")  # noqa: E731
    return (
        i,
        label,
        None if amount is None else str(amount),
        ratio,
        text(happened),
        None if flag is None else int(flag),
        text(stamp),
        payload,
    )


def project(source: Source, range_rows: int = RANGE_ROWS) -> str:
    """Every column unchanged, plus one transformed column (proven against the ready table)."""
    yaml = passthrough_yaml("proof", SOURCE_CONN, TARGET_CONN, f"{source.schema}.tricky", COLUMNS)
    yaml = yaml.replace("    tables:", f"    proof: {{range_rows: {range_rows}}}\n    tables:")
    return yaml + "              - {source: label, target: label_upper, transform: [upper]}\n"


def proofs(target: TargetDB) -> dict[str, tuple[str, str, dict[str, Any]]]:
    rows = target.rows("SELECT table_name, status, detail, evidence FROM databridge.proofs")
    return {t: (s, d, e) for t, s, d, e in rows}


def test_tricky_values_are_proven_equal_from_every_engine(source: Source, target: TargetDB) -> None:
    create_tricky(source)

    results = run_pipeline(project(source), "run-1")

    status, detail, evidence = proofs(target)["landing.tricky"]
    assert status == "proven", detail
    direct, ready = evidence["parts"]
    assert direct["part"] == "source -> target" and direct["equal"]
    assert direct["columns"] == ["id", *COLUMNS] and direct["key"] == ["id"]
    assert f"source {source.schema}.tricky" in direct["method"]  # computed in the source database, not the staging copy
    assert len(direct["ranges"]) == ROWS // RANGE_ROWS + 1
    assert sum(r["source_rows"] for r in direct["ranges"]) == sum(r["target_rows"] for r in direct["ranges"]) == ROWS
    assert all(r["source_print"] == r["target_print"] for r in direct["ranges"])
    assert ready["part"] == "ready -> target" and ready["columns"] == ["id", "label_upper"] and ready["equal"]
    assert results["report"]["succeeded"] is True
    [report] = target.rows("SELECT report FROM databridge.reports WHERE run_id = 'run-1'")
    assert report[0]["proofs"] == [{"table": "landing.tricky", "status": "proven", "detail": detail}]


def test_a_broken_target_is_named_by_range_and_key(source: Source, target: TargetDB) -> None:
    create_tricky(source)
    yaml = project(source, range_rows=ROWS * 2)  # one first range: finding the keys takes the bisection
    params = pipeline_params(yaml)
    run_pipeline(yaml, "run-1")
    target.execute("UPDATE landing.tricky SET ratio = ratio * 2 WHERE id = 533")  # a subnormal double, doubled
    target.execute("DELETE FROM landing.tricky WHERE id = 250")
    target.execute("INSERT INTO landing.tricky (id, label) VALUES (9001, 'stowaway')")

    with pytest.raises(AirflowFailException) as failed:
        run_stage(params, "validate", "run-1")

    message = str(failed.value)
    assert message.startswith(
        "1 validation(s) failed:\n  - landing.tricky: proof landing.tricky: source -> target: 3 range(s) differ: "
    )
    for kind, key in (("missing in target", 250), ("changed", 533), ("extra in target", 9001)):
        lo, hi = _range_of(message, kind, key)
        assert (lo is None or lo <= key) and (hi is None or key < hi), message
        assert hi is None or lo is None or hi - lo <= ROWS // 16 + 1, message  # 600 rows cut in 16 parts
    assert (
        "ready -> target: 2 range(s) differ: " in message
        and "ready 38 rows, target 37; missing in target: 250" in message
    )
    status, _detail, evidence = proofs(target)["landing.tricky"]
    assert status == "differs"
    differences = evidence["parts"][0]["differences"]
    assert sorted(d["missing"] + d["extra"] + d["changed"] for d in differences) == [["250"], ["533"], ["9001"]]
    assert all(d["narrowed"] for d in differences)
    # bounded: first bounds + both sides' prints (3), one split of the single range (3), each of 3 parts compared
    # row by row (2 each)
    assert evidence["parts"][0]["queries"] == 3 + 3 + 3 * 2


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_a_message_naming_only_the_first_ranges_says_where_all_of_them_are(source: Source, target: TargetDB) -> None:
    create_tricky(source)
    yaml = project(source)
    params = pipeline_params(yaml)
    run_pipeline(yaml, "run-1")
    deleted = [30 + 100 * i for i in range(SHOWN_DIFFERENCES + 1)]  # 100 apart: each in its own range of 50 rows
    target.execute("DELETE FROM landing.tricky WHERE id = ANY(%s)", (deleted,))

    with pytest.raises(AirflowFailException) as failed:
        run_stage(params, "validate", "run-1")

    message = str(failed.value)
    where = "project = 'proof_it' AND pipeline = 'proof' AND run_id = 'run-1' AND table_name = 'landing.tricky'"
    assert (
        "source -> target: 6 range(s) differ: " in message
        and "; and 1 more range(s) | ready -> target: 6 range(s) differ: " in message
    )
    assert message.endswith(
        "; and 1 more range(s). Every differing range is listed in this run's report (printed by its report task, "
        "and by python -m databridge.cli report --project proof_it --target-uri ...) and in databridge.proofs: "
        f"SELECT evidence->'parts' FROM databridge.proofs WHERE {where}"
    )
    [(parts,)] = target.rows(f"SELECT evidence->'parts' FROM databridge.proofs WHERE {where}")
    assert [_missing_keys(p["described"]) for p in parts] == [deleted, deleted]
    with pytest.raises(AirflowFailException):
        run_stage(params, "report", "run-1")  # fails, as validate did, once the report is stored
    [(report,)] = target.rows("SELECT report FROM databridge.reports WHERE run_id = 'run-1'")
    [proof] = report["proofs"]
    assert [r.split(":")[0] for r in proof["differing_ranges"]] == ["source -> target"] * 6 + ["ready -> target"] * 6
    assert _missing_keys(proof["differing_ranges"][:6]) == deleted
    assert all(f"\n      {r}\n" in format_report(report) + "\n" for r in proof["differing_ranges"])


def _missing_keys(described: list[str]) -> list[int]:
    return [int(k) for d in described for k in re.findall(r"missing in target: (\d+)", d)]


def _range_of(message: str, kind: str, key: int) -> tuple[int | None, int | None]:
    """The bounds of the range whose description lists ``key`` under ``kind``."""
    pattern = rf"(?:(\d+) <= )?id(?: < (\d+))?: source \d+ rows, target \d+; {kind}: {key}\b"
    found = re.search(pattern, message)
    assert found, f"{kind} {key} not named in: {message}"
    return (int(found.group(1)) if found.group(1) else None, int(found.group(2)) if found.group(2) else None)


WORD_PREFIXES = ["a", "B", "c", "É", "z", "日本", "🎉"]  # distinct under MariaDB's case-insensitive collation
WORDS_DDL = {
    "postgres": "code text PRIMARY KEY, n integer",
    "mysql": "code VARCHAR(20) CHARACTER SET utf8mb4 PRIMARY KEY, n INT",
    "sqlite": "code TEXT PRIMARY KEY, n INTEGER",
}


def words_project(source: Source) -> str:
    return f"""\
name: words_it
pipelines:
  - name: words
    source_conn_id: {SOURCE_CONN}
    target_conn_id: {TARGET_CONN}
    proof: {{range_rows: 20}}
    tables:
      - source: {source.schema}.words
        targets:
          - table: landing.words
            keys: [code]
            columns: [{{source: code}}, {{source: n}}]
"""


def test_text_keys_are_ranged_by_their_bytes_on_every_engine(source: Source, target: TargetDB) -> None:
    """MariaDB orders 'a' < 'B' (case-insensitive), PostgreSQL and SQLite by bytes: ranges still hold the same rows."""
    source.db.execute(f"CREATE TABLE words ({WORDS_DDL[source.engine]})")
    source.db.insert("words", [(f"{p}{i:03d}", i) for p in WORD_PREFIXES for i in range(40)])
    yaml = words_project(source)
    run_pipeline(yaml, "run-1")
    status, detail, evidence = proofs(target)["landing.words"]
    assert status == "proven", detail
    assert len(evidence["parts"][0]["ranges"]) == len(WORD_PREFIXES) * 40 // 20 + 1
    target.execute("DELETE FROM landing.words WHERE code = 'É017'")

    with pytest.raises(AirflowFailException) as failed:
        run_stage(pipeline_params(yaml), "validate", "run-1")

    assert "; missing in target: É017" in str(failed.value)
    assert "range(s) differ: 'z039' <= code < 'É020': " in str(
        failed.value
    )  # by bytes: 'z' < 'É', as in PostgreSQL's "C" order


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_upsert_proves_this_runs_keys_and_keeps_earlier_rows_out(source: Source, target: TargetDB) -> None:
    create_tricky(source)
    yaml = project(source).replace("            keys: [id]", "            load: upsert\n            keys: [id]")
    run_pipeline(yaml, "run-1")
    target.execute("INSERT INTO landing.tricky (id, label) VALUES (9001, 'an earlier row')")

    results = run_pipeline(yaml, "run-2")

    assert results["report"]["succeeded"] is True
    status, detail, _evidence = proofs(target)["landing.tricky"]
    assert (status, detail.split(":")[0]) == ("proven", f"{ROWS} rows proven")


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("setting", "status", "warning"),
    [
        ("on_failure: warn", "differs", "validation proof landing.tricky: source -> target: 1 range(s) differ: "),
        ("max_rows: 100", "skipped", f"proof landing.tricky: not proven: {ROWS - 1} rows, above proof.max_rows (100)"),
        ("on_failure: skip", None, None),
    ],
)
def test_proof_settings_warn_skip_and_size_limit(
    source: Source, target: TargetDB, setting: str, status: str | None, warning: str | None
) -> None:
    create_tricky(source)
    yaml = project(source).replace("    proof: {", f"    proof: {{{setting}, ")
    run_pipeline(yaml, "run-1")
    target.execute("DELETE FROM landing.tricky WHERE id = 250")

    result = run_stage(pipeline_params(yaml), "validate", "run-1")

    assert result["passed"] == result["checks"] - (status == "differs")
    assert [s for s, _d, _e in proofs(target).values()] == ([status] if status else [])
    warnings = [
        w for w in target.scalar("SELECT warnings FROM databridge.stage_runs WHERE stage = 'validate'") if "proof" in w
    ]
    assert len(warnings) == (warning is not None) and all(w.startswith(str(warning)) for w in warnings), warnings
