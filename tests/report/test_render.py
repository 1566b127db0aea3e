"""motcua.report: the files, XLSX sheets, CSV and Parquet exports, paragraph II.2 and
terminal tables rendered from the hand-built tables of :mod:`helpers.render`."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers.render import NAME_2, ROWS, URL_1, URL_2, find_row, make_tables, merged, row_values
from rich.console import Console

from motcua.report import ReportTables, check_tables, draft_section_ii2, print_tables
from motcua.report.exports import read_csv
from motcua.report.model import COLUMNS, EXPORT_NAMES

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
