"""The report as an XLSX workbook (XlsxWriter): one sheet per :class:`~motcua.report.layout.Sheet`.

Each sheet: the form code (Biểu 06), the title, the period and agency lines, the
(merged) header, the row of column numbers (1)…(n) where the form has one, the rows,
the totals row "Tổng cộng" as values; A4 landscape, header rows repeated on every
page, fitted to the page width.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from motcua.report.layout import Cell, Sheet
from motcua.report.model import ReportTables
from transforms.report_tables import TOTAL_ROW

FONT = {"font_name": "Times New Roman", "font_size": 11}
HEADER_BG = "#DDE5F0"
TOTAL_BG = "#F2F2F2"
LINE_HEIGHT = 15.0  # points per line of 11 pt text
MAX_URL_LEN = 2079  # Excel's limit for a hyperlink


@dataclass(frozen=True)
class SheetPosition:
    """Where things are on a written sheet (0-based rows)."""

    header_first: int
    header_last: int  # last header row, the row of column numbers included
    body_first: int
    total_row: int | None


def _formats(wb: Workbook) -> dict[str, Format]:
    cell = {**FONT, "border": 1, "valign": "top"}
    f = {
        "form_code": {**FONT, "italic": True, "bold": True, "align": "right"},
        "title": {**FONT, "bold": True, "font_size": 13, "align": "center", "valign": "vcenter",
                  "text_wrap": True},
        "note": {**FONT, "italic": True, "align": "center"},
        "header": {**FONT, "bold": True, "border": 1, "align": "center", "valign": "vcenter",
                   "text_wrap": True, "bg_color": HEADER_BG},
        "colnum": {**FONT, "italic": True, "font_size": 9, "border": 1, "align": "center",
                   "bg_color": HEADER_BG},
        "text": {**cell, "text_wrap": True},
        "stt": {**cell, "align": "center"},
        "level": {**cell, "align": "center"},
        "int": {**cell, "num_format": "#,##0"},
        "date": {**cell, "num_format": "dd/mm/yyyy", "align": "center"},
        "pct": {**cell, "num_format": "0.##;-0.##;0", "align": "right"},
        "pct_int": {**cell, "num_format": "0", "align": "right"},
        "rate": {**cell, "num_format": "0.00%"},
        "number": {**cell, "num_format": "#,##0.00"},
        "number_int": {**cell, "num_format": "#,##0"},
        "url": {**cell, "text_wrap": True, "font_color": "#1F4E9E", "underline": 1},
        "total_label": {**FONT, "bold": True, "border": 1, "align": "center", "bg_color": TOTAL_BG},
        "total": {**FONT, "bold": True, "border": 1, "num_format": "#,##0", "bg_color": TOTAL_BG},
        "total_blank": {**FONT, "border": 1, "bg_color": TOTAL_BG},
    }
    return {k: wb.add_format(v) for k, v in f.items()}


def _lines(text: str, width: float) -> int:
    """Estimated wrapped lines of ``text`` in a cell ``width`` characters wide."""
    per_line = max(1.0, width * 1.1)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


def _write_cell(ws: Worksheet, r: int, c: int, cell: Cell, fm: dict[str, Format]) -> None:
    v = cell.value
    kind = cell.kind
    if v is None or (isinstance(v, str) and v == ""):
        ws.write_blank(r, c, None, fm["text"] if kind == "url" else fm.get(kind, fm["text"]))
        return
    if kind in ("stt", "int"):
        ws.write_number(r, c, int(v), fm[kind])
    elif kind == "date":
        ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), fm["date"])  # type: ignore[arg-type]
    elif kind == "pct":
        ws.write_number(r, c, float(v), fm["pct_int" if float(v).is_integer() else "pct"])
    elif kind == "rate":
        ws.write_number(r, c, float(v), fm["rate"])
    elif kind == "number":
        fv = float(v)
        if math.isnan(fv):
            ws.write_blank(r, c, None, fm["number"])
        else:
            ws.write_number(r, c, fv, fm["number_int" if fv.is_integer() else "number"])
    elif kind == "url":
        s = str(v)
        ok = (s.lower().startswith(("http://", "https://")) and len(s) <= MAX_URL_LEN and " " not in s)
        if not ok or ws.write_url(r, c, s, fm["url"], string=s) != 0:
            ws.write_string(r, c, s, fm["text"])
    else:
        # write_string: text is never taken for a formula or a number
        ws.write_string(r, c, str(v), fm.get(kind, fm["text"]))


def write_sheet(wb: Workbook, sheet: Sheet, fm: dict[str, Format]) -> SheetPosition:
    """Write one sheet; return where its header, body and totals are."""
    ws = wb.add_worksheet(sheet.sheet_name)
    ncol = len(sheet.columns)
    last = ncol - 1
    for j, c in enumerate(sheet.columns):
        ws.set_column(j, j, c.width)
    r = 0
    if sheet.form_code:
        ws.merge_range(r, max(0, last - 3), r, last, sheet.form_code, fm["form_code"])
        r += 1
    ws.merge_range(r, 0, r, last, sheet.title, fm["title"])
    ws.set_row(r, 22 * _lines(sheet.title, sum(c.width for c in sheet.columns) * 0.8))
    r += 1
    for note in sheet.notes:
        ws.merge_range(r, 0, r, last, note, fm["note"])
        r += 1
    r += 1  # blank line

    header_first = r
    depth = sheet.header_depth
    heights = [LINE_HEIGHT * 1.4] * depth
    for h in sheet.header_cells():
        width = sum(sheet.columns[j].width for j in range(h.col, h.col + h.cols))
        need = _lines(h.text, width) * LINE_HEIGHT + 6
        rows = range(h.row, h.row + h.rows)
        have = sum(heights[i] for i in rows)
        if need > have:
            heights[h.row + h.rows - 1] += need - have
        r0, c0 = header_first + h.row, h.col
        r1, c1 = r0 + h.rows - 1, c0 + h.cols - 1
        if (r0, c0) == (r1, c1):
            ws.write_string(r0, c0, h.text, fm["header"])
        else:
            ws.merge_range(r0, c0, r1, c1, h.text, fm["header"])
    for i, height in enumerate(heights):
        ws.set_row(header_first + i, height)
    r = header_first + depth
    if sheet.numbered:
        for j, label in enumerate(sheet.column_numbers()):
            ws.write_string(r, j, label, fm["colnum"])
        r += 1
    header_last = r - 1

    body_first = r
    for row in sheet.rows:
        for j, cell in enumerate(row):
            _write_cell(ws, r, j, cell, fm)
        r += 1

    total_row = None
    if sheet.totals is not None:
        total_row = r
        span = sheet.total_label_span
        if span > 1:
            ws.merge_range(r, 0, r, span - 1, TOTAL_ROW, fm["total_label"])
        else:
            ws.write_string(r, 0, TOTAL_ROW, fm["total_label"])
        for j in range(span, ncol):
            c = sheet.columns[j]
            if c.summed:
                ws.write_number(r, j, sheet.totals[c.key], fm["total"])
            else:
                ws.write_blank(r, j, None, fm["total_blank"])
        r += 1

    # Print set-up: A4 landscape, header repeated, fitted to the page width.
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header_first, header_last)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C&8Trang &P/&N")
    ws.print_area(0, 0, max(r - 1, header_last), last)
    ws.freeze_panes(header_last + 1, 0)
    return SheetPosition(header_first, header_last, body_first, total_row)


def write_xlsx(tables: ReportTables, sheets: list[Sheet], path: Path) -> dict[str, SheetPosition]:
    """Write ``sheets`` to ``path``; return each sheet's positions by sheet name."""
    wb = xlsxwriter.Workbook(str(path), {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "default_date_format": "dd/mm/yyyy",
    })
    wb.set_properties({
        "title": tables.title,
        "subject": f"Báo cáo CCHC năm {tables.year}",
        "company": tables.agency_name,
        "comments": "Generated by motcua",
    })
    fm = _formats(wb)
    out = {s.sheet_name: write_sheet(wb, s, fm) for s in sheets}
    wb.close()
    return out
