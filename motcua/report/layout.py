"""The sheets of the report laid out once, for every output (XLSX, HTML, console).

:func:`build_sheets` turns :class:`~motcua.report.model.ReportTables` into a list of
:class:`Sheet`: titles, headers and columns as :mod:`transforms.report_tables` describes
them, rows of display-ready cells, and the totals row (the sum of the rows, checked
against them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pandas as pd

from motcua.report.model import ExplainKey, ReportDataError, ReportTables
from transforms.report_tables import (
    INDICATORS,
    TABLE1,
    TABLE2,
    TABLE3,
    TABLES,
    TOTAL_ROW,
    Column,
    Table,
)

LEVEL_LABELS = {"toan_trinh": "Toàn trình", "mot_phan": "Một phần"}


@dataclass(frozen=True)
class HeaderCell:
    """A (possibly merged) header cell, positions relative to the header's top-left."""

    row: int
    col: int
    rows: int
    cols: int
    text: str


@dataclass
class Cell:
    """A display-ready body cell: ``value`` is a str, int, float, date or None."""

    value: object
    kind: str
    key: str
    href: str | None = None


@dataclass
class Sheet:
    """One table of the report, ready to be written anywhere."""

    name: str  # export name and data-table attribute: bieu1 …
    frame: str  # ReportTables field: table1 …
    sheet_name: str  # XLSX sheet: "Bieu 1" …
    caption: str  # "Biểu 1" …
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    totals: dict[str, int] | None = None
    total_label_span: int = 1
    numbered: bool = False
    form_code: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def header_depth(self) -> int:
        """Number of header rows (without the row of column numbers)."""
        return max(len(c.header) for c in self.columns)

    def header_cells(self) -> list[HeaderCell]:
        """The header as merged cells (see :func:`header_cells`)."""
        return header_cells(self.columns)

    def column_numbers(self) -> list[str]:
        """"(1)", "(2)", … one per column."""
        return [f"({i})" for i in range(1, len(self.columns) + 1)]

    def total_cells(self) -> list[Cell]:
        """The totals row as cells (label in the first cell, sums in summed columns)."""
        if self.totals is None:
            return []
        out: list[Cell] = []
        for i, c in enumerate(self.columns):
            if i == 0:
                out.append(Cell(TOTAL_ROW, "text", c.key))
            elif c.summed:
                out.append(Cell(self.totals[c.key], "int", c.key))
            else:
                out.append(Cell(None, "text", c.key))
        return out


def header_cells(columns: list[Column]) -> list[HeaderCell]:
    """Merged header cells for columns with header paths of varying depth.

    Adjacent columns sharing a header prefix share its cell (merged across); a column
    whose path ends above the deepest level spans down to the last header row.
    """
    depth = max(len(c.header) for c in columns)
    cells: list[HeaderCell] = []
    n = len(columns)
    for level in range(depth):
        i = 0
        while i < n:
            h = columns[i].header
            if len(h) <= level:
                i += 1
                continue
            prefix = h[: level + 1]
            j = i + 1
            while j < n and len(columns[j].header) > level and columns[j].header[: level + 1] == prefix:
                j += 1
            rows = depth - level if len(h) == level + 1 else 1
            cells.append(HeaderCell(level, i, rows, j - i, h[level]))
            i = j
    return cells


def fmt_date(d: dt.date) -> str:
    """dd/mm/yyyy."""
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def period_text(t: ReportTables) -> str:
    """"Kỳ báo cáo: năm 2019 (từ ngày 01/01/2019 đến ngày 31/12/2019)" and the convention."""
    conv = " theo Nghị định số 09/2019/NĐ-CP" if t.convention == "decree09" else ""
    return (f"Kỳ báo cáo: năm {t.year}{conv} (từ ngày {fmt_date(t.period_start)} "
            f"đến ngày {fmt_date(t.period_end)})")


