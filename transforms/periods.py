"""Reporting periods (helper, builds no table).

Periods are closed intervals of local dates [start, end]. Two conventions:

* ``calendar``: calendar months, quarters, half-years and years;
* ``decree09``: Decree 09/2019/NĐ-CP's cut-off dates: the year runs from 15 December
  of the previous year to 14 December, the half-year from 15 December to 14 June, a
  quarter from the 15th of the month before it to the 14th of its last month (and a
  month from the 15th of the month before to the 14th).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

KINDS = ("month", "quarter", "half", "year")
CONVENTIONS = ("calendar", "decree09")
_FREQ = {"month": "MS", "quarter": "QS", "half": "6MS", "year": "YS"}
_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}


def _check(kind: str, convention: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"period kind must be one of {KINDS}, got {kind!r}")
    if convention not in CONVENTIONS:
        raise ValueError(f"period convention must be one of {CONVENTIONS}, got {convention!r}")


def _calendar_start(d: dt.date, kind: str) -> dt.date:
    step = _MONTHS[kind]
    month = ((d.month - 1) // step) * step + 1
    return dt.date(d.year, month, 1)


def _shift(start: dt.date, end: dt.date, convention: str) -> tuple[dt.date, dt.date]:
    if convention == "calendar":
        return start, end
    prev = (pd.Timestamp(start) - pd.DateOffset(months=1)).date()
    return prev.replace(day=15), end.replace(day=14)


def bounds(year: int, kind: str = "year", index: int = 1, convention: str = "calendar") -> tuple[dt.date, dt.date]:
    """The [start, end] of the ``index``-th period of ``kind`` in ``year`` (1-based)."""
    _check(kind, convention)
    step = _MONTHS[kind]
    if not 1 <= index <= 12 // step:
        raise ValueError(f"{kind} index must be 1..{12 // step}, got {index}")
    start = dt.date(year, (index - 1) * step + 1, 1)
    end = (pd.Timestamp(start) + pd.DateOffset(months=step) - pd.Timedelta(days=1)).date()
    return _shift(start, end, convention)


def grid(first: dt.date, last: dt.date, kind: str, convention: str = "calendar") -> pd.DataFrame:
    """Contiguous periods of ``kind`` covering every date from ``first`` to ``last``.

    Columns ``period_start``, ``period_end`` (``datetime64[us]``), ``label`` (the
    calendar start of the period it stands for: a decree09 year labelled 2019 runs
    2018-12-15..2019-12-14).
    """
    _check(kind, convention)
    # a decree09 period may start in the previous month: widen the calendar grid by one
    lo = _calendar_start(first, kind)
    hi = _calendar_start(last, kind)
    if convention == "decree09":
        hi = _calendar_start((pd.Timestamp(last) + pd.DateOffset(months=1)).date(), kind)
    starts = pd.date_range(lo, hi, freq=_FREQ[kind])
    rows = []
    for s in starts:
        e = (s + pd.DateOffset(months=_MONTHS[kind]) - pd.Timedelta(days=1)).date()
        a, b = _shift(s.date(), e, convention)
        rows.append((a, b, s.date()))
    out = pd.DataFrame(rows, columns=["period_start", "period_end", "label"])
    out = out[(out["period_end"] >= first) & (out["period_start"] <= last)].reset_index(drop=True)
    for c in ("period_start", "period_end", "label"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[us]")
    return out
