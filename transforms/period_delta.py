"""The marts' delta: the additive state of every period (counts, processing-day
histograms) that the last publish kept, brought up to date from the dossiers one run
changed alone (minus them as they were before its load, plus them as they are now)
instead of a recount of every fact. Pure: the facts come in as frames, those that reach
the periods new since the state through a callable (a chunked read of the warehouse).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import pandas as pd

from transforms import mart_dossier_resolution, mart_indicator, period_counts


def negate(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``df`` with ``columns`` negated (a copy): a subtrahend for the additive sums."""
    out = df.copy()
    for c in columns:
        out[c] = -out[c]
    return out


def nonzero(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The rows of ``df`` with any of ``columns`` not zero."""
    if df.empty:
        return df
    return df[(df[columns] != 0).any(axis=1)].reset_index(drop=True)


def span_allows_delta(old_span: tuple[dt.date, dt.date], span: tuple[dt.date, dt.date]) -> bool:
    """Whether the state of coverage ``old_span`` can be carried to coverage ``span``: not
    when the grid grows backwards (every period's "carried over" may change), nor when it
    shrank (periods would disappear)."""
    old_first, old_last = old_span
    if span[0] < old_first:
        return False
    return not (span[0] > old_first or span[1] < old_last)


def delta_counts(state_counts: pd.DataFrame, state_days: pd.DataFrame, before: pd.DataFrame, now: pd.DataFrame,
                 span: tuple[dt.date, dt.date], grid: pd.DataFrame, old_last: dt.date,
                 facts_open_at: Callable[[dt.datetime], Iterable[pd.DataFrame]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The counts and processing-day histograms of every period of ``grid``: the state's
    (whose coverage ended at ``old_last``), minus the run's dossiers as they were before
    the load (``before``), plus the same dossiers as they are now (``now``); the periods
    after ``old_last`` (the coverage grew) counted afresh over the facts that reach them:
    ``facts_open_at(start)`` gives, in chunks, every dossier open at or received after
    the first new period's ``start``."""
    keys = mart_dossier_resolution.KEYS
    measures = list(period_counts.MEASURES)
    before = before[before["dossier_code"].isin(now["dossier_code"])]
    new_grid = grid[grid["period_start"] > pd.Timestamp(old_last)]
    # periods of the old grid: state - before + now
    c_old = mart_dossier_resolution.counts_all_periods(before, keys, span=span)
    c_now = mart_dossier_resolution.counts_all_periods(now, keys, span=span)
    h_old = mart_indicator.processing_days_histogram(before, grid)
    h_now = mart_indicator.processing_days_histogram(now, grid)
    counts = mart_dossier_resolution.add_counts([state_counts, negate(c_old, measures), c_now], keys)
    days = mart_indicator.add_histograms([state_days, negate(h_old, ["n"]), h_now])
    in_old = pd.to_datetime(counts["period_start"]) <= pd.Timestamp(old_last)
    counts = counts[in_old]
    if days is not None:
        days = days[pd.to_datetime(days["period_start"]) <= pd.Timestamp(old_last)]
    # periods after the old coverage: every dossier open at or received after their start
    if not new_grid.empty:
        start = dt.datetime.combine(new_grid["period_start"].min().date(), dt.time())
        fresh_c, fresh_h = [], []
        for fct in facts_open_at(start):
            c = mart_dossier_resolution.counts_all_periods(fct, keys, span=span)
            fresh_c.append(c[pd.to_datetime(c["period_start"]) > pd.Timestamp(old_last)])
            fresh_h.append(mart_indicator.processing_days_histogram(fct, new_grid))
        counts = mart_dossier_resolution.add_counts([counts, *fresh_c], keys)
        days = mart_indicator.add_histograms([days, *fresh_h])
    counts = nonzero(counts.reset_index(drop=True), measures)
    if days is not None:
        days = days[days["n"] != 0].reset_index(drop=True)
    return counts, days
