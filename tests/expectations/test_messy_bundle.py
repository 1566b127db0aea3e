"""Every messy case of the domain reference (section 2) on purpose, in one bundle:
records in = loaded + quarantined; each quarantined record has the right reason; the
valid ones are counted (once per dossier); warnings flag records without dropping them;
the run builds data docs and links them."""

from __future__ import annotations

import unicodedata
from collections import Counter

import pandas as pd
import pytest
from helpers.bundle import add_dossier_file, agency, dossier, procedure, read_table, write_bundle

P, P2 = "1.000001", "1.000002"
NAME = "Thủ tục đăng ký công bố hợp chuẩn"
R = "20190304090000"  # intake used by most dossiers (Monday)


def _valid() -> list[dict | str]:
    m01 = dossier("M01", 9, "20190308100000", intake=R, due="20190311170000", resolved="20190308100000")
    return [
        m01, m01,  # the same snapshot twice
        # newest snapshot first, an older one later in another file (see OLDER)
        dossier("M02", 9, "20190315100000", intake=R, due="20190311170000", resolved="20190315100000"),
        # history out of order and repeated, no NgayTiepNhan: intake from the status-2 entry
        dossier("M03", 9, "20190307100000", due="20190311170000",
                history=[(9, "20190307100000"), (2, R), (4, "20190305080000"), (2, R)]),
        # no NgayHenTra: due computed (5 working days after 4/3/2019 -> 11/3)
        dossier("M04", 9, "20190311100000", intake=R, resolved="20190311100000"),
        # NFD name and "D" for "Đ" in the field
        dossier("M05", 4, "20190305100000", intake=R, due="20190311170000",
                TenTTHC=unicodedata.normalize("NFD", NAME), MaLinhVuc="TCDLCL", TenLinhVuc="TCDLCL"),
        # empty strings for nulls
        dossier("M06", 4, "20190305100000", intake=R, due="20190311170000", resolved="", NgayTra="",
                SoDienThoai="", Email=""),
        # Z, offset, date-only and ISO 8601 timestamps (same instant / day)
        dossier("M07", 4, "20190305100000", intake="20190304020000Z", due="20190311170000"),
        dossier("M08", 4, "2019-03-05T10:00:00+07:00", intake="20190304090000+07:00", due="20190311"),
        dossier("M09", 4, "20190305", intake="20190304", due="2019-03-11"),
        # procedure and agency codes unknown: counted under their code, flagged
        dossier("M10", 4, "20190305100000", procedure_code="1.999999", intake=R, due="20190311170000"),
        dossier("M11", 4, "20190305100000", agency_code="ZZ", intake=R, due="20190311170000"),
        # refused at intake: loaded, counted nowhere
        dossier("M12", 3, "20190305100000", NgayTuChoi="20190305100000"),
    ]


OLDER = [dossier("M02", 4, "20190305100000", intake=R, due="20190311170000")]
CP1258 = [dossier("W01", 4, "20190305100000", intake=R, due="20190311170000", TenTTHC=NAME,
                  TenLinhVuc="Tiêu chuẩn Đo lường Chất lượng")]
BOM = [dossier("B01", 4, "20190305100000", intake=R, due="20190311170000")]
CUT = [dossier("C01", 4, "20190305100000", intake=R, due="20190311170000"),
       dossier("Q04", 4, "20190305100000", intake=R, due="20190311170000")]

QUARANTINED = {  # dossier code (or marker) -> reason prefix
    "Q01": "resolution_before_intake",
    "Q02": "status_out_of_table",
    "Q03": "channel_out_of_table",
    "Q05": "due_not_computable",
    "Q07": "updated_at_invalid",
    "Q08": "received_without_intake",
    "Q09": "intake_unparseable",
}


def _bad() -> list[dict | str]:
    no_code = dossier("", 4, "20190305100000", intake=R, due="20190311170000")
    del no_code["MaHoSo"]
    no_update = dossier("Q07", 4, "", intake=R, due="20190311170000")
    return [
        dossier("Q01", 9, "20190305100000", intake=R, due="20190311170000", resolved="20190301100000"),
        dossier("Q02", 42, "20190305100000", intake=R, due="20190311170000"),
        dossier("Q03", 4, "20190305100000", channel=9, intake=R, due="20190311170000"),
        dossier("Q05", 4, "20190305100000", procedure_code="1.888888", intake=R),
        no_update,
        dossier("Q08", 4, "20190305100000"),
        dossier("Q09", 4, "20190305100000", intake="2019-13-45", due="20190311170000"),
        no_code,
        "this is not JSON",
    ]


