"""Vendor spreadsheet source: one row per dossier, Vietnamese column headers.

Vendors' one-stop systems export their dossier registers as XLSX or CSV with headers
such as "Mã hồ sơ", "Ngày tiếp nhận", "Trạng thái". This source maps such a sheet onto
the snapshot contract (domain.md section 2):

* **headers** are matched tolerantly: case, accents (with "Đ" as "D"), spacing and
  punctuation are ignored, so "  MA HO SO", "Mã hồ sơ:" and "ma_ho_so" are the same
  header; the contract's own names ("MaHoSo") are accepted too. The default aliases
  (:data:`FIELD_ALIASES`) can be extended or overridden with a mapping file (YAML, JSON
  or CSV, see :func:`load_mapping`);
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

This module also hosts the contract's timestamp normaliser :func:`contract_stamp`,
used by the other sources and the simulator.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
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
from motcua.sources.limits import Limits, check_zip, decode_utf16, read_file, widen_csv_fields
from motcua.sources.stamps import LOCAL_TZ, STAMP_FORMAT, contract_stamp

log = logging.getLogger(__name__)

BATCH_ROWS = 5000
HEADER_SCAN_ROWS = 30

# --------------------------------------------------------------------------- dates

_DMY_RE = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
    r"(?:(?:\s+|\s*,\s*|T)(\d{1,2})[:hH](\d{2})(?::(\d{2}))?)?$"
)
_TIME_FIRST_RE = re.compile(
    r"^(\d{1,2})[:hH](\d{2})(?::(\d{2}))?(?:\s+|\s*,\s*)(?:ngày\s+)?"
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$",
    re.IGNORECASE,
)
_SERIAL_RE = re.compile(r"^\d{5}(?:\.\d+)?$")
EXCEL_EPOCH_1900 = dt.datetime(1899, 12, 30)
EXCEL_EPOCH_1904 = dt.datetime(1904, 1, 1)


def excel_serial_stamp(serial: float, epoch: dt.datetime = EXCEL_EPOCH_1900) -> str:
    """An Excel serial date (days since the workbook's epoch, fraction = time of day)."""
    if not 1 <= serial < 2958466:
        raise ValueError(f"not an Excel serial date: {serial!r}")
    t = epoch + dt.timedelta(seconds=round(serial * 86400))
    return t.strftime(STAMP_FORMAT)


def sheet_date_stamp(value: Any, epoch: dt.datetime = EXCEL_EPOCH_1900) -> str | None:
    """Convert a spreadsheet date cell to ``yyyyMMddHHmmss``.

    None for an empty cell; :class:`ValueError` for a value that is not a date in
    any accepted form (``dd/mm/yyyy[ HH:MM[:SS]]``, time first, Excel serial,
    native date, the contract's forms). Day-first always: ``03/04/2023`` is 3 April.
    """
    if value is None:
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return contract_stamp(value)
    if isinstance(value, bool):
        raise ValueError(f"not a date: {value!r}")
    if isinstance(value, (int, float)):
        return excel_serial_stamp(float(value), epoch)
    if isinstance(value, dt.time):
        raise ValueError(f"a time without a date: {value!r}")
    s = unicodedata.normalize("NFC", str(value)).strip()
    if not s:
        return None
    m = _DMY_RE.match(s)
    if m:
        d, mo, y, h, mi, sec = m.groups()
    else:
        m = _TIME_FIRST_RE.match(s)
        if m:
            h, mi, sec, d, mo, y = m.groups()
    if m:
        try:
            t = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0))
        except ValueError:
            raise ValueError(f"not a valid date: {s!r}") from None
        return t.strftime(STAMP_FORMAT)
    if _SERIAL_RE.match(s):
        return excel_serial_stamp(float(s), epoch)
    out = contract_stamp(s)
    if out is None:
        raise ValueError(f"not a date in a known form: {s!r}")
    return out


# ----------------------------------------------------------------- header matching


def fold(text: Any) -> str:
    """Matching key: lower case, no accents ("đ" -> "d"), letters and digits only."""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.replace("đ", "d").replace("Đ", "D").lower()
    return re.sub(r"[^a-z0-9]", "", s)


