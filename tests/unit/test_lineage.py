"""Column lineage read from the compiled plan (sqlglot), and how each engine's tables are named for OpenLineage."""

from __future__ import annotations

import pytest

from databridge.compiler import compile_project
from databridge.compiler.lineage import columns_read, filter_columns, target_lineage
from databridge.compiler.plan import TableRef, TargetPlan
from databridge.engines.base import ConnectionInfo
from databridge.engines.lineage import DatasetId, dataset_id, target_uri
from databridge.spec import load_project
from tests.conftest import REPO


def demo_target(table: str) -> TargetPlan:
    plan = compile_project(load_project(REPO / "include" / "mappings" / "demo_shop.yaml"), "demo_shop.yaml")
    return next(t for s in plan.pipelines[0].sources for t in s.targets if str(t.table) == table)


def test_each_target_column_names_the_source_columns_it_reads() -> None:
    lineage = {c.target: (c.sources, c.identity) for c in target_lineage(demo_target("analytics.dim_customer"))}
    assert lineage == {
        "customer_id": (("id",), False),  # cast to bigint
        "full_name": (("first_name", "last_name"), False),
        "email": (("email",), False),
        "country_code": (("country",), False),
        "loyalty_points": (("loyalty_points",), False),
        "signup_date": (("signed_up_at",), False),
    }
    line_total = next(c for c in target_lineage(demo_target("analytics.fact_order_line")) if c.target == "line_total")
    assert line_total.sources == ("quantity", "unit_price", "discount")


def test_a_filter_reads_its_columns() -> None:
    assert filter_columns(demo_target("analytics.customer_contact")) == ("newsletter",)
    assert filter_columns(demo_target("analytics.dim_customer")) == ()


def test_only_quoted_names_are_source_columns() -> None:
    assert columns_read('CASE WHEN "a b" IS NULL THEN CURRENT_DATE ELSE CAST("A" AS date) END') == ("a b", "A")
    assert columns_read("upper(CAST(\"x\" AS text)) || 'y'") == ("x",)


@pytest.mark.parametrize(
    ("conn_type", "host", "port", "database", "table", "expected"),
    [
        ("postgres", "pg", None, "dwh", TableRef(None, "t"), DatasetId("postgres://pg:5432", "dwh.public.t")),
        ("postgres", "pg", 5433, "dwh", TableRef("s", "t"), DatasetId("postgres://pg:5433", "dwh.s.t")),
        ("mysql", "my", None, "shop", TableRef("shop", "orders"), DatasetId("mysql://my:3306", "shop.orders")),
        ("mariadb", "my", 3307, "shop", TableRef(None, "orders"), DatasetId("mysql://my:3307", "shop.orders")),
        ("mssql", "ms", None, "erp", TableRef("dbo", "Users"), DatasetId("mssql://ms:1433", "erp.dbo.Users")),
        ("mongo", "mg", None, "app", TableRef("app", "users"), DatasetId("mongodb://mg:27017", "app.users")),
        (
            "sqlite",
            "/data/shop.db",
            None,
            None,
            TableRef("main", "orders"),
            DatasetId("sqlite:///data/shop.db", "main.orders"),
        ),
    ],
)
def test_datasets_are_named_as_openlineage_names_them(
    conn_type: str, host: str, port: int | None, database: str | None, table: TableRef, expected: DatasetId
) -> None:
    assert dataset_id(ConnectionInfo("c", conn_type, host, port, database=database), table) == expected


def test_target_uris_follow_the_postgres_provider() -> None:
    from airflow.sdk import Asset

    uri = target_uri(ConnectionInfo("c", "postgres", "pg", None, database="dwh"), TableRef(None, "t"))
    assert uri == "postgres://pg:5432/dwh/public/t"
    assert Asset(uri).uri == uri  # the provider's sanitizer leaves it as it is