VALID_DOSSIERS = {"M01", "M02", "M03", "M04", "M05", "M06", "M07", "M08", "M09", "M10", "M11", "M12", "W01", "B01",
                  "C01"}


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    from flows.stages.extract import extract
    from flows.stages.load_core import load_core
    from flows.stages.marts import build_marts
    from flows.stages.publish import publish
    from flows.stages.runs import new_run
    from flows.stages.stage import stage
    from motcua.settings import Settings

    tmp = tmp_path_factory.mktemp("messy")
    bundle = write_bundle(tmp / "bundle", _valid() + _bad(),
                          procedures=[procedure(P, 5, name=NAME, field="TCĐLCL"), procedure(P2, 3)],
                          agencies=[agency("A1")], files=2)
    add_dossier_file(bundle, "part-900-older.jsonl", OLDER)
    add_dossier_file(bundle, "part-901-legacy.jsonl", CP1258, encoding="cp1258")
    add_dossier_file(bundle, "part-902-bom.jsonl", BOM, bom=True)
    add_dossier_file(bundle, "part-903-cut.jsonl", CUT, cut_last_line=40)
    url = f"duckdb:///{tmp / 'wh.duckdb'}"
    s = Settings.from_env(warehouse_url=url, data_dir=tmp / "var", quarantine_threshold=1.0)
    run = new_run(s, str(bundle))
    extracted = extract(run, s)
    staged = stage(run, s, extracted)
    loaded = load_core(run, s, extracted, staged)
    built = build_marts(run, s)
    publish(run, s, built)
    return {"url": url, "staged": staged, "loaded": loaded, "built": built, "run": run}


def test_every_record_loaded_or_quarantined(messy):
    st = messy["staged"]
    lines = len(_valid()) + len(_bad()) + len(OLDER) + len(CP1258) + len(BOM) + len(CUT)
    assert st["records_read"] == lines
    assert st["records_loaded"] + st["records_quarantined"] == st["records_read"]
    assert st["records_quarantined"] == len(_bad()) + 1  # + the line cut off mid-way
    q = read_table(messy["url"], "audit.quarantine")
    assert len(q) == st["records_quarantined"]
    assert q["record"].notna().all() and (q["record"].str.len() > 0).all()


def test_each_quarantined_record_has_its_reason(messy):
    q = read_table(messy["url"], "audit.quarantine")
    prefix = q["reason"].str.split(":").str[0]
    by_code = dict(zip(q["dossier_code"], prefix, strict=True))
    for code, reason in QUARANTINED.items():
        assert by_code[code] == reason, (code, q.loc[q["dossier_code"] == code, "reason"].tolist())
    no_code = q[q["dossier_code"].isna()]
    assert Counter(no_code["reason"].str.split(":").str[0]) == {"invalid_json": 2, "missing_dossier_code": 1}
    cut = q[q["locator"].str.startswith("dossiers/part-903-cut.jsonl:2")]
    assert cut["reason"].str.startswith("invalid_json").all() and len(cut) == 1
    assert q["resolved_run_id"].isna().all()


def test_valid_dossiers_loaded_once_newest_wins(messy):
    fct = read_table(messy["url"], "core.fct_dossier").set_index("dossier_code")
    assert set(fct.index) == VALID_DOSSIERS
    assert fct.loc["M02", "status_code"] == 9  # the older snapshot read later did not win
    assert pd.Timestamp(fct.loc["M03", "intake_at"]) == pd.Timestamp("2019-03-04 09:00")
    assert fct.loc["M04", "due_source"] == "computed"
    assert pd.Timestamp(fct.loc["M04", "due_date"]) == pd.Timestamp("2019-03-11")
    for code in ("M07", "M08"):
        assert pd.Timestamp(fct.loc[code, "intake_at"]) == pd.Timestamp("2019-03-04 09:00")
    assert pd.Timestamp(fct.loc["M09", "intake_at"]) == pd.Timestamp("2019-03-04 00:00")
    assert pd.isna(fct.loc["M06", "resolved_at"])
    assert not fct.loc["M10", "procedure_known"] and not fct.loc["M11", "agency_known"]
    assert fct.loc["W01", "procedure_name_recorded"] is not None
    assert unicodedata.normalize("NFC", fct.loc["W01", "procedure_name_recorded"]) == NAME
    events = read_table(messy["url"], "core.fct_dossier_event")
    m03 = events[events["dossier_code"] == "M03"].sort_values("seq")
    assert m03["status_code"].tolist() == [2, 4, 9]  # ordered by time, the repeated entry once


def test_valid_ones_counted_in_the_marts(messy):
    res = read_table(messy["url"], "mart.dossier_resolution")
    year = res[(res["period_type"] == "year") & (pd.to_datetime(res["period_start"]).dt.year == 2019)]
    received = VALID_DOSSIERS - {"M12"}  # refused at intake counts nowhere
    assert int(year["received_new"].sum()) == len(received)
    by_proc = year.groupby("procedure_code")["received_new"].sum()
    assert by_proc["1.999999"] == 1  # the unknown procedure counts under its code
    assert int(year.loc[year["agency_code"] == "ZZ", "received_new"].sum()) == 1


def test_warnings_flag_without_dropping(messy):
    st = messy["staged"]
    assert st["records_flagged"] == 2  # M10 (procedure), M11 (agency)
    assert messy["run"].counts["records_flagged"] == 2
    fct = messy["loaded"]["validation"]["fct_dossier"]  # the core suites run in the load (before it writes)
    assert fct["passed"] and fct["rows_with_warnings"] >= 2


def test_run_builds_data_docs_and_links_them(messy):
    from pathlib import Path

    docs = Path(messy["built"]["data_docs"])
    assert docs.name == "index.html" and docs.is_file()
    assert Path(messy["run"].run_dir) / "data_docs" in docs.parents
    html = docs.read_text(encoding="utf-8")
    for suite in ("raw_snapshot", "int_dossier_record", "dim_procedure", "dim_agency", "fct_dossier",
                  "fct_dossier_event", "mart_dossier_resolution", "mart_dossier_intake", "mart_indicator"):
        assert suite in html
