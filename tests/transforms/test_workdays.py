"""Golden cases for the working-day calendar (``transforms.workdays``), worked out by
hand and seen through the due date a record gets (5 working days after intake for
procedure 1.000001, 1 for 1.000003): Tết, a Saturday swapped into a working day, and
an agency's override file of days off and working days."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from helpers.bundle import dossier
from helpers.golden import one_record as _one

from transforms.workdays import WorkCalendar, calendars_from_overrides


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
