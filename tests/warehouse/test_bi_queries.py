"""The ten example queries of docs/bi.md, read from the document itself, run on the
bundled sample's warehouse and on its BI snapshot, each answer checked against the
dossier facts (``core.fct_dossier``, counted here in pandas by the domain's rules) or
against the report: the BI views must say what the report and the facts say."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from helpers.bundle import read_table, run_pipeline

from motcua import reporting
from motcua.dev.sample.bundle import write_sample
from warehouse import bi
from warehouse.engine import make_url

DOC = Path(__file__).resolve().parents[2] / "docs" / "bi.md"


def _queries() -> dict[str, str]:
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    out = {}
    for b in blocks:
        m = re.match(r"-- (q\d+)\n", b)
        if m:
            out[m.group(1)] = b[m.end():]
    return out


QUERIES = _queries()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bi-queries")
    write_sample(tmp / "bundle")
    url = f"duckdb:///{tmp / 'wh.duckdb'}"
    run_pipeline(tmp / "bundle", url, tmp / "var")
    snap = bi.publish_bi_snapshot(url, tmp / "bi")
    fct = read_table(url, "core.fct_dossier")
    fct = fct[fct["is_received"].astype(bool)].copy()
    for c in ("intake_at", "ended_at", "resolved_at"):
        fct[c] = pd.to_datetime(fct[c])
    fct["due_date"] = pd.to_datetime(fct["due_date"])
    fct["resolved"] = fct["resolved_at"].notna() & (fct["resolved_at"] == fct["ended_at"])
    return {"url": url, "snapshot": snap.database, "fct": fct, "tmp": tmp}


def _run(sample: dict, q: str) -> pd.DataFrame:
    """The query on the warehouse file and on the snapshot (both read-only): the same rows."""
    sql = QUERIES[q]
    frames = []
    for path in (make_url(sample["url"]).database, str(sample["snapshot"])):
        con = duckdb.connect(path, read_only=True)
        try:
            frames.append(con.sql(sql).df())
        finally:
            con.close()
    pd.testing.assert_frame_equal(frames[0], frames[1], check_dtype=False)
    assert len(frames[0]) > 0, q
    return frames[0]


def _day(s: pd.Series) -> pd.Series:
    return s.dt.normalize()


def test_the_document_holds_ten_queries():
    assert sorted(QUERIES, key=lambda k: int(k[1:])) == [f"q{i}" for i in range(1, 11)]


def test_q1_on_time_rate_by_field_and_month(sample):
    got = _run(sample, "q1")
    m = read_table(sample["url"], "mart.dossier_resolution_v1")
    m = m[(m["period_type"] == "month") & (pd.to_datetime(m["period_start"]).dt.year == 2019)]
    want = m.groupby([pd.to_datetime(m["period_start"]), m["field_name"].fillna("?")])[
        ["resolved_on_time", "resolved_total"]].sum()
    have = got.assign(month=pd.to_datetime(got["month"]), field_name=got["field_name"].fillna("?")).set_index(
        ["month", "field_name"])[["resolved_on_time", "resolved"]]
    assert have.to_numpy().tolist() == want.to_numpy().tolist()
    ok = got["resolved"] > 0
    assert (got.loc[ok, "on_time_rate"] - got.loc[ok, "resolved_on_time"] / got.loc[ok, "resolved"]).abs().max() < 1e-12


def test_q2_open_and_overdue_by_agency_at_a_date(sample):
    got = _run(sample, "q2").set_index("agency_code")
    f, d = sample["fct"], pd.Timestamp("2020-06-30")
    open_ = f[(_day(f["intake_at"]) <= d) & (f["ended_at"].isna() | (_day(f["ended_at"]) > d))]
    want_open = open_.groupby("agency_code").size()
    want_overdue = open_[open_["due_date"] < d].groupby("agency_code").size()
    assert got["open_dossiers"].astype(int).to_dict() == want_open.to_dict()
    assert got["overdue"].astype(int).to_dict() == want_overdue.reindex(want_open.index, fill_value=0).to_dict()


def test_q3_online_share_by_month(sample):
    got = _run(sample, "q3")
    f = sample["fct"]
    f = f[f["intake_at"].dt.year == 2019]
    month = f["intake_at"].dt.to_period("M").dt.start_time
    want = pd.DataFrame({"online": (f["channel_code"] == 2).groupby(month).sum(), "received": month.value_counts()})
    have = got.assign(month=pd.to_datetime(got["month"])).set_index("month")[["online", "received"]]
    assert have.astype(int).to_dict("index") == want.sort_index().astype(int).to_dict("index")


def test_q4_is_table_2_of_the_report(sample):
    got = _run(sample, "q4").set_index("procedure_code")
    t2 = reporting.build_report(sample["url"], 2019).table2.set_index("procedure_code")
    cols = {"c4_received_total": "received_total", "c5_carried_over": "carried_over", "c6_received_new": "received_new",
            "c7_resolved": "resolved_total", "c8_on_time": "resolved_on_time", "c9_late": "resolved_late",
            "c10_pending": "pending_total", "c11_not_due": "pending_not_due", "c12_overdue": "pending_overdue"}
    assert sorted(got.index) == sorted(t2.index)
    for q, r in cols.items():
        assert got[q].astype(int).to_dict() == t2[r].astype(int).to_dict(), q
    assert int(got["c4_received_total"].sum()) == 477  # the seed's table 2 says 466


def test_q5_decree09_year_differs_by_the_december_tails(sample):
    got = _run(sample, "q5").set_index("convention")
    f = sample["fct"]

    def received(a: str, b: str) -> int:
        return int(f["intake_at"].between(pd.Timestamp(a), pd.Timestamp(b) + pd.Timedelta(days=1), inclusive="left").sum())

    def resolved(a: str, b: str) -> int:
        r = f[f["resolved"]]
        return int(r["ended_at"].between(pd.Timestamp(a), pd.Timestamp(b) + pd.Timedelta(days=1), inclusive="left").sum())

    assert int(got.loc["calendar", "received"]) == received("2019-01-01", "2019-12-31")
    assert int(got.loc["decree09", "received"]) == received("2018-12-15", "2019-12-14")
    assert int(got.loc["decree09", "resolved"]) == resolved("2018-12-15", "2019-12-14")
    tails = received("2018-12-15", "2018-12-31") - received("2019-12-15", "2019-12-31")
    assert int(got.loc["decree09", "received"]) - int(got.loc["calendar", "received"]) == tails
    assert received("2018-12-15", "2018-12-31") + received("2019-12-15", "2019-12-31") > 0  # the case is exercised
    t2 = reporting.build_report(sample["url"], 2019, convention="decree09").table2
    assert int(got.loc["decree09", "received"]) == int(t2["received_new"].sum())


def test_q6_own_rows_sum_to_the_province_without_double_counting(sample):
    got = _run(sample, "q6").set_index("indicator_code")
    f = sample["fct"]
    done = f[f["resolved"] & (f["ended_at"].dt.year == 2019)]
    on_time = done["resolution_class"].isin(["early", "on_time"]).sum()
    assert got.loc["on_time_rate", ["numerator", "denominator"]].tolist() == [on_time, len(done)]
    new = f[f["intake_at"].dt.year == 2019]
    assert got.loc["online_intake_rate", ["numerator", "denominator"]].tolist() == [(new["channel_code"] == 2).sum(), len(new)]
    # the rollup rows of the two top-level agencies (the province as it was, and the one it
    # merged into) each hold every dossier: their sum counts each twice
    con = duckdb.connect(str(sample["snapshot"]), read_only=True)
    try:
        top = con.sql("SELECT SUM(denominator) FROM mart.indicator WHERE period_type = 'year' AND "
                      "period_start = DATE '2019-01-01' AND indicator_code = 'on_time_rate' "
                      "AND agency_code IN ('UBND-BRVT', 'UBND-HCM')").fetchall()[0][0]
    finally:
        con.close()
    assert top == 2 * len(done)


def test_q7_an_agency_with_everything_under_it_and_the_names(sample):
    got = _run(sample, "q7").set_index("indicator_code")
    from transforms.dim_indicator import INDICATORS

    names = {i.indicator_code: (i.name_vi, i.unit) for i in INDICATORS}
    assert {k: (r.name_vi, r.unit) for k, r in got.iterrows()} == {k: names[k] for k in got.index}
    f = sample["fct"]
    done = f[f["resolved"] & (f["ended_at"].dt.year == 2019)]  # UBND-HCM is today's top: every agency
    assert got.loc["on_time_rate", "denominator"] == len(done)
    stable = read_table(sample["url"], "mart.indicator")
    stable = stable[(stable["agency_code"] == "UBND-HCM") & (stable["period_type"] == "year")
                    & (pd.to_datetime(stable["period_start"]) == pd.Timestamp("2019-01-01"))]
    assert sorted(stable["indicator_code"]) == sorted(got.index)


def test_q8_median_processing_days_by_agency(sample):
    got = _run(sample, "q8").set_index("agency_code")
    f = sample["fct"]
    done = f[f["resolved"] & (f["ended_at"].dt.year == 2019) & f["processing_working_days"].notna()]
    want = done.groupby("agency_code")["processing_working_days"].agg(["median", "size"])
    assert got["median_working_days"].to_dict() == want["median"].astype(float).to_dict()
    assert got["resolved"].astype(int).to_dict() == want["size"].to_dict()


def test_q9_backlog_at_each_month_end(sample):
    got = _run(sample, "q9")
    f = sample["fct"]
    for row in got.itertuples():
        d = pd.Timestamp(row.period_end)
        open_ = f[(_day(f["intake_at"]) <= d) & (f["ended_at"].isna() | (_day(f["ended_at"]) > d))]
        assert (int(row.open_dossiers), int(row.overdue)) == (len(open_), int((open_["due_date"] < d).sum())), d
    assert len(got) == 12 or got["open_dossiers"].min() > 0  # months with nothing open have no row


def test_q10_procedures_with_the_most_late_resolutions(sample):
    got = _run(sample, "q10")
    f = sample["fct"]
    late = f[f["resolved"] & (f["ended_at"].dt.year == 2020) & (f["resolution_class"] == "late")]
    want = late.groupby("procedure_code").size().reset_index(name="late")
    want = want.sort_values(["late", "procedure_code"], ascending=[False, True]).head(5)
    assert list(zip(got["procedure_code"], got["late"].astype(int), strict=True)) == list(
        zip(want["procedure_code"], want["late"], strict=True))
