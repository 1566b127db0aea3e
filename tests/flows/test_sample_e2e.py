"""End to end on the bundled sample: the 2019 tables equal the seed report's rows, with
true totals (477, not the seed's 466); the workbook reads back the same; every cell of
table 2 is explained by exactly as many dossiers; the bad records are quarantined.

The expected figures are typed in from the seed report's appendix tables 1 and 2."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest
from helpers.bundle import read_table, run_pipeline

from motcua import reporting
from motcua.dev.sample.bundle import write_sample
from motcua.explain import explain
from motcua.publication import PublicationRecorder
from warehouse.report_scan import FactScan, latest_year

# Seed table 1 (rows 1–15): (name, level, address, online, not online)
PORTAL = "http://dichvucong.baria-vungtau.gov.vn"
PORTAL47 = "http://dichvucong.baria-vungtau.gov.vn/dang-ky-truc-tuyen/47"
SEED_TABLE1 = [
    ("Khai báo thiết bị X-quang chẩn đoán trong y tế", PORTAL, 0, 2),
    ("Cấp lại giấy phép tiến hành công việc bức xạ (sử dụng thiết bị X-quang chẩn đoán trong y tế)", PORTAL, 0, 23),
    ("Cấp và cấp lại chứng chỉ nhân viên bức xạ (người phụ trách an toàn cơ sở X-quang chẩn đoán trong y tế)",
     PORTAL, 0, 10),
    ("Phê duyệt kế hoạch ứng phó sự cố bức xạ và hạt nhân cấp cơ sở (đối với công việc sử dụng thiết bị "
     "X-quang chẩn đoán trong y tế)", PORTAL, 0, 5),
    ("Đăng ký kết quả thực hiện nhiệm vụ khoa học và công nghệ cấp tỉnh, cấp cơ sở sử dụng ngân sách nhà nước "
     "và nhiệm vụ khoa học và công nghệ do quỹ của Nhà nước trong lĩnh vực khoa học và công nghệ tài trợ thuộc "
     "phạm vi quản lý của tỉnh, thành phố trực thuộc trung ương", PORTAL, 0, 5),
    ("Thủ tục đăng ký hợp quy đối với các sản phẩm, hàng hóa sản xuất trong nước, dịch vụ, quá trình, môi "
     "trường được quản lý bởi các quy chuẩn kỹ thuật quốc gia do Bộ Khoa học và Công nghệ ban hành", PORTAL47, 2, 6),
    ("Thủ tục đăng ký công bố hợp chuẩn dựa trên kết quả chứng nhận hợp chuẩn của tổ chức chứng nhận",
     PORTAL47, 9, 11),
    ("Thủ tục cấp mới Giấy phép vận chuyển hàng nguy hiểm là các chất ôxy hóa, các hợp chất ôxít hữu cơ "
     "(thuộc loại 5) và các chất ăn mòn (thuộc loại 8) bằng phương tiện giao thông cơ giới đường bộ, đường sắt "
     "và đường thủy nội địa", PORTAL47, 0, 2),
    ("Thủ tục kiểm tra nhà nước về chất lượng sản phẩm, hàng hóa hàng hóa nhóm 2 nhập khẩu", PORTAL47, 0, 390),
    ("Thủ tục đăng ký tham dự sơ tuyển xét tặng Giải thưởng chất lượng quốc gia", PORTAL47, 0, 3),
    ("Thủ tục cấp giấy chứng nhận hoạt động lần đầu cho văn phòng đại diện, chi nhánh của tổ chức KHCN",
     PORTAL47, 0, 2),
    ("Thủ tục cấp giấy chứng nhận đăng ký chuyển giao công nghệ", PORTAL47, 0, 3),
    ("Thủ tục cấp giấy chứng nhận doanh nghiệp KHCN", PORTAL47, 0, 2),
    ("Thủ tục đánh giá kết quả thực hiện nhiệm vụ KHCN không sử dụng ngân sách nhà nước", PORTAL47, 0, 1),
    ("Thủ tục cấp giấy chứng nhận đăng ký hoạt động lần đầu cho tổ chức KHCN", PORTAL47, 0, 1),
]


def _n(s: str) -> str:
    return " ".join(unicodedata.normalize("NFC", s).split()).lower()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sample")
    summary = write_sample(tmp / "bundle")
    url = f"duckdb:///{tmp / 'wh.duckdb'}"
    result = run_pipeline(tmp / "bundle", url, tmp / "var")
    tables = reporting.build_report(url, 2019)
    return {"url": url, "result": result, "summary": summary, "tables": tables, "tmp": tmp}


def test_table1_rows_equal_the_seed(sample_run):
    t1 = sample_run["tables"].table1
    got = {_n(r.procedure_name): (r.service_url, int(r.received_online), int(r.received_offline), str(r.service_level))
           for r in t1.itertuples()}
    want = {_n(name): (url, on, off, "3") for name, url, on, off in SEED_TABLE1}
    assert got == want
    assert (int(t1["received_online"].sum()), int(t1["received_offline"].sum())) == (11, 466)


def test_table2_rows_equal_the_seed_with_true_totals(sample_run):
    t2 = sample_run["tables"].table2
    assert len(t2) == 15
    by_name = {_n(r.procedure_name): r for r in t2.itertuples()}
    for name, _, on, off in SEED_TABLE1:
        r = by_name[_n(name)]
        n = on + off
        # the seed's rows: (4)=(6)=(7)=(8)=n, nothing carried over, late, open or withdrawn
        assert (r.received_total, r.carried_over, r.received_new, r.resolved_total, r.resolved_on_time,
                r.resolved_late, r.pending_total, r.pending_not_due, r.pending_overdue, r.withdrawn) == (
                    n, 0, n, n, n, 0, 0, 0, 0, 0), name
    assert int(t2["received_total"].sum()) == 477  # the seed's total row says 466
    fields = {_n(r.procedure_name): r.field_name for r in t2.itertuples()}
    assert all(fields.values())  # every row has a field (the seed's row 15 has none)


def test_bad_records_are_quarantined_and_every_record_is_accounted_for(sample_run):
    st = sample_run["result"]["staged"]
    assert st["records_read"] == st["records_loaded"] + st["records_quarantined"]
    assert st["records_quarantined"] == sample_run["summary"]["quarantine_records"] == 11
    q = read_table(sample_run["url"], "audit.quarantine")
    assert len(q) == st["records_quarantined"]
    prefixes = {r.split(":")[0] for r in q["reason"]}
    assert {"invalid_json", "missing_dossier_code", "status_out_of_table", "channel_out_of_table",
            "updated_at_invalid", "resolution_before_intake", "received_without_intake",
            "intake_unparseable", "due_not_computable"} <= prefixes
    assert q["record"].str.len().min() > 0  # raw text kept


def test_workbook_reads_back_the_seed_rows(sample_run, tmp_path):
    import openpyxl

    from motcua.report import write_report

    paths = write_report(sample_run["tables"], tmp_path)
    wb = openpyxl.load_workbook(paths["xlsx"], data_only=True)
    ws = wb["Bieu 2"]
    cells = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    text = " ".join(str(c) for row in cells for c in row if c is not None)
    for header in ("Số hồ sơ nhận giải quyết", "Kết quả giải quyết", "Trả đúng thời hạn", "Trả quá hạn",
                   "Chưa đến hạn", "Quá hạn", "(12)"):
        assert header in text
    expected = {_n(name): on + off for name, _, on, off in SEED_TABLE1}
    found = {}
    total = None
    for row in cells:
        names = [c for c in row if isinstance(c, str) and _n(c) in expected]
        if names:
            nums = [c for c in row if isinstance(c, (int, float)) and not isinstance(c, bool)]
            found[_n(names[0])] = nums
        if any(isinstance(c, str) and c.strip() == "Tổng cộng" for c in row):
            total = [c for c in row if isinstance(c, (int, float)) and not isinstance(c, bool)]
    assert set(found) == set(expected)
    for name, n in expected.items():
        # columns (4)..(12) then withdrawn
        assert found[name][-10:] == [n, 0, n, n, n, 0, 0, 0, 0, 0], name
    assert total is not None and total[-10:] == [477, 0, 477, 477, 477, 0, 0, 0, 0, 0]


COLUMNS = ["received_total", "carried_over", "received_new", "resolved_total", "resolved_on_time", "resolved_late",
           "pending_total", "pending_not_due", "pending_overdue", "withdrawn"]


def test_explain_returns_exactly_the_dossiers_of_every_cell(sample_run):
    tables, url = sample_run["tables"], sample_run["url"]
    for r in tables.table2.itertuples():
        for col in COLUMNS:
            rows = explain(url, 2019, col, r.procedure_code)
            assert len(rows) == getattr(r, col), (r.procedure_code, col)
            assert rows["dossier_code"].is_unique
    for col in ("received_online", "received_offline"):
        assert len(explain(url, 2019, col, None)) == int(tables.table1[col].sum())


def test_2020_has_late_open_and_withdrawn_dossiers(sample_run):
    t = reporting.build_report(sample_run["url"], 2020).table2
    assert t["resolved_late"].sum() > 0 and t["pending_overdue"].sum() > 0 and t["withdrawn"].sum() > 0
    assert (t["received_total"] == t["resolved_total"] + t["pending_total"] + t["withdrawn"]).all()


def test_table4_counts_the_catalogue(sample_run):
    t4 = sample_run["tables"].table4
    assert list(t4["count"]) == [59, 59, 59, 59]
    assert list(t4["share_pct"]) == [100.0] * 4
    assert t4["note"].iloc[3] == "01 Mức độ 4"


def test_marts_equal_report_counts_for_the_calendar_year(sample_run):
    mart = read_table(sample_run["url"], "mart.dossier_resolution")
    y = mart[(mart["period_type"] == "year") & (pd.to_datetime(mart["period_start"]) == pd.Timestamp("2019-01-01"))]
    assert int(y["received_total"].sum()) == 477 and int(y["resolved_on_time"].sum()) == 477


def _report_frames(tables) -> dict[str, pd.DataFrame]:
    return {k: v for k, v in vars(tables).items() if isinstance(v, pd.DataFrame)}


def _report_and_publication(url: str, year: int, convention: str, agency: str | None, **kw) -> tuple:
    """A report's tables and what its publication records: the cell values and every
    dossier's cells."""
    with PublicationRecorder() as recorder:
        tables = reporting.build_report(url, year, convention, agency, sinks=(recorder,), **kw)
        return tables, recorder.values, sorted(tuple(r.values()) for r in recorder.spooled().to_pylist())


