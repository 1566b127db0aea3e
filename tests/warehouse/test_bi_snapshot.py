"""The BI snapshot of a DuckDB warehouse: marts and dimensions only, read-only, swapped
in atomically; its readers are never blocked by a run writing the main file and never
see half of a snapshot."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers.bundle import dossier, read_table, run_pipeline, write_bundle
from helpers.warehouses import fresh_postgres_database

from motcua.cli import main
from warehouse import bi, bi_views, load, schema
from warehouse import engine as wh
from warehouse.engine import make_engine

SNAPSHOTS = [
    dossier("D1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000"),
    dossier("D2", 4, "20190305100000", intake="20190305090000", due="20190312170000", channel=2),
    dossier("D3", 9, "20200112090000", intake="20200104090000", due="20200111170000", resolved="20200112090000"),
]
BI_TABLES = ({f"mart.{v}" for v in schema.MART_VIEWS} | {f"mart.{v.name}" for v in bi_views.BI_VIEWS}
             | {t.fullname for t in schema.DIMENSION_TABLES})


@pytest.fixture(scope="module")
def loaded_file(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("snapshot-source")
    url = f"duckdb:///{tmp / 'warehouse.duckdb'}"
    run_pipeline(write_bundle(tmp / "bundle", SNAPSHOTS), url, tmp / "var", validate=False)
    return tmp / "warehouse.duckdb"


@pytest.fixture
def warehouse(loaded_file, tmp_path) -> str:
    """A DuckDB warehouse after one run (a copy for each test)."""
    shutil.copy(loaded_file, tmp_path / "warehouse.duckdb")
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {f"{s}.{t}" for s, t in con.sql(
        "SELECT table_schema, table_name FROM information_schema.tables").fetchall()}


def test_snapshot_holds_the_marts_and_dimensions_only(warehouse, tmp_path):
    out = tmp_path / "bi"
    snap = bi.publish_bi_snapshot(warehouse, out)
    assert snap.database == out / "motcua_bi.duckdb"
    assert stat.S_IMODE(snap.database.stat().st_mode) == 0o444
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".parquet-")) == ["motcua_bi.duckdb", "parquet"]
    con = duckdb.connect(str(snap.database), read_only=True)
    try:
        assert _tables(con) == BI_TABLES | {"main.snapshot_info"}
        for view in schema.MART_VIEWS:
            got = con.sql(f"SELECT * FROM mart.{view}").df()
            expected = read_table(warehouse, f"mart.{view}")
            assert len(got) == len(expected) > 0
            assert list(got.columns) == list(expected.columns)
            parquet = pq.read_table(out / "parquet" / "mart" / f"{view}.parquet").to_pandas()
            assert len(parquet) == len(expected)
        comment = con.sql("SELECT comment FROM duckdb_tables() WHERE table_name = 'dossier_resolution'").fetchall()[0][0]
        assert comment.startswith(schema.dossier_resolution.info["vi"])
        col = con.sql("SELECT comment FROM duckdb_columns() WHERE table_name = 'dossier_resolution' "
                      "AND column_name = 'carried_over'").fetchall()[0][0]
        assert col == "(5) Số kỳ trước chuyển qua / stock: open at the period's start"
        info = con.sql("SELECT schema_revision, last_run_id FROM snapshot_info").fetchall()[0]
        assert info[0] == wh.head_revision() and info[1]
    finally:
        con.close()
    assert {f"{p.parent.name}.{p.stem}" for p in (out / "parquet").glob("*/*.parquet")} == BI_TABLES


@pytest.mark.postgres
def test_snapshot_works_from_postgresql_too(tmp_path):
    with fresh_postgres_database() as url:
        run_pipeline(write_bundle(tmp_path / "bundle", SNAPSHOTS), url, tmp_path / "var", validate=False)
        snap = bi.publish_bi_snapshot(url, tmp_path / "bi", parquet=False)
        expected = read_table(url, "mart.indicator")
    assert snap.parquet_dir is None
    con = duckdb.connect(str(snap.database), read_only=True)
    try:
        assert con.sql("SELECT count(*) FROM mart.indicator").fetchall()[0][0] == len(expected) > 0
        assert "core.fct_dossier" not in _tables(con)
    finally:
        con.close()


WRITER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("BEGIN")
    con.execute("DELETE FROM mart.dossier_resolution_v1")
    print("writing", flush=True)
    sys.stdin.read()  # holds the file and its transaction until the test closes stdin
""")


