"""The contract every source follows.

A source gives three things:

* ``read_procedures()`` -> DataFrame with the columns of ``procedures.csv``
  (``MaTTHC, TenTTHC, MaLinhVuc, TenLinhVuc, MaDonVi, ThoiHanGiaiQuyet, MucDo,
  DiaChiDangTai, CongKhai, MotCua, LienThong, HieuLucTu, HieuLucDen``), all as strings
  (empty/None for missing);
* ``read_agencies()`` -> DataFrame with ``MaDonVi, TenDonVi, MaDonViCha, HieuLucTu,
  HieuLucDen, ThayTheBoi``, all as strings;
* ``iter_records(since)`` -> iterator of :class:`RawBatch`: Arrow tables with the
  columns of :data:`RAW_SCHEMA`, one row per record (line, row, API item) **as read**:
  ``record`` is the raw text (a JSON snapshot for bundles, the API and the database;
  a JSON object of the mapped row for spreadsheets); ``locator`` says where it came
  from (``file:line``, ``page N item K``, ``ho_so:<MaHoSo>``); ``error`` is null, or the
  reason the source itself could not read it (bad encoding, an unmappable spreadsheet
  row, a truncated body, a record over ``max_record_bytes`` -- ``record_too_large``, see
  :mod:`motcua.sources.limits`): such records are quarantined with that reason.
  ``since`` is a watermark ``yyyyMMddHHmmss`` (or None for everything); sources that
  can filter by ``NgayCapNhat`` do, others may return more (the pipeline de-duplicates).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pandas as pd
import pyarrow as pa

from motcua.sources.limits import Limits, bound_records, safe_text

RAW_SCHEMA = pa.schema(
    [
        pa.field("locator", pa.string(), nullable=False),
        pa.field("record", pa.string(), nullable=False),
        pa.field("error", pa.string(), nullable=True),
    ]
)

PROCEDURE_COLUMNS = [
    "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaDonVi", "ThoiHanGiaiQuyet", "MucDo",
    "DiaChiDangTai", "CongKhai", "MotCua", "LienThong", "HieuLucTu", "HieuLucDen",
]
AGENCY_COLUMNS = ["MaDonVi", "TenDonVi", "MaDonViCha", "HieuLucTu", "HieuLucDen", "ThayTheBoi"]

RawBatch = pa.Table


def make_batch(locators: list[str], records: list[str], errors: list[str | None] | None = None,
               limits: Limits | None = None) -> RawBatch:
    """Build a raw batch from parallel lists.

    With ``limits``, a record over ``max_record_bytes`` is cut to its first bytes with a
    ``record_too_large`` error (:func:`~motcua.sources.limits.bound_records`). Text that
    UTF-8 cannot carry (a lone surrogate, from ``json.loads`` of ``"\\ud800"``, a file
    name, a decoder) is escaped (:func:`~motcua.sources.limits.safe_text`) instead of
    breaking the batch."""
    if errors is None:
        errors = [None] * len(records)
    if limits is not None:
        records, errors = list(records), list(errors)
        bound_records(records, errors, limits)
    try:
        return pa.table({"locator": locators, "record": records, "error": errors}, schema=RAW_SCHEMA)
    except UnicodeEncodeError:
        def safe(values: list) -> list:
            return [v if v is None else safe_text(v) for v in values]

        return pa.table({"locator": safe(locators), "record": safe(records), "error": safe(errors)},
                        schema=RAW_SCHEMA)


def conform_catalogue(df: pd.DataFrame, columns: list[str], what: str) -> pd.DataFrame:
    """Keep the contract's columns as strings; a missing required column is an error."""
    missing = [c for c in columns[:1] if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; got {list(df.columns)}")
    out = pd.DataFrame({c: (df[c] if c in df.columns else None) for c in columns})
    for c in columns:
        out[c] = out[c].astype("string").str.strip()
        out[c] = out[c].mask(out[c] == "")
    return out


class Source(Protocol):
    """What the pipeline needs from a place that holds the dossier log."""

    name: str

    def read_procedures(self) -> pd.DataFrame: ...

    def read_agencies(self) -> pd.DataFrame: ...

    def iter_records(self, since: str | None = None) -> Iterator[RawBatch]: ...
