"""Retention of the local files that hold personal data in clear.

The raw landing zone (``data_dir/raw/source=<name>/extracted=<yyyy-mm-dd>/``) keeps every
record as read, personal data included, so it can be replayed; the run folders
(``data_dir/runs/<run_id>/``) keep the staged records (applicant ID, phone and e-mail
before pseudonymisation) and the quarantined raw text. Both are private to the owner
(0700/0600) and are deleted after ``raw_retention_days`` (setting
``MOTCUA_RAW_RETENTION_DAYS``, default 400).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
from pathlib import Path

log = logging.getLogger("motcua")

_PARTITION = re.compile(r"^extracted=(\d{4}-\d{2}-\d{2})$")
_RUN_ID = re.compile(r"^(\d{8})T\d{6}")


def _cutoff(retention_days: int, today: dt.date | None) -> dt.date:
    if isinstance(retention_days, bool) or not isinstance(retention_days, int) or retention_days < 0:
        raise ValueError(f"retention_days must be a non-negative integer, got {retention_days!r}")
    return (today or dt.date.today()) - dt.timedelta(days=retention_days)


def _remove(path: Path, dry_run: bool) -> None:
    if not dry_run:
        shutil.rmtree(path)


def prune_raw_zone(data_dir: str | Path, retention_days: int, *, today: dt.date | None = None,
                   dry_run: bool = False) -> list[Path]:
    """Delete the raw zone's partitions extracted more than ``retention_days`` days before
    ``today`` (a partition of exactly ``today - retention_days`` is kept), and the source
    folders left empty. Returns the partitions removed (or that would be, with
    ``dry_run``). Folders that do not follow the layout and symbolic links are left alone."""
    cutoff = _cutoff(retention_days, today)
    raw = Path(data_dir) / "raw"
    removed: list[Path] = []
    if not raw.is_dir():
        return removed
    for source in sorted(p for p in raw.iterdir() if p.is_dir() and not p.is_symlink()):
        for part in sorted(p for p in source.iterdir() if p.is_dir() and not p.is_symlink()):
            m = _PARTITION.match(part.name)
            if not m:
                continue
            try:
                extracted = dt.date.fromisoformat(m.group(1))
            except ValueError:
                continue
            if extracted < cutoff:
                _remove(part, dry_run)
                removed.append(part)
        if not dry_run and source.name.startswith("source=") and not any(source.iterdir()):
            source.rmdir()
    if removed:
        log.info("raw zone: %d partition(s) older than %s removed", len(removed), cutoff)
    return removed


def prune_run_dirs(data_dir: str | Path, retention_days: int, *, today: dt.date | None = None,
                   dry_run: bool = False) -> list[Path]:
    """Delete the run folders (``data_dir/runs/<yyyymmddThhmmss-…>``) of runs started more
    than ``retention_days`` days before ``today``. Returns the folders removed."""
    cutoff = _cutoff(retention_days, today)
    runs = Path(data_dir) / "runs"
    removed: list[Path] = []
    if not runs.is_dir():
        return removed
    for run_dir in sorted(p for p in runs.iterdir() if p.is_dir() and not p.is_symlink()):
        m = _RUN_ID.match(run_dir.name)
        if not m:
            continue
        try:
            started = dt.datetime.strptime(m.group(1), "%Y%m%d").date()
        except ValueError:
            continue
        if started < cutoff:
            _remove(run_dir, dry_run)
            removed.append(run_dir)
    if removed:
        log.info("run folders: %d older than %s removed", len(removed), cutoff)
    return removed
