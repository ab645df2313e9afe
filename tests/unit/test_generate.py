"""The generator (pure): discovered tables → table mappings with every column, keys from primary keys, foreign keys
and roles from their graph; explicit entries overriding it; the expansion compiled as a file written by hand; the
project file `databridge init` writes reading back as the same mappings."""

from __future__ import annotations

import json

import pytest

from databridge.compiler import compile_project
from databridge.compiler.order import order_targets
from databridge.engines.base import ColumnInfo, ForeignKeyInfo, TableInfo
from databridge.errors import SpecError
from databridge.generate.cycles import split_cycles
from databridge.generate.expand import expand
from databridge.generate.project_file import render
from databridge.generate.tables import GenerateError, generate
from databridge.spec import parse_project
from databridge.spec.models import Project, TableMapping
from tests.conftest import REPO


def table(name: str, columns: str, key: str = "", *refs: tuple[str, str, str], schema: str = "shop") -> TableInfo:
    """``columns`` "A B C"; ``key`` "A"; each ref (column, table, referenced column)."""
    infos = tuple(ColumnInfo(c, "int(11)", True, None, "integer") for c in columns.split())
    fks = tuple(ForeignKeyInfo((c,), f"{schema}.{t}", (r,)) for c, t, r in refs)
    return TableInfo(schema, name, infos, tuple(key.split()), fks)


STORE = [
    table("Artist", "ArtistId Name", "ArtistId"),
    table("Album", "AlbumId ArtistId", "AlbumId", ("ArtistId", "Artist", "ArtistId")),
    table("Track", "TrackId AlbumId", "TrackId", ("AlbumId", "Album", "AlbumId")),
    table("Department", "DepartmentId ManagerId", "DepartmentId", ("ManagerId", "Employee", "EmployeeId")),
    table(
        "Employee",
        "EmployeeId ReportsTo DepartmentId",
        "EmployeeId",
        ("ReportsTo", "Employee", "EmployeeId"),
        ("DepartmentId", "Department", "DepartmentId"),
    ),
    table("InvoiceLine", "InvoiceLineId TrackId", "InvoiceLineId", ("TrackId", "Track", "TrackId")),
    table("Log", "At Message"),
]


def targets(mappings: list[TableMapping]) -> dict[str, dict[str, object]]:
    return {m.source: m.targets[0].model_dump(exclude_unset=True) for m in mappings}


def test_every_column_keys_foreign_keys_and_roles_from_the_graph() -> None:
    made = targets(generate(STORE, "snake_case", "music"))

    assert made["shop.InvoiceLine"] == {
        "table": "music.invoice_line",
        "role": "fact",
        "keys": ["invoice_line_id"],
        "columns": [
            {"source": "InvoiceLineId", "target": "invoice_line_id"},
            {"source": "TrackId", "target": "track_id"},
        ],
        "foreign_keys": [{"columns": ["track_id"], "references": "music.track"}],
    }
    roles = {source: t["role"] for source, t in made.items()}
    assert roles == {
        "shop.Artist": "dimension", "shop.Album": "dimension", "shop.Track": "dimension",
        "shop.Department": "dimension", "shop.Employee": "dimension",  # a cycle: each references the other
        "shop.InvoiceLine": "fact", "shop.Log": "fact",
    }  # fmt: skip
    assert "keys" not in made["shop.Log"]  # no primary key, no keys
    assert made["shop.Employee"]["foreign_keys"] == [
        {"columns": ["reports_to"], "references": "music.employee", "referenced_columns": ["employee_id"]},
        {"columns": ["department_id"], "references": "music.department"},
    ]


def test_as_is_keeps_names_and_the_source_schema() -> None:
    [artist] = generate([STORE[0]])
    assert artist.targets[0].model_dump(exclude_unset=True) == {
        "table": "shop.Artist",
        "role": "fact",
        "keys": ["ArtistId"],
        "columns": [{"source": "ArtistId"}, {"source": "Name"}],
    }
    [odd] = generate([table("Order Items", "Line No", schema="Old Shop")], "snake_case")
    assert (odd.source, odd.targets[0].table) == ('"Old Shop"."Order Items"', "old_shop.order_items")


