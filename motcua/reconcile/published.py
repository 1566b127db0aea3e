"""Reading a published appendix table 1 or 2 from CSV or XLSX, as laid out in print:
title lines, multi-line header rows, the "(1)…(12)" number row, a "Tổng cộng" total row,
blank cells, names wrapped onto a second line. Which table it is comes from its headers.

The columns read, and the labels findings give them ("(4)", "(trực tuyến)" …), are
those of :data:`~transforms.report_tables.TABLE1` and
:data:`~transforms.report_tables.TABLE2`; the header words recognised are looser, to
read tables printed by others (the seed's "chuyên qua" …). :func:`read_grid` is I/O,
the rest is pure.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path

from transforms.report_tables import RESULT, TABLE1, TABLE2, Table

TABLES: dict[int, Table] = {1: TABLE1, 2: TABLE2}
"""The published tables ``check-report`` reads, by number."""
COUNTS: dict[int, list[str]] = {n: [c.key for c in t.printed if c.dtype == "count"] for n, t in TABLES.items()}
"""The printed count columns of each table (table 2: (4)–(12) and withdrawn)."""
TABLE2_COUNTS = [c.key for c in TABLE2.printed if c.dtype == "count" and c.number is not None]
"""Table 2's columns (4)–(12), in order."""
NUMBERED = {c.number: c.key for c in TABLE2.printed if c.number is not None}
"""Table 2's columns by their number in the form: 1 -> ``stt`` … 12 -> ``pending_overdue``."""
LABELS = {c.key: c.label for t in (TABLE2, TABLE1) for c in t.columns if c.label}
"""What findings call each column: ``received_total`` -> "(4)", ``withdrawn`` -> "(rút/dừng)" …"""
RESULT_COLUMNS = [k for k in TABLE2.under(RESULT) if k in TABLE2_COUNTS]
"""Table 2's results, (7)–(12)."""
TEXTS = ("field_name", "service_level", "service_url")
"""The text columns read besides the procedure's name."""

_T2_WORDS = ("linh vuc", "so ky truoc", "chuyen qua", "so moi tiep nhan", "tra dung thoi han", "chua den han",
             "so ho so nhan giai quyet", "ket qua giai quyet")
_T1_WORDS = ("muc do", "dia chi dang tai", "tiep nhan truc tuyen", "truc tiep")
_NUMBER_CELL = re.compile(r"^\(\s*(\d{1,2})\s*\)$")


# --------------------------------------------------------------------------- text
def fold(text: object) -> str:
    """Compare-form of a label: accents stripped, Đ as D, lower case, single spaces."""
    s = unicodedata.normalize("NFD", str(text or "")).replace("Đ", "D").replace("đ", "d")
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    s = s.replace("\u0110", "D").replace("\u0111", "d")
    return " ".join(s.lower().split())


def name_key(text: object) -> str:
    """Match-form of a procedure name: NFC, case-folded, single spaces, no final dot."""
    s = " ".join(unicodedata.normalize("NFC", str(text or "")).casefold().split())
    return s.rstrip(" .;")


def code_key(text: object) -> str:
    """Spelling-form of a code or field: :func:`fold`, upper case, no spaces or dots."""
    return re.sub(r"[\s.\-_&]", "", fold(text)).upper()


def short(text: str, n: int = 50) -> str:
    """``text`` cut to ``n`` characters at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= n:
        return text
    cut = text[:n].rsplit(" ", 1)[0]
    return f"{cut}…"


def parse_count(text: str) -> int | None:
    """A count as printed: None when blank (or a dash); ValueError when not a whole number."""
    s = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if s in ("", "-", "–", "—"):
        return None
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", s):
        s = re.sub(r"[.,]", "", s)
    if re.fullmatch(r"\d+([.,]0+)?", s):
        return int(re.split(r"[.,]", s)[0])
    raise ValueError(f"not a count: {text!r}")


# --------------------------------------------------------------------------- reading
def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() else str(value)
    return str(value).strip()


def read_grid(path: Path) -> list[tuple[str, list[list[str]]]]:
    """The cells of a CSV (``,``, ``;`` or tab; UTF-8 with or without BOM, else
    Windows-1258) or of every sheet of an XLSX, as text: ``[(sheet, rows)]``."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            return [(ws.title, [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)])
                    for ws in wb.worksheets]
        finally:
            wb.close()
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1258", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text[:20000], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    rows = [[_cell(c) for c in r] for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    return [(path.name, rows)]


# --------------------------------------------------------------------------- the table
@dataclass
class ReportRow:
    """One row of the published table (a wrapped name joined back)."""

    line: int
    label: str
    stt: str = ""
    name: str = ""
    field: str = ""
    service_level: str = ""
    service_url: str = ""
    values: dict[str, int | None] = dc_field(default_factory=dict)
    bad_cells: dict[str, str] = dc_field(default_factory=dict)
    wrapped: bool = False


@dataclass
class PublishedTable:
    """A published appendix table as read."""

    path: str
    sheet: str
    table: int
    counts: list[str]
    rows: list[ReportRow]
    total: ReportRow | None
    has_field: bool
    notes: list[str] = dc_field(default_factory=list)


def _score(rows: list[list[str]]) -> tuple[int, int]:
    text = " | ".join(fold(c) for r in rows[:15] for c in r if c)
    return sum(w in text for w in _T1_WORDS), sum(w in text for w in _T2_WORDS)


