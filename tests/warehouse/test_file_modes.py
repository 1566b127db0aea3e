"""Trust boundary: what a run writes to disk is its owner's alone. The DuckDB warehouse
holds ``audit.quarantine`` (raw records, personal data), the raw zone and the run
folders hold the records as read: with a permissive umask (0o022) none of them has a
group or other permission bit. The BI snapshot keeps its intended read-only mode and
holds no audit table."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from helpers.bundle import dossier, run_pipeline, write_bundle

from warehouse.engine import make_engine

SNAPSHOTS = [
    dossier("M1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000",
            history=[(2, "20190304090000"), (9, "20190308100000")], ChuHoSo="Nguyễn Văn An",
            SoGiayToChuHoSo="079190001234"),
    dossier("M2", 4, "20190320100000", intake="20190318090000", due="20190325170000", history=[(2, "20190318090000")]),
    # quarantined (status outside the table): its raw text goes to audit.quarantine
    dossier("M3", 99, "20190501100000", intake="20190501090000", ChuHoSo="Trần Thị Bình"),
]


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


def test_warehouse_raw_zone_and_run_folders_are_owner_only(tmp_path: Path, permissive_umask: None) -> None:
    bundle = write_bundle(tmp_path / "bundle", SNAPSHOTS)
    data_dir = tmp_path / "data"
    warehouse = tmp_path / "wh" / "deep" / "warehouse.duckdb"  # folders the engine creates
    url = f"duckdb:///{warehouse}"
    result = run_pipeline(bundle, url, data_dir, validate=False, quarantine_threshold=0.9)
    assert result["staged"]["records_quarantined"] == 1

    assert _mode(warehouse) == 0o600
    assert _mode(warehouse.parent) == 0o700 and _mode(warehouse.parent.parent) == 0o700
    for name in ("raw", "runs"):
        paths = [data_dir / name, *(data_dir / name).rglob("*")]
        assert len(paths) > 2
        loose = {str(p.relative_to(data_dir)): oct(_mode(p)) for p in paths if _mode(p) & 0o077}
        assert not loose, f"readable by others: {loose}"

    # the WAL DuckDB re-creates (with the umask) while writing is owner-only too
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("CREATE TABLE main.scratch AS SELECT * FROM audit.quarantine"))
            conn.commit()
            wal = Path(f"{warehouse}.wal")
            assert wal.exists()  # the connection is open: DuckDB has not checkpointed it away
            assert _mode(wal) & 0o077 == 0, oct(_mode(wal))
            conn.execute(sa.text("DROP TABLE main.scratch"))
            conn.commit()
    finally:
        engine.dispose()
    assert _mode(warehouse) == 0o600


def test_bi_snapshot_keeps_its_mode_and_holds_no_audit(tmp_path: Path, permissive_umask: None) -> None:
    from warehouse.bi import SNAPSHOT_FILE, publish_bi_snapshot

    bundle = write_bundle(tmp_path / "bundle", SNAPSHOTS)
    data_dir = tmp_path / "data"
    url = f"duckdb:///{data_dir / 'warehouse.duckdb'}"
    run_pipeline(bundle, url, data_dir, validate=False, quarantine_threshold=0.9)
    snap = publish_bi_snapshot(url, data_dir / "bi")  # what the flow does after publishing
    assert _mode(data_dir / "bi" / SNAPSHOT_FILE) == 0o444
    con = duckdb.connect(str(snap.database), read_only=True)
    try:
        schemas = {r[0] for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables").fetchall()}
    finally:
        con.close()
    assert "audit" not in schemas and "mart" in schemas


def test_a_warehouse_in_a_shared_folder_keeps_its_file_and_spill_private(tmp_path: Path, permissive_umask: None,
                                                                         monkeypatch) -> None:
    """The warehouse's folder exists and is open to others (0755, not ours to change): the
    file is still 0600, and DuckDB's spill folder ``<file>.tmp`` (rows that do not fit in
    memory) is owner-only while it holds data."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    warehouse = shared / "warehouse.duckdb"
    url = f"duckdb:///{warehouse}"
    run_pipeline(write_bundle(tmp_path / "bundle", SNAPSHOTS), url, tmp_path / "data", validate=False,
                 quarantine_threshold=0.9)
    assert _mode(warehouse) == 0o600 and _mode(shared) == 0o755

    monkeypatch.setenv("MOTCUA_DUCKDB_MEMORY_LIMIT", "60MB")
    monkeypatch.setenv("MOTCUA_DUCKDB_THREADS", "1")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT s FROM (SELECT (random() * 1e9)::BIGINT::VARCHAR || repeat('x', 50) AS s "
                "FROM range(1500000)) ORDER BY s")).fetchall()
            assert len(rows) == 1_500_000
            spill = Path(f"{warehouse}.tmp")
            assert spill.is_dir() and list(spill.iterdir()), "the query did not spill"
            assert _mode(spill) == 0o700
    finally:
        engine.dispose()
