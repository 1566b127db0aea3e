"""Checking a published appendix table against itself and against the warehouse.

A published report's table 1 (*Kết quả tiếp nhận, giải quyết hồ sơ TTHC, DVC*: per
procedure its online level, address, new dossiers online / not online) or table 2
(*Tổng hợp số lượng hồ sơ giải quyết*: per procedure and field, columns (4)–(12)) is
read from CSV or XLSX as laid out in print: title lines, multi-line header rows, the
"(1)…(12)" number row, a "Tổng cộng" total row, blank cells, names wrapped onto a
second line. Which table it is comes from its headers.

:func:`internal_faults` finds what the table gets wrong by itself: totals that are not
the sum of the rows, report identities that fail in a row ((4)=(5)+(6), (7)=(8)+(9),
(10)=(11)+(12), (4)=(7)+(10)+withdrawn), blank cells, rows without results or without
a field, names or fields spelled two ways ("TCDLCL" / "TCĐLCL": compared without
accents and with Đ as D). :func:`compare` lists every cell that differs from what the
warehouse computes for the year (rows matched by procedure name: NFC, case, spaces),
with both values. Reading and the warehouse are I/O (:func:`read_grid`, :func:`check`);
the rest is pure.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

import pandas as pd

from motcua.redact import redact_url, reveal, scrub

TABLE2_COUNTS = ["received_total", "carried_over", "received_new", "resolved_total", "resolved_on_time",
                 "resolved_late", "pending_total", "pending_not_due", "pending_overdue"]
TABLE1_COUNTS = ["received_online", "received_offline"]
NUMBERED = {1: "stt", 2: "name", 3: "field", **{i + 4: c for i, c in enumerate(TABLE2_COUNTS)}}
LABELS = {"received_total": "(4)", "carried_over": "(5)", "received_new": "(6)", "resolved_total": "(7)",
          "resolved_on_time": "(8)", "resolved_late": "(9)", "pending_total": "(10)", "pending_not_due": "(11)",
          "pending_overdue": "(12)", "withdrawn": "(rút/dừng)", "received_online": "(trực tuyến)",
          "received_offline": "(không trực tuyến)", "service_level": "(mức độ)", "service_url": "(địa chỉ)",
          "field": "(3)", "name": "(2)"}
IDENTITIES = [
    ("received_total", ["carried_over", "received_new"]),
    ("resolved_total", ["resolved_on_time", "resolved_late"]),
    ("pending_total", ["pending_not_due", "pending_overdue"]),
]
RESULT_COLUMNS = ["resolved_total", "resolved_on_time", "resolved_late", "pending_total", "pending_not_due",
                  "pending_overdue"]
TITLES = {1: "Kết quả tiếp nhận, giải quyết hồ sơ TTHC, DVC",
          2: "Tổng hợp số lượng hồ sơ giải quyết tại tất cả các lĩnh vực"}
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


@dataclass
class Finding:
    """One fault or difference. ``kind``: total, identity, blank, no_results, no_field,
    no_name, spelling, duplicate, numbering, not_a_number (internal faults); difference,
    not_in_warehouse, missing_from_report (against the warehouse)."""

    kind: str
    message: str
    row: str | None = None
    column: str | None = None
    report: Any = None
    expected: Any = None


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
            cols.setdefault("name", c)
        elif "linh vuc" in h and table == 2:
            cols.setdefault("field", c)
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
        start = max(cols.get("field", -1), cols.get("name", -1)) + 1
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
    if "name" not in cols:
        raise ValueError("no 'Tên TTHC' column")
    counts = [c for c in (TABLE2_COUNTS + ["withdrawn"] if table == 2 else TABLE1_COUNTS) if c in cols]
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
        stt, name = get("stt"), get("name")
        raw = {k: get(k) for k in counts}
        texts = {k: get(k) for k in ("field", "service_level", "service_url")}
        if not stt and name and not any(raw.values()) and not any(texts.values()) and out and total is None:
            prev = out[-1]
            prev.name = f"{prev.name} {name}".strip()
            if not prev.wrapped:
                notes.append(f"row {prev.label}: its name is wrapped onto the next line (joined)")
            prev.wrapped = True
            continue
        label = stt.rstrip(".") or f"line {i + 1}"
        row = ReportRow(line=i + 1, label=label, stt=stt, name=name, field=texts["field"],
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
                          has_field="field" in cols, notes=notes)


def read_table(path: Path, table: int | None = None) -> PublishedTable:
    """Read the published table from a file (the first sheet that holds one)."""
    errors = []
    for sheet, rows in read_grid(path):
        try:
            return parse_table(rows, table, str(path), sheet)
        except ValueError as exc:
            errors.append(f"{sheet}: {exc}")
    raise ValueError(f"{path}: no appendix table found ({'; '.join(errors)})")


# --------------------------------------------------------------------------- internal faults
def _rows_text(labels: list[str]) -> str:
    return ("row " if len(labels) == 1 else "rows ") + ", ".join(labels)


def _spelling(rows: list[ReportRow], attr: str, what: str) -> list[Finding]:
    groups: dict[str, dict[str, list[str]]] = {}
    for r in rows:
        v = getattr(r, attr)
        if v:
            groups.setdefault(code_key(v) if attr == "field" else fold(v), {}).setdefault(v, []).append(r.label)
    out = []
    for spellings in groups.values():
        if len(spellings) > 1:
            parts = [f"'{s}' ({_rows_text(labels)})" for s, labels in spellings.items()]
            out.append(Finding("spelling", f"{what} spelled {len(spellings)} ways: " + " vs ".join(parts),
                               column=LABELS.get(attr), report=list(spellings)))
    return out


def internal_faults(t: PublishedTable) -> list[Finding]:
    """What the table gets wrong by itself (see the module docstring)."""
    out: list[Finding] = []
    for r in t.rows:
        for k, v in r.bad_cells.items():
            out.append(Finding("not_a_number", f"row {r.label}, column {LABELS[k]}: {v!r} is not a count",
                               r.label, LABELS[k], v))
        if not r.name:
            out.append(Finding("no_name", f"row {r.label}: no procedure name", r.label, "(2)"))
        if t.table == 2 and t.has_field and not r.field:
            out.append(Finding("no_field", f"row {r.label}: no field (column (3) blank)", r.label, "(3)"))
    # blank cells, rows without results
    for r in t.rows + ([t.total] if t.total else []):
        results = [k for k in RESULT_COLUMNS if k in t.counts]
        no_results = t.table == 2 and results and all(r.values.get(k) is None and k not in r.bad_cells
                                                      for k in results)
        if no_results:
            out.append(Finding("no_results", f"row {r.label}: no results (columns (7)–(12) blank)", r.label,
                               "(7)–(12)"))
        for k in t.counts:
            if r.values.get(k) is None and k not in r.bad_cells and not (no_results and k in results):
                out.append(Finding("blank", f"row {r.label}, column {LABELS[k]}: blank", r.label, LABELS[k]))
    # identities, per row and on the total row
    for r in t.rows + ([t.total] if t.total else []):
        v = r.values
        for total, parts in IDENTITIES:
            if total in t.counts and all(p in t.counts for p in parts) and \
                    all(v.get(x) is not None for x in (total, *parts)):
                s = sum(v[p] for p in parts)
                if v[total] != s:
                    out.append(Finding(
                        "identity", f"row {r.label}: {LABELS[total]} = {' + '.join(LABELS[p] for p in parts)} fails: "
                        f"{v[total]} ≠ {' + '.join(str(v[p]) for p in parts)} = {s}", r.label, LABELS[total],
                        v[total], s))
        ends = ["resolved_total", "pending_total"] + (["withdrawn"] if "withdrawn" in t.counts else [])
        if t.table == 2 and all(k in t.counts for k in ["received_total", *ends[:2]]) and \
                all(v.get(k) is not None for k in ["received_total", *ends]):
            s = sum(v[k] for k in ends)
            has_withdrawn = "withdrawn" in t.counts
            if (has_withdrawn and v["received_total"] != s) or v["received_total"] < s:
                out.append(Finding(
                    "identity", f"row {r.label}: (4) = (7) + (10) + withdrawn fails: {v['received_total']} ≠ "
                    f"{' + '.join(str(v[k]) for k in ends)} = {s}", r.label, "(4)", v["received_total"], s))
            elif v["received_total"] > s:
                t.notes.append(f"row {r.label}: (4) − (7) − (10) = {v['received_total'] - s}: dossiers withdrawn or "
                               "stopped, which the table has no column for")
    # totals = sum of rows
    if t.total is not None:
        for k in t.counts:
            got = t.total.values.get(k)
            s = sum(r.values.get(k) or 0 for r in t.rows)
            if got is not None and got != s:
                out.append(Finding("total", f"column {LABELS[k]}: total row says {got}, rows add up to {s}",
                                   "total", LABELS[k], got, s))
    else:
        t.notes.append("no 'Tổng cộng' row: totals not checked")
    # spelled two ways, numbering
    if t.table == 2:
        out += _spelling(t.rows, "field", "field")
    names: dict[str, list[str]] = {}
    for r in t.rows:
        if r.name:
            names.setdefault(fold(r.name), []).append(r.label)
    for labels in names.values():
        if len(labels) > 1:
            out.append(Finding("duplicate", f"{_rows_text(labels)}: the same procedure (names equal without "
                                            "accents and case)", ", ".join(labels), "(2)"))
    numbers = [int(r.label) for r in t.rows if r.label.isdigit()]
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        out.append(Finding("numbering", f"row numbers are not 1..{len(numbers)} in order: {numbers}", None, "(1)"))
    return out


# --------------------------------------------------------------------------- against the warehouse
def _loose(text: str) -> str:
    """Compare-form of a level or address: folded, ``_`` as a space, no final slash."""
    return fold(text).replace("_", " ").rstrip("/")


def compare(t: PublishedTable, expected: pd.DataFrame, year: int) -> list[Finding]:
    """Every cell of ``t`` that differs from ``expected`` (the warehouse's table for the
    same year: one row per procedure), with both values; rows on one side only."""
    out: list[Finding] = []
    exp = expected.copy()
    exp["_key"] = exp["procedure_name"].map(name_key)
    exp["_fold"] = exp["procedure_name"].map(fold)
    by_key = {k: g for k, g in exp.groupby("_key")}
    by_fold = {k: g for k, g in exp.groupby("_fold")}
    matched: set[int] = set()
    texts = ["service_level", "service_url"] if t.table == 1 else []
    for r in t.rows:
        hit = by_key.get(name_key(r.name))
        if hit is None:
            hit = by_fold.get(fold(r.name))
        if hit is None or len(hit) != 1:
            vals = {LABELS[k]: r.values.get(k) for k in t.counts if r.values.get(k) is not None}
            out.append(Finding("not_in_warehouse", f"row {r.label} ({short(r.name, 70)}): no procedure of that name in "
                                                   f"the warehouse for {year}; the report says {vals}",
                               r.label, None, vals, None))
            continue
        w = hit.iloc[0]
        matched.add(int(hit.index[0]))
        for k in t.counts:
            rv = r.values.get(k)
            wv = int(w[k]) if k in w and pd.notna(w[k]) else 0
            if rv is None and (k in r.bad_cells or wv == 0):
                continue
            if rv != wv:
                shown = "blank" if rv is None else rv
                out.append(Finding("difference", f"row {r.label} ({short(r.name)}), column {LABELS[k]}: report "
                                                 f"{shown}, warehouse {wv}", r.label, LABELS[k], rv, wv))
        for k in texts:
            rv, wv = (r.service_level, w.get(k)) if k == "service_level" else (r.service_url, w.get(k))
            wv = "" if wv is None or (not isinstance(wv, str) and pd.isna(wv)) else str(wv)
            if _loose(rv) != _loose(wv):
                out.append(Finding("difference", f"row {r.label} ({short(r.name)}), column {LABELS[k]}: report "
                                                 f"{rv!r}, warehouse {wv!r}", r.label, LABELS[k], rv, wv))
    for i, w in exp.iterrows():
        if i in matched:
            continue
        vals = {LABELS[k]: int(w[k]) for k in t.counts if k in w and pd.notna(w[k]) and int(w[k])}
        out.append(Finding("missing_from_report", f"{w.get('procedure_code', '')} {short(str(w['procedure_name']), 70)}: "
                                                  f"in the warehouse for {year} {vals}, not in the report",
                           None, None, None, vals))
    if t.total is not None:
        for k in t.counts:
            rv = t.total.values.get(k)
            wv = int(exp[k].sum()) if k in exp else 0
            if rv is not None and rv != wv:
                out.append(Finding("difference", f"total row, column {LABELS[k]}: report {rv}, warehouse {wv}",
                                   "total", LABELS[k], rv, wv))
    return out


# --------------------------------------------------------------------------- I/O
@dataclass
class CheckResult:
    """What ``motcua check-report`` found."""

    path: str
    table: int
    sheet: str
    rows: int
    year: int | None
    warehouse: str | None
    faults: list[Finding]
    differences: list[Finding]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return not self.faults and not self.differences

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


def warehouse_table(warehouse_url: str, year: int, table: int, convention: str = "calendar",
                    agency: str | None = None) -> pd.DataFrame:
    """The warehouse's table 1 or 2 for ``year`` (one row per procedure)."""
    import sqlalchemy as sa

    from motcua import reporting

    url = sa.engine.make_url(reveal(warehouse_url))
    if url.get_backend_name() == "duckdb" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).expanduser().exists():
        raise ValueError(f"no warehouse at {redact_url(warehouse_url)} (run `motcua run` first, or pass --no-warehouse)")
    try:
        tables = reporting.build_report(warehouse_url, year, convention, agency)
    except sa.exc.SQLAlchemyError as exc:
        raise ValueError(f"cannot read the warehouse {redact_url(warehouse_url)}: "
                         f"{scrub(str(exc).splitlines()[0])}") from None
    return (tables.table1 if table == 1 else tables.table2).reset_index(drop=True)


