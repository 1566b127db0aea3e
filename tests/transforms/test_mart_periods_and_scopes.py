"""The marts' Decree 09 years beside the calendar ones, and the indicators' agency scopes.

Small inputs counted by hand: a Decree 09 year (15/12 of the year before to 14/12)
differs from the calendar year by exactly the dossiers of 15-31 December of both years;
``agency_scope = 'own'`` rows add up across agencies to the parent's ``rollup`` row, where
a sum of ``rollup`` rows would count each dossier once per level."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from transforms import dim_agency, mart_dossier_resolution, mart_indicator

KEYS = mart_dossier_resolution.KEYS


def _fct(rows: list[tuple[str, str, str | None, str | None]]) -> pd.DataFrame:
    """(agency, intake, resolved, resolution class) per dossier; due ten days after intake."""
    intake = pd.to_datetime([r[1] for r in rows])
    ended = pd.to_datetime([r[2] for r in rows])
    return pd.DataFrame({
        "agency_code": [r[0] for r in rows], "procedure_code": "P1", "is_received": True,
        "intake_at": intake.astype("datetime64[us]"), "ended_at": ended.astype("datetime64[us]"),
        "end_kind": ["resolved" if r[2] else None for r in rows], "resolution_class": [r[3] for r in rows],
        "due_date": (intake + pd.Timedelta(days=10)).astype("datetime64[us]"), "channel_code": 1,
    })


def _row(counts: pd.DataFrame, period_type: str, start: str) -> pd.Series:
    got = counts[(counts["period_type"] == period_type) & (counts["period_start"] == pd.Timestamp(start))]
    assert len(got) == 1, (period_type, start, got)
    return got.iloc[0]


def test_decree09_year_differs_from_the_calendar_year_by_the_dossiers_of_15_to_31_december():
    fct = _fct([
        ("A", "2018-12-03", "2018-12-05", "on_time"),   # before both years
        ("A", "2018-12-20", "2018-12-27", "on_time"),   # decree09 2019 only (15-31/12/2018)
        ("A", "2018-12-28", "2019-01-04", "on_time"),   # received in decree09 2019, resolved in both
        ("A", "2019-06-03", "2019-06-10", "on_time"),   # both
        ("A", "2019-12-16", "2019-12-20", "on_time"),   # calendar 2019 only (15-31/12/2019)
        ("A", "2019-12-02", None, None),                # open: pending at both ends
    ])
    counts = mart_dossier_resolution.counts_all_periods(fct, KEYS, span=(dt.date(2018, 12, 1), dt.date(2019, 12, 31)))
    cal = _row(counts, "year", "2019-01-01")
    d09 = _row(counts, "decree09_year", "2018-12-15")
    assert d09["period_end"] == pd.Timestamp("2019-12-14")
    # received: calendar = 06-03, 12-16, 12-02; decree09 = 12-20, 12-28 (2018), 06-03, 12-02
    assert (cal["received_new"], d09["received_new"]) == (3, 4)
    # resolved: calendar = 01-04, 06-10, 12-20; decree09 = 12-27 (2018), 01-04, 06-10
    assert (cal["resolved_on_time"], d09["resolved_on_time"]) == (3, 3)
    # carried over: into calendar 2019 the dossier of 12-28; into decree09 2019 none
    assert (cal["carried_over"], d09["carried_over"]) == (1, 0)
    # pending at the end: 31/12/2019 the open one; 14/12/2019 the open one too
    assert (cal["pending_not_due"] + cal["pending_overdue"], d09["pending_not_due"] + d09["pending_overdue"]) == (1, 1)
    # the difference is exactly the December tails: + 15-31/12/2018, - 15-31/12/2019
    tail_2018 = fct["intake_at"].between(pd.Timestamp("2018-12-15"), pd.Timestamp("2018-12-31 23:59"))
    tail_2019 = fct["intake_at"].between(pd.Timestamp("2019-12-15"), pd.Timestamp("2019-12-31 23:59"))
    assert d09["received_new"] - cal["received_new"] == tail_2018.sum() - tail_2019.sum()
    assert mart_dossier_resolution.PERIOD_TYPES == ("year", "month", "decree09_year")


def _agencies() -> pd.DataFrame:
    return dim_agency.build(pd.DataFrame({
        "MaDonVi": ["SO", "TT1", "TT2"], "TenDonVi": ["Sở", "Trung tâm 1", "Trung tâm 2"],
        "MaDonViCha": ["", "SO", "SO"], "HieuLucTu": ["2000-01-01"] * 3, "HieuLucDen": [""] * 3,
        "ThayTheBoi": [""] * 3,
    }).astype("string"))


def test_own_rows_add_up_across_agencies_and_rollup_rows_do_not():
    fct = _fct([
        ("TT1", "2019-03-04", "2019-03-08", "on_time"),
        ("TT1", "2019-03-04", "2019-03-29", "late"),
        ("TT1", "2019-03-05", "2019-03-07", "early"),
        ("TT2", "2019-04-01", "2019-04-30", "late"),
        ("SO", "2019-05-02", "2019-05-03", "on_time"),
    ])
    counts = mart_dossier_resolution.counts_all_periods(fct, KEYS, span=(dt.date(2019, 1, 1), dt.date(2019, 12, 31)))
    ind = mart_indicator.build(counts, fct.assign(processing_working_days=1), _agencies(), pd.DataFrame())
    year = ind[(ind["period_type"] == "year") & (ind["indicator_code"] == "on_time_rate")]
    own = year[year["agency_scope"] == "own"].set_index("agency_code")
    rollup = year[year["agency_scope"] == "rollup"].set_index("agency_code")
    # own: TT1 2 of 3 on time (early counts as on time), TT2 0 of 1, SO 1 of 1
    assert own[["numerator", "denominator"]].to_dict("index") == {
        "SO": {"numerator": 1.0, "denominator": 1.0}, "TT1": {"numerator": 2.0, "denominator": 3.0},
        "TT2": {"numerator": 0.0, "denominator": 1.0}}
    # rollup: SO holds all five dossiers; the centres their own
    assert rollup.loc["SO", ["numerator", "denominator"]].tolist() == [3.0, 5.0]
    assert rollup.loc["TT1", ["numerator", "denominator"]].tolist() == [2.0, 3.0]
    # own rows sum to the top agency's figure; rollup rows would count TT1 and TT2 twice
    assert own[["numerator", "denominator"]].sum().tolist() == [3.0, 5.0]
    assert rollup[["numerator", "denominator"]].sum().tolist() == [3.0 + 2.0 + 0.0, 5.0 + 3.0 + 1.0]
    assert set(ind["agency_scope"]) == {"own", "rollup"}
    only = mart_indicator.build(counts, None, _agencies(), pd.DataFrame(), scopes=("rollup",))
    assert set(only["agency_scope"]) == {"rollup"}
