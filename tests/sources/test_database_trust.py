"""The database source drops no row unseen in incremental runs: rows whose
``NgayCapNhat`` is NULL or unreadable reach the quarantine with a reason, and a
transaction that commits late with a stamp older than the watermark is read the next
night (the overlap window). Real MariaDB, real bundle, the pipeline's real stages."""

from __future__ import annotations

import sqlalchemy as sa
from helpers.bundle import dossier, read_table, run_pipeline, write_bundle

from motcua.dev.database_loader import load_bundle_into_database

NIGHT1 = [
    dossier("D1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000"),
    dossier("D2", 4, "20190308120000", intake="20190305090000", due="20190312170000"),
]


def _insert(src: str, rows: list[dict]) -> None:
    """Rows written straight into ``ho_so``, as the one-stop system would (the bundle
    loader refuses rows without a readable NgayCapNhat)."""
    engine = sa.create_engine(src)
    try:
        ho_so = sa.Table("ho_so", sa.MetaData(), autoload_with=engine)
        with engine.begin() as conn:
            conn.execute(ho_so.insert(), rows)
    finally:
        engine.dispose()


def _row(code: str, updated: str | None, status: int = 4) -> dict:
    return {"MaHoSo": code, "MaTTHC": "1.000001", "MaDonVi": "A1", "KenhThucHien": 1, "TrangThaiHoSo": status,
            "NgayTiepNhan": "20190306090000", "NgayHenTra": "20190313170000", "NgayCapNhat": updated}


def _night1(tmp_path, src: str, url: str) -> dict:
    load_bundle_into_database(write_bundle(tmp_path / "night0", NIGHT1), src, replace=True)
    first = run_pipeline(src, url, tmp_path / "var", incremental=True, quarantine_threshold=1.0, validate=False)
    assert first["loaded"]["dossiers_changed"] == 2
    marks = read_table(url, "audit.source_state")["watermark"].tolist()
    assert marks == ["20190308120000"], marks
    return first


def test_rows_without_a_readable_stamp_are_quarantined_not_dropped(tmp_path, mariadb_source):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    _night1(tmp_path, mariadb_source, url)
    # the next night the system holds, besides an ordinary change, a row with NULL
    # NgayCapNhat and two with garbage text (one sorting above digits, one below)
    _insert(mariadb_source, [
        _row("D3", "20190309100000"),
        _row("DNULL", None),
        _row("DTEXT", "chưa cập nhật"),
        _row("DPUNCT", "??/03/2019"),
    ])
    second = run_pipeline(mariadb_source, url, tmp_path / "var", incremental=True, quarantine_threshold=1.0,
                          validate=False)
    staged = second["staged"]
    quarantine = read_table(url, "audit.quarantine")
    bad = quarantine[quarantine["dossier_code"].isin(["DNULL", "DTEXT", "DPUNCT"])]
    assert sorted(bad["dossier_code"]) == ["DNULL", "DPUNCT", "DTEXT"], quarantine[["dossier_code", "reason"]]
    assert bad["reason"].str.startswith("updated_at_invalid: NgayCapNhat=").all(), bad["reason"].tolist()
    assert set(bad["locator"]) == {"ho_so:DNULL", "ho_so:DTEXT", "ho_so:DPUNCT"}
    # every record read is loaded or quarantined
    assert staged["records_read"] == staged["records_loaded"] + staged["records_quarantined"]
    assert staged["records_quarantined"] == 3
    assert "D3" in set(read_table(url, "core.fct_dossier")["dossier_code"])
    # re-read on the following night (they cannot be placed in time), quarantined once
    third = run_pipeline(mariadb_source, url, tmp_path / "var", incremental=True, quarantine_threshold=1.0,
                         validate=False)
    assert third["staged"]["records_quarantined"] == 3
    again = read_table(url, "audit.quarantine")
    assert sorted(again[again["dossier_code"].isin(["DNULL", "DTEXT", "DPUNCT"])]["dossier_code"]) == [
        "DNULL", "DPUNCT", "DTEXT"]


def test_a_late_commit_with_an_older_stamp_is_read_the_next_night(tmp_path, mariadb_source):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    _night1(tmp_path, mariadb_source, url)
    # a transaction that began before night 1 and committed after it: its stamp is
    # 10 minutes older than the watermark night 1 stored
    _insert(mariadb_source, [_row("DLATE", "20190308115000")])
    second = run_pipeline(mariadb_source, url, tmp_path / "var", incremental=True, quarantine_threshold=1.0,
                          validate=False)
    assert second["staged"]["records_quarantined"] == 0
    assert set(read_table(url, "core.fct_dossier")["dossier_code"]) == {"D1", "D2", "DLATE"}
