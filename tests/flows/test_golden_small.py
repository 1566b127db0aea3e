"""Golden case worked out by hand: one procedure (5 working days), one agency, eleven
dossiers chosen to hit every column of table 2. Expected figures are derived in the
comments from the dates, not from the code."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers.bundle import dossier, read_table, run_pipeline, write_bundle

P = "1.000001"

SNAPSHOTS = [
    # D1 received 4/3/2019, due 11/3, resolved 8/3: early (counts in (8) and early)
    dossier("D1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000"),
    # D2 resolved on its due day 11/3: on time, not early
    dossier("D2", 9, "20190311150000", intake="20190304090000", due="20190311170000", resolved="20190311150000"),
    # D3 resolved 12/3, a day late
    dossier("D3", 9, "20190312090000", intake="20190304090000", due="20190311170000", resolved="20190312090000"),
    # D4 received 20/12/2018, due 10/1/2019, resolved 9/1/2019: carried over into 2019, early there
    dossier("D4", 9, "20190109100000", intake="20181220090000", due="20190110170000", resolved="20190109100000"),
    # D5 received 20/12/2019, due 6/1/2020: open at the end of 2019, not yet due; resolved 3/1/2020 (early)
    dossier("D5", 4, "20191220090000", intake="20191220090000", due="20200106170000"),
    dossier("D5", 9, "20200103090000", intake="20191220090000", due="20200106170000", resolved="20200103090000"),
    # D6 received 1/11/2019, due 15/11/2019, never resolved: overdue at every later period end
    dossier("D6", 4, "20191101090000", intake="20191101090000", due="20191115170000"),
    # D7 received 2/5/2019, withdrawn 10/5/2019 (history entry with status 7)
    dossier("D7", 7, "20190510090000", intake="20190502090000", due="20190509170000",
            history=[(2, "20190502090000"), (7, "20190510090000")]),
    # D8 refused at intake, D9 online submission never accepted: count nowhere
    dossier("D8", 3, "20190601090000", NgayTuChoi="20190601090000"),
    dossier("D9", 1, "20190602090000", channel=2, NgayNopHoSo="20190602090000"),
    # D10 online, received 1/7/2019, due 8/7, resolved 5/7: early, online
    dossier("D10", 9, "20190705090000", channel=2, intake="20190701090000", due="20190708170000",
            resolved="20190705090000"),
    # D11 received Friday 1/2/2019, the last working day before Tết (4–8/2), no NgayHenTra:
    # due = 5th working day after: 11, 12, 13, 14, 15/2 -> 15/2; resolved 15/2: on time, not early
    dossier("D11", 9, "20190215100000", intake="20190201090000", resolved="20190215100000"),
]

EXPECTED_2019 = dict(received_total=9, carried_over=1, received_new=8, resolved_total=6, resolved_on_time=5,
                     resolved_late=1, pending_total=2, pending_not_due=1, pending_overdue=1, withdrawn=1,
                     resolved_early=3)
EXPECTED_2018 = dict(received_total=1, carried_over=0, received_new=1, resolved_total=0, pending_total=1,
                     pending_not_due=1, pending_overdue=0, withdrawn=0)
# 2020: D5 and D6 carried over; D5 resolved early; D6 still open and overdue
EXPECTED_2020 = dict(received_total=2, carried_over=2, received_new=0, resolved_total=1, resolved_on_time=1,
                     resolved_early=1, pending_total=1, pending_not_due=0, pending_overdue=1, withdrawn=0)
# December 2019: D6 carried over (overdue), D5 new (not yet due)
EXPECTED_DEC_2019 = dict(received_total=2, carried_over=1, received_new=1, resolved_total=0, pending_total=2,
                         pending_not_due=1, pending_overdue=1)
# March 2019: D1–D3 new and resolved: 2 on time (1 early), 1 late
EXPECTED_MAR_2019 = dict(received_total=3, carried_over=0, received_new=3, resolved_total=3, resolved_on_time=2,
                         resolved_late=1, resolved_early=1, pending_total=0)


@pytest.fixture(scope="module")
def marts(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("golden")
    bundle = write_bundle(tmp / "bundle", SNAPSHOTS, files=2)
    url = f"duckdb:///{tmp / 'wh.duckdb'}"
    result = run_pipeline(bundle, url, tmp / "var")
    return url, result


def _row(df: pd.DataFrame, period_type: str, start: str) -> pd.Series:
    rows = df[(df["period_type"] == period_type) & (pd.to_datetime(df["period_start"]) == pd.Timestamp(start))]
    assert len(rows) == 1, rows
    return rows.iloc[0]


@pytest.mark.parametrize("period_type,start,expected", [
    ("year", "2019-01-01", EXPECTED_2019),
    ("year", "2018-01-01", EXPECTED_2018),
    ("year", "2020-01-01", EXPECTED_2020),
    ("month", "2019-12-01", EXPECTED_DEC_2019),
    ("month", "2019-03-01", EXPECTED_MAR_2019),
])
def test_golden_counts(marts, period_type, start, expected):
    url, _ = marts
    row = _row(read_table(url, "mart.dossier_resolution"), period_type, start)
    assert {k: int(row[k]) for k in expected} == expected


def test_every_record_loaded_none_quarantined(marts):
    _, result = marts
    assert result["staged"]["records_read"] == len(SNAPSHOTS)
    assert result["staged"]["records_quarantined"] == 0


def test_refused_and_unaccepted_count_nowhere(marts):
    url, _ = marts
    fct = read_table(url, "core.fct_dossier").set_index("dossier_code")
    assert not fct.loc["D8", "is_received"] and not fct.loc["D9", "is_received"]


def test_computed_due_over_tet(marts):
    url, _ = marts
    fct = read_table(url, "core.fct_dossier").set_index("dossier_code")
    assert pd.Timestamp(fct.loc["D11", "due_date"]) == pd.Timestamp("2019-02-15")
    assert fct.loc["D11", "due_source"] == "computed"
    assert fct.loc["D11", "resolution_class"] == "on_time"
    # 11..15 February are the 5 working days from intake to resolution
    assert fct.loc["D11", "processing_working_days"] == 5


def test_intake_mart_channels(marts):
    url, _ = marts
    row = _row(read_table(url, "mart.dossier_intake"), "year", "2019-01-01")
    assert (int(row["received_online"]), int(row["received_offline"])) == (1, 7)


def test_marts_cover_months_from_first_intake_to_last_event(marts):
    url, _ = marts
    df = read_table(url, "mart.dossier_resolution")
    months = sorted(pd.to_datetime(df.loc[df["period_type"] == "month", "period_start"]).unique())
    assert months[0] == pd.Timestamp("2018-12-01") and months[-1] == pd.Timestamp("2020-01-01")


def test_indicators_have_numerator_and_denominator(marts):
    url, _ = marts
    ind = read_table(url, "mart.indicator")
    row = ind[(ind["indicator_code"] == "on_time_rate") & (ind["period_type"] == "year")
              & (pd.to_datetime(ind["period_start"]) == pd.Timestamp("2019-01-01")) & (ind["agency_code"] == "A1")]
    assert len(row) == 1
    assert (row["numerator"].iloc[0], row["denominator"].iloc[0]) == (5, 6)
    online = ind[(ind["indicator_code"] == "online_intake_rate") & (ind["period_type"] == "year")
                 & (pd.to_datetime(ind["period_start"]) == pd.Timestamp("2019-01-01")) & (ind["agency_code"] == "A1")]
    assert (online["numerator"].iloc[0], online["denominator"].iloc[0]) == (1, 8)


def test_running_twice_gives_identical_marts(marts, tmp_path):
    url, _ = marts
    before = {t: read_table(url, t) for t in ("mart.dossier_resolution", "mart.dossier_intake", "mart.indicator")}
    bundle = write_bundle(tmp_path / "bundle", list(reversed(SNAPSHOTS)), files=3)
    run_pipeline(bundle, url, tmp_path / "var")
    for t, df in before.items():
        pd.testing.assert_frame_equal(read_table(url, t), df)