def test_snapshot_reader_is_never_blocked_while_a_run_writes_the_main_file(warehouse, tmp_path):
    snap = bi.publish_bi_snapshot(warehouse, tmp_path / "bi")
    main_file = warehouse.removeprefix("duckdb:///")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, main_file], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        # the main file is locked by the writing process: a BI tool reading it would fail (or wait)
        with pytest.raises(duckdb.IOException):
            duckdb.connect(main_file, read_only=True)
        # the snapshot answers at once, with complete marts
        code = ("import sys, duckdb; c = duckdb.connect(sys.argv[1], read_only=True); "
                "print(c.sql('SELECT count(*) FROM mart.dossier_resolution').fetchall()[0][0])")
        t0 = time.monotonic()
        out = subprocess.run([sys.executable, "-c", code, str(snap.database)], capture_output=True, text=True,
                             timeout=30, check=True)
        assert time.monotonic() - t0 < 15
        assert int(out.stdout) == snap.rows["mart.dossier_resolution"] > 0
        # and publishing is refused with a clear message rather than waiting on the lock
        with pytest.raises(RuntimeError, match="a run may hold it"):
            bi.publish_bi_snapshot(warehouse, tmp_path / "bi")
    finally:
        writer.stdin.close()
        writer.wait(30)
        if writer.poll() is None:
            writer.kill()


READER = textwrap.dedent("""
    import json, sys, threading, duckdb
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    seen = []

    def read():
        con = duckdb.connect(sys.argv[1], read_only=True)
        seen.append([con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in
                     ("mart.dossier_resolution", "mart.dossier_intake", "mart.indicator")])
        con.close()

    read()
    print("ready", flush=True)
    while not done.wait(0.02):
        read()
    read()  # once more after the last publish
    print(json.dumps(seen), flush=True)
""")


def _shrink_marts(url: str, keep: int) -> tuple[int, int, int]:
    """Replace the warehouse's marts with their first ``keep`` rows: a new, distinguishable state."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for t in schema.MART_TABLES:
                load.replace_all(conn, t, load.read_frame(conn, t).head(keep))
        with engine.connect() as conn:  # the rows BI reads: the stable views
            return tuple(conn.exec_driver_sql(f"SELECT count(*) FROM mart.{v}").scalar() for v in schema.MART_VIEWS)
    finally:
        engine.dispose()


def test_readers_see_a_whole_snapshot_old_or_new_never_half(warehouse, tmp_path):
    out = tmp_path / "bi"
    states = []
    snap = bi.publish_bi_snapshot(warehouse, out)
    states.append(tuple(snap.rows[f"mart.{v}"] for v in schema.MART_VIEWS))
    held = duckdb.connect(str(snap.database), read_only=True)  # a BI session kept open
    first = held.sql("SELECT count(*) FROM mart.indicator").fetchall()[0][0]
    reader = subprocess.Popen([sys.executable, "-c", READER, str(snap.database)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "ready"
        for keep in (20, 3):
            states.append(_shrink_marts(warehouse, keep))
            bi.publish_bi_snapshot(warehouse, out)
        seen = json.loads(reader.communicate("", timeout=60)[0])
    finally:
        if reader.poll() is None:
            reader.kill()
    assert all(tuple(s) in states for s in seen), (states, seen[:5])
    assert tuple(seen[0]) == states[0] and tuple(seen[-1]) == states[-1] and len(seen) > 2
    # the open session still reads its own, complete snapshot
    assert held.sql("SELECT count(*) FROM mart.indicator").fetchall()[0][0] == first
    held.close()
    assert not [p for p in out.iterdir() if p.name.endswith((".tmp", ".wal", ".link"))]
    assert len(list(out.glob(".parquet-*"))) == 2  # the current Parquet version and the previous one
    final = duckdb.connect(str(out / "motcua_bi.duckdb"), read_only=True)
    try:
        assert tuple(final.sql(f"SELECT count(*) FROM mart.{v}").fetchall()[0][0] for v in schema.MART_VIEWS) == states[-1]
    finally:
        final.close()
    assert len(pd.read_parquet(out / "parquet" / "mart" / "indicator.parquet")) == states[-1][2]


def test_snapshot_command(warehouse, tmp_path):
    result = CliRunner().invoke(main, ["warehouse", "snapshot", "--warehouse", warehouse, "--out",
                                       str(tmp_path / "bi")])
    assert result.exit_code == 0, result.output
    assert "mart.dossier_resolution" in result.output and (tmp_path / "bi" / "motcua_bi.duckdb").is_file()
    missing = CliRunner().invoke(main, ["warehouse", "snapshot", "--warehouse",
                                        f"duckdb:///{tmp_path / 'none.duckdb'}", "--out", str(tmp_path / "x")])
    assert missing.exit_code == 1 and "no DuckDB warehouse" in missing.output


def test_grant_bi_on_duckdb_explains_and_points_to_the_snapshot(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    result = CliRunner().invoke(main, ["warehouse", "grant-bi", "bi_reader", "--warehouse", url])
    assert result.exit_code == 1
    assert "DuckDB has no roles" in result.output and "motcua warehouse snapshot" in result.output


def test_upgrade_command(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    first = CliRunner().invoke(main, ["warehouse", "upgrade", "--warehouse", url])
    assert first.exit_code == 0 and f"migrated from an empty database to revision {wh.head_revision()}" in first.output
    again = CliRunner().invoke(main, ["warehouse", "upgrade", "--warehouse", url])
    assert again.exit_code == 0 and f"already at revision {wh.head_revision()}" in again.output
    assert os.path.exists(tmp_path / "w.duckdb")