#: Contract field -> default header aliases, most specific first (when two columns
#: map to one field, the one whose alias comes first wins).
FIELD_ALIASES: dict[str, list[str]] = {
    "MaHoSo": ["Mã hồ sơ", "Số hồ sơ", "Mã số hồ sơ", "Mã HS", "Số HS"],
    "MaTTHC": ["Mã TTHC", "Mã thủ tục", "Mã thủ tục hành chính", "Mã số TTHC", "Mã TT"],
    "TenTTHC": ["Tên TTHC", "Tên thủ tục", "Tên thủ tục hành chính", "Thủ tục hành chính", "Thủ tục", "TTHC"],
    "MaLinhVuc": ["Mã lĩnh vực"],
    "TenLinhVuc": ["Tên lĩnh vực", "Lĩnh vực"],
    "MaDonVi": [
        "Mã đơn vị", "Mã cơ quan", "Mã đơn vị tiếp nhận", "Đơn vị", "Đơn vị tiếp nhận",
        "Cơ quan", "Cơ quan tiếp nhận", "Đơn vị xử lý", "Cơ quan giải quyết",
    ],
    "KenhThucHien": [
        "Kênh", "Kênh thực hiện", "Kênh tiếp nhận", "Kênh nộp", "Hình thức nộp",
        "Hình thức tiếp nhận", "Hình thức nộp hồ sơ", "Hình thức",
    ],
    "NgayNopHoSo": ["Ngày nộp", "Ngày nộp hồ sơ", "Thời gian nộp", "Ngày đăng ký"],
    "NgayTiepNhan": ["Ngày tiếp nhận", "Thời gian tiếp nhận", "Ngày nhận", "Ngày nhận hồ sơ"],
    "NgayHenTra": [
        "Ngày hẹn trả", "Hạn xử lý", "Ngày hẹn trả kết quả", "Hạn giải quyết", "Hạn trả kết quả",
        "Hạn xử lý hồ sơ", "Ngày hẹn",
    ],
    "NgayKetThucXuLy": [
        "Ngày kết thúc xử lý", "Ngày có kết quả", "Ngày hoàn thành", "Ngày hoàn thành xử lý",
        "Ngày giải quyết xong", "Ngày xử lý xong", "Ngày kết thúc",
    ],
    "NgayTra": ["Ngày trả kết quả", "Ngày trả", "Thời gian trả kết quả"],
    "TrangThaiHoSo": ["Trạng thái", "Trạng thái hồ sơ", "Tình trạng", "Tình trạng hồ sơ"],
    "NgayCapNhat": ["Ngày cập nhật", "Thời gian cập nhật", "Cập nhật lúc", "Cập nhật"],
    "NgayTuChoi": ["Ngày từ chối", "Ngày từ chối tiếp nhận"],
    "LoaiDoiTuong": ["Loại đối tượng", "Đối tượng", "Loại chủ hồ sơ"],
    "ChuHoSo": ["Chủ hồ sơ", "Tên chủ hồ sơ", "Người nộp", "Tên người nộp", "Người đứng tên"],
    "SoGiayToChuHoSo": ["Số giấy tờ", "Số CCCD", "Số CMND", "CMND/CCCD", "Số định danh", "Số giấy tờ tùy thân"],
    "SoDienThoai": ["Số điện thoại", "Điện thoại", "SĐT", "ĐT"],
    "Email": ["Email", "E-mail", "Thư điện tử"],
    "DiaChi": ["Địa chỉ", "Địa chỉ chủ hồ sơ"],
    "DanhGia": ["Đánh giá", "Mức độ hài lòng", "Kết quả đánh giá"],
    "DuocThanhToanTrucTuyen": ["Thanh toán trực tuyến", "Đã thanh toán trực tuyến", "TT trực tuyến"],
    "HoSoCoThanhPhanSoHoa": ["Số hóa", "Hồ sơ số hóa", "Đã số hóa", "Có thành phần số hóa"],
}

SNAPSHOT_FIELDS: list[str] = [
    "MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaDonVi", "KenhThucHien",
    "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "TrangThaiHoSo",
    "NgayCapNhat", "NgayTuChoi", "LoaiDoiTuong", "ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai",
    "Email", "DiaChi", "DanhGia", "DuocThanhToanTrucTuyen", "HoSoCoThanhPhanSoHoa",
]
DATE_FIELDS = frozenset(
    {"NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayCapNhat", "NgayTuChoi"}
)
BOOL_FIELDS = frozenset({"DuocThanhToanTrucTuyen", "HoSoCoThanhPhanSoHoa"})
IGNORE = "ignore"

