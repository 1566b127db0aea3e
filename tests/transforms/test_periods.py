"""Reporting periods (``transforms.periods``), a golden case worked out by hand: the
Decree 09 year (15 December to 14 December) against the calendar year, counted over
the same dossiers."""

from __future__ import annotations

import pandas as pd
from helpers.bundle import dossier
from helpers.golden import PROCS
from helpers.pure import merge, records, with_end_kind

from transforms import period_counts, periods


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
