"""The BI snapshot opens in an OLDER DuckDB than the one that wrote it: BI drivers bundle
a DuckDB 1.x, which cannot read DuckDB 2.0's default storage format, so
:func:`warehouse.bi.publish_bi_snapshot` pins ``bi.SNAPSHOT_STORAGE_VERSION``.

The old DuckDB (``OLD_DUCKDB``, the only older wheel on the offline index) lives in its
own virtualenv, created once per machine under ``~/.cache/motcua-test/`` (or
``$XDG_CACHE_HOME/motcua-test/``) and reused; it reads the snapshot in a subprocess,
read-only, and its row counts and sums must equal those of the warehouse itself. When
the wheel cannot be installed the test is skipped, loudly; under ``CI=true`` it fails.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers.bundle import dossier, run_pipeline, write_bundle
from helpers.cached_venv import cached_venv, pip_steps

from warehouse import bi, schema
from warehouse.engine import head_revision, make_engine

OLD_DUCKDB = "1.5.6"

SNAPSHOTS = [
    dossier("C1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000"),
    dossier("C2", 4, "20190305100000", intake="20190305090000", due="20190312170000", channel=2),
    dossier("C3", 9, "20190320100000", intake="20190310090000", due="20190315170000", resolved="20190320100000"),
    dossier("C4", 9, "20200112090000", intake="20200104090000", due="20200111170000", resolved="20200112090000",
            channel=2),
]


def _version_of(python: Path) -> str | None:
    try:
        out = subprocess.run([str(python), "-c", "import duckdb; print(duckdb.__version__)"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@pytest.fixture(scope="session")
def old_duckdb_python() -> Path:
    """The Python of a virtualenv holding duckdb ``OLD_DUCKDB`` only: created the first
    time (:func:`helpers.cached_venv.cached_venv`), reused afterwards."""
    # pip as configured on this machine (the offline index); a wheel, never a build
    return cached_venv(
        f"duckdb-{OLD_DUCKDB}",
        lambda venv: pip_steps(venv, ["--only-binary=:all:", f"duckdb=={OLD_DUCKDB}"]),
        lambda python: _version_of(python) == OLD_DUCKDB,
        what=f"OLD DUCKDB {OLD_DUCKDB}",
        consequence="the BI snapshot's compatibility with DuckDB 1.x readers is NOT tested",
    )


def _summary_sql() -> dict[str, str]:
    """``relation`` -> one SELECT of its row count and the sum of each numeric column (as
    DOUBLE), the same SQL for the warehouse and for the snapshot."""
    out = {}
    for name, rel in bi.bi_relations().items():
        numeric = [c.name for c in rel.columns if isinstance(c.type, (sa.Integer, sa.Float, sa.Numeric))]
        sums = "".join(f", CAST(sum({c}) AS DOUBLE)" for c in numeric)
        out[name] = f"SELECT count(*){sums} FROM {name}"
    return out


OLD_READER = textwrap.dedent("""
    import json, sys, duckdb
    path, queries = sys.argv[1], json.loads(sys.argv[2])
    con = duckdb.connect(path, read_only=True)
    try:
        out = {
            "version": duckdb.__version__,
            "tables": sorted(f"{s}.{t}" for s, t in con.sql(
                "SELECT table_schema, table_name FROM information_schema.tables").fetchall()),
            "summaries": {name: list(con.sql(q).fetchall()[0]) for name, q in queries.items()},
            "comment": con.sql("SELECT comment FROM duckdb_tables() "
                               "WHERE table_name = 'dossier_resolution'").fetchall()[0][0],
            "info": [str(v) for v in con.sql("SELECT schema_revision, last_run_id FROM snapshot_info").fetchall()[0]],
        }
    finally:
        con.close()
    print(json.dumps(out))
""")


def test_an_older_duckdb_opens_the_snapshot_read_only_and_reads_what_the_warehouse_holds(old_duckdb_python, tmp_path):
    data_dir = tmp_path / "data"
    url = f"duckdb:///{data_dir / 'warehouse.duckdb'}"
    result = run_pipeline(write_bundle(tmp_path / "bundle", SNAPSHOTS), url, data_dir, validate=False)
    snap = bi.publish_bi_snapshot(url, data_dir / "bi")  # where the flows publish it
    queries = _summary_sql()

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            expected = {name: list(conn.execute(sa.text(q)).one()) for name, q in queries.items()}
    finally:
        engine.dispose()
    assert all(expected[f"mart.{v}"][0] > 0 for v in schema.MART_VIEWS), expected  # marts not empty

    done = subprocess.run([str(old_duckdb_python), "-c", OLD_READER, str(snap.database), json.dumps(queries)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"DuckDB {OLD_DUCKDB} could not read the snapshot:\n{done.stderr}"
    got = json.loads(done.stdout)
    assert got["version"] == OLD_DUCKDB
    assert set(got["tables"]) == set(queries) | {"main.snapshot_info"}
    for name, want in expected.items():
        have = got["summaries"][name]
        assert have[0] == want[0] == snap.rows[name], (name, have, want)
        assert [v is None for v in have[1:]] == [v is None for v in want[1:]], (name, have, want)
        assert [v for v in have[1:] if v is not None] == pytest.approx(
            [float(v) for v in want[1:] if v is not None]), (name, have, want)
    assert got["comment"].startswith(schema.dossier_resolution.info["vi"])
    assert got["info"] == [head_revision(), result["run_id"]]
