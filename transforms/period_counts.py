"""Counting dossiers per period (helper for the marts and reports, builds no table).

For a contiguous grid of periods and one group (agency, procedure, …) the report
columns of domain.md section 3, over received dossiers, with r = intake, e = the end
(earlier of resolution and withdrawal), u = due, all compared by calendar day:

* carried_over (5): r < start and e not before start;
* received_new (6): start <= r <= end;
* resolved_on_time (8) / resolved_late (9) / resolved_early: the resolution ends the
  dossier within the period, date(f) <= date(u) / > / <;
* withdrawn: the withdrawal or stop ends the dossier within the period;
* pending_not_due (11) / pending_overdue (12): received by the end, not ended by the
  end, and date(u) >= end / < end;
* received_online / received_offline, and among new dossiers: rated, rated_satisfied
  (rating 1 or 2), paid_online, digitised (for the indicators).

Each dossier touches a contiguous run of periods, so counts are accumulated with
difference arrays (O(dossiers + groups x periods)), in blocks of groups to bound memory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.report_tables import TABLE2

MEASURES = [
    "carried_over", "received_new", "resolved_on_time", "resolved_late", "resolved_early",
    "withdrawn", "pending_not_due", "pending_overdue", "received_online", "received_offline",
    "rated", "rated_satisfied", "paid_online", "digitised",
]
_BLOCK_CELLS = 4_000_000
DEFINING = tuple(i for i in TABLE2.identities if set(i.parts) <= set(MEASURES))
"""The identities of table 2 that define its totals (4), (7), (10) from the measures (the
others, e.g. (4) = (7) + (10) + withdrawn, follow from them)."""
TOTALS = tuple(i.total for i in DEFINING)
"""The columns :func:`add_totals` adds: ``received_total``, ``resolved_total``, ``pending_total``."""


def _index(dates: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Period index of each date: -1 before the grid, P after it (or NaT → P)."""
    p = len(starts)
    idx = np.searchsorted(starts, dates, side="right") - 1
    idx = np.where(np.isnat(dates), p, idx)
    idx = np.where(~np.isnat(dates) & (dates > ends[-1]), p, idx)
    return idx