def level_label(v: object) -> str | None:
    """Display an online service level: 3 → "3", "toan_trinh" → "Toàn trình"."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    s = str(v).strip()
    if not s:
        return None
    if s in LEVEL_LABELS:
        return LEVEL_LABELS[s]
    try:
        f = float(s)
    except ValueError:
        return s
    return str(int(f)) if f.is_integer() else s


def _val(v: object) -> object:
    """A pandas scalar as a plain Python value (NA → None)."""
    if v is None:
        return None
    if not isinstance(v, (str, dt.date)) and pd.isna(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def _norm_links(links: dict[ExplainKey, str] | None) -> dict[ExplainKey, str]:
    alias = {"bieu1": "table1", "bieu2": "table2"}
    out: dict[ExplainKey, str] = {}
    for (table, code, col), href in (links or {}).items():
        out[(alias.get(table, table), str(code), col)] = href
    return out


def _body(sheet: Sheet, df: pd.DataFrame, links: dict[ExplainKey, str], values: dict[str, list] | None = None,
          kinds: dict[str, list[str]] | None = None) -> None:
    """Fill ``sheet.rows`` from ``df`` (and overrides in ``values``/``kinds``)."""
    values = values or {}
    kinds = kinds or {}
    codes = df["procedure_code"].tolist() if "procedure_code" in df.columns else [None] * len(df)
    for i in range(len(df)):
        row: list[Cell] = []
        for c in sheet.columns:
            if c.kind == "stt":
                v: object = i + 1
            elif c.key in values:
                v = values[c.key][i]
            else:
                v = _val(df[c.key].iloc[i])
            kind = kinds[c.key][i] if c.key in kinds else c.kind
            href = links.get((sheet.frame, str(codes[i]), c.key)) if codes[i] is not None else None
            row.append(Cell(v, kind, c.key, href))
        sheet.rows.append(row)


def _totals(sheet: Sheet, df: pd.DataFrame) -> None:
    """Totals row = the sum of the rows, then checked cell by cell against the body."""
    sheet.totals = {c.key: int(df[c.key].fillna(0).sum()) for c in sheet.columns if c.summed}
    verify_totals(sheet)


def verify_totals(sheet: Sheet) -> None:
    """Raise :class:`ReportDataError` unless each total equals the sum of its column's cells."""
    if sheet.totals is None:
        return
    problems = []
    for j, c in enumerate(sheet.columns):
        if not c.summed:
            continue
        s = sum(int(r[j].value) for r in sheet.rows if r[j].value is not None)
        if s != sheet.totals[c.key]:
            problems.append(f"{sheet.name}: total of {c.key} is {sheet.totals[c.key]}, rows sum to {s}")
    if problems:
        raise ReportDataError(problems)


def _sheet(table: Table, t: ReportTables, columns: tuple[Column, ...] | None = None) -> Sheet:
    """An empty sheet of ``table`` (its printed columns unless ``columns``)."""
    return Sheet(table.name, table.frame, table.sheet_name, table.caption, table.heading(t.year),
                 list(columns or table.printed), total_label_span=table.total_label_span,
                 numbered=table.numbered, form_code=table.form_code,
                 notes=[period_text(t), f"{table.agency_label}: {t.agency_name}", *table.notes])


def _fill(sheet: Sheet, df: pd.DataFrame, links: dict[ExplainKey, str], values: dict[str, list] | None = None,
          kinds: dict[str, list[str]] | None = None) -> Sheet:
    """The body, and the totals row when the sheet has summed columns."""
    _body(sheet, df, links, values, kinds)
    if any(c.summed for c in sheet.columns):
        _totals(sheet, df)
    return sheet


def _sheet1(t: ReportTables, links: dict[ExplainKey, str]) -> Sheet:
    df = t.frame("table1")
    levels = [level_label(v) for v in df["service_level"]]
    new_style = any(str(v).strip() in LEVEL_LABELS for v in df["service_level"].dropna())
    level = TABLE1["service_level"]
    cols = tuple(replace(c, header=level.alt_header) if c is level and new_style else c for c in TABLE1.printed)
    return _fill(_sheet(TABLE1, t, cols), df, links, values={"service_level": levels})


def _sheet3(t: ReportTables) -> Sheet:
    df = t.frame("table3")
    names = []
    for name, number in zip(df["plan_name"], df["plan_number"], strict=True):
        name = "" if pd.isna(name) else str(name)
        number = "" if pd.isna(number) else str(number).strip()
        names.append(f"{name} (số {number})" if number else name)
    return _fill(_sheet(TABLE3, t), df, {}, values={"plan_name": names})


def is_rate(code: object) -> bool:
    """Indicators whose value is a fraction shown as a percentage."""
    return isinstance(code, str) and code.endswith("_rate")


def _sheet_chiso(t: ReportTables) -> Sheet:
    df = t.frame("indicators")
    kinds = ["rate" if is_rate(c) else "number" for c in df["indicator_code"]]
    return _fill(_sheet(INDICATORS, t), df, {}, kinds={"value": kinds})


def build_sheets(t: ReportTables) -> list[Sheet]:
    """All tables of the report, in the order of :data:`~transforms.report_tables.TABLES`."""
    links = _norm_links(t.explain_links)
    sheets = []
    for table in TABLES:
        if table is TABLE1:
            sheets.append(_sheet1(t, links))
        elif table is TABLE3:
            sheets.append(_sheet3(t))
        elif table is INDICATORS:
            sheets.append(_sheet_chiso(t))
        else:  # the explanation links are those of tables 1 and 2
            sheets.append(_fill(_sheet(table, t), t.frame(table.frame), links if table is TABLE2 else {}))
    return sheets
