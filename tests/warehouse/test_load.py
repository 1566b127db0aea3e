"""Bulk loads on both engines: values survive the round trip exactly (NULL vs empty
string, booleans, dates, timestamps, floats, awkward text), COPY is what PostgreSQL
uses, a replace is atomic, many keys are deleted in one piece."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import psycopg
import pyarrow as pa
import pytest
import sqlalchemy as sa
from helpers.warehouses import fresh_postgres_database, warehouse_url  # noqa: F401

from warehouse import load, schema
from warehouse.engine import create_schema, make_engine

md = sa.MetaData()
SAMPLE = sa.Table(
    "load_sample", md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("s", sa.String),
    sa.Column("t", sa.Text),
    sa.Column("n", sa.BigInteger),
    sa.Column("x", sa.Double),
    sa.Column("b", sa.Boolean),
    sa.Column("d", sa.Date),
    sa.Column("ts", sa.DateTime),
    schema="core",
)

TEXTS = [None, "", " ", '"', '""', "a,b", "line\nbreak", "cr\r\nlf", "back\\slash", "\\N", "NULL", "\\.",
         "Nguyễn Thị Hồng Nhung", "Nguye\u0302\u0303n (NFD)", "TCĐLCL", "emoji 🙂", "tab\there", "'quote'"]


N = len(TEXTS)
NUMBERS = [None if i % 5 == 0 else (i - 7) * 10**15 for i in range(N)]
FLOATS = [None if i % 4 == 0 else v for i, v in enumerate(
    [1 / 3, 5.8, -0.0, 1e-300, 1e300, math.inf, -math.inf, 0.1 + 0.2] * 3)][:N]
BOOLS = [None if i % 3 == 0 else bool(i % 2) for i in range(N)]
DATES = [None if i % 6 == 0 else dt.date(2019, 1, 1) + dt.timedelta(days=37 * i) for i in range(N)]
STAMPS = [None if i % 7 == 0 else dt.datetime(2019, 12, 31, 23, 59, 59, 999999) - dt.timedelta(hours=13 * i)
          for i in range(N)]


def _sample() -> pd.DataFrame:
    return pd.DataFrame({
        "id": range(N), "s": TEXTS, "t": list(reversed(TEXTS)), "n": pd.array(NUMBERS, dtype="Int64"),
        "x": FLOATS, "b": pd.array(BOOLS, dtype="boolean"), "d": DATES, "ts": STAMPS,
    })


def _engine(url: str) -> sa.Engine:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS core")
        md.create_all(conn)
    return engine


def test_values_survive_the_round_trip(warehouse_url):  # noqa: F811
    engine = _engine(warehouse_url)
    expected = _sample()
    try:
        with engine.begin() as conn:
            assert load.insert(conn, SAMPLE, expected) == len(expected)
        with engine.connect() as conn:
            got = load.read_frame(conn, sa.select(SAMPLE).order_by(SAMPLE.c.id))
            # also through the generic (non-COPY) path: same answer
            plain = [tuple(r) for r in conn.execute(sa.select(SAMPLE.c.s, SAMPLE.c.t).order_by(SAMPLE.c.id))]
    finally:
        engine.dispose()
    assert list(got.columns) == [c.name for c in SAMPLE.columns]
    assert str(got["s"].dtype) == "string" and str(got["n"].dtype) == "Int64" and str(got["b"].dtype) == "boolean"
    for col, exp in (("s", TEXTS), ("t", list(reversed(TEXTS)))):
        assert [None if pd.isna(v) else v for v in got[col]] == exp, col
        assert [r[0 if col == "s" else 1] for r in plain] == exp, col
    assert [None if pd.isna(v) else int(v) for v in got["n"]] == NUMBERS
    for a, e in zip(got["x"], FLOATS, strict=True):
        assert (pd.isna(a) and e is None) or a == e  # exact, including 1/3 and 0.1 + 0.2
    assert [None if pd.isna(v) else bool(v) for v in got["b"]] == BOOLS
    assert [None if pd.isna(v) else pd.Timestamp(v).date() for v in got["d"]] == DATES
    assert [None if pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in got["ts"]] == STAMPS


def test_nul_characters_are_replaced_on_postgresql_kept_on_duckdb(warehouse_url):  # noqa: F811
    engine = _engine(warehouse_url)
    try:
        with engine.begin() as conn:
            load.insert(conn, SAMPLE, pd.DataFrame({"id": [1], "s": ["a\x00b"]}))
        with engine.connect() as conn:
            value = conn.execute(sa.select(SAMPLE.c.s)).scalar()
    finally:
        engine.dispose()
    assert value == ("a\ufffdb" if warehouse_url.startswith("postgresql") else "a\x00b")


@pytest.mark.postgres
def test_postgresql_loads_with_copy_not_inserts(monkeypatch):
    with fresh_postgres_database() as url:
        _copy_only(url, monkeypatch)


def _copy_only(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _engine(url)
    statements: list[str] = []
    copies: list[int] = []
    real_copy_in = load._copy_in
    monkeypatch.setattr(load, "_copy_in", lambda conn, target, data: (copies.append(data.num_rows),
                                                                      real_copy_in(conn, target, data))[1])
    sa.event.listen(engine, "before_cursor_execute", lambda *a, **k: statements.append(a[2]))
    monkeypatch.setattr(load, "COPY_BATCH_ROWS", 7)  # several CSV chunks into one COPY
    try:
        with engine.begin() as conn:
            load.insert(conn, SAMPLE, _sample())
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(SAMPLE)).scalar() == len(TEXTS)
    finally:
        engine.dispose()
    assert copies == [len(TEXTS)]
    assert not [s for s in statements if s.lstrip().upper().startswith("INSERT")]


def test_replace_all_is_atomic(warehouse_url):  # noqa: F811
    """A replace that fails half-way leaves the previous rows, whole."""
    engine = make_engine(warehouse_url)
    create_schema(engine)
    t = schema.dim_field
    try:
        with engine.begin() as conn:
            load.replace_all(conn, t, pd.DataFrame({"field_code": ["F1", "F2"], "field_name": ["Một", "Hai"]}))
        with pytest.raises((sa.exc.DBAPIError, psycopg.Error)), engine.begin() as conn:  # duplicate key
            load.replace_all(conn, t, pd.DataFrame({"field_code": ["F3", "F3"], "field_name": ["x", "y"]}))
        with engine.connect() as conn:
            got = load.read_frame(conn, sa.select(t).order_by(t.c.field_code))
    finally:
        engine.dispose()
    assert got["field_code"].tolist() == ["F1", "F2"]


def test_delete_keys_many_and_few(warehouse_url, monkeypatch):  # noqa: F811
    engine = _engine(warehouse_url)
    monkeypatch.setattr(load, "KEY_LIST_LIMIT", 10)
    frame = pd.DataFrame({"id": range(100), "s": [f"k{i}" for i in range(100)]})
    try:
        with engine.begin() as conn:
            load.insert(conn, SAMPLE, frame)
            load.delete_keys(conn, SAMPLE, "id", list(range(0, 100, 2)) + [None, 10_000])  # staged keys
            load.delete_keys(conn, SAMPLE, "s", ["k1", "k3"])  # bound parameters
            load.delete_keys(conn, SAMPLE, "s", [])
        with engine.connect() as conn:
            left = load.read_frame(conn, sa.select(SAMPLE.c.id).order_by(SAMPLE.c.id))["id"].tolist()
    finally:
        engine.dispose()
    assert left == list(range(5, 100, 2))


def test_upsert_inserts_new_rows_and_replaces_existing_ones(warehouse_url):  # noqa: F811
    engine = make_engine(warehouse_url)
    create_schema(engine)
    t = schema.dim_procedure
    rows = pd.DataFrame({"procedure_code": ["1.000001", "1.000001", "1.000002"],
                         "valid_from": pd.to_datetime(["2019-01-01", "2020-01-01", "2019-01-01"]),
                         "procedure_name": ["Cũ", "Cũ 2", "Khác"], "processing_days": [5, 5, 3]})
    try:
        with engine.begin() as conn:
            assert load.upsert(conn, t, rows) == 3
        change = rows.iloc[[1]].assign(procedure_name="Mới", processing_days=7)
        new = pd.DataFrame({"procedure_code": ["1.000003"], "valid_from": pd.to_datetime(["2021-01-01"])})
        with engine.begin() as conn:
            assert load.upsert(conn, t, pd.concat([change, new], ignore_index=True)) == 2
            assert load.upsert(conn, t, rows.iloc[0:0]) == 0
        with engine.connect() as conn:
            got = load.read_frame(conn, sa.select(t.c.procedure_code, t.c.valid_from, t.c.procedure_name,
                                                  t.c.processing_days).order_by(t.c.procedure_code, t.c.valid_from))
    finally:
        engine.dispose()
    assert [(r.procedure_code, pd.Timestamp(r.valid_from).year, None if pd.isna(r.procedure_name) else r.procedure_name,
             None if pd.isna(r.processing_days) else int(r.processing_days)) for r in got.itertuples()] == [
        ("1.000001", 2019, "Cũ", 5), ("1.000001", 2020, "Mới", 7), ("1.000002", 2019, "Khác", 3),
        ("1.000003", 2021, None, None)]


def test_read_frame_gives_the_same_dtypes_on_every_engine(warehouse_url):  # noqa: F811
    engine = make_engine(warehouse_url)
    create_schema(engine)
    try:
        with engine.connect() as conn:
            empty = load.read_frame(conn, schema.fct_dossier)
    finally:
        engine.dispose()
    assert len(empty) == 0
    assert list(empty.columns) == [c.name for c in schema.fct_dossier.columns]
    dtypes = {c: str(t) for c, t in empty.dtypes.items()}
    assert dtypes["dossier_code"] == "string" and dtypes["channel_code"] == "Int64"
    assert dtypes["is_received"] == "boolean" and dtypes["intake_at"].startswith("datetime64")


def test_read_frame_with_literals_that_need_escaping(warehouse_url):  # noqa: F811
    """read_frame inlines the statement's values (COPY on PostgreSQL, Arrow on DuckDB)."""
    engine = make_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            q = sa.select(sa.literal("a'b\\c%%d%").label("s"), (sa.literal(7) % 3).label("m"),
                          sa.literal(dt.date(2019, 2, 1)).label("d"))
            got = load.read_frame(conn, q).to_dict("records")
    finally:
        engine.dispose()
    assert got == [{"s": "a'b\\c%%d%", "m": 1, "d": dt.date(2019, 2, 1)}]