def test_the_period_filter_and_the_batches_change_nothing(sample_run):
    """The report reads only the facts that reach its period (and the scope's agencies),
    in batches of whole procedures: every table, explanation and published figure equals
    the one computed from every fact in one batch, for every year of the sample, both
    conventions, whole and agency scopes, in batches of several procedures, and once with
    every procedure a batch of its own (``batch_rows=1``); and the filter does read fewer
    facts."""
    url = sample_run["url"]
    with FactScan(url, 2019, every_fact=True) as scan:
        facts = pd.concat(list(scan.batches()), ignore_index=True)
    years = sorted(facts.loc[facts["is_received"].astype(bool), "intake_at"].dt.year.unique())
    agencies = sorted(facts["agency_code"].dropna().unique())
    assert len(years) >= 2 and agencies and facts["procedure_code"].nunique() > 2
    for batch_rows in (1, 40):  # a procedure is never split between batches (its explain files are whole)
        with FactScan(url, 2019, every_fact=True, batch_rows=batch_rows) as scan:
            seen = [set(b["procedure_code"]) for b in scan.batches()]
        assert len(seen) > 1 and sum(map(len, seen)) == len(set().union(*seen)) == facts["procedure_code"].nunique()
        if batch_rows == 1:
            assert len(seen) == facts["procedure_code"].nunique()
    fewer = False
    for year in years:
        for convention in ("calendar", "decree09"):
            with FactScan(url, int(year), convention) as scan:
                fewer |= sum(len(b) for b in scan.batches()) < len(facts)
            for agency in (None, agencies[0]):
                want, *want_published = _report_and_publication(url, int(year), convention, agency, every_fact=True,
                                                                batch_rows=len(facts))
                small = 1 if (year, convention, agency) == (years[-1], "decree09", None) else 40
                got, *published = _report_and_publication(url, int(year), convention, agency, batch_rows=small)
                for name, frame in _report_frames(want).items():
                    pd.testing.assert_frame_equal(_report_frames(got)[name].reset_index(drop=True),
                                                  frame.reset_index(drop=True),
                                                  obj=f"{year} {convention} {agency} {small} {name}")
                assert published == want_published
                for column in ("carried_over", "pending_overdue", "resolved_late"):
                    pd.testing.assert_frame_equal(
                        explain(url, int(year), column, None, convention, agency),
                        explain(url, int(year), column, None, convention, agency, every_fact=True))
    assert fewer
    assert latest_year(url) == max(years)