def test_two_sources_that_meet_are_one_error_naming_both() -> None:
    with pytest.raises(GenerateError) as caught:
        generate([table("Orders", "Id"), table("orders", "Id"), table("Clash", "OrderId order_id")], "lower")
    assert caught.value.problems == [
        "source tables 'shop.Orders' and 'shop.orders' both become 'shop.orders' under naming: lower; list one of them "
        "under tables: with a target name of its own, or choose another naming",
    ]
    with pytest.raises(
        GenerateError, match="source table shop.Clash: columns 'OrderId' and 'order_id' both become 'order_id'"
    ):
        generate([table("Clash", "OrderId order_id")], "snake_case")


def test_explicit_entries_override_what_the_pattern_gives() -> None:
    written = (
        Project.model_validate(
            {
                "name": "p",
                "pipelines": [
                    {
                        "name": "m",
                        "source_conn_id": "s",
                        "target_conn_id": "t",
                        "tables": [
                            {
                                "source": "shop.Artist",
                                "targets": [
                                    {
                                        "table": "crm.artist",
                                        "load": "upsert",
                                        "columns": [
                                            {"source": "ArtistId", "target": "artist_ref"},
                                            {"source": "Name", "exclude": True},
                                            {"target": "tag", "expression": "'x'"},
                                        ],
                                    }
                                ],
                            },
                            {
                                "source": "Album",
                                "targets": [{"table": "music.album", "role": "fact", "keys": ["album_id"]}],
                            },
                            {"source": "shop.Extra", "targets": [{"table": "music.extra"}]},
                        ],
                    }
                ],
            }
        )
        .pipelines[0]
        .tables
    )
    extra = table("Extra", "ExtraId Note", "ExtraId")

    made = targets(
        generate(STORE[:3], "snake_case", "music", explicit=written, described=[extra], default_schema="shop")
    )

    assert list(made) == ["shop.Artist", "Album", "shop.Extra", "shop.Track"]  # the written first, in their order
    artist = made["shop.Artist"]
    assert artist["load"] == "upsert" and artist["role"] == "dimension"  # albums reference it
    assert artist["columns"] == [
        {"source": "ArtistId", "target": "artist_ref"},
        {"source": "Name", "exclude": True},
        {"target": "tag", "expression": "'x'"},
    ]
    assert artist["keys"] == ["artist_ref"]  # the primary key under the name written for it
    album = made["Album"]
    assert album["role"] == "fact" and album["keys"] == ["album_id"]  # written: kept
    assert album["columns"] == [
        {"source": "AlbumId", "target": "album_id"},
        {"source": "ArtistId", "target": "artist_id"},
    ]
    assert album["foreign_keys"] == [
        {"columns": ["artist_id"], "references": "crm.artist", "referenced_columns": ["artist_ref"]}
    ]
    assert made["shop.Extra"] == {
        "table": "music.extra",
        "columns": [{"source": "ExtraId", "target": "extra_id"}, {"source": "Note", "target": "note"}],
    }


def test_a_written_target_name_resolves_a_collision() -> None:
    written = [
        TableMapping.model_validate(
            {
                "source": "shop.Clash",
                "targets": [{"table": "public.clash", "columns": [{"source": "OrderId", "target": "order_ref"}]}],
            }
        )
    ]
    [clash] = generate([table("Clash", "OrderId order_id")], "snake_case", explicit=written, default_schema="shop")
    assert [c.target or c.source for c in clash.targets[0].columns or []] == ["order_ref", "order_id"]


def project(pipeline: str, naming: str = "as_is") -> Project:
    text = (
        f"name: p\nnaming: {naming}\npipelines:\n  - name: m\n    source_conn_id: s\n    target_conn_id: t\n" + pipeline
    )
    return parse_project(text, "p.yaml")


