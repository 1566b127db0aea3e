"""`motcua check-report`: the seed's table 2, typed in as printed (with its faults), is
caught on every fault the domain reference lists; against a warehouse every differing
cell is reported with both values; a table the warehouse printed itself passes; table 1
is told by its headers, also from XLSX."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers.bundle import dossier, procedure, run_pipeline, write_bundle

from motcua.cli import main
from motcua.reconcile.check import check, warehouse_table
from motcua.reconcile.published import TABLE2_COUNTS, code_key, name_key, parse_count

SEED_TABLE2 = Path(__file__).parent / "fixtures" / "seed_table2.csv"
ROW1 = "Khai báo thiết bị X-quang chẩn đoán trong y tế"
ROW11 = "Thủ tục cấp giấy chứng nhận hoạt động lần đầu cho văn phòng đại diện, chi nhánh của tổ chức KHCN"
OTHER = "Thủ tục không có trong báo cáo"
T2_HEAD = [["STT", "Tên TTHC", "Lĩnh vực", "Số hồ sơ nhận giải quyết", "", "", "Kết quả giải quyết", "", "", "", "", ""],
           ["", "", "", "Tổng số", "Số kỳ trước chuyển qua", "Số mới tiếp nhận", "Tổng số", "Trả đúng thời hạn",
            "Trả quá hạn", "Tổng số", "Chưa đến hạn", "Quá hạn"],
           [f"({i})" for i in range(1, 13)]]
T1_HEAD = ["TT", "Tên TTHC, DVC", "Mức độ của dịch vụ (3, 4)", "Địa chỉ đăng tải dịch vụ",
           "Tổng số hồ sơ tiếp nhận trực tuyến", "Tổng số hồ sơ tiếp nhận trực tiếp (không trực tuyến)"]


def invoke(*args: str):  # noqa: ANN201 - a click Result
    return CliRunner().invoke(main, ["check-report", *args])


def test_seed_table2_faults_without_warehouse():
    result = invoke(str(SEED_TABLE2), "--no-warehouse")
    assert result.exit_code == 1, result.output
    out = result.output
    assert "table 2" in out
    assert "column (4): total row says 466, rows add up to 477" in out
    for row in range(11, 16):
        assert f"row {row}: no results (columns (7)–(12) blank)" in out
    assert "row 15: no field (column (3) blank)" in out
    assert "'TCDLCL' (rows 6, 8, 9) vs 'TCĐLCL' (row 7)" in out
    assert "row 2, column (5): blank" in out
    assert "row 7: its name is wrapped" in out
    data = json.loads(invoke(str(SEED_TABLE2), "--no-warehouse", "--json").output)
    kinds = {f["kind"] for f in data["faults"]}
    assert {"total", "no_results", "no_field", "spelling", "blank"} <= kinds
    assert data["rows"] == 15 and data["table"] == 2 and not data["ok"]
    total4 = next(f for f in data["faults"] if f["kind"] == "total" and f["column"] == "(4)")
    assert (total4["report"], total4["expected"]) == (466, 477)


def test_identity_faults_per_row(tmp_path):
    rows = [*T2_HEAD,
            ["1", ROW1, "ATBX", "5", "1", "3", "2", "1", "0", "0", "0", "0"],
            ["", "Tổng cộng", "", "5", "1", "3", "2", "1", "0", "0", "0", "0"]]
    path = tmp_path / "t2.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, delimiter=";").writerows(rows)
    faults = check(path).faults
    texts = [f.message for f in faults]
    assert "row 1: (4) = (5) + (6) fails: 5 ≠ 1 + 3 = 4" in texts
    assert "row 1: (7) = (8) + (9) fails: 2 ≠ 1 + 0 = 1" in texts
    assert any(t.startswith("row total: (4) = (5) + (6) fails") for t in texts)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reconcile")
    procs = [procedure("1.000001", 5, name=ROW1, field="ATBX"), procedure("1.000011", 5, name=ROW11, field="KHCN"),
             procedure("1.000099", 5, name=OTHER)]
    snaps = []
    for i, (code, channel) in enumerate([("1.000001", 1), ("1.000001", 1), ("1.000011", 2), ("1.000011", 1),
                                         ("1.000099", 1)]):
        snaps.append(dossier(f"D{i}", 9, "20190308100000", procedure_code=code, channel=channel,
                             intake="20190304090000", due="20190311170000", resolved="20190308100000"))
    bundle = write_bundle(tmp / "bundle", snaps, procedures=procs)
    url = f"duckdb:///{tmp / 'wh.duckdb'}"
    run_pipeline(bundle, url, tmp / "var", validate=False)
    return url


def test_seed_table2_against_the_warehouse(warehouse):
    result = invoke(str(SEED_TABLE2), "--year", "2019", "--warehouse", warehouse, "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    diffs = {(f["row"], f["column"]): (f["report"], f["expected"]) for f in data["differences"]
             if f["kind"] == "difference"}
    assert diffs[("11", "(7)")] == (None, 2) and diffs[("11", "(8)")] == (None, 2)
    assert diffs[("total", "(4)")] == (466, 5)
    assert ("1", "(4)") not in diffs  # row 1 agrees with the warehouse
    missing = [f for f in data["differences"] if f["kind"] == "missing_from_report"]
    assert len(missing) == 1 and OTHER in missing[0]["message"]
    absent = {f["row"] for f in data["differences"] if f["kind"] == "not_in_warehouse"}
    assert absent == {str(i) for i in range(2, 11)} | {"12", "13", "14", "15"}
    text = invoke(str(SEED_TABLE2), "--year", "2019", "--warehouse", warehouse).output
    assert "column (7): report blank, warehouse 2" in text


def _table2_as_printed(url: str, path: Path) -> None:
    t = warehouse_table(url, 2019, 2)
    rows = [["BIỂU 2. TỔNG HỢP SỐ LƯỢNG HỒ SƠ GIẢI QUYẾT TẠI TẤT CẢ CÁC LĨNH VỰC NĂM 2019"], [], *T2_HEAD]
    for i, r in enumerate(t.itertuples(), 1):
        rows.append([str(i), r.procedure_name, r.field_name or "-",
                     *[str(getattr(r, c)) for c in TABLE2_COUNTS]])
    rows.append(["", "Tổng cộng", "", *[str(int(t[c].sum())) for c in TABLE2_COUNTS]])
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(rows)


def test_a_table_printed_from_the_warehouse_passes(warehouse, tmp_path):
    path = tmp_path / "bieu2.csv"
    _table2_as_printed(warehouse, path)
    result = invoke(str(path), "--year", "2019", "--warehouse", warehouse)
    assert result.exit_code == 0, result.output
    assert "OK: nothing found" in result.output


def test_table1_from_xlsx_told_by_headers(warehouse, tmp_path):
    from openpyxl import Workbook

    t = warehouse_table(warehouse, 2019, 1)
    wb = Workbook()
    ws = wb.active
    ws.title = "Biểu 1"
    ws.append(["KẾT QUẢ TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ TTHC, DVC NĂM 2019"])
    ws.append(T1_HEAD)
    for i, r in enumerate(t.itertuples(), 1):
        online = r.received_online + (1 if r.procedure_code == "1.000001" else 0)  # one wrong cell
        ws.append([f"{i}.", r.procedure_name, int(r.service_level), r.service_url, online, r.received_offline])
    ws.append([None, "Tổng cộng", None, None, int(t["received_online"].sum()), int(t["received_offline"].sum())])
    path = tmp_path / "bieu1.xlsx"
    wb.save(path)
    result = invoke(str(path), "--year", "2019", "--warehouse", warehouse, "--json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["table"] == 1 and data["rows"] == 3
    assert [(f["row"], f["column"], f["report"], f["expected"]) for f in data["differences"]] == [
        ("1", "(trực tuyến)", 1, 0)]
    assert [f["message"] for f in data["faults"]] == ["column (trực tuyến): total row says 1, rows add up to 2"]
    forced = invoke(str(path), "--no-warehouse", "--table", "1")
    assert forced.exit_code == 1 and "table 1" in forced.output


def test_counts_and_spellings():
    assert parse_count("1.234") == 1234 and parse_count("04") == 4
    assert parse_count(" ") is None and parse_count("-") is None
    with pytest.raises(ValueError):
        parse_count("12a")
    assert code_key("TCĐLCL") == code_key("TCDLCL") == code_key("tcđ lcl")
    assert name_key("Thủ tục  A.") == name_key("thủ tục a")


@pytest.mark.postgres
def test_check_report_shows_a_postgresql_warehouse_redacted(tmp_path):
    """Against a PostgreSQL warehouse whose URL carries a password (trust authentication
    ignores it): the JSON and the text name the warehouse redacted, never the password."""
    import uuid

    import sqlalchemy as sa
    from helpers.warehouses import fresh_postgres_database

    password = f"s3cret-pw-{uuid.uuid4().hex[:12]}"
    snaps = [dossier("D1", 9, "20190308100000", procedure_code="1.000001", intake="20190304090000",
                     due="20190311170000", resolved="20190308100000")]
    bundle = write_bundle(tmp_path / "bundle", snaps, procedures=[procedure("1.000001", 5, name=ROW1, field="ATBX")])
    with fresh_postgres_database("motcua_check") as plain:
        url = sa.engine.make_url(plain).set(password=password).render_as_string(hide_password=False)
        run_pipeline(bundle, url, tmp_path / "var", validate=False)
        as_json = invoke(str(SEED_TABLE2), "--year", "2019", "--warehouse", url, "--json")
        text = invoke(str(SEED_TABLE2), "--year", "2019", "--warehouse", url)
    assert as_json.exit_code == 1 and text.exit_code == 1, as_json.output + text.output
    assert json.loads(as_json.output)["warehouse"] == sa.engine.make_url(url).render_as_string(hide_password=True)
    assert "differences from the warehouse" in text.output
    assert password not in as_json.output + text.output
