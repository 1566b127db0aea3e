"""motcua.report: rendering the annual CCHC report from hand-built tables.

The tables below are built by hand (3 procedures in 3 fields); every expected number
is written out, so a wrong sum or a wrong cell shows as a plain mismatch.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from rich.console import Console

from motcua.report import (
    ReportDataError,
    ReportTables,
    check_tables,
    draft_section_ii2,
    print_tables,
    write_report,
)
from motcua.report.exports import read_csv
from motcua.report.model import COLUMNS, EXPORT_NAMES

URL_1 = "http://dichvucong.baria-vungtau.gov.vn"
URL_2 = "https://dichvucong.example.gov.vn/dang-ky-truc-tuyen/47?id=1&x=2"
NAME_2 = 'Đăng ký công bố hợp chuẩn "đặc biệt" <X-quang> & hợp quy'

# (code, name, field, level, url, online, offline, carried, on_time, late, early,
#  not_due, overdue, withdrawn)
ROWS = [
    ("1.004512", "Khai báo thiết bị X-quang chẩn đoán trong y tế", "An toàn bức xạ và hạt nhân",
     3, URL_1, 0, 12, 1, 11, 1, 4, 1, 0, 0),
    ("2.000123", NAME_2, "Tiêu chuẩn Đo lường Chất lượng", 4, URL_2, 9, 11, 0, 17, 0, 10, 1, 1, 1),
    ("1.008877", "Cấp giấy chứng nhận doanh nghiệp khoa học và công nghệ",
     "Hoạt động khoa học và công nghệ", 3, "", 2, 0, 0, 2, 0, 0, 0, 0, 0),
]


def make_tables(**changes: object) -> ReportTables:
    """A small, consistent ReportTables."""
    t1, t2 = [], []
    for code, name, field, level, url, on, off, co, ot, late, early, nd, od, wd in ROWS:
        new = on + off
        t1.append(dict(procedure_code=code, procedure_name=name, service_level=level, service_url=url,
                       received_online=on, received_offline=off))
        t2.append(dict(procedure_code=code, procedure_name=name, field_name=field,
                       received_total=co + new, carried_over=co, received_new=new,
                       resolved_total=ot + late, resolved_on_time=ot, resolved_late=late,
                       pending_total=nd + od, pending_not_due=nd, pending_overdue=od,
                       withdrawn=wd, resolved_early=early))
    table1, table2 = pd.DataFrame(t1), pd.DataFrame(t2)
    f06 = table2.merge(table1[["procedure_code", "received_online", "received_offline"]],
                       on="procedure_code")
    f06 = f06.groupby("field_name", as_index=False).sum(numeric_only=True)
    f06["resolved_on_time"] = f06["resolved_on_time"] - f06["resolved_early"]  # Biểu 06: disjoint
    table3 = pd.DataFrame([
        dict(plan_name="Kế hoạch Cải cách hành chính năm", plan_number="275/QĐ-SKHCN",
             issued_on=dt.date(2018, 12, 14), tasks_planned=29, tasks_done=28,
             note="Một nhiệm vụ đang bàn giao cho Sở TTTT"),
        dict(plan_name="Kế hoạch tuyên truyền Cải cách hành chính năm", plan_number=None,
             issued_on=dt.date(2019, 1, 5), tasks_planned=10, tasks_done=10, note=None),
    ])
    table4 = pd.DataFrame([
        dict(criterion="Số TTHC được công khai đầy đủ, đúng quy định Cổng thông tin điện tử hoặc "
                       "Trang thông tin điện tử tỉnh", count=59, share_pct=100.0, note=None),
        dict(criterion="Số lượng các TTHC thực hiện ở địa phương được giải quyết theo cơ chế một cửa",
             count=59, share_pct=100.0, note=None),
        dict(criterion="Số TTHC giải quyết theo cơ chế một cửa liên thông", count=58, share_pct=98.31,
             note=None),
        dict(criterion="Số TTHC thực hiện cung cấp dịch vụ công trực tuyến mức độ 3,4", count=59,
             share_pct=100.0, note="01 Mức độ 4"),
    ])
    indicators = pd.DataFrame([
        dict(indicator_code="on_time_rate", name_vi="Tỷ lệ hồ sơ giải quyết đúng hạn",
             numerator=30, denominator=31, value=30 / 31),
        dict(indicator_code="online_intake_rate", name_vi="Tỷ lệ hồ sơ tiếp nhận trực tuyến",
             numerator=11, denominator=34, value=11 / 34),
        dict(indicator_code="overdue_open", name_vi="Số hồ sơ đang giải quyết quá hạn",
             numerator=1, denominator=None, value=1),
        dict(indicator_code="processing_days_median", name_vi="Thời gian giải quyết (trung vị)",
             numerator=None, denominator=None, value=4.5),
    ])
    monthly = pd.DataFrame(dict(month=range(1, 13),
                                received_online=[0, 1, 0, 2, 1, 0, 3, 1, 0, 2, 1, 0],
                                received_offline=[2, 1, 3, 2, 2, 1, 2, 3, 2, 2, 2, 1]))
    by_field = f06[["field_name"]].assign(resolved_on_time=f06["resolved_on_time"] + f06["resolved_early"],
                                          resolved_total=f06["resolved_total"])
    by_proc = table2[["procedure_code", "procedure_name", "resolved_on_time", "resolved_total"]]
    by_agency = pd.DataFrame([
        dict(agency_code="SKHCN", agency_name="Văn phòng Sở", pending_not_due=1, pending_overdue=0),
        dict(agency_code="CCTDC", agency_name="Chi cục Tiêu chuẩn Đo lường Chất lượng",
             pending_not_due=1, pending_overdue=1),
    ])
    days = pd.DataFrame(dict(working_days=[1, 2, 3, 5, 8], dossiers=[4, 9, 10, 6, 2]))
    t = ReportTables(
        title="Báo cáo công tác cải cách hành chính năm 2019", year=2019,
        period_start=dt.date(2019, 1, 1), period_end=dt.date(2019, 12, 31),
        agency_name="Sở Khoa học và Công nghệ", convention="calendar",
        table1=table1, table2=table2, table3=table3, table4=table4, form06=f06,
        indicators=indicators, monthly_intake=monthly, ontime_by_field=by_field,
        ontime_by_procedure=by_proc, open_by_agency=by_agency, processing_days=days,
        explain_links={("table2", "1.004512", "resolved_late"): "giai-thich/1.004512.html#tre-han"},
    )
    return dataclasses.replace(t, **changes) if changes else t


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_report(make_tables(), tmp_path_factory.mktemp("report"))


def find_row(ws: Worksheet, text: str, col: int = 1) -> int:
    for r in range(1, ws.max_row + 1):
        if ws.cell(r, col).value == text:
            return r
    raise AssertionError(f"{text!r} not found in column {col} of {ws.title}")


def merged(ws: Worksheet) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def row_values(ws: Worksheet, r: int) -> list:
    return [ws.cell(r, c).value for c in range(1, ws.max_column + 1)]


# --- files -------------------------------------------------------------------------------

def test_writes_every_file(report: dict[str, Path]) -> None:
    assert report["xlsx"].name == "bao-cao-cchc-2019.xlsx"
    assert report["html"].name == "bao-cao-cchc-2019.html"
    assert report["paragraph"].name == "doan-van-II2.txt"
    for name in ("bieu1", "bieu2", "bieu3", "bieu4", "bieu06", "chiso"):
        assert report[f"{name}_csv"].name == f"{name}.csv"
        assert report[f"{name}_parquet"].name == f"{name}.parquet"
    for p in report.values():
        assert p.is_file() and p.stat().st_size > 0, p


# --- XLSX --------------------------------------------------------------------------------

def test_xlsx_sheets(report: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(report["xlsx"])
    assert wb.sheetnames == ["Bieu 1", "Bieu 2", "Bieu 3", "Bieu 4", "Bieu 06", "Chi so"]


def test_xlsx_bieu1_headers_totals_and_links(report: dict[str, Path]) -> None:
    ws = openpyxl.load_workbook(report["xlsx"])["Bieu 1"]
    assert ws["A1"].value == "KẾT QUẢ TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ TTHC, DVC NĂM 2019"
    h = find_row(ws, "TT")
    assert row_values(ws, h) == [
        "TT", "Tên TTHC, DVC", "Mức độ của dịch vụ (3, 4)", "Địa chỉ đăng tải dịch vụ",
        "Tổng số hồ sơ tiếp nhận trực tuyến", "Tổng số hồ sơ tiếp nhận trực tiếp (không trực tuyến)"]
    body = [row_values(ws, r) for r in range(h + 1, h + 4)]
    assert [b[0] for b in body] == [1, 2, 3]
    assert body[1][1] == NAME_2  # written as text, not escaped, not a formula
    assert [b[2] for b in body] == ["3", "4", "3"]
    assert [b[4:] for b in body] == [[0, 12], [9, 11], [2, 0]]
    total = row_values(ws, h + 4)
    assert total[0] == "Tổng cộng"
    assert f"A{h + 4}:D{h + 4}" in merged(ws)
    assert total[4:] == [11, 23]
    assert total[4] == sum(b[4] for b in body) and total[5] == sum(b[5] for b in body)
    assert ws.cell(h + 2, 4).hyperlink.target == URL_2
    assert ws.cell(h + 1, 5).number_format == "#,##0"


def test_xlsx_bieu2_merged_header_numbers_and_totals(report: dict[str, Path]) -> None:
    ws = openpyxl.load_workbook(report["xlsx"])["Bieu 2"]
    assert ws["A1"].value == "TỔNG HỢP SỐ LƯỢNG HỒ SƠ GIẢI QUYẾT TẠI TẤT CẢ CÁC LĨNH VỰC"
    h = find_row(ws, "STT")
    assert row_values(ws, h) == ["STT", "Tên TTHC", "Lĩnh vực", "Số hồ sơ nhận giải quyết", None, None,
                                 "Kết quả giải quyết", None, None, None, None, None,
                                 "Rút hồ sơ / dừng xử lý"]
    assert row_values(ws, h + 1) == [None, None, None, "Tổng số", "Số kỳ trước chuyển qua",
                                     "Số mới tiếp nhận", "Đã giải quyết", None, None,
                                     "Đang giải quyết", None, None, None]
    assert row_values(ws, h + 2)[6:12] == ["Tổng số", "Trả đúng thời hạn", "Trả quá hạn",
                                           "Tổng số", "Chưa đến hạn", "Quá hạn"]
    m = merged(ws)
    for rng in (f"D{h}:F{h}", f"G{h}:L{h}", f"G{h + 1}:I{h + 1}", f"J{h + 1}:L{h + 1}",
                f"A{h}:A{h + 2}", f"B{h}:B{h + 2}", f"C{h}:C{h + 2}", f"M{h}:M{h + 2}",
                f"D{h + 1}:D{h + 2}", f"E{h + 1}:E{h + 2}", f"F{h + 1}:F{h + 2}"):
        assert rng in m, (rng, sorted(m))
    assert row_values(ws, h + 3) == [f"({i})" for i in range(1, 14)]

    body = [row_values(ws, r) for r in range(h + 4, h + 7)]
    assert [b[:3] for b in body] == [
        [1, ROWS[0][1], "An toàn bức xạ và hạt nhân"],
        [2, NAME_2, "Tiêu chuẩn Đo lường Chất lượng"],
        [3, ROWS[2][1], "Hoạt động khoa học và công nghệ"]]
    assert body[0][3:] == [13, 1, 12, 12, 11, 1, 1, 1, 0, 0]
    total = row_values(ws, h + 7)
    assert total[0] == "Tổng cộng"
    assert f"A{h + 7}:C{h + 7}" in m
    assert total[3:] == [35, 1, 34, 31, 30, 1, 3, 2, 1, 1]
    for j in range(3, 13):  # the totals row is the sum of the rows
        assert total[j] == sum(b[j] for b in body), j
    # and every row keeps the identities of the form
    for b in body + [total]:
        assert b[3] == b[4] + b[5] and b[6] == b[7] + b[8] and b[9] == b[10] + b[11]
        assert b[3] == b[6] + b[9] + b[12]
    assert ws.cell(h + 7, 4).value == 35 and ws.cell(h + 7, 4).data_type == "n"  # a value, not a formula


def test_xlsx_print_setup(report: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(report["xlsx"])
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert int(ws.page_setup.paperSize) == 9, ws.title  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.page_setup.fitToHeight in (0, "0"), ws.title
        h = find_row(ws, "TT" if ws.title == "Bieu 1" else "STT")
        if ws.title == "Bieu 2":  # 3 header rows and the row of column numbers, on every page
            assert ws.print_title_rows == f"${h}:${h + 3}"
        else:
            assert ws.print_title_rows is not None and ws.print_title_rows.startswith(f"${h}:")


def test_xlsx_bieu3_bieu4(report: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(report["xlsx"])
    ws = wb["Bieu 3"]
    assert ws["A1"].value == "KẾT QUẢ THỰC HIỆN CÁC KẾ HOẠCH"
    h = find_row(ws, "STT")
    assert row_values(ws, h) == ["STT", "Kế hoạch", "Thời gian ban hành",
                                 "Số nhiệm vụ/số đơn vị trong kế hoạch",
                                 "Số nhiệm vụ/ đơn vị được hoàn thành theo kế hoạch", "Ghi chú"]
    r = row_values(ws, h + 1)
    assert r[1] == "Kế hoạch Cải cách hành chính năm (số 275/QĐ-SKHCN)"
    assert r[2] == dt.datetime(2018, 12, 14) and ws.cell(h + 1, 3).number_format == "dd/mm/yyyy"
    assert r[3:] == [29, 28, "Một nhiệm vụ đang bàn giao cho Sở TTTT"]
    assert row_values(ws, h + 2)[1] == "Kế hoạch tuyên truyền Cải cách hành chính năm"
    ws = wb["Bieu 4"]
    assert ws["A1"].value == "SỐ LƯỢNG THỦ TỤC HÀNH CHÍNH"
    h = find_row(ws, "STT")
    assert row_values(ws, h) == ["STT", "Tiêu chí", "Tổng số",
                                 "Tỷ lệ % (So với tổng số TTHC trong bộ TTHC)", "Ghi chú"]
    assert [row_values(ws, h + i)[2:4] for i in range(1, 5)] == [[59, 100], [59, 100], [58, 98.31], [59, 100]]
    assert row_values(ws, h + 4)[4] == "01 Mức độ 4"


def test_xlsx_bieu06_layout(report: dict[str, Path]) -> None:
    ws = openpyxl.load_workbook(report["xlsx"])["Bieu 06"]
    assert ws.cell(1, 10).value == "Biểu số 06/VPCP/KSTT"
    title = find_row(ws, "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC TẠI CƠ QUAN, ĐƠN VỊ TRỰC TIẾP GIẢI QUYẾT TTHC")
    h = find_row(ws, "STT")
    assert h > title
    assert row_values(ws, h)[:3] == ["STT", "Lĩnh vực, công việc giải quyết theo cấp", "Số hồ sơ nhận giải quyết"]
    assert row_values(ws, h)[6] == "Kết quả giải quyết"
    assert row_values(ws, h + 1)[2:] == ["Tổng số", "Trong kỳ", None, "Từ kỳ trước", "Số hồ sơ đã giải quyết",
                                         None, None, None, "Số hồ sơ đang giải quyết", None, None]
    assert row_values(ws, h + 2)[3:] == ["Trực tuyến", "Trực tiếp, dịch vụ bưu chính", None, "Tổng số",
                                         "Trả trước hạn", "Trả đúng thời hạn", "Trả quá hạn", "Tổng số",
                                         "Chưa đến hạn", "Quá hạn"]
    m = merged(ws)
    for rng in (f"C{h}:F{h}", f"G{h}:M{h}", f"D{h + 1}:E{h + 1}", f"G{h + 1}:J{h + 1}",
                f"K{h + 1}:M{h + 1}", f"C{h + 1}:C{h + 2}", f"F{h + 1}:F{h + 2}", f"A{h}:A{h + 2}"):
        assert rng in m, rng
    assert row_values(ws, h + 3) == [f"({i})" for i in range(1, 14)]
    body = [row_values(ws, h + 4 + i) for i in range(3)]
    total = row_values(ws, h + 7)
    assert total[0] == "Tổng cộng"
    assert total[2:] == [35, 11, 23, 1, 31, 14, 16, 1, 3, 2, 1]
    for j in range(2, 13):
        assert total[j] == sum(b[j] for b in body)


def test_xlsx_chiso(report: dict[str, Path]) -> None:
    ws = openpyxl.load_workbook(report["xlsx"])["Chi so"]
    h = find_row(ws, "STT")
    assert row_values(ws, h) == ["STT", "Mã chỉ số", "Chỉ số", "Tử số", "Mẫu số", "Giá trị"]
    r = row_values(ws, h + 1)
    assert r[1:5] == ["on_time_rate", "Tỷ lệ hồ sơ giải quyết đúng hạn", 30, 31]
    assert r[5] == pytest.approx(30 / 31) and ws.cell(h + 1, 6).number_format == "0.00%"
    assert row_values(ws, h + 3)[3:6] == [1, None, 1]


# --- CSV and Parquet ------------------------------------------------------------------------

@pytest.mark.parametrize(("frame", "name"), list(EXPORT_NAMES.items()))
def test_csv_and_parquet_round_trip(report: dict[str, Path], frame: str, name: str) -> None:
    expected = make_tables().frame(frame)
    assert report[f"{name}_csv"].read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    got_pq = pq.read_table(report[f"{name}_parquet"]).to_pandas()
    got_csv = read_csv(report[f"{name}_csv"], frame)
    assert list(got_pq.columns) == list(COLUMNS[frame]) == list(got_csv.columns)
    for got in (got_pq, got_csv):
        assert len(got) == len(expected)
        for c in COLUMNS[frame]:
            a = [None if (not isinstance(v, dt.date) and pd.isna(v)) else v for v in got[c].tolist()]
            b = [None if (not isinstance(v, dt.date) and pd.isna(v)) else v for v in expected[c].tolist()]
            if pd.api.types.is_float_dtype(expected[c].dtype):
                nan = float("nan")
                assert [nan if v is None else v for v in a] == pytest.approx(
                    [nan if v is None else v for v in b], nan_ok=True), (name, c)
            else:
                assert a == b, (name, c)


def test_csv_is_excel_readable_utf8(report: dict[str, Path]) -> None:
    text = report["bieu2_csv"].read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == ",".join(COLUMNS["table2"])
    assert "Tiêu chuẩn Đo lường Chất lượng" in text
    assert '"Đăng ký công bố hợp chuẩn ""đặc biệt"" <X-quang> & hợp quy"' in text


# --- HTML -------------------------------------------------------------------------------------

def test_html_self_contained(report: dict[str, Path]) -> None:
    page = report["html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    charts = re.findall(r'<svg [^>]*data-chart="([^"]+)"', page)
    assert charts == ["monthly-intake", "ontime-rate", "open-by-agency", "processing-days"]
    for svg in re.findall(r"<svg .*?</svg>", page, flags=re.S):
        assert 'aria-label="' in svg and "<title" in svg and 'role="img"' in svg
    tables = re.findall(r'<table [^>]*data-table="([^"]+)"', page)
    assert tables == ["bieu1", "bieu2", "bieu3", "bieu4", "bieu06", "chiso"]
    lowered = page.lower()
    assert "<script" not in lowered
    assert "<link" not in lowered and "@import" not in lowered and "url(" not in lowered
    assert "src=" not in lowered
    # the only absolute addresses are the service URLs of Biểu 1 (the data's own)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    allowed = {URL_1, URL_2.replace("&", "&amp;")}
    assert urls <= allowed, urls - allowed
    assert f'href="{URL_2.replace("&", "&amp;")}"' in page
    assert "//" not in re.sub(r"https?://[^\s\"'<>]+", "", page)  # no protocol-relative links


def test_html_tables_and_escaping(report: dict[str, Path]) -> None:
    page = report["html"].read_text(encoding="utf-8")
    assert "<X-quang>" not in page
    assert "Đăng ký công bố hợp chuẩn &quot;đặc biệt&quot; &lt;X-quang&gt; &amp; hợp quy" in page
    # the merged header of Biểu 2 and its totals row
    assert '<th scope="colgroup" colspan="3">Số hồ sơ nhận giải quyết</th>' in page
    assert '<th scope="colgroup" colspan="6">Kết quả giải quyết</th>' in page
    assert '<th scope="colgroup" colspan="3">Đã giải quyết</th>' in page
    assert '<th scope="col" rowspan="3">Rút hồ sơ / dừng xử lý</th>' in page
    bieu2 = page[page.index('data-table="bieu2"'):page.index('data-table="bieu3"')]
    total = re.search(r'<tr class="total">(.*?)</tr>', bieu2, flags=re.S).group(1)
    assert re.findall(r">(\d+)</td>", total) == ["35", "1", "34", "31", "30", "1", "3", "2", "1", "1"]
    assert "".join(f"<th>({i})</th>" for i in range(1, 14)) in bieu2
    # explain link on one cell of table 2
    assert '<a class="explain" href="giai-thich/1.004512.html#tre-han">1</a>' in bieu2
    # the paragraph is in the page
    assert 'data-paragraph="II.2"' in page and "Tiếp nhận 34 hồ sơ" in page


def test_explain_link_must_be_relative(tmp_path: Path) -> None:
    bad = make_tables(explain_links={("table1", "1.004512", "received_online"): "https://evil.example/x"})
    with pytest.raises(ReportDataError, match="relative"):
        write_report(bad, tmp_path)
    bad = make_tables(explain_links={("table1", "1.004512", "received_online"): "javascript:alert(1)"})
    assert any("relative" in p for p in check_tables(bad))


# --- the paragraph ------------------------------------------------------------------------------

def test_paragraph_states_the_numbers(report: dict[str, Path]) -> None:
    text = report["paragraph"].read_text(encoding="utf-8")
    assert text.startswith("- Kết quả tiếp nhận, xử lý TTHC, DVC (từ ngày 01/01/2019 đến ngày 31/12/2019): ")
    for phrase in (
        "Tiếp nhận 34 hồ sơ (11 hồ sơ nộp trực tuyến, 23 hồ sơ nộp trực tiếp, qua dịch vụ bưu chính công ích).",
        "kỳ trước chuyển qua 1 hồ sơ; tổng số hồ sơ phải giải quyết trong kỳ là 35 hồ sơ.",
        "Đã giải quyết 31 hồ sơ, trong đó 30 hồ sơ đúng hạn (14 hồ sơ trước hạn), 1 hồ sơ quá hạn;",
        "tỷ lệ giải quyết đúng hạn đạt 96,77%.",
        "đang giải quyết 3 hồ sơ (2 hồ sơ chưa đến hạn, 1 hồ sơ đã quá hạn).",
        "Có 1 hồ sơ được rút hoặc dừng xử lý",
    ):
        assert phrase in text, phrase
    assert "trễ hẹn" not in text


def test_paragraph_seed_wording_without_late_dossiers() -> None:
    t1 = pd.DataFrame([dict(procedure_code="1.000001", procedure_name="A", service_level=3, service_url=URL_1,
                            received_online=11, received_offline=466)])
    t2 = pd.DataFrame([dict(procedure_code="1.000001", procedure_name="A", field_name="KHCN",
                            received_total=477, carried_over=0, received_new=477, resolved_total=477,
                            resolved_on_time=477, resolved_late=0, pending_total=0, pending_not_due=0,
                            pending_overdue=0, withdrawn=0, resolved_early=120)])
    t = ReportTables(title="Báo cáo", year=2019, period_start=dt.date(2019, 1, 1),
                     period_end=dt.date(2019, 12, 31), agency_name="Sở KH&CN", table1=t1, table2=t2)
    assert check_tables(t) == []
    text = draft_section_ii2(t)
    assert ("Tiếp nhận 477 hồ sơ (11 hồ sơ nộp trực tuyến, 466 hồ sơ nộp trực tiếp, qua dịch vụ bưu "
            "chính công ích). Đã giải quyết 477 hồ sơ, trong đó 477 hồ sơ đúng hạn (120 hồ sơ trước hạn), "
            "0 hồ sơ quá hạn, không có trường hợp trễ hẹn") in text
    assert "không còn hồ sơ đang giải quyết" in text
    assert "kỳ trước" not in text and "rút" not in text


def test_paragraph_with_nothing_received() -> None:
    t = ReportTables(title="Báo cáo", year=2020, period_start=dt.date(2019, 12, 15),
                     period_end=dt.date(2020, 12, 14), agency_name="Sở KH&CN", convention="decree09")
    text = draft_section_ii2(t)
    assert "từ ngày 15/12/2019 đến ngày 14/12/2020" in text
    assert "Trong kỳ không tiếp nhận hồ sơ mới." in text


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


# --- terminal -----------------------------------------------------------------------------------------

def test_print_tables_shows_totals() -> None:
    console = Console(record=True, width=220, color_system=None)
    print_tables(make_tables(), console)
    out = console.export_text()
    assert "KẾT QUẢ TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ TTHC, DVC NĂM 2019" in out
    assert "TỔNG HỢP SỐ LƯỢNG HỒ SƠ GIẢI QUYẾT TẠI TẤT CẢ CÁC LĨNH VỰC" in out
    totals = [line for line in out.splitlines() if "Tổng cộng" in line]
    assert len(totals) == 2
    assert re.findall(r"\d+", totals[0]) == ["11", "23"]
    assert re.findall(r"\d+", totals[1]) == ["35", "1", "34", "31", "30", "1", "3", "2", "1", "1"]


# --- in a real browser ------------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    msg = (f"CHROMIUM MISSING: {CHROMIUM} not found, the browser test of the HTML report did NOT run. "
           "Install it with `bash .ci/install-chromium.sh`.")
    if _ci():
        pytest.fail(msg + " (CI=true: a missing browser is a failure)")
    pytest.skip(msg)


def test_missing_chromium_skips_locally_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="CHROMIUM MISSING"):
        _need_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        _need_chromium()


def _chromium(html: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: any network fetch would fail
            f"--user-data-dir={tmp / 'profile'}", *extra, html.resolve().as_uri()]
    env = {**os.environ, "HOME": str(tmp)}
    return subprocess.run(args, capture_output=True, text=True, timeout=180, env=env, check=False)


def _png_pixels(png: bytes) -> tuple[int, int, bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind = png[pos + 4:pos + 8]
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", data[:8])
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_html_in_headless_chromium(report: dict[str, Path], tmp_path: Path) -> None:
    _need_chromium()
    png = tmp_path / "report.png"
    shot = _chromium(report["html"], tmp_path, f"--screenshot={png}", "--window-size=1400,3000")
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert png.is_file(), shot.stderr[-2000:]
    width, height, raw = _png_pixels(png.read_bytes())
    assert (width, height) == (1400, 3000)
    assert png.stat().st_size > 50_000  # a blank page compresses to a few kB
    assert len(set(raw[::97])) > 40  # many distinct byte values: text, colours, charts

    dom = _chromium(report["html"], tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    assert re.findall(r'<table [^>]*data-table="([^"]+)"', page) == [
        "bieu1", "bieu2", "bieu3", "bieu4", "bieu06", "chiso"]
    assert re.findall(r'<svg [^>]*data-chart="([^"]+)"', page) == [
        "monthly-intake", "ontime-rate", "open-by-agency", "processing-days"]
    assert page.count("<rect") > 20
    assert "Tổng cộng" in page and "Số hồ sơ nhận giải quyết" in page
    assert "Tiếp nhận 34 hồ sơ" in page
