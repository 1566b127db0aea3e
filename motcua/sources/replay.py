"""Replay source: the raw landing zone read back, so the warehouse can be rebuilt
without the original source (``motcua replay``).

The zone is laid out ``<data_dir>/raw/source=<name>/extracted=<yyyy-mm-dd>/`` with,
per run, ``<run_id>-records-NNNNN.parquet`` (``locator, record, error, run_id, source``)
and ``<run_id>-procedures.parquet`` / ``<run_id>-agencies.parquet`` (the catalogue as
read). Records are replayed in extraction order; the pipeline keeps the newest
snapshot per dossier, so replaying the same record twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from motcua.sources.base import (
    AGENCY_COLUMNS,
    PROCEDURE_COLUMNS,
    RawBatch,
    conform_catalogue,
    make_batch,
)


class ReplaySource:
    """Records of the raw zone ``raw_dir``, optionally one source and a date range."""

    def __init__(self, raw_dir: Path | str, source: str | None = None,
                 date_from: dt.date | None = None, date_to: dt.date | None = None) -> None:
        self.raw_dir = Path(raw_dir)
        if not self.raw_dir.is_dir():
            raise FileNotFoundError(f"raw zone {self.raw_dir} does not exist (nothing extracted yet?)")
        self.source = source
        self.date_from, self.date_to = date_from, date_to
        self.name = "replay"

    def _folders(self) -> list[Path]:
        out = []
        for src in sorted(self.raw_dir.glob("source=*")):
            if self.source and src.name != f"source={self.source}":
                continue
            for day in sorted(src.glob("extracted=*")):
                d = dt.date.fromisoformat(day.name.split("=", 1)[1])
                if (self.date_from and d < self.date_from) or (self.date_to and d > self.date_to):
                    continue
                out.append(day)
        return out

    def record_files(self) -> list[Path]:
        return [f for folder in self._folders() for f in sorted(folder.glob("*-records-*.parquet"))]

    def _latest(self, label: str, columns: list[str]) -> pd.DataFrame:
        files = [f for folder in self._folders() for f in folder.glob(f"*-{label}.parquet")]
        if not files:
            return pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
        latest = max(files, key=lambda f: (f.parent.name, f.name))
        return conform_catalogue(pd.read_parquet(latest), columns, str(latest))

    def read_procedures(self) -> pd.DataFrame:
        return self._latest("procedures", PROCEDURE_COLUMNS)

    def read_agencies(self) -> pd.DataFrame:
        return self._latest("agencies", AGENCY_COLUMNS)

    def iter_records(self, since: str | None = None) -> Iterator[RawBatch]:
        for f in self.record_files():
            t = pq.read_table(f, columns=["locator", "record", "error"])
            yield make_batch(t.column("locator").to_pylist(), t.column("record").to_pylist(),
                             t.column("error").to_pylist())
