"""The sample's calendar: Vietnam's working days and the office hours events happen in."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from functools import lru_cache

import holidays


class WorkDays:
    """Vietnam's working days (``holidays``' ``is_working_day``) as a sorted list."""

    def __init__(self, first_year: int = 2016, last_year: int = 2024) -> None:
        vn = holidays.country_holidays("VN", years=range(first_year, last_year + 1))
        day, last = dt.date(first_year, 1, 1), dt.date(last_year, 12, 31)
        days: list[dt.date] = []
        while day <= last:
            if vn.is_working_day(day):
                days.append(day)
            day += dt.timedelta(days=1)
        self.days = days

    def after(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after ``day`` (n ≥ 1); ``day`` itself when n = 0."""
        if n <= 0:
            return day
        return self.days[bisect_right(self.days, day) + n - 1]

    def before(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day before ``day`` (n ≥ 1)."""
        return self.days[bisect_left(self.days, day) - n]

    def span(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """The working days from ``first`` to ``last``, both included."""
        return self.days[bisect_left(self.days, first):bisect_right(self.days, last)]

    def last_on_or_before(self, day: dt.date) -> dt.date:
        return self.days[bisect_right(self.days, day) - 1]


@lru_cache(maxsize=1)
def workdays() -> WorkDays:
    return WorkDays()


# Office hours: 07:30–11:29 and 13:30–16:59 (the due time is 17:00).
SLOTS = list(range(7 * 60 + 30, 11 * 60 + 30)) + list(range(13 * 60 + 30, 17 * 60))
DUE_TIME = dt.time(17, 0, 0)
