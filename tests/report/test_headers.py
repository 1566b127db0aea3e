"""Every renderer prints the headers of :mod:`transforms.report_tables` and nothing else:
the XLSX and HTML headers read back cell by cell (merged cells followed down to each
column) are the description's header paths, the terminal's are its short headers after
the column numbers, the CSVs' header rows its frame columns; a header changed in the
description changes in every output."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from motcua.report import ReportTables, write_report
from motcua.report.console import _rich_table
from motcua.report.layout import build_sheets
from transforms.report_tables import TABLE1, TABLE2, TABLES, Table

ROW2 = dict(procedure_code="1.000001", procedure_name="Thủ tục A", field_name="Lĩnh vực A", received_total=5,
            carried_over=1, received_new=4, resolved_total=3, resolved_on_time=2, resolved_late=1, pending_total=2,
            pending_not_due=1, pending_overdue=1, withdrawn=0, resolved_early=1)


def small_tables() -> ReportTables:
    """One procedure in tables 1, 2 and Biểu 06, one plan, one criterion, one indicator."""
    t1 = pd.DataFrame([dict(procedure_code="1.000001", procedure_name="Thủ tục A", service_level=3,
                            service_url="https://dvc.example.gov.vn/a", received_online=1, received_offline=3)])
    t2 = pd.DataFrame([ROW2])
    f06 = pd.DataFrame([dict(field_name="Lĩnh vực A", received_total=5, received_online=1, received_offline=3,
                             carried_over=1, resolved_total=3, resolved_early=1, resolved_on_time=1, resolved_late=1,
                             pending_total=2, pending_not_due=1, pending_overdue=1)])
    t3 = pd.DataFrame([dict(plan_name="Kế hoạch", plan_number="1/KH", issued_on=dt.date(2019, 1, 2), tasks_planned=3,
                            tasks_done=2, note=None)])
    t4 = pd.DataFrame([dict(criterion="Tiêu chí", count=1, share_pct=50.0, note=None)])
    ind = pd.DataFrame([dict(indicator_code="on_time_rate", name_vi="Tỷ lệ", numerator=2, denominator=3,
                             value=2 / 3)])
    return ReportTables(title="Báo cáo", year=2019, period_start=dt.date(2019, 1, 1),
                        period_end=dt.date(2019, 12, 31), agency_name="Sở", table1=t1, table2=t2, table3=t3,
                        table4=t4, form06=f06, indicators=ind)


def described(table: Table) -> list[tuple[str, ...]]:
    return [c.header for c in table.printed]


def paths_from_grid(grid: list[list[tuple[int, str] | None]]) -> list[tuple[str, ...]]:
    """Each column's header path from a grid of (cell id, text): a cell spanning several
    rows or columns has one id, so it counts once per column."""
    out = []
    for j in range(len(grid[0])):
        path, last = [], None
        for row in grid:
            cell = row[j]
            if cell is not None and cell[0] != last and cell[1]:
                path.append(cell[1])
            last = cell[0] if cell is not None else None
        out.append(tuple(path))
    return out


def xlsx_header_paths(ws: openpyxl.worksheet.worksheet.Worksheet, table: Table) -> list[tuple[str, ...]]:
    first = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == table.printed[0].header[0])
    depth = max(len(c.header) for c in table.printed)
    ncol = len(table.printed)
    owner = {}
    for rng in ws.merged_cells.ranges:
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                owner[(r, c)] = (rng.min_row, rng.min_col)
    grid = []
    for r in range(first, first + depth):
        row = []
        for c in range(1, ncol + 1):
            top = owner.get((r, c), (r, c))
            value = ws.cell(*top).value
            row.append((top[0] * 1000 + top[1], "" if value is None else str(value)))
        grid.append(row)
    if table.numbered:  # then the row of column numbers
        assert [ws.cell(first + depth, c).value for c in range(1, ncol + 1)] == [f"({i})" for i in range(1, ncol + 1)]
    return paths_from_grid(grid)


class _Thead(HTMLParser):
    """The header rows of each ``<table data-table=…>``: lists of (text, colspan, rowspan)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[list]]] = {}
        self._table: str | None = None
        self._in_head = False
        self._cell: list | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = a["data-table"]
            self.tables[self._table] = []
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._in_head and a.get("class") != "colnum":
            self.tables[self._table].append([])
        elif tag == "th" and self._in_head and self.tables[self._table] and a.get("scope"):
            self._cell = ["", int(a.get("colspan") or 1), int(a.get("rowspan") or 1)]
            self.tables[self._table][-1].append(self._cell)

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self._in_head = False
        elif tag == "th":
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[0] += data


