"""The annual_report flow writes tables 1–2 for a year, a convention and an agency, and
points at them from its artifacts."""

from __future__ import annotations

import pandas as pd
from flow_cases import run_stages


def test_annual_report_writes_tables_1_and_2(bundles, prefect_api, tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    run_stages(url, tmp_path / "var", bundles["all"])

    from flows.annual_report import annual_report

    written = annual_report(year=2019, convention="calendar", agency="A1", warehouse=url, data_dir=str(tmp_path / "var"))
    names = {p.rsplit("/", 1)[-1] for p in written["files"]}
    assert {"bao-cao-cchc-2019.xlsx", "bao-cao-cchc-2019.html", "doan-van-II2.txt", "bieu1.csv", "bieu2.csv"} <= names
    assert all("/reports/2019/calendar-A1/" in p for p in written["files"])
    table2 = pd.read_csv(next(p for p in written["files"] if p.endswith("/bieu2.csv")), encoding="utf-8-sig")
    total = table2[["received_total", "carried_over", "received_new"]].sum()
    # 2019 at A1 and A2: E5 carried over; E1, E2, E3, E8 new; E4 new at A2 (E6 is 2020, E7 refused)
    assert (int(total["received_total"]), int(total["carried_over"]), int(total["received_new"])) == (6, 1, 5)
    # the same table 2 travels to the flow's artifact
    assert sum(r["received_total"] for r in written["table2"]) == 6
    assert any(r["indicator_code"] == "on_time_rate" for r in written["indicators"])
    assert (written["period_start"], written["period_end"]) == ("2019-01-01", "2019-12-31")

    decree = annual_report(year=2019, convention="decree09", warehouse=url, data_dir=str(tmp_path / "var"))
    assert (decree["period_start"], decree["period_end"]) == ("2018-12-15", "2019-12-14")
    assert all("/reports/2019/decree09/" in p for p in decree["files"])
