"""Golden cases for the domain rules, worked out by hand from the calendar."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from helpers.bundle import dossier, procedure
from helpers.pure import merge, procedures_frame, records, with_end_kind

from transforms import dim_agency, int_dossier_record, period_counts, periods
from transforms.mart_indicator import rollup_map
from transforms.timeparse import parse_timestamps
from transforms.workdays import WorkCalendar, calendars_from_overrides

PROCS = procedures_frame([procedure("1.000001", 5), procedure("1.000003", 1)])


def _one(snapshot: dict, calendar=None, agency_calendars=None) -> pd.Series:
    import json

    from helpers.pure import stg_dossier_snapshot

    from motcua.sources.base import make_batch
    from transforms import dim_procedure

    staged, history = stg_dossier_snapshot.build(make_batch(["t:1"], [json.dumps(snapshot)]))
    out = int_dossier_record.build(staged, history, dim_procedure.build(PROCS), {"A1"}, calendar, agency_calendars)
    return out.iloc[0]


def test_timestamp_forms():
    s = pd.Series(["20230118230000", "20230118", "20230118160000Z", "20230118230000+07:00",
                   "2023-01-18T16:00:00Z", "2023-01-18", "", "31/02/2019"])
    parsed, invalid = parse_timestamps(s)
    assert list(parsed[:6]) == [pd.Timestamp("2023-01-18 23:00"), pd.Timestamp("2023-01-18"),
                                pd.Timestamp("2023-01-18 23:00"), pd.Timestamp("2023-01-18 23:00"),
                                pd.Timestamp("2023-01-18 23:00"), pd.Timestamp("2023-01-18")]
    assert pd.isna(parsed[6]) and not invalid[6]
    assert pd.isna(parsed[7]) and invalid[7]


def test_due_computed_over_tet_from_the_last_working_day_before_it():
    # Friday 1/2/2019; Tết 2019 closes 4–8/2; 5 working days after: 11, 12, 13, 14, 15/2
    r = _one(dossier("T", 4, "20190201090000", intake="20190201090000"))
    assert r["due_date"] == pd.Timestamp("2019-02-15") and r["due_source"] == "computed"


def test_swapped_saturday_is_a_working_day():
    # Saturday 5/1/2019 was worked (swapped for the Tết break): 1 working day after Friday 4/1 is 5/1
    r = _one(dossier("S", 4, "20190104090000", procedure_code="1.000003", intake="20190104090000"))
    assert r["due_date"] == pd.Timestamp("2019-01-05")
    # an ordinary Saturday is not: 1 working day after Friday 8/3/2019 is Monday 11/3
    r = _one(dossier("S2", 4, "20190308090000", procedure_code="1.000003", intake="20190308090000"))
    assert r["due_date"] == pd.Timestamp("2019-03-11")


def test_resolved_on_due_day_is_on_time_and_a_day_later_is_late():
    on = _one(dossier("O", 9, "20190311230000", intake="20190304090000", due="20190311080000",
                      resolved="20190311230000"))
    late = _one(dossier("L", 9, "20190312000000", intake="20190304090000", due="20190311235959",
                        resolved="20190312000000"))
    assert on["resolution_class"] == "on_time" and late["resolution_class"] == "late"


def test_paused_for_documents_uses_the_recorded_moved_due():
    # received 4/3 (due 11/3), documents requested 6/3 and supplied 11/3: the system moved the
    # due to 14/3; resolved 13/3 is early against the recorded due, although after 11/3
    snap = dossier("P", 9, "20190313090000", intake="20190304090000", due="20190314170000",
                   resolved="20190313090000",
                   history=[(2, "20190304090000"), (5, "20190306090000"), (4, "20190311090000"), (9, "20190313090000")],
                   DanhSachHoSoBoSung=[{"NgayYeuCauBoSung": "20190306090000", "NgayBoSung": "20190311090000",
                                        "NgayHenTraTruoc": "20190311170000", "NgayHenTraMoi": "20190314170000"}])
    r = _one(snap)
    assert r["due_date"] == pd.Timestamp("2019-03-14") and r["resolution_class"] == "early"
    assert r["supplement_rounds"] == 1


def test_agency_override_file_adds_days_off_and_working_days():
    overrides = pd.DataFrame({"agency_code": ["A1", "A1"], "date": ["2019-03-05", "2019-03-09"],
                              "kind": ["off", "work"]})
    default, per_agency = calendars_from_overrides(overrides)
    # A1: 5/3 off, Saturday 9/3 worked -> 5 working days after Mon 4/3: 6, 7, 8, 9, 11/3
    r = _one(dossier("C", 4, "20190304090000", intake="20190304090000"), default, per_agency)
    assert r["due_date"] == pd.Timestamp("2019-03-11")
    r = _one(dossier("C", 4, "20190304090000", intake="20190304090000"))
    assert r["due_date"] == pd.Timestamp("2019-03-11")  # 5,6,7,8,11 nationally
    one = WorkCalendar(extra_days_off=[dt.date(2019, 3, 5)])
    assert one.working_days_between(pd.to_datetime(["2019-03-04"]).values, pd.to_datetime(["2019-03-08"]).values)[0] == 3


def test_withdrawal_from_history_and_from_status():
    r = _one(dossier("W", 7, "20190320090000", intake="20190304090000", due="20190311170000",
                     history=[(2, "20190304090000"), (7, "20190306090000")]))
    assert r["end_kind"] == "withdrawn" and r["ended_at"] == pd.Timestamp("2019-03-06 09:00")
    r = _one(dossier("W2", 8, "20190320090000", intake="20190304090000", due="20190311170000"))
    assert r["end_kind"] == "withdrawn" and r["ended_at"] == pd.Timestamp("2019-03-20 09:00")


def test_resolution_and_withdrawal_same_instant_resolution_wins():
    r = _one(dossier("B", 9, "20190310090000", intake="20190304090000", due="20190311170000",
                     resolved="20190306090000", history=[(2, "20190304090000"), (7, "20190306090000")]))
    assert r["end_kind"] == "resolved"


def test_fallbacks_to_history_for_intake_and_resolution():
    r = _one(dossier("H", 10, "20190320090000", due="20190311170000",
                     history=[(10, "20190309090000"), (2, "20190304090000"), (2, "20190305090000"), (42, "x")]))
    assert r["intake_at"] == pd.Timestamp("2019-03-04 09:00")
    assert r["resolved_at"] == pd.Timestamp("2019-03-09 09:00")
    assert pd.isna(r["quarantine_reason"])


@pytest.mark.parametrize("snap,prefix", [
    (dossier("Q1", 42, "20190301090000"), "status_out_of_table"),
    (dossier("Q2", 2, "20190301090000", channel=9, intake="20190301090000"), "channel_out_of_table"),
    (dossier("Q3", 2, "not-a-date", intake="20190301090000"), "updated_at_invalid"),
    (dossier("Q4", 4, "20190301090000"), "received_without_intake"),
    (dossier("Q5", 9, "20190301090000", intake="20190305090000", resolved="20190301090000"), "resolution_before_intake"),
    (dossier("Q6", 2, "20190301090000", intake="31/02/2019"), "intake_unparseable"),
    (dossier("Q7", 2, "20190301090000", procedure_code="9.999999", intake="20190301090000"), "due_not_computable"),
    (dossier("Q8", 2, "20190301090000", intake="20190301090000", due="soon"), "due_unparseable"),
    (dossier("Q9", 7, "20190301090000", intake="20190301090000", due="20190311170000",
             history=[(7, "yesterday")]), "withdrawal_unparseable"),
    (dossier("", 2, "20190301090000", intake="20190301090000"), "missing_dossier_code"),
])
def test_quarantine_reasons(snap, prefix):
    r = _one(snap)
    assert str(r["quarantine_reason"]).startswith(prefix), r["quarantine_reason"]


def test_unknown_procedure_with_recorded_due_counts_and_is_flagged():
    r = _one(dossier("U", 2, "20190301090000", procedure_code="9.999999", intake="20190301090000",
                     due="20190308170000"))
    assert pd.isna(r["quarantine_reason"]) and not r["procedure_known"]


def _report(fct: pd.DataFrame, convention: str) -> pd.Series:
    start, end = periods.bounds(2019, "year", 1, convention)
    grid = pd.DataFrame({"period_start": [pd.Timestamp(start)], "period_end": [pd.Timestamp(end)]})
    c = period_counts.add_totals(period_counts.count(with_end_kind(fct), grid, ["procedure_code"]))
    return c.iloc[0]


def test_decree09_year_differs_by_exactly_the_dossiers_of_15_to_31_december():
    # dossiers received and resolved the same day, one per date around both year ends
    days = ["20181210", "20181214", "20181215", "20181220", "20181231", "20190101", "20190615",
            "20191214", "20191215", "20191231", "20200101"]
    lines = [dossier(f"D{d}", 9, d + "100000", intake=d + "090000", due=d + "170000", resolved=d + "100000")
             for d in days]
    fct = merge(pd.DataFrame(), records(lines, PROCS))
    cal = _report(fct, "calendar")
    dec = _report(fct, "decree09")
    # calendar 2019: 1/1, 15/6, 14/12, 15/12, 31/12 -> 5; decree09 2019 (15/12/2018–14/12/2019):
    # 15/12, 20/12, 31/12/2018, 1/1, 15/6, 14/12/2019 -> 6: +3 of 15–31/12/2018, -2 of 15–31/12/2019
    assert (cal["received_new"], dec["received_new"]) == (5, 6)
    in_dec_2018 = {d for d in days if "20181215" <= d <= "20181231"}
    in_dec_2019 = {d for d in days if "20191215" <= d <= "20191231"}
    assert dec["received_new"] - cal["received_new"] == len(in_dec_2018) - len(in_dec_2019)
    assert dec["resolved_total"] - cal["resolved_total"] == len(in_dec_2018) - len(in_dec_2019)


def test_agency_rollup_as_it_was_and_today():
    agencies = pd.DataFrame({
        "MaDonVi": ["UB-OLD", "UB-NEW", "SO", "TT1", "TT2", "TTM"],
        "TenDonVi": ["UBND cũ", "UBND mới", "Sở", "Trung tâm 1", "Trung tâm 2", "Trung tâm hợp nhất"],
        "MaDonViCha": ["", "", "UB-OLD", "SO", "SO", "SO"],
        "HieuLucTu": ["2000-01-01", "2025-07-01", "2000-01-01", "2000-01-01", "2000-01-01", "2019-08-23"],
        "HieuLucDen": ["2025-06-30", "", "", "2019-08-22", "2019-08-22", ""],
        "ThayTheBoi": ["UB-NEW", "", "", "TTM", "TTM", ""],
    }).astype("string")
    dim = dim_agency.build(agencies)
    ru = rollup_map(dim, pd.Series(["TT1", "TTM"]))
    tt1 = set(ru.loc[ru["agency_code"] == "TT1", "rollup_code"])
    # as it was: TT1 -> SO -> UB-OLD; today: TT1 -> TTM -> SO -> UB-OLD -> UB-NEW
    assert tt1 == {"TT1", "SO", "UB-OLD", "TTM", "UB-NEW"}
    assert len(ru[ru["agency_code"] == "TT1"]) == len(tt1)  # each ancestor once