def count(fct: pd.DataFrame, periods: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Counts per (keys, period). ``fct`` needs ``is_received, intake_at, ended_at,
    end_kind, due_date, resolution_class, channel_code`` and the key columns;
    ``periods`` has contiguous, sorted ``period_start``, ``period_end``. Rows whose
    counts are all zero are left out."""
    out_cols = [*keys, "period_start", "period_end", *MEASURES]
    f = fct[fct["is_received"].fillna(False).astype(bool)]
    if f.empty or periods.empty:
        return pd.DataFrame({c: [] for c in out_cols})
    starts = periods["period_start"].to_numpy().astype("datetime64[D]")
    ends = periods["period_end"].to_numpy().astype("datetime64[D]")
    n_p = len(starts)
    r = f["intake_at"].to_numpy().astype("datetime64[D]")
    e = f["ended_at"].to_numpy().astype("datetime64[D]")
    u = f["due_date"].to_numpy().astype("datetime64[D]")
    ri = _index(r, starts, ends)
    ei = _index(e, starts, ends)
    # first period whose end is after the due date: pending there and later is overdue
    t = np.where(np.isnat(u), n_p, np.searchsorted(ends, u, side="right"))
    kind = f["end_kind"].astype("string").fillna("").to_numpy()
    cls = f["resolution_class"].astype("string").fillna("").to_numpy()
    chan = f["channel_code"].astype("Int64").fillna(0).to_numpy().astype("int64")
    rating = f["rating"].astype("Int64").fillna(0).to_numpy().astype("int64") if "rating" in f else np.zeros(len(f), "int64")
    paid = f["paid_online"].astype("boolean").fillna(False).to_numpy().astype(bool) if "paid_online" in f else np.zeros(len(f), bool)
    digi = f["digitised"].astype("boolean").fillna(False).to_numpy().astype(bool) if "digitised" in f else np.zeros(len(f), bool)
    codes, uniques = pd.MultiIndex.from_frame(f[keys].fillna("")).factorize() if len(keys) > 1 else pd.factorize(f[keys[0]].fillna(""))
    codes = np.asarray(codes)
    n_g = len(uniques)
    block = max(1, _BLOCK_CELLS // (n_p + 1))
    frames = []
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    for g0 in range(0, n_g, block):
        g1 = min(n_g, g0 + block)
        lo, hi = np.searchsorted(sorted_codes, [g0, g1])
        sel = order[lo:hi]
        g = codes[sel] - g0
        gn = g1 - g0
        res = {m: np.zeros((gn, n_p + 1), dtype=np.int64) for m in MEASURES}

        def point(measure: str, where: np.ndarray, at: np.ndarray, g=g, res=res) -> None:
            ok = where & (at >= 0) & (at < n_p)
            np.add.at(res[measure], (g[ok], at[ok]), 1)

        def span(measure: str, a: np.ndarray, b: np.ndarray, g=g, res=res) -> None:
            a = np.clip(a, 0, n_p)
            b = np.clip(b, -1, n_p - 1)
            ok = a <= b
            np.add.at(res[measure], (g[ok], a[ok]), 1)
            np.add.at(res[measure], (g[ok], b[ok] + 1), -1)

        rs, es, ts = ri[sel], ei[sel], t[sel]
        ks, cs, ch = kind[sel], cls[sel], chan[sel]
        rt = rating[sel]
        everyone = np.ones(len(sel), dtype=bool)
        point("received_new", everyone, rs)
        point("received_online", ch == 2, rs)
        point("received_offline", ch != 2, rs)
        point("rated", np.isin(rt, [1, 2, 3]), rs)
        point("rated_satisfied", np.isin(rt, [1, 2]), rs)
        point("paid_online", paid[sel], rs)
        point("digitised", digi[sel], rs)
        span("carried_over", rs + 1, es)
        resolved = ks == "resolved"
        point("resolved_on_time", resolved & np.isin(cs, ["early", "on_time"]), es)
        point("resolved_late", resolved & (cs == "late"), es)
        point("resolved_early", resolved & (cs == "early"), es)
        point("withdrawn", ks == "withdrawn", es)
        span("pending_not_due", rs, np.minimum(es - 1, ts - 1))
        span("pending_overdue", np.maximum(rs, ts), es - 1)
        for m in ("carried_over", "pending_not_due", "pending_overdue"):
            res[m] = np.cumsum(res[m], axis=1)
        stacked = np.stack([res[m][:, :n_p] for m in MEASURES], axis=-1)  # gn x P x M
        nz = stacked.any(axis=-1)
        gi, pi = np.nonzero(nz)
        vals = stacked[gi, pi]
        part = pd.DataFrame(vals, columns=MEASURES)
        part["_g"] = gi + g0
        part["_p"] = pi
        frames.append(part)
    allp = pd.concat(frames, ignore_index=True)
    if len(keys) > 1:
        key_frame = uniques.to_frame(index=False)
        key_frame.columns = keys
    else:
        key_frame = pd.DataFrame({keys[0]: np.asarray(uniques)})
    out = key_frame.iloc[allp["_g"].to_numpy()].reset_index(drop=True)
    out["period_start"] = periods["period_start"].to_numpy()[allp["_p"].to_numpy()]
    out["period_end"] = periods["period_end"].to_numpy()[allp["_p"].to_numpy()]
    for m in MEASURES:
        out[m] = allp[m].to_numpy()
    return out[out_cols]


def add_totals(df: pd.DataFrame) -> pd.DataFrame:
    """Add the report's derived columns (4), (7), (10) (:data:`TOTALS`), each the sum of
    its parts as the identities of table 2 define it (:data:`DEFINING`)."""
    df = df.copy()
    for identity in DEFINING:
        df[identity.total] = sum((df[p] for p in identity.parts[1:]), start=df[identity.parts[0]])
    return df