def html_header_paths(rows: list[list[list]], ncol: int) -> list[tuple[str, ...]]:
    grid: list[list[tuple[int, str] | None]] = [[None] * ncol for _ in rows]
    n = 0
    for i, cells in enumerate(rows):
        j = 0
        for text, cols, span in cells:
            while grid[i][j] is not None:
                j += 1
            n += 1
            for di in range(span):
                for dj in range(cols):
                    grid[i + di][j + dj] = (n, text)
            j += cols
    return paths_from_grid(grid)


def terminal_headers(t: ReportTables, frame: str) -> list[str]:
    sheet = next(s for s in build_sheets(t.normalized()[0]) if s.frame == frame)
    return [str(c.header) for c in _rich_table(sheet).columns]


def expected_terminal(table: Table) -> list[str]:
    out = []
    for i, c in enumerate(table.printed, 1):
        text = c.short or c.header[-1]
        out.append(f"({i})" + ("\n" if c.kind in ("int", "stt") else " ") + text if table.numbered else text)
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_report(small_tables(), tmp_path_factory.mktemp("headers"))


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_xlsx_headers_are_the_description(report: dict[str, Path], table: Table) -> None:
    ws = openpyxl.load_workbook(report["xlsx"])[table.sheet_name]
    assert ws["A1" if not table.form_code else "A2"].value == table.heading(2019)
    assert xlsx_header_paths(ws, table) == described(table)


def test_html_headers_are_the_description(report: dict[str, Path]) -> None:
    parser = _Thead()
    parser.feed(report["html"].read_text(encoding="utf-8"))
    assert list(parser.tables) == [t.name for t in TABLES]
    for table in TABLES:
        assert html_header_paths(parser.tables[table.name], len(table.printed)) == described(table), table.name
        if table.numbered:
            page = report["html"].read_text(encoding="utf-8")
            block = page[page.index(f'data-table="{table.name}"'):]
            assert re.search(r'<tr class="colnum">(.*?)</tr>', block).group(1) == "".join(
                f"<th>({i})</th>" for i in range(1, len(table.printed) + 1))


def test_terminal_and_csv_headers_are_the_description(report: dict[str, Path]) -> None:
    t = small_tables()
    for table in (TABLE1, TABLE2):
        assert terminal_headers(t, table.frame) == expected_terminal(table)
    assert terminal_headers(t, "table2")[3] == "(4)\nNhận\ntổng"  # the description's short header
    for table in TABLES:
        first = report[f"{table.name}_csv"].read_text(encoding="utf-8-sig").splitlines()[0]
        assert first == ",".join(table.frame_columns)


@contextmanager
def header_renamed(table: Table, key: str, text: str) -> Iterator[None]:
    """The description with ``key``'s last header line replaced (restored afterwards)."""
    columns = table.columns
    changed = tuple(dataclasses.replace(c, header=(*c.header[:-1], text)) if c.key == key else c for c in columns)
    object.__setattr__(table, "columns", changed)
    try:
        yield
    finally:
        object.__setattr__(table, "columns", columns)


def test_a_header_changed_in_the_description_changes_everywhere(tmp_path: Path) -> None:
    with header_renamed(TABLE2, "field_name", "Lĩnh vực (thử)"):
        paths = write_report(small_tables(), tmp_path)
        ws = openpyxl.load_workbook(paths["xlsx"])[TABLE2.sheet_name]
        assert xlsx_header_paths(ws, TABLE2)[2] == ("Lĩnh vực (thử)",)
        assert '<th scope="col" rowspan="3">Lĩnh vực (thử)</th>' in paths["html"].read_text(encoding="utf-8")
        assert terminal_headers(small_tables(), "table2")[2] == "(3) Lĩnh vực (thử)"
    assert TABLE2["field_name"].header == ("Lĩnh vực",)
    assert terminal_headers(small_tables(), "table2")[2] == "(3) Lĩnh vực"