#: Status texts (folded on use) -> TrangThaiHoSo codes (domain.md status table).
STATUS_TEXT: dict[str, int] = {
    "Mới đăng ký": 1, "Chờ tiếp nhận": 1, "Đã nộp trực tuyến": 1, "Nộp trực tuyến": 1,
    "Chờ tiếp nhận trực tuyến": 1, "Chờ xử lý tiếp nhận": 1, "Mới nộp": 1,
    "Đã tiếp nhận": 2, "Tiếp nhận": 2, "Mới tiếp nhận": 2,
    "Từ chối tiếp nhận": 3, "Từ chối": 3, "Không tiếp nhận": 3, "Không đủ điều kiện tiếp nhận": 3,
    "Đang xử lý": 4, "Đang giải quyết": 4, "Đang thụ lý": 4, "Đang thẩm định": 4,
    "Yêu cầu bổ sung": 5, "Bổ sung hồ sơ": 5, "Chờ bổ sung": 5, "Yêu cầu bổ sung hồ sơ": 5,
    "Chờ bổ sung hồ sơ": 5,
    "Chờ thực hiện nghĩa vụ tài chính": 6, "Nghĩa vụ tài chính": 6, "Yêu cầu thực hiện nghĩa vụ tài chính": 6,
    "Chờ thanh toán": 6, "Yêu cầu thanh toán": 6, "Chờ nộp phí": 6,
    "Rút hồ sơ": 7, "Đã rút": 7, "Đã rút hồ sơ": 7, "Công dân rút hồ sơ": 7, "Rút": 7,
    "Dừng xử lý": 8, "Dừng giải quyết": 8, "Đã dừng xử lý": 8, "Dừng": 8,
    "Đã giải quyết": 9, "Có kết quả": 9, "Đã có kết quả": 9, "Chờ trả kết quả": 9,
    "Đã xử lý xong": 9, "Giải quyết xong": 9,
    "Đã trả kết quả": 10, "Trả kết quả": 10, "Đã trả": 10, "Đã trả kết quả cho công dân": 10,
}
#: Channel texts -> KenhThucHien codes (1 in person, 2 online, 3 postal).
CHANNEL_TEXT: dict[str, int] = {
    "Trực tiếp": 1, "Nộp trực tiếp": 1, "Tại quầy": 1, "Tại bộ phận một cửa": 1, "Một cửa": 1,
    "Trực tuyến": 2, "Nộp trực tuyến": 2, "Online": 2, "Qua mạng": 2, "DVC trực tuyến": 2,
    "Dịch vụ công trực tuyến": 2, "Cổng dịch vụ công": 2, "Mạng": 2,
    "Bưu chính": 3, "Bưu chính công ích": 3, "BCCI": 3, "Qua bưu điện": 3, "Bưu điện": 3,
    "Qua bưu chính công ích": 3, "Qua dịch vụ bưu chính công ích": 3,
}
RATING_TEXT: dict[str, int] = {"Rất hài lòng": 1, "Hài lòng": 2, "Không hài lòng": 3, "Chưa hài lòng": 3}
APPLICANT_TEXT: dict[str, int] = {
    "Công dân": 1, "Cá nhân": 1, "Doanh nghiệp": 2, "Cơ quan nhà nước": 3, "Tổ chức": 4, "Tổ chức khác": 4,
}
TRUE_TEXT = frozenset(fold(t) for t in ("1", "x", "có", "true", "yes", "đã", "đúng", "y"))
FALSE_TEXT = frozenset(fold(t) for t in ("0", "không", "false", "no", "chưa", "sai", "n"))

_VALUE_KINDS = {"status": "TrangThaiHoSo", "channel": "KenhThucHien", "rating": "DanhGia", "applicant": "LoaiDoiTuong"}


class Mapping:
    """Header aliases and value texts, defaults plus a user's mapping file."""

    def __init__(self) -> None:
        self.headers: dict[str, tuple[int, str]] = {}  # folded header -> (priority, field)
        for field, aliases in FIELD_ALIASES.items():
            for i, alias in enumerate([*aliases]):
                self.headers.setdefault(fold(alias), (100 + i, field))
        for field in SNAPSHOT_FIELDS:
            self.headers.setdefault(fold(field), (99, field))
        self.values: dict[str, dict[str, int]] = {
            "TrangThaiHoSo": {fold(k): v for k, v in STATUS_TEXT.items()},
            "KenhThucHien": {fold(k): v for k, v in CHANNEL_TEXT.items()},
            "DanhGia": {fold(k): v for k, v in RATING_TEXT.items()},
            "LoaiDoiTuong": {fold(k): v for k, v in APPLICANT_TEXT.items()},
        }

    def add_header(self, header: str, field: str) -> None:
        """A user alias: wins over every default alias."""
        field = field.strip()
        if field.lower() in {IGNORE, "", "-"}:
            field = IGNORE
        elif field not in SNAPSHOT_FIELDS:
            raise ValueError(f"mapping: {header!r} -> {field!r}: not a snapshot field (or 'ignore')")
        self.headers[fold(header)] = (0, field)

    def add_value(self, kind: str, text: str, code: Any) -> None:
        """A user value text for ``status``, ``channel``, ``rating`` or ``applicant``."""
        field = _VALUE_KINDS.get(kind.strip().lower(), kind.strip())
        if field not in self.values:
            raise ValueError(f"mapping: unknown value kind {kind!r} (expected {sorted(_VALUE_KINDS)})")
        try:
            self.values[field][fold(text)] = int(code)
        except (TypeError, ValueError):
            raise ValueError(f"mapping: {kind} {text!r} -> {code!r}: the code must be an integer") from None

    def field_of(self, header: Any) -> tuple[int, str] | None:
        if header is None:
            return None
        return self.headers.get(fold(header))