def check(path: Path, year: int | None = None, warehouse_url: str | None = None, table: int | None = None,
          agency: str | None = None, convention: str = "calendar") -> CheckResult:
    """Read the published table at ``path``, find its internal faults and, with a
    warehouse, every cell that differs from the warehouse's figures for ``year``."""
    t = read_table(Path(path), table)
    faults = internal_faults(t)
    differences: list[Finding] = []
    if warehouse_url:
        if year is None:
            raise ValueError("--year is needed to compare with the warehouse")
        differences = compare(t, warehouse_table(warehouse_url, year, t.table, convention, agency), year)
    return CheckResult(path=str(path), table=t.table, sheet=t.sheet, rows=len(t.rows), year=year,
                       warehouse=redact_url(warehouse_url), faults=faults, differences=differences, notes=t.notes)


def format_text(result: CheckResult) -> str:
    """The findings as readable text."""
    lines = [f"{result.path}: table {result.table} ({TITLES[result.table]}), {result.rows} rows"
             + (f", sheet {result.sheet}" if result.sheet and result.sheet != Path(result.path).name else "")]
    lines.append(f"internal faults: {len(result.faults)}")
    lines += [f"  - {f.message}" for f in result.faults]
    if result.warehouse:
        lines.append(f"differences from the warehouse ({result.year}): {len(result.differences)}")
        lines += [f"  - {f.message}" for f in result.differences]
    else:
        lines.append("not compared with a warehouse")
    if result.notes:
        lines.append("notes:")
        lines += [f"  - {n}" for n in result.notes]
    lines.append("OK: nothing found" if result.ok else
                 f"FOUND {len(result.faults)} fault(s) and {len(result.differences)} difference(s)")
    return "\n".join(lines)
