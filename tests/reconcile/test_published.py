"""``check-report`` reads the tables the renderer prints: Biểu 2 written to XLSX by
:func:`motcua.report.write_report` is read back with every printed count column, the
labels of its findings are the column numbers printed on the sheet, and it has no fault;
a cell changed on the sheet is found under its printed number."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd

from motcua.reconcile.faults import internal_faults
from motcua.reconcile.published import COUNTS, LABELS, parse_table, read_grid
from motcua.report import ReportTables, write_report
from transforms.report_tables import TABLE2

ROWS = [("1.000001", "Thủ tục A", "Lĩnh vực A", 1, 4, 2, 1, 1, 1, 0, 1),
        ("1.000002", "Thủ tục B", "Lĩnh vực B", 0, 3, 1, 0, 1, 0, 1, 0)]


def _tables() -> ReportTables:
    t2 = pd.DataFrame([dict(procedure_code=code, procedure_name=name, field_name=f, received_total=co + new,
                            carried_over=co, received_new=new, resolved_total=ot + late, resolved_on_time=ot,
                            resolved_late=late, pending_total=nd + od, pending_not_due=nd, pending_overdue=od,
                            withdrawn=co + new - ot - late - nd - od, resolved_early=early)
                       for code, name, f, co, new, ot, late, nd, od, _, early in ROWS])
    t1 = t2[["procedure_code", "procedure_name"]].assign(service_level=3, service_url="", received_online=0,
                                                         received_offline=t2["received_new"])
    return ReportTables(title="Báo cáo", year=2019, period_start=dt.date(2019, 1, 1),
                        period_end=dt.date(2019, 12, 31), agency_name="Sở", table1=t1, table2=t2)


def test_the_rendered_table2_reads_back_without_fault(tmp_path: Path) -> None:
    t = _tables()
    xlsx = write_report(t, tmp_path)["xlsx"]
    rows = dict(read_grid(xlsx))[TABLE2.sheet_name]
    read = parse_table(rows)
    assert read.table == 2 and read.counts == COUNTS[2] and len(read.rows) == len(ROWS)
    for r, (_, expected) in zip(read.rows, t.table2.iterrows(), strict=True):
        assert r.name == expected["procedure_name"] and r.field == expected["field_name"]
        assert r.values == {k: int(expected[k]) for k in COUNTS[2]}
    assert internal_faults(read) == [] and read.notes == []
    # the findings' labels are the numbers printed on the sheet (withdrawn: its tag)
    ws = openpyxl.load_workbook(xlsx)[TABLE2.sheet_name]
    numbers = next([c.value for c in row] for row in ws.iter_rows() if row[0].value == "(1)")
    printed = {c.key: numbers[i] for i, c in enumerate(TABLE2.printed)}
    assert {k: LABELS[k] for k in printed} == {**printed, "withdrawn": "(rút/dừng)"}


def test_a_changed_cell_is_found_under_its_printed_number(tmp_path: Path) -> None:
    xlsx = write_report(_tables(), tmp_path)["xlsx"]
    wb = openpyxl.load_workbook(xlsx)
    ws = wb[TABLE2.sheet_name]
    numbers = next(row for row in ws.iter_rows() if row[0].value == "(1)")
    col = next(c.column for c in numbers if c.value == "(11)")
    first = numbers[0].row + 1
    ws.cell(first, col).value += 1  # pending not due of row 1: (10) = (11) + (12) fails, and the total
    path = tmp_path / "edited.xlsx"
    wb.save(path)
    faults = internal_faults(parse_table(dict(read_grid(path))[TABLE2.sheet_name]))
    assert [(f.kind, f.row, f.column) for f in faults] == [("identity", "1", "(10)"), ("total", "total", "(11)")]
