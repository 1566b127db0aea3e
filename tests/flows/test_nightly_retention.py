"""The nightly flow ends with retention: the raw zone's partitions and the run folders
older than MOTCUA_RAW_RETENTION_DAYS go (they hold personal data in clear), newer ones
and the run's own files stay."""

from __future__ import annotations

import datetime as dt


def test_nightly_deletes_raw_partitions_and_run_folders_past_retention(bundles, prefect_api, tmp_path,
                                                                        monkeypatch):
    from flows.nightly import nightly

    data = tmp_path / "var"
    today = dt.date.today()
    old_day, kept_day = today - dt.timedelta(days=31), today - dt.timedelta(days=29)
    old_part = data / "raw" / "source=elsewhere" / f"extracted={old_day.isoformat()}"
    kept_part = data / "raw" / "source=elsewhere" / f"extracted={kept_day.isoformat()}"
    old_run = data / "runs" / f"{old_day:%Y%m%d}T010000-aaaaaa"
    kept_run = data / "runs" / f"{kept_day:%Y%m%d}T010000-bbbbbb"
    for folder in (old_part, kept_part, old_run, kept_run):
        folder.mkdir(parents=True)
        (folder / "x.parquet").write_bytes(b"personal data")
    monkeypatch.setenv("MOTCUA_RAW_RETENTION_DAYS", "30")

    result = nightly(source=str(bundles["old"]), warehouse=f"duckdb:///{tmp_path / 'wh.duckdb'}",
                     data_dir=str(data))

    assert result["retention"] == {"retention_days": 30, "raw_partitions_removed": 1, "run_dirs_removed": 1}
    assert not old_part.exists() and not old_run.exists()
    assert kept_part.exists() and kept_run.exists()
    # this run's own raw partition and run folder (today's) are kept
    assert (data / "runs" / result["run_id"]).is_dir()
    landed = [p for p in (data / "raw").glob("source=*/extracted=*") if p.parent.name != "source=elsewhere"]
    assert len(landed) == 1 and any(landed[0].iterdir()), sorted(str(p) for p in (data / "raw").rglob("extracted=*"))
