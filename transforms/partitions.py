"""Date intervals a run touched, the mart periods (partitions) they cover, and which of
them a run rebuilds: pure logic, no warehouse."""

from __future__ import annotations

import datetime as dt

import pandas as pd


def period_cover(intervals: list[Interval]) -> list[Interval]:
    """The dates of every mart period (calendar year and month) that intersects
    ``intervals``: whole years, since a year contains its months."""
    out: list[Interval] = []
    for a, b in intervals:
        out.append((None if a is None else dt.date(a.year, 1, 1), None if b is None else dt.date(b.year, 12, 31)))
    return merge_intervals(out)


# --------------------------------------------------------------------------- partitions & staleness
# Marts are partitioned by period x agency. A run rebuilds every period that intersects
# a date interval touched by a dossier it changed: from the dossier's intake to its end
# (open dossiers: to the last period), before the load (kept in the run's audit row,
# "marts stale since run X") and after it (core.fct_dossier rows carrying the run's id).

Interval = tuple[dt.date | None, dt.date | None]
"""A closed interval of local dates; None = unbounded on that side."""
MAX_INTERVALS = 200


def merge_intervals(intervals: list[Interval]) -> list[Interval]:
    """Merge overlapping or adjacent intervals (sorted by start). Past
    ``MAX_INTERVALS`` the result collapses to one covering interval (rebuilding more
    periods than needed is always safe)."""
    lo, hi = dt.date.min, dt.date.max
    norm = sorted((a or lo, b or hi) for a, b in intervals)
    out: list[tuple[dt.date, dt.date]] = []
    for a, b in norm:
        if out and (out[-1][1] == hi or a <= out[-1][1] + dt.timedelta(days=1)):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    if len(out) > MAX_INTERVALS:
        out = [(out[0][0], max(b for _, b in out))]
    return [(None if a == lo else a, None if b == hi else b) for a, b in out]


def intervals_to_json(intervals: list[Interval]) -> list[list[str | None]]:
    return [[a.isoformat() if a else None, b.isoformat() if b else None] for a, b in intervals]


def intervals_from_json(items: list[list[str | None]]) -> list[Interval]:
    return [(dt.date.fromisoformat(a) if a else None, dt.date.fromisoformat(b) if b else None) for a, b in items]


def dossier_spans(fct: pd.DataFrame) -> list[Interval]:
    """The merged [intake, end] date spans of the received dossiers in ``fct`` (columns
    ``is_received, intake_at, ended_at``); an open dossier's span has no end."""
    if fct.empty:
        return []
    f = fct[fct["is_received"].astype("boolean").fillna(False).astype(bool) & fct["intake_at"].notna()]
    if f.empty:
        return []
    starts = pd.to_datetime(f["intake_at"]).dt.date
    ends = pd.to_datetime(f["ended_at"])
    pairs = {(a, (None if pd.isna(b) else b.date())) for a, b in zip(starts, ends, strict=True)}
    return merge_intervals(list(pairs))


def partition_mask(df: pd.DataFrame, intervals: list[Interval]) -> pd.Series:
    """The pandas twin of :func:`warehouse.marts.partition_clause`."""
    mask = pd.Series(False, index=df.index)
    if df.empty:
        return mask
    start = pd.to_datetime(df["period_start"])
    end = pd.to_datetime(df["period_end"])
    for a, b in intervals:
        m = pd.Series(True, index=df.index)
        if a is not None:
            m &= end >= pd.Timestamp(a)
        if b is not None:
            m &= start <= pd.Timestamp(b)
        mask |= m
    return mask


# --------------------------------------------------------------------------- the rebuild plan
def rebuild_intervals(run_id: str, dossiers_changed: int, touched: list[Interval],
                      stale_spans: list[tuple[str, list[Interval]]],
                      ranges: list[tuple[dt.date, dt.date]] | None = None) -> list[Interval]:
    """The merged date intervals whose periods run ``run_id`` rebuilds: ``touched`` (the
    spans, after the load, of the dossiers this run and the stale runs changed); the old
    spans (before their load) of each ``marts_stale`` run in ``stale_spans`` (run id,
    spans), this run's only when it changed a dossier (``dossiers_changed``; an earlier
    stale run's always: its changes may since carry a later id); and the given date
    ``ranges`` (a backfill's [from, to])."""
    intervals = list(touched)
    for stale_id, spans in stale_spans:
        if stale_id != run_id or dossiers_changed:
            intervals += spans
    intervals += [(a, b) for a, b in (ranges or [])]
    return merge_intervals(intervals)


def rebuild_reason(*, rebuild_all: bool, marts_empty: bool, published: str | None, fingerprint: str) -> str | None:
    """Why every period is rebuilt, or None (only the periods touched): asked
    (``rebuild_all``); no published marts (``marts_empty``, or no fingerprint
    ``published`` by the last completed run); or the marts' inputs besides the facts
    changed (``fingerprint`` differs from the published one)."""
    return ("asked" if rebuild_all else "no published marts" if marts_empty or not published
            else "catalogue, agencies or transforms changed" if published != fingerprint else None)
