"""Alembic migrations on both engines: from an empty database, from the previous revision
with data in it, from a warehouse built before migrations existed; the result matches
warehouse.schema (one schema, no drift) and carries the Vietnamese comments."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers.warehouses import fresh_postgres_database, warehouse_url  # noqa: F401

from warehouse import bi_views, load, schema
from warehouse import engine as wh

ALL_TABLES = list(schema.metadata.sorted_tables)
ROOT = Path(__file__).resolve().parents[2]


def _relations(conn: sa.Connection) -> dict[tuple[str, str], str]:
    rows = conn.exec_driver_sql(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables "
        "WHERE table_schema IN ('core', 'mart', 'audit')").fetchall()
    return {(s, n): t for s, n, t in rows}


def _comments(conn: sa.Connection) -> tuple[dict[tuple[str, str], str | None], dict[tuple[str, str, str], str | None]]:
    """(schema, relation) -> comment and (schema, relation, column) -> comment, tables and views."""
    if conn.dialect.name == "postgresql":
        rel = conn.exec_driver_sql(
            "SELECT n.nspname, c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('core', 'mart', 'audit') "
            "AND c.relkind IN ('r', 'v')").fetchall()
        col = conn.exec_driver_sql(
            "SELECT n.nspname, c.relname, a.attname, col_description(c.oid, a.attnum) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid "
            "WHERE n.nspname IN ('core', 'mart', 'audit') AND c.relkind IN ('r', 'v') AND a.attnum > 0 "
            "AND NOT a.attisdropped").fetchall()
    else:
        rel = conn.exec_driver_sql(
            "SELECT schema_name, table_name, comment FROM duckdb_tables() "
            "WHERE schema_name IN ('core', 'mart', 'audit') UNION ALL "
            "SELECT schema_name, view_name, comment FROM duckdb_views() "
            "WHERE schema_name IN ('core', 'mart', 'audit')").fetchall()
        col = conn.exec_driver_sql(
            "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() "
            "WHERE schema_name IN ('core', 'mart', 'audit')").fetchall()
    return {(s, n): c for s, n, c in rel}, {(s, n, a): c for s, n, a, c in col}


def test_upgrade_from_empty_creates_every_table_and_view(warehouse_url):  # noqa: F811
    engine = wh.make_engine(warehouse_url)
    try:
        assert wh.current_revision(engine) is None
        wh.create_schema(engine)
        assert wh.current_revision(engine) == wh.head_revision() == "0006"
        wh.create_schema(engine)  # idempotent
        with engine.connect() as conn:
            rels = _relations(conn)
        for t in ALL_TABLES:
            assert rels.get((t.schema, t.name)) == "BASE TABLE", t.fullname
        for view, table in schema.MART_VIEWS.items():
            assert rels.get(("mart", view)) == "VIEW", view
            assert table.name == (f"{view}_v2" if view == "indicator" else f"{view}_v1")
        for v in bi_views.BI_VIEWS:
            assert rels.get(("mart", v.name)) == "VIEW", v.name
        assert len(rels) == len(ALL_TABLES) + len(schema.MART_VIEWS) + len(bi_views.BI_VIEWS)
    finally:
        engine.dispose()


def test_every_mart_table_view_and_column_has_its_vietnamese_comment(warehouse_url):  # noqa: F811
    engine = wh.make_engine(warehouse_url)
    try:
        wh.create_schema(engine)
        with engine.connect() as conn:
            rel, col = _comments(conn)
    finally:
        engine.dispose()
    for view, table in schema.MART_VIEWS.items():
        vi = table.info["vi"]
        assert rel[("mart", table.name)] == table.comment and table.comment.startswith(vi)
        assert rel[("mart", view)].startswith(vi)
        for c in table.columns:
            assert c.info["vi"] and c.comment.startswith(c.info["vi"] + " / "), (table.name, c.name)
            assert col[("mart", table.name, c.name)] == c.comment, (table.name, c.name)
        assert {c.name for c in schema.view_columns(view)} == {n for (s, r, n) in col if (s, r) == ("mart", view)}
        for c in schema.view_columns(view):
            assert col[("mart", view, c.name)] == c.comment, (view, c.name)
    for v in bi_views.BI_VIEWS:  # the BI views: every column, Vietnamese / English
        assert rel[("mart", v.name)] == v.comment
        assert {c.name for c in v.columns} == {n for (s, r, n) in col if (s, r) == ("mart", v.name)}, v.name
        for c in v.columns:
            assert col[("mart", v.name, c.name)] == c.comment and " / " in c.comment, (v.name, c.name)
    for t in ALL_TABLES:  # the other tables keep their documented grain and column notes
        assert rel[(t.schema, t.name)] == t.comment
        for c in t.columns:
            assert col[(t.schema, t.name, c.name)] == c.comment, (t.fullname, c.name)
    for t in (*schema.DIMENSION_TABLES, *schema.MART_TABLES):  # Vietnamese and English on every column
        for c in t.columns:
            assert c.comment and " / " in c.comment, (t.fullname, c.name)


def _old_rows(conn: sa.Connection) -> None:
    """Rows in the tables of revision 0001 (marts still plain tables)."""
    conn.exec_driver_sql(
        "INSERT INTO mart.dossier_resolution VALUES ('year', '2019-01-01', '2019-12-31', 'A1', '1.000001', "
        "'Thủ tục', 'Lĩnh vực', 9, 1, 8, 6, 5, 1, 2, 1, 1, 1, 3)")
    conn.exec_driver_sql(
        "INSERT INTO mart.indicator VALUES ('year', '2019-01-01', '2019-12-31', 'A1', 'on_time_rate', 5, 6, 0.8333333333333334)")
    conn.exec_driver_sql(
        "INSERT INTO mart.dossier_intake VALUES ('year', '2019-01-01', '2019-12-31', 'A1', '1.000001', "
        "'Thủ tục', '3', 'https://dvc.example', 1, 7)")
    conn.exec_driver_sql(
        "INSERT INTO audit.run (run_id, status) VALUES ('r-old', 'completed')")


def _check_old_rows_survived(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        for relation in ("mart.dossier_resolution", "mart.dossier_resolution_v1"):
            row = conn.exec_driver_sql(f"SELECT received_total, resolved_early, field_name FROM {relation}").one()
            assert tuple(row) == (9, 3, "Lĩnh vực")
        value = conn.exec_driver_sql("SELECT value FROM mart.indicator").scalar()
        assert value == pytest.approx(5 / 6, rel=1e-6)  # DuckDB kept 0001's 4-byte REAL until recomputed
        assert conn.exec_driver_sql("SELECT received_offline FROM mart.dossier_intake").scalar() == 7
        assert conn.exec_driver_sql("SELECT status FROM audit.run").scalar() == "completed"


def test_upgrade_from_previous_revision_keeps_data(warehouse_url):  # noqa: F811
    engine = wh.make_engine(warehouse_url)
    try:
        wh.upgrade(engine, "0001")
        assert wh.current_revision(engine) == "0001"
        with engine.begin() as conn:
            _old_rows(conn)
        wh.create_schema(engine)
        assert wh.current_revision(engine) == wh.head_revision()
        _check_old_rows_survived(engine)
        # and the pipeline's writes now land in the versioned table, visible through the view
        with engine.begin() as conn:
            load.replace_all(conn, schema.indicator, load.read_frame(conn, schema.indicator).assign(value=1 / 3))
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT value FROM mart.indicator").scalar() == 1 / 3
    finally:
        engine.dispose()


def test_downgrade_and_upgrade_again_keep_data(warehouse_url):  # noqa: F811
    engine = wh.make_engine(warehouse_url)
    try:
        wh.upgrade(engine, "0001")
        with engine.begin() as conn:
            _old_rows(conn)
        wh.upgrade(engine)
        wh.downgrade(engine, "0001")
        with engine.connect() as conn:
            assert ("mart", "dossier_resolution") in _relations(conn)
            assert ("mart", "dossier_resolution_v1") not in _relations(conn)
        wh.upgrade(engine)
        _check_old_rows_survived(engine)
        wh.downgrade(engine, "base")
        with engine.connect() as conn:
            assert _relations(conn) == {}
    finally:
        engine.dispose()


def test_warehouse_built_before_migrations_is_adopted(warehouse_url):  # noqa: F811
    """A warehouse from the old ``metadata.create_all`` (revision 0001's tables, no
    alembic_version) is stamped at 0001 and upgraded, data kept."""
    engine = wh.make_engine(warehouse_url)
    try:
        wh.upgrade(engine, "0001")
        with engine.begin() as conn:
            _old_rows(conn)
            conn.exec_driver_sql("DROP TABLE alembic_version")
        assert wh.current_revision(engine) is None
        wh.create_schema(engine)
        assert wh.current_revision(engine) == wh.head_revision()
        _check_old_rows_survived(engine)
    finally:
        engine.dispose()


_DUCKDB_TYPES = [(sa.BigInteger, "BIGINT"), (sa.Integer, "INTEGER"), (sa.Double, "DOUBLE"), (sa.Float, "FLOAT"),
                 (sa.String, "VARCHAR"), (sa.Boolean, "BOOLEAN"), (sa.DateTime, "TIMESTAMP"), (sa.Date, "DATE")]


def _duckdb_type(t: sa.types.TypeEngine) -> str:
    return next(name for cls, name in _DUCKDB_TYPES if isinstance(t, cls))


def test_schema_at_head_matches_the_metadata(warehouse_url):  # noqa: F811
    """No drift between warehouse/schema.py and the revisions: a change to the schema
    without a revision fails here."""
    engine = wh.make_engine(warehouse_url)
    try:
        wh.create_schema(engine)
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                from alembic.autogenerate import compare_metadata
                from alembic.migration import MigrationContext

                ctx = MigrationContext.configure(conn, opts={
                    "include_schemas": True, "compare_type": True,
                    "include_name": lambda name, type_, parents: name in schema.SCHEMAS if type_ == "schema" else True,
                    "include_object": lambda obj, name, type_, reflected, other:
                        not (type_ == "table" and name in schema.MART_VIEWS),
                })
                assert compare_metadata(ctx, schema.metadata) == []
                indexes = {r[0] for r in conn.exec_driver_sql(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = 'mart'")}
                for t in schema.MART_TABLES:
                    assert f"ix_{t.name}_agency_period" in indexes
            else:
                # duckdb_engine cannot reflect on this DuckDB: compare the catalogue by hand
                rows = conn.exec_driver_sql(
                    "SELECT schema_name, table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
                    "WHERE schema_name IN ('core', 'mart', 'audit') ORDER BY schema_name, table_name, column_index"
                ).fetchall()
                actual: dict[str, list[tuple[str, str, bool]]] = {}
                for s, t, c, typ, nullable in rows:
                    actual.setdefault(f"{s}.{t}", []).append((c, typ, nullable))
                for t in ALL_TABLES:
                    expected = [(c.name, _duckdb_type(c.type), c.nullable and not c.primary_key) for c in t.columns]
                    assert expected == actual[t.fullname], t.fullname
    finally:
        engine.dispose()


def test_migrations_run_from_any_working_directory(tmp_path, monkeypatch):
    """The Alembic config is built in code, script location inside the package."""
    assert wh.MIGRATIONS_DIR.is_dir() and (wh.MIGRATIONS_DIR / "env.py").is_file()
    assert wh.MIGRATIONS_DIR.parent == Path(wh.__file__).resolve().parent
    monkeypatch.chdir(tmp_path)
    engine = wh.make_engine(f"duckdb:///{tmp_path / 'x' / 'w.duckdb'}")
    try:
        wh.create_schema(engine)
        assert wh.current_revision(engine) == wh.head_revision()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_concurrent_upgrades_on_postgresql_are_serialised():
    """Runs starting at once on an empty PostgreSQL warehouse (separate processes, and
    threads of one process): all succeed, the schema is migrated once."""
    code = ("import sys; from warehouse.engine import create_schema, make_engine; "
            "e = make_engine(sys.argv[1]); create_schema(e); e.dispose()")
    with fresh_postgres_database() as url:
        procs = [subprocess.Popen([sys.executable, "-c", code, url], cwd=ROOT, stderr=subprocess.PIPE, text=True)
                 for _ in range(1)]
        errors: list[BaseException] = []

        def go() -> None:
            engine = wh.make_engine(url)
            try:
                wh.create_schema(engine)
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
            finally:
                engine.dispose()

        threads = [threading.Thread(target=go) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        results = [(p.wait(60), p.stderr.read() if p.stderr else "") for p in procs]
        assert errors == []
        assert [rc for rc, _ in results] == [0], results
        engine = wh.make_engine(url)
        try:
            assert wh.current_revision(engine) == wh.head_revision()
            with engine.connect() as conn:
                assert len(_relations(conn)) == len(ALL_TABLES) + len(schema.MART_VIEWS) + len(bi_views.BI_VIEWS)
        finally:
            engine.dispose()


def test_dates_and_timestamps_survive_a_migration(warehouse_url):  # noqa: F811
    engine = wh.make_engine(warehouse_url)
    try:
        wh.upgrade(engine, "0001")
        with engine.begin() as conn:
            conn.execute(schema.run.insert().values(run_id="r1", started_at=dt.datetime(2019, 3, 4, 9, 0, 0, 123456)))
        wh.create_schema(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.select(schema.run.c.started_at)).scalar() == dt.datetime(2019, 3, 4, 9, 0, 0, 123456)
    finally:
        engine.dispose()


def _primary_keys(conn: sa.Connection, table: str) -> list[str]:
    if conn.dialect.name == "postgresql":
        return sa.inspect(conn).get_pk_constraint(table, schema="core")["constrained_columns"]
    rows = conn.exec_driver_sql(
        "SELECT constraint_column_names FROM duckdb_constraints() WHERE schema_name = 'core' "
        "AND table_name = ? AND constraint_type = 'PRIMARY KEY'", (table,)).fetchall()
    return [c for r in rows for c in r[0]]


def _fact_rows(conn: sa.Connection) -> None:
    conn.execute(schema.fct_dossier.insert().values(
        dossier_code="H1", procedure_code="1.000001", agency_code="A1", status_code=9, is_received=True,
        procedure_known=True, agency_known=True, updated_at=dt.datetime(2019, 3, 8, 10), record_hash="h"))
    conn.execute(schema.fct_dossier_event.insert(), [
        {"dossier_code": "H1", "seq": 1, "status_code": 2}, {"dossier_code": "H1", "seq": 2, "status_code": 9}])


def _check_fact_rows(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(sa.select(schema.fct_dossier.c.dossier_code, schema.fct_dossier.c.updated_at)).all() == [
            ("H1", dt.datetime(2019, 3, 8, 10))]
        assert conn.execute(sa.select(schema.fct_dossier_event.c.seq, schema.fct_dossier_event.c.status_code)
                            .order_by(schema.fct_dossier_event.c.seq)).all() == [(1, 2), (2, 9)]


def test_fact_tables_hold_no_in_memory_key_on_duckdb(warehouse_url):  # noqa: F811
    """DuckDB keeps a primary key's index in memory through a load (17 GB at 10M
    dossiers), so its fact tables have none after 0004; PostgreSQL keeps its keys. The
    data survive the rebuild both ways, NOT NULL and comments too."""
    engine = wh.make_engine(warehouse_url)
    try:
        wh.upgrade(engine, "0003")
        with engine.begin() as conn:
            _fact_rows(conn)
            assert _primary_keys(conn, "fct_dossier") == ["dossier_code"]
        wh.upgrade(engine)
        duck = engine.dialect.name == "duckdb"
        with engine.connect() as conn:
            assert _primary_keys(conn, "fct_dossier") == ([] if duck else ["dossier_code"])
            assert sorted(_primary_keys(conn, "fct_dossier_event")) == ([] if duck else ["dossier_code", "seq"])
            _, cols = _comments(conn)
            assert cols[("core", "fct_dossier", "dossier_code")] == "Mã hồ sơ"
        _check_fact_rows(engine)
        with engine.begin() as conn, pytest.raises(sa.exc.DBAPIError):  # NOT NULL still holds
            conn.execute(schema.fct_dossier_event.insert().values(dossier_code=None, seq=1))
        wh.downgrade(engine, "0003")
        with engine.connect() as conn:
            assert _primary_keys(conn, "fct_dossier") == ["dossier_code"]
        _check_fact_rows(engine)
    finally:
        engine.dispose()


OLD_FIGURES = {  # revision 0003's figures: each cell's value and its dossiers
    "1.000001|received_total": {"value": 2, "dossiers": ["H1", "H2"]},
    "1.000001|pending_overdue": {"value": 1, "dossiers": ["H2"]},
    "1.000001|resolved_late": {"value": 1, "dossiers": ["H1"]},
    "2.000002|withdrawn": {"value": 1, "dossiers": ["H3"]},
}


def test_publications_move_their_dossiers_to_rows_and_back(warehouse_url):  # noqa: F811
    """0005 rewrites each publication's figures to values only and its dossiers to one
    row each, cells as bits of FIGURE_COLUMNS (received_total 0, resolved_late 5,
    pending_overdue 8, withdrawn 9); the downgrade gives the old figures back."""
    engine = wh.make_engine(warehouse_url)
    try:
        wh.upgrade(engine, "0004")
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO audit.publication VALUES ('p1', 2019, 'calendar', '*', "
                                 "'2020-01-05 10:00:00', :f)"), {"f": json.dumps(OLD_FIGURES)})
        wh.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.select(schema.publication_dossier).order_by(
                schema.publication_dossier.c.dossier_code)).all()
            figures = json.loads(conn.execute(sa.select(schema.publication.c.figures)).scalar())
        assert [tuple(r) for r in rows] == [("p1", "H1", "1.000001", 1 + 32), ("p1", "H2", "1.000001", 1 + 256),
                                            ("p1", "H3", "2.000002", 512)]
        assert figures == {k: v["value"] for k, v in OLD_FIGURES.items()}
        wh.downgrade(engine, "0004")
        with engine.connect() as conn:
            assert json.loads(conn.execute(sa.text("SELECT figures FROM audit.publication")).scalar()) == OLD_FIGURES
    finally:
        engine.dispose()