def load_mapping(path: Path | str, mapping: Mapping | None = None) -> Mapping:
    """Extend the default mapping with a user file.

    * YAML (``.yaml``/``.yml``) or JSON: either a flat object ``{header: field}`` or
      ``{"columns": {header: field}, "status": {text: code}, "channel": {text: code},
      "rating": {...}, "applicant": {...}}``; ``field`` is a contract name or
      ``ignore``;
    * CSV: columns ``header, field`` (one alias a row), optionally ``kind`` (``column``
      -- the default --, ``status``, ``channel``, ``rating``, ``applicant``; for value
      kinds ``header`` is the text and ``field`` the code).
    """
    path = Path(path)
    mapping = mapping or Mapping()
    suffix = path.suffix.lower()
    text, _ = decode_bytes(path.read_bytes())
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        for row in rows:
            row = {fold(k): (v or "").strip() for k, v in row.items() if k is not None}
            header, field = row.get("header", ""), row.get("field", "")
            kind = row.get("kind", "") or "column"
            if not header:
                continue
            if fold(kind) == "column":
                mapping.add_header(header, field)
            else:
                mapping.add_value(kind, header, field)
        return mapping
    if suffix in {".yaml", ".yml"}:
        try:
            import yaml
        except ImportError:  # pragma: no cover - PyYAML comes with the project's deps
            raise RuntimeError("reading a YAML mapping file needs PyYAML; use JSON or CSV") from None
        data = yaml.safe_load(text) or {}
    elif suffix == ".json":
        data = json.loads(text or "{}")
    else:
        raise ValueError(f"mapping file {path}: expected .yaml, .yml, .json or .csv")
    if not isinstance(data, dict):
        raise ValueError(f"mapping file {path}: expected an object at the top level")
    sections = {"columns", *(_VALUE_KINDS)}
    if not (set(data) & sections):
        data = {"columns": data}
    for key in data:
        if key not in sections:
            raise ValueError(f"mapping file {path}: unknown section {key!r} (expected {sorted(sections)})")
    for header, field in (data.get("columns") or {}).items():
        mapping.add_header(str(header), str(field if field is not None else IGNORE))
    for kind in _VALUE_KINDS:
        for value_text, code in (data.get(kind) or {}).items():
            mapping.add_value(kind, str(value_text), code)
    return mapping


# ------------------------------------------------------------------------ reading


def decode_bytes(data: bytes) -> tuple[str, str | None]:
    """Decode a text file: UTF-8 (BOM or not), UTF-16 (BOM, or NUL-byte pattern), else
    Windows-1258 (then NFC-composed). Returns the text and the encoding name used."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return decode_utf16(data), "utf-16"
    head = data[:4096]
    if head and head.count(b"\x00") > len(head) // 4:
        even_nuls = head[0::2].count(b"\x00")
        odd_nuls = head[1::2].count(b"\x00")
        return decode_utf16(data, "utf-16-be" if even_nuls > odd_nuls else "utf-16-le"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return unicodedata.normalize("NFC", data.decode("cp1258", errors="replace")), "cp1258"


def _read_csv_rows(path: Path, score: Callable[[list[list[Any]]], int], limits: Limits) -> Iterator[list[Any]]:
    """Rows of a CSV file (at most ``max_file_bytes``); the delimiter is the one whose
    first rows hold the best header."""
    text, encoding = decode_bytes(read_file(path, limits))
    widen_csv_fields(limits)
    head = text[:20000].splitlines()[:HEADER_SCAN_ROWS]
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t", "|"):
        rows = list(csv.reader(head, delimiter=delimiter))
        found = score(rows)
        if found > best_score:
            best, best_score = delimiter, found
    log.debug("%s decoded as %s, delimiter %r", path, encoding, best)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=best)


def _read_xlsx_rows(path: Path, sheet: str | None, limits: Limits) -> tuple[Iterator[list[Any]], dt.datetime, str, Any]:
    import openpyxl

    check_zip(path, limits)  # a part over the limits stops before openpyxl inflates it
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    epoch = EXCEL_EPOCH_1904 if getattr(wb, "epoch", None) == dt.datetime(1904, 1, 1) else EXCEL_EPOCH_1900
    rows = (list(r) for r in ws.iter_rows(values_only=True))
    return rows, epoch, ws.title, wb


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
            return _read_xlsx_rows(self.path, self.sheet, self.limits)
        rows = _read_csv_rows(self.path, lambda head: self._find_header(head)[1], self.limits)
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
