"""motcua.report: awkward input -- contradictions and malformed tables refused, non-relative
explain links, empty tables, decomposed Unicode."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from helpers.render import find_row, make_tables, row_values

from motcua.report import ReportDataError, ReportTables, check_tables, write_report

# --- links and empty tables ------------------------------------------------------------------------

def test_explain_link_must_be_relative(tmp_path: Path) -> None:
    bad = make_tables(explain_links={("table1", "1.004512", "received_online"): "https://evil.example/x"})
    with pytest.raises(ReportDataError, match="relative"):
        write_report(bad, tmp_path)
    bad = make_tables(explain_links={("table1", "1.004512", "received_online"): "javascript:alert(1)"})
    assert any("relative" in p for p in check_tables(bad))


def test_empty_report_renders(tmp_path: Path) -> None:
    t = ReportTables(title="Báo cáo", year=2020, period_start=dt.date(2020, 1, 1),
                     period_end=dt.date(2020, 12, 31), agency_name="Sở KH&CN")
    paths = write_report(t, tmp_path)
    page = paths["html"].read_text(encoding="utf-8")
    assert page.count("data-chart=") == 4 and "Không có số liệu" in page
    ws = openpyxl.load_workbook(paths["xlsx"])["Bieu 2"]
    assert row_values(ws, find_row(ws, "Tổng cộng"))[3:] == [0] * 10


# --- refusing contradictions ------------------------------------------------------------------------

def test_rejects_a_row_that_does_not_add_up(tmp_path: Path) -> None:
    t = make_tables()
    bad = t.table2.copy()
    bad.loc[0, "received_total"] = 14  # seed-like fault: (4) != (5) + (6)
    with pytest.raises(ReportDataError, match=r"received_total != carried_over \+ received_new"):
        write_report(dataclasses.replace(t, table2=bad), tmp_path / "strict")
    assert not (tmp_path / "strict" / "bao-cao-cchc-2019.xlsx").exists()
    paths = write_report(dataclasses.replace(t, table2=bad), tmp_path / "lenient", strict=False)
    ws = openpyxl.load_workbook(paths["xlsx"])["Bieu 2"]
    assert row_values(ws, find_row(ws, "Tổng cộng"))[3] == 36  # still the sum of the rows


def test_rejects_inconsistent_tables() -> None:
    t = make_tables()
    t1 = t.table1.copy()
    t1.loc[1, "received_online"] = 8
    problems = check_tables(dataclasses.replace(t, table1=t1))
    assert "table1 received_online + received_offline != table2 received_new for procedure_code ['2.000123']" \
        in problems
    assert "table1 total received_online + received_offline = 33 but table2 total received_new = 34" in problems
    f06 = t.form06.copy()
    f06["resolved_on_time"] = f06["resolved_on_time"] + f06["resolved_early"]  # early counted twice
    assert any("form06" in p for p in check_tables(dataclasses.replace(t, form06=f06)))


def test_rejects_malformed_input(tmp_path: Path) -> None:
    t = make_tables()
    with pytest.raises(ReportDataError, match="missing column"):
        write_report(dataclasses.replace(t, table2=t.table2.drop(columns=["withdrawn"])), tmp_path)
    bad = t.table1.copy().astype({"received_online": object})
    bad.loc[0, "received_online"] = "mười"
    with pytest.raises(ReportDataError, match="not a number"):
        write_report(dataclasses.replace(t, table1=bad), tmp_path, strict=False)


def test_decomposed_unicode_is_composed(tmp_path: Path) -> None:
    import unicodedata

    t = make_tables()
    t2 = t.table2.copy()
    t2["field_name"] = t2["field_name"].map(lambda s: unicodedata.normalize("NFD", s))
    ws = openpyxl.load_workbook(write_report(dataclasses.replace(t, table2=t2), tmp_path)["xlsx"])["Bieu 2"]
    h = find_row(ws, "STT")
    assert ws.cell(h + 4, 3).value == "An toàn bức xạ và hạt nhân"
