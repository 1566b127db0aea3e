"""Vendor spreadsheet source: one row per dossier, Vietnamese column headers.

Vendors' one-stop systems export their dossier registers as XLSX or CSV with headers
such as "Mã hồ sơ", "Ngày tiếp nhận", "Trạng thái". This source maps such a sheet onto
the snapshot contract (domain.md section 2):

* **headers** are matched tolerantly: case, accents (with "Đ" as "D"), spacing and
  punctuation are ignored, so "  MA HO SO", "Mã hồ sơ:" and "ma_ho_so" are the same
  header; the contract's own names ("MaHoSo") are accepted too. The default aliases
  (:data:`~motcua.sources.sheet_mapping.FIELD_ALIASES`) can be extended or overridden
  with a mapping file (YAML, JSON or CSV, see
  :func:`~motcua.sources.sheet_mapping.load_mapping`);
* the **header row** is the first of the first 30 rows with the most recognised
  headers, so title rows above it ("DANH SÁCH HỒ SƠ ...") are skipped;
* **dates** ``dd/mm/yyyy[ HH:MM[:SS]]`` (also ``-`` or ``.`` separators, or the time
  first), Excel serial dates (numbers, or 5-digit numeric text in CSVs), native
  spreadsheet dates and the contract's own forms (``yyyyMMddHHmmss``, ISO 8601, with
  ``Z``/offset) become ``yyyyMMddHHmmss`` local time;
* **channel** and **status** may be codes or Vietnamese text ("Trực tuyến",
  "Đã trả kết quả"); agency names are turned into codes when the agencies are known;
* **encodings**: UTF-8 with or without BOM, UTF-16 (with BOM, or detected from NUL
  bytes), else Windows-1258 (CSV); XLSX is read with openpyxl in read-only mode.

Each non-empty row after the header becomes one record. A mapped row is
``record`` = the JSON snapshot (contract names; ``QuaTrinhXuLy`` is ``[]`` since sheets
carry no history). A row that cannot be mapped -- no dossier code, a status or
channel text not in the tables, a date that cannot be read -- is yielded with
``error`` set to the reason and ``record`` = the raw row (header -> cell) as JSON;
nothing is guessed.

When the sheet has no "Ngày cập nhật" column, ``NgayCapNhat`` is the export time:
``exported_at`` if given, else the file's modification time (local time).

The pieces: :mod:`motcua.sources.workbook` reads the sheet's rows,
:mod:`motcua.sources.sheet_mapping` matches headers and value texts,
:mod:`motcua.sources.sheet_dates` reads the dates; this module maps each row.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from motcua.sources.base import (
    AGENCY_COLUMNS,
    PROCEDURE_COLUMNS,
    RawBatch,
    conform_catalogue,
    make_batch,
)
from motcua.sources.limits import Limits, read_file
from motcua.sources.sheet_dates import EXCEL_EPOCH_1900, sheet_date_stamp
from motcua.sources.sheet_mapping import (
    BOOL_FIELDS,
    DATE_FIELDS,
    FALSE_TEXT,
    IGNORE,
    SNAPSHOT_FIELDS,
    TRUE_TEXT,
    Mapping,
    fold,
    load_mapping,
)
from motcua.sources.stamps import LOCAL_TZ, STAMP_FORMAT, contract_stamp
from motcua.sources.workbook import HEADER_SCAN_ROWS, decode_bytes, read_csv_rows, read_xlsx_rows

log = logging.getLogger(__name__)

BATCH_ROWS = 5000


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _code_text(value: Any) -> str:
    """A code cell as text: 123.0 -> "123"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value)).strip()