def test_to_arrow_conforms_and_refuses_nulls_in_not_null_columns():
    df = pd.DataFrame({"field_code": ["F1"], "extra": [1]})
    t = load.to_arrow(schema.dim_field, df)
    assert t.schema.names == ["field_code", "field_name"] and t.column("field_name").null_count == 1
    with pytest.raises(ValueError, match="NOT NULL"):
        load.to_arrow(schema.dim_field, pd.DataFrame({"field_code": [None]}))
    assert load.arrow_type(schema.indicator.c.value) == pa.float64()


def test_upsert_on_a_fact_table_replaces_by_its_grain(warehouse_url):  # noqa: F811
    """The facts have no primary key on DuckDB (0004): upsert still replaces by grain."""
    engine = make_engine(warehouse_url)
    create_schema(engine)
    t = schema.fct_dossier_event
    rows = pd.DataFrame({"dossier_code": ["H1", "H1", "H2"], "seq": [1, 2, 1], "status_code": [2, 4, 2]})
    try:
        with engine.begin() as conn:
            assert load.upsert(conn, t, rows) == 3
        with engine.begin() as conn:
            assert load.upsert(conn, t, pd.DataFrame({"dossier_code": ["H1", "H3"], "seq": [2, 1],
                                                      "status_code": [9, 2]})) == 2
        with engine.connect() as conn:
            got = conn.execute(sa.select(t.c.dossier_code, t.c.seq, t.c.status_code)
                               .order_by(t.c.dossier_code, t.c.seq)).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in got] == [("H1", 1, 2), ("H1", 2, 9), ("H2", 1, 2), ("H3", 1, 2)]
