"""Retention of the raw landing zone and the run folders (motcua/retention.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from motcua.retention import prune_raw_zone, prune_run_dirs

TODAY = dt.date(2025, 3, 15)


def _partition(data_dir: Path, source: str, day: dt.date) -> Path:
    part = data_dir / "raw" / f"source={source}" / f"extracted={day:%Y-%m-%d}"
    part.mkdir(parents=True, mode=0o700)
    (part / "run-records-00000.parquet").write_bytes(b"PAR1")
    return part


def test_prune_raw_zone_removes_partitions_older_than_the_retention(tmp_path):
    old = _partition(tmp_path, "bundle-a", TODAY - dt.timedelta(days=31))
    edge = _partition(tmp_path, "bundle-a", TODAY - dt.timedelta(days=30))
    new = _partition(tmp_path, "bundle-a", TODAY)
    only_old = _partition(tmp_path, "http-b", TODAY - dt.timedelta(days=400))
    stray = tmp_path / "raw" / "source=bundle-a" / "notes"
    stray.mkdir()
    assert prune_raw_zone(tmp_path, 30, today=TODAY, dry_run=True) == [old, only_old]
    assert old.exists() and only_old.exists()
    assert prune_raw_zone(tmp_path, 30, today=TODAY) == [old, only_old]
    assert not old.exists() and edge.exists() and new.exists() and stray.exists()
    assert not only_old.parent.exists()  # a source folder left empty goes too
    assert prune_raw_zone(tmp_path, 30, today=TODAY) == []


def test_prune_raw_zone_with_zero_days_keeps_today_only(tmp_path):
    _partition(tmp_path, "s", TODAY - dt.timedelta(days=1))
    keep = _partition(tmp_path, "s", TODAY)
    assert len(prune_raw_zone(tmp_path, 0, today=TODAY)) == 1
    assert keep.exists()


def test_prune_raw_zone_leaves_symlinks_and_odd_names_alone(tmp_path):
    outside = tmp_path / "elsewhere" / "extracted=2000-01-01"
    outside.mkdir(parents=True)
    src = tmp_path / "raw" / "source=x"
    src.mkdir(parents=True)
    (src / "extracted=2000-01-01").symlink_to(outside, target_is_directory=True)
    (src / "extracted=2000-13-45").mkdir()
    assert prune_raw_zone(tmp_path, 1, today=TODAY) == []
    assert outside.exists()


def test_prune_raw_zone_without_a_raw_zone_and_bad_retention(tmp_path):
    assert prune_raw_zone(tmp_path / "nothing", 10) == []
    for bad in (-1, 1.5, "30", True):
        with pytest.raises(ValueError):
            prune_raw_zone(tmp_path, bad)  # type: ignore[arg-type]


def test_prune_run_dirs(tmp_path):
    runs = tmp_path / "runs"
    old = runs / "20250101T120000-abcdef"
    new = runs / "20250314T120000-123456"
    other = runs / "manual"
    for d in (old, new, other):
        (d / "records").mkdir(parents=True)
    assert prune_run_dirs(tmp_path, 30, today=TODAY) == [old]
    assert not old.exists() and new.exists() and other.exists()