class SpreadsheetSource:
    """A vendor's XLSX or CSV export: one row per dossier (see the module docstring).

    ``mapping_file`` extends the default header/value mapping; ``procedures`` and
    ``agencies`` are companion CSVs (default: ``procedures.csv``/``agencies.csv`` next to
    the sheet, if present; else empty frames). ``sheet`` picks an XLSX worksheet (default
    the first); ``exported_at`` (a timestamp in any contract form) is ``NgayCapNhat``
    for sheets without a "Ngày cập nhật" column (default: the file's modification time).
    ``limits`` (default: from the settings): see :mod:`motcua.sources.limits`.
    """

    def __init__(
        self,
        path: Path | str,
        mapping_file: Path | str | None = None,
        procedures: Path | str | None = None,
        agencies: Path | str | None = None,
        sheet: str | None = None,
        exported_at: str | None = None,
        batch_rows: int = BATCH_ROWS,
        limits: Limits | None = None,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"spreadsheet {self.path} not found")
        if self.path.suffix.lower() not in {".xlsx", ".xlsm", ".csv", ".txt", ".tsv"}:
            raise ValueError(f"spreadsheet {self.path}: expected .xlsx or .csv")
        self.name = "spreadsheet"
        self.limits = limits if limits is not None else Limits.from_env()
        self.mapping = load_mapping(mapping_file) if mapping_file else Mapping()
        self.procedures_path = self._companion(procedures, "procedures.csv")
        self.agencies_path = self._companion(agencies, "agencies.csv")
        self.sheet = sheet
        self.batch_rows = batch_rows
        if exported_at is not None:
            stamp = contract_stamp(exported_at)
            if stamp is None:
                raise ValueError(f"exported_at: not a timestamp: {exported_at!r}")
            self.exported_at = stamp
        else:
            mtime = dt.datetime.fromtimestamp(self.path.stat().st_mtime, LOCAL_TZ)
            self.exported_at = mtime.strftime(STAMP_FORMAT)
        self._agency_codes: dict[str, str] | None = None
        self.unmapped_headers: list[str] = []

    def _companion(self, given: Path | str | None, name: str) -> Path | None:
        if given is not None:
            p = Path(given)
            if not p.is_file():
                raise FileNotFoundError(f"{name}: {p} not found")
            return p
        p = self.path.parent / name
        return p if p.is_file() and p.resolve() != self.path.resolve() else None

    # -- catalogue ----------------------------------------------------------

    def read_procedures(self) -> pd.DataFrame:
        """The companion procedures.csv, or an empty frame with the contract's columns."""
        return self._catalogue(self.procedures_path, PROCEDURE_COLUMNS)

    def read_agencies(self) -> pd.DataFrame:
        """The companion agencies.csv, or an empty frame with the contract's columns."""
        return self._catalogue(self.agencies_path, AGENCY_COLUMNS)

    def _catalogue(self, path: Path | None, columns: list[str]) -> pd.DataFrame:
        if path is None:
            return pd.DataFrame({c: pd.Series([], dtype="string") for c in columns})
        text, _ = decode_bytes(read_file(path, self.limits))
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        return conform_catalogue(df, columns, str(path))

    def _agency_lookup(self) -> dict[str, str]:
        """Folded agency name (and code) -> code, to turn "Đơn vị" names into codes."""
        if self._agency_codes is None:
            lookup: dict[str, str] = {}
            agencies = self.read_agencies()
            for code, name in zip(agencies["MaDonVi"], agencies["TenDonVi"], strict=True):
                if pd.isna(code):
                    continue
                if not pd.isna(name):
                    lookup.setdefault(fold(name), str(code))
            self._agency_codes = lookup
        return self._agency_codes

    # -- records ------------------------------------------------------------

    def _rows(self) -> tuple[Iterator[list[Any]], dt.datetime, str, Any]:
        if self.path.suffix.lower() in {".xlsx", ".xlsm"}:
            return read_xlsx_rows(self.path, self.sheet, self.limits)
        rows = read_csv_rows(self.path, lambda head: self._find_header(head)[1], self.limits)
        return rows, EXCEL_EPOCH_1900, "", None

    def _find_header(self, head: list[list[Any]]) -> tuple[int, int]:
        """(index, number of recognised fields) of the row that looks most like the header."""
        best, best_count = 0, 0
        for i, row in enumerate(head):
            count = len({f[1] for c in row if (f := self.mapping.field_of(c)) and f[1] != IGNORE})
            if count > best_count:
                best, best_count = i, count
        return best, best_count

    def iter_records(self, since: str | None = None) -> Iterator[RawBatch]:
        """Every non-empty row below the header, mapped (or with its error).

        ``since`` is ignored: a sheet is read whole and the pipeline keeps the newest
        snapshot per dossier.
        """
        rows, epoch, sheet_title, workbook = self._rows()
        try:
            yield from self._iter(rows, epoch, sheet_title)
        finally:
            if workbook is not None:
                workbook.close()

    def _iter(self, rows: Iterator[list[Any]], epoch: dt.datetime, sheet_title: str) -> Iterator[RawBatch]:
        head: list[list[Any]] = []
        for row in rows:
            head.append(row)
            if len(head) >= HEADER_SCAN_ROWS:
                break
        if not head:
            return
        h, _ = self._find_header(head)
        header = head[h]
        names: list[str] = []
        for i, cell in enumerate(header):
            name = unicodedata.normalize("NFC", str(cell)).strip() if not _blank(cell) else ""
            names.append(name if name and name not in names else f"column {i + 1}")
        columns: dict[str, tuple[int, int]] = {}  # field -> (priority, column index)
        unmapped: list[str] = []
        for i, cell in enumerate(header):
            found = self.mapping.field_of(cell) if not _blank(cell) else None
            if found is None:
                if not _blank(cell):
                    unmapped.append(names[i])
                continue
            priority, field = found
            if field == IGNORE:
                continue
            if field not in columns or priority < columns[field][0]:
                columns[field] = (priority, i)
        self.unmapped_headers = unmapped
        if unmapped:
            log.info("%s: columns not mapped (ignored): %s", self.path.name, ", ".join(unmapped))
        colmap = {field: idx for field, (_, idx) in columns.items()}
        header_note = None
        if "MaHoSo" not in colmap:
            header_note = (
                "no dossier code column (\"Mã hồ sơ\") among the headers "
                f"{[n for n in names if not n.startswith('column ')]}"
            )
            log.warning("%s: %s", self.path.name, header_note)
        where = f"{self.path.name}[{sheet_title}]" if sheet_title else self.path.name
        locs: list[str] = []
        recs: list[str] = []
        errs: list[str | None] = []
        first_data = h + 1

        def numbered() -> Iterable[tuple[int, list[Any]]]:
            for i, row in enumerate(head[first_data:], start=first_data + 1):
                yield i, row
            for i, row in enumerate(rows, start=len(head) + 1):
                yield i, row

        for rownum, row in numbered():
            if all(_blank(c) for c in row):
                continue
            if header_note is not None:
                record, error = None, header_note
            else:
                record, error = self._map_row(row, colmap, names, epoch)
            if error is not None:
                raw = {names[i] if i < len(names) else f"column {i + 1}": _jsonable(v) for i, v in enumerate(row)}
                recs.append(json.dumps(raw, ensure_ascii=False))
            else:
                recs.append(json.dumps(record, ensure_ascii=False))
            locs.append(f"{where}:{rownum}")
            errs.append(error)
            if len(recs) >= self.batch_rows:
                yield make_batch(locs, recs, errs, self.limits)
                locs, recs, errs = [], [], []
        if recs:
            yield make_batch(locs, recs, errs, self.limits)

    def _map_row(
        self, row: list[Any], colmap: dict[str, int], names: list[str], epoch: dt.datetime
    ) -> tuple[dict[str, Any] | None, str | None]:
        out: dict[str, Any] = {}
        problems: list[str] = []
        for field in SNAPSHOT_FIELDS:
            idx = colmap.get(field)
            if idx is None or idx >= len(row):
                continue
            value = row[idx]
            if _blank(value):
                continue
            column = names[idx]
            if field in DATE_FIELDS:
                try:
                    out[field] = sheet_date_stamp(value, epoch)
                except ValueError as exc:
                    problems.append(f"column {column!r}: cannot read date {_jsonable(value)!r} ({exc})")
            elif field in ("TrangThaiHoSo", "KenhThucHien"):
                code = self._coded(field, value)
                if code is None:
                    what = "status" if field == "TrangThaiHoSo" else "channel"
                    problems.append(f"column {column!r}: unrecognised {what} {_jsonable(value)!r}")
                else:
                    out[field] = code
            elif field in ("DanhGia", "LoaiDoiTuong"):
                code = self._coded(field, value)
                out[field] = code if code is not None else _code_text(value)
            elif field in BOOL_FIELDS:
                if isinstance(value, bool):
                    out[field] = value
                else:
                    key = fold(_code_text(value))
                    out[field] = True if key in TRUE_TEXT else False if key in FALSE_TEXT else _code_text(value)
            elif field == "MaTTHC" and isinstance(value, float) and not value.is_integer():
                out[field] = f"{value:.6f}"  # Excel turned "2.000120" into 2.00012
            elif field == "MaDonVi":
                text = _code_text(value)
                out[field] = self._agency_lookup().get(fold(text), text) if self.agencies_path else text
            else:
                out[field] = _code_text(value)
        if not out.get("MaHoSo"):
            problems.insert(0, f"no dossier code (column {names[colmap['MaHoSo']]!r} is empty)")
        if problems:
            return None, "; ".join(problems)
        out.setdefault("NgayCapNhat", self.exported_at)
        out["QuaTrinhXuLy"] = []
        return out, None

    def _coded(self, field: str, value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return int(value) if float(value).is_integer() else None
        text = _code_text(value)
        if re.fullmatch(r"\d{1,2}", text):
            return int(text)
        return self.values_for(field).get(fold(text))

    def values_for(self, field: str) -> dict[str, int]:
        """Folded value text -> code for a coded field."""
        return self.mapping.values[field]