def test_a_target_without_columns_takes_every_column_and_stays_a_pass_through_table() -> None:
    spec = project("    tables:\n      - source: shop.Log\n        targets: [{table: landing.log}]\n")
    [pipeline] = compile_project(spec, "p.yaml").pipelines
    assert pipeline.discover is not None and pipeline.sources == ()  # found when the run starts

    plan = expand(spec, 0, [], [STORE[6]], "shop", "p.yaml")

    [source] = plan.sources
    assert source.columns == ("At", "Message") and source.moves_staging
    assert plan.discover is None


def test_expanded_patterns_compile_with_cycles_ordered_and_pass_through_when_names_stay() -> None:
    spec = project('    include: ["shop.*"]\n')
    plan = expand(spec, 0, STORE, [], "shop", "p.yaml")

    order = [str(t) for t in plan.load_order]
    assert order.index("shop.Artist") < order.index("shop.Album") < order.index("shop.Track")
    assert order.index("shop.Employee") < order.index(
        "shop.Department"
    )  # Employee -> Department closes the cycle: not followed
    assert all(s.moves_staging for s in plan.sources)
    assert {c.name for c in plan.checks if c.kind == "foreign_key"} >= {
        "shop.Employee(DepartmentId) -> shop.Department"
    }  # still checked
    snake = expand(project('    include: ["shop.*"]\n', "snake_case"), 0, STORE, [], "shop", "p.yaml")
    assert not any(s.moves_staging for s in snake.sources)  # renamed columns go through the transform


def test_a_problem_of_a_generated_table_is_named_by_its_source_table() -> None:
    long = table("Wide", "A" * 70)
    with pytest.raises(SpecError) as caught:
        expand(project('    include: ["shop.*"]\n'), 0, [long], [], "shop", "p.yaml")
    assert str(caught.value) == (
        f"p.yaml: pipelines[0].include: source table shop.Wide, targets[0].columns[0]: target column '{'A' * 70}' is "
        "70 bytes long; PostgreSQL keeps only 63: shorten it"
    )


def test_a_cycle_is_ordered_only_when_the_tables_come_from_patterns() -> None:
    plan = expand(project('    include: ["shop.*"]\n'), 0, STORE[3:5], [], "shop", "p.yaml")
    [dept, emp] = [t for s in plan.sources for t in s.targets]
    with pytest.raises(ValueError, match="target tables reference each other in a cycle"):
        order_targets([dept, emp])
    assert [str(t) for t in order_targets([dept, emp], break_cycles=True)] == ["shop.Employee", "shop.Department"]


def test_the_init_file_reads_back_as_the_generated_mappings() -> None:
    infos = [*STORE, table("yes", "on Null", "on"), table("Order Items", "Line No", schema="Old Shop")]
    tables, checks = split_cycles(generate(infos, "snake_case"))
    text = render(
        ["a header"],
        {"name": "store"},
        {"name": "main", "source_conn_id": "src", "target_conn_id": "tgt"},
        tables,
        checks,
        infos,
    )

    spec = parse_project(text, "store.yaml")
    compile_project(spec, "store.yaml")
    [pipeline] = spec.pipelines
    assert [json.dumps(t.model_dump()) for t in pipeline.tables] == [json.dumps(t.model_dump()) for t in tables]
    assert [(c.table, c.columns, c.references) for c in pipeline.validations] == [
        ("shop.employee", ["department_id"], "shop.department")
    ]
    assert "              - {source: ArtistId, target: artist_id}  # int(11) -> integer\n" in text
    assert (
        '      - {source: "on"}  # int(11) -> integer\n' in text
        and '      - {source: "Null", target: "null"}  # int(11) -> integer\n' in text
    )


def test_the_readme_example_is_at_most_ten_lines_and_compiles() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Migrate a whole database", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert len(example.splitlines()) <= 10
    [pipeline] = compile_project(parse_project(example, "chinook.yaml"), "chinook.yaml").pipelines
    assert pipeline.discover is not None and pipeline.discover.include == ("chinook.*",)
