"""The golden scenario of tests/flows/test_golden_small.py, end to end on DuckDB and on
PostgreSQL: the same marts and the same core, to the last value."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from helpers.bundle import read_table, run_pipeline, write_bundle
from helpers.warehouses import make_warehouse

from warehouse import schema

_GOLDEN_PATH = Path(__file__).resolve().parents[1] / "flows" / "test_golden_small.py"


def _load_golden():
    spec = importlib.util.spec_from_file_location("motcua_golden_small_data", _GOLDEN_PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


golden = _load_golden()

MARTS = schema.MART_VIEWS


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The golden bundle run on a fresh DuckDB and a fresh PostgreSQL warehouse."""
    tmp = tmp_path_factory.mktemp("golden-engines")
    bundle = write_bundle(tmp / "bundle", golden.SNAPSHOTS, files=2)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if conn.dialect.name == "postgresql":
            statements.append(statement)

    with make_warehouse("postgres", tmp) as pg, make_warehouse("duckdb", tmp) as duck:
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
        try:
            results = {name: run_pipeline(bundle, url, tmp / f"var-{name}", validate=False)
                       for name, url in (("duckdb", duck), ("postgres", pg))}
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
        yield {"duckdb": duck, "postgres": pg, "bundle": bundle, "tmp": tmp, "results": results,
               "pg_statements": statements}


def _canonical(df: pd.DataFrame, table: sa.Table) -> list[tuple]:
    """Rows as plain Python values (dates and timestamps as datetimes, missing as None),
    sorted by the table's key."""
    out = df.copy()
    for c in table.columns:
        if c.name in out.columns and isinstance(c.type, sa.Date | sa.DateTime):
            out[c.name] = [None if pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in out[c.name]]
    out = out.astype(object).where(out.notna(), None)
    key = [out.columns.get_loc(c.name) for c in table.primary_key.columns]
    return sorted((tuple(r) for r in out.itertuples(index=False)), key=lambda r: tuple(str(r[i]) for i in key))


@pytest.mark.postgres
@pytest.mark.parametrize("view", list(MARTS))
def test_marts_are_identical_on_both_engines(runs, view):
    # the versioned tables, every row (mart.indicator_v2's two agency scopes included)
    duck = read_table(runs["duckdb"], MARTS[view].fullname)
    pg = read_table(runs["postgres"], MARTS[view].fullname)
    assert list(duck.columns) == list(pg.columns) == [c.name for c in schema.MART_VIEWS[view].columns]
    assert len(duck) > 0
    assert _canonical(duck, MARTS[view]) == _canonical(pg, MARTS[view])


@pytest.mark.postgres
@pytest.mark.parametrize("table", [t.fullname for t in (*schema.DIMENSION_TABLES, *schema.FACT_TABLES)])
def test_core_is_identical_on_both_engines(runs, table):
    t = schema.metadata.tables[table]
    duck = read_table(runs["duckdb"], table).drop(columns=["run_id"], errors="ignore")
    pg = read_table(runs["postgres"], table).drop(columns=["run_id"], errors="ignore")
    assert _canonical(duck, t) == _canonical(pg, t)


@pytest.mark.postgres
@pytest.mark.parametrize("period_type,start,expected", [
    ("year", "2019-01-01", golden.EXPECTED_2019),
    ("year", "2020-01-01", golden.EXPECTED_2020),
    ("month", "2019-03-01", golden.EXPECTED_MAR_2019),
])
def test_golden_counts_on_postgresql(runs, period_type, start, expected):
    df = read_table(runs["postgres"], "mart.dossier_resolution")
    row = df[(df["period_type"] == period_type) & (pd.to_datetime(df["period_start"]) == pd.Timestamp(start))]
    assert len(row) == 1
    assert {k: int(row.iloc[0][k]) for k in expected} == expected


@pytest.mark.postgres
def test_running_again_in_another_order_changes_nothing_on_postgresql(runs):
    url = runs["postgres"]
    before = {v: read_table(url, MARTS[v].fullname) for v in MARTS}
    bundle = write_bundle(runs["tmp"] / "bundle-reversed", list(reversed(golden.SNAPSHOTS)), files=3)
    run_pipeline(bundle, url, runs["tmp"] / "var-again", validate=False)
    for v, df in before.items():
        assert _canonical(read_table(url, MARTS[v].fullname), MARTS[v]) == _canonical(df, MARTS[v])


@pytest.mark.postgres
def test_postgresql_bulk_rows_arrive_by_copy(runs):
    """The dossier facts, their events, the dimensions and the marts are written with
    COPY (psycopg's cursor, unseen by SQLAlchemy), never with row INSERTs."""
    bulk = [t.fullname for t in (*schema.FACT_TABLES, *schema.DIMENSION_TABLES, *schema.MART_TABLES)]
    inserts = [s for s in runs["pg_statements"] if s.lstrip().upper().startswith("INSERT")
               and any(name in s for name in bulk)]
    assert runs["pg_statements"] and inserts == []