def test_duckdb_facts_stream_in_one_pass_of_bounded_chunks(tmp_path):
    """core.fct_dossier read chunk by chunk on DuckDB: every row once, no chunk over the
    size, the same dtypes as one read, and the connection free for queries in between."""
    from warehouse.reads import iter_fct

    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    create_schema(engine)
    t = schema.fct_dossier
    order = [7, 2, 9, 0, 4, 10, 1, 8, 3, 6, 5]  # inserted out of order
    rows = [{"dossier_code": f"H{i:02d}", "procedure_code": "1.000001", "agency_code": "A1", "status_code": 9,
             "is_received": i % 2 == 0, "procedure_known": True, "agency_known": True,
             "updated_at": dt.datetime(2019, 3, 1 + i), "record_hash": f"h{i}", "rating": None if i % 3 else i}
            for i in order]
    try:
        with engine.begin() as conn:
            conn.execute(t.insert(), rows)
        with engine.connect() as conn:
            whole = load.read_frame(conn, t)
            chunks = []
            for df in iter_fct(conn, ["dossier_code", "is_received", "rating", "updated_at"], chunk=3):
                chunks.append(df)
                assert conn.exec_driver_sql("SELECT count(*) FROM core.fct_dossier").scalar() == 11
            mine = list(iter_fct(conn, ["dossier_code"], where=t.c.is_received, chunk=4))
    finally:
        engine.dispose()
    assert all(0 < len(c) <= 3 for c in chunks) and len(chunks) >= 4
    got = pd.concat(chunks, ignore_index=True).sort_values("dossier_code", ignore_index=True)
    assert got["dossier_code"].tolist() == [f"H{i:02d}" for i in range(11)]
    for c in ("is_received", "rating"):
        assert got[c].dtype == whole[c].dtype, c
        assert got[c].tolist() == whole.sort_values("dossier_code")[c].tolist()
    assert sorted(pd.concat(mine)["dossier_code"]) == [f"H{i:02d}" for i in range(0, 11, 2)]
