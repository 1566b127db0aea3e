"""The hand-built report tables of the rendering tests (``tests/report/test_render*.py``):
3 procedures in 3 fields, every expected number written out, so a wrong sum or a wrong
cell shows as a plain mismatch; and small readers of the XLSX sheets."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from motcua.report import ReportTables

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


def find_row(ws: Worksheet, text: str, col: int = 1) -> int:
    for r in range(1, ws.max_row + 1):
        if ws.cell(r, col).value == text:
            return r
    raise AssertionError(f"{text!r} not found in column {col} of {ws.title}")


def merged(ws: Worksheet) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def row_values(ws: Worksheet, r: int) -> list:
    return [ws.cell(r, c).value for c in range(1, ws.max_column + 1)]