def _header_row(rows: list[list[str]]) -> int:
    for i, r in enumerate(rows[:40]):
        if any(fold(c).startswith("ten tthc") or fold(c).startswith("ten thu tuc") for c in r):
            return i
    raise ValueError("no header row with 'Tên TTHC' found")


def _columns(rows: list[list[str]], header: int, table: int) -> tuple[dict[str, int], int]:
    """Column index of each key, and the first data row."""
    width = max(len(r) for r in rows)
    grid = [r + [""] * (width - len(r)) for r in rows]
    end = header + 1
    number_row = None
    while end < len(grid):
        cells = [c for c in grid[end] if c]
        numbered = [c for c in cells if _NUMBER_CELL.match(c)]
        if len(numbered) >= 3:
            number_row = end
            end += 1
            break
        if cells and all(not re.fullmatch(r"[\d.,\s]+", c) for c in cells) and not grid[end][0] \
                and not any(fold(c).startswith(("tong cong", "tong so")) and i < 2 for i, c in enumerate(grid[end])):
            end += 1  # a second header line (sub-headers)
            continue
        break
    heads = [" ".join(fold(grid[r][c]) for r in range(header, end)) for c in range(width)]
    cols: dict[str, int] = {}
    if number_row is not None and table == 2:
        for c, v in enumerate(grid[number_row]):
            m = _NUMBER_CELL.match(v)
            if m and int(m.group(1)) in NUMBERED:
                cols[NUMBERED[int(m.group(1))]] = c
        for c, h in enumerate(heads):
            if "rut" in h and c not in cols.values():
                cols["withdrawn"] = c
        return cols, end
    for c, h in enumerate(heads):
        if h in ("stt", "tt") or h.startswith(("stt ", "tt ")):
            cols.setdefault("stt", c)
        elif h.startswith(("ten tthc", "ten thu tuc")):
            cols.setdefault("procedure_name", c)
        elif "linh vuc" in h and table == 2:
            cols.setdefault("field_name", c)
        elif "muc do" in h:
            cols.setdefault("service_level", c)
        elif "dia chi" in h:
            cols.setdefault("service_url", c)
        elif "rut" in h:
            cols.setdefault("withdrawn", c)
        elif table == 1 and ("truc tiep" in h or "khong truc tuyen" in h):
            cols.setdefault("received_offline", c)
        elif table == 1 and "truc tuyen" in h:
            cols.setdefault("received_online", c)
    if table == 2:
        start = max(cols.get("field_name", -1), cols.get("procedure_name", -1)) + 1
        free = [c for c in range(start, width) if c not in cols.values()
                and any(grid[r][c] for r in range(header, min(len(grid), end + 50)))]
        for key, c in zip(TABLE2_COUNTS, free, strict=False):
            cols[key] = c
    return cols, end


def _is_total(stt: str, name: str) -> bool:
    return any(fold(x).startswith(("tong cong", "cong")) or fold(x) == "tong" for x in (stt, name) if x)


def parse_table(rows: list[list[str]], table: int | None = None, path: str = "", sheet: str = "") -> PublishedTable:
    """Read a published appendix table from its cells (see the module docstring)."""
    if table is None:
        s1, s2 = _score(rows)
        if max(s1, s2) == 0:
            raise ValueError("cannot tell which appendix table this is: no table 1 or table 2 headers found")
        table = 2 if s2 >= s1 else 1
    header = _header_row(rows)
    cols, start = _columns(rows, header, table)
    if "procedure_name" not in cols:
        raise ValueError("no 'Tên TTHC' column")
    counts = [c for c in COUNTS[table] if c in cols]
    out: list[ReportRow] = []
    total = None
    notes: list[str] = []
    for i in range(start, len(rows)):
        r = rows[i]

        def get(key: str, r: list[str] = r) -> str:
            c = cols.get(key)
            return r[c].strip() if c is not None and c < len(r) else ""

        if not any(c.strip() for c in r):
            continue
        stt, name = get("stt"), get("procedure_name")
        raw = {k: get(k) for k in counts}
        texts = {k: get(k) for k in TEXTS}
        if not stt and name and not any(raw.values()) and not any(texts.values()) and out and total is None:
            prev = out[-1]
            prev.name = f"{prev.name} {name}".strip()
            if not prev.wrapped:
                notes.append(f"row {prev.label}: its name is wrapped onto the next line (joined)")
            prev.wrapped = True
            continue
        label = stt.rstrip(".") or f"line {i + 1}"
        row = ReportRow(line=i + 1, label=label, stt=stt, name=name, field=texts["field_name"],
                        service_level=texts["service_level"], service_url=texts["service_url"])
        for k, v in raw.items():
            try:
                row.values[k] = parse_count(v)
            except ValueError:
                row.values[k] = None
                row.bad_cells[k] = v
        if _is_total(stt, name):
            row.label = "total"
            total = row
            continue
        if total is not None:
            notes.append(f"line {i + 1} after the total row: read as a row")
        out.append(row)
    return PublishedTable(path=path, sheet=sheet, table=table, counts=counts, rows=out, total=total,
                          has_field="field_name" in cols, notes=notes)


def read_table(path: Path, table: int | None = None) -> PublishedTable:
    """Read the published table from a file (the first sheet that holds one)."""
    errors = []
    for sheet, rows in read_grid(path):
        try:
            return parse_table(rows, table, str(path), sheet)
        except ValueError as exc:
            errors.append(f"{sheet}: {exc}")
    raise ValueError(f"{path}: no appendix table found ({'; '.join(errors)})")
