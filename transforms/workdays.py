"""Working-day calendar (helper, builds no table).

The source of truth is the ``holidays`` package's Vietnam calendar
(``is_working_day``: Tết spans, observed days, Saturdays swapped into working
days). An agency may add its own days off and working days through an override
frame with columns ``agency_code`` (empty = every agency), ``date`` and ``kind``
(``off`` or ``work``). The calendar is materialised once as a sorted array of
working days so that due dates and processing times are vectorised look-ups.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

FIRST_YEAR = 2000
LAST_YEAR = 2045


@lru_cache(maxsize=4)
def _national_working_days(first_year: int, last_year: int) -> np.ndarray:
    vn = holidays.country_holidays("VN", years=range(first_year, last_year + 1))
    start = dt.date(first_year, 1, 1)
    days = [start + dt.timedelta(days=i) for i in range((dt.date(last_year, 12, 31) - start).days + 1)]
    working = [d for d in days if vn.is_working_day(d)]
    return np.array(working, dtype="datetime64[D]")


class WorkCalendar:
    """Working days for one agency (or nationally when no override applies)."""

    def __init__(
        self,
        extra_days_off: list[dt.date] | None = None,
        extra_working_days: list[dt.date] | None = None,
        first_year: int = FIRST_YEAR,
        last_year: int = LAST_YEAR,
    ) -> None:
        days = _national_working_days(first_year, last_year)
        if extra_days_off:
            days = np.setdiff1d(days, np.array(extra_days_off, dtype="datetime64[D]"))
        if extra_working_days:
            days = np.union1d(days, np.array(extra_working_days, dtype="datetime64[D]"))
        self.days = np.sort(days)
        self.first = np.datetime64(dt.date(first_year, 1, 1), "D")
        self.last = np.datetime64(dt.date(last_year, 12, 31), "D")

    def is_working_day(self, dates: np.ndarray) -> np.ndarray:
        d = np.asarray(dates, dtype="datetime64[D]")
        idx = np.searchsorted(self.days, d)
        idx = np.clip(idx, 0, len(self.days) - 1)
        return self.days[idx] == d

    def nth_working_day_after(self, dates: np.ndarray, n: np.ndarray) -> np.ndarray:
        """The n-th working day strictly after each date (n ≥ 1; n = 0 gives the date's own
        next working day on or after it). NaT where the input is NaT or n is missing."""
        d = np.asarray(dates, dtype="datetime64[D]")
        nn = np.asarray(n, dtype="float64")
        out = np.full(d.shape, np.datetime64("NaT"), dtype="datetime64[D]")
        ok = ~np.isnat(d) & ~np.isnan(nn) & (d >= self.first) & (d <= self.last)
        if ok.any():
            k = nn[ok].astype("int64")
            base = np.where(k > 0, np.searchsorted(self.days, d[ok], side="right") + k - 1,
                            np.searchsorted(self.days, d[ok], side="left"))
            inside = base < len(self.days)
            res = np.full(base.shape, np.datetime64("NaT"), dtype="datetime64[D]")
            res[inside] = self.days[base[inside]]
            out[ok] = res
        return out

    def working_days_between(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Working days in (start, end] by date; negative when end is before start; NaN on NaT."""
        a = np.asarray(start, dtype="datetime64[D]")
        b = np.asarray(end, dtype="datetime64[D]")
        out = np.full(a.shape, np.nan)
        ok = ~np.isnat(a) & ~np.isnat(b)
        if ok.any():
            out[ok] = (np.searchsorted(self.days, b[ok], side="right")
                       - np.searchsorted(self.days, a[ok], side="right"))
        return out


def calendars_from_overrides(overrides: pd.DataFrame | None) -> tuple[WorkCalendar, dict[str, WorkCalendar]]:
    """Build the default calendar and one per agency that has overrides.

    Overrides with an empty ``agency_code`` apply to every agency.
    """
    if overrides is None or overrides.empty:
        return WorkCalendar(), {}
    o = overrides.copy()
    o["agency_code"] = o["agency_code"].fillna("").astype(str).str.strip()
    o["kind"] = o["kind"].astype(str).str.strip().str.lower()
    bad = ~o["kind"].isin(["off", "work"])
    if bad.any():
        raise ValueError(f"calendar override kind must be 'off' or 'work', got {sorted(o.loc[bad, 'kind'].unique())}")
    o["date"] = pd.to_datetime(o["date"]).dt.date

    def build(rows: pd.DataFrame) -> WorkCalendar:
        return WorkCalendar(
            extra_days_off=list(rows.loc[rows["kind"] == "off", "date"]),
            extra_working_days=list(rows.loc[rows["kind"] == "work", "date"]),
        )

    common = o[o["agency_code"] == ""]
    default = build(common)
    per_agency = {
        code: build(pd.concat([common, rows]))
        for code, rows in o[o["agency_code"] != ""].groupby("agency_code")
    }
    return default, per_agency
