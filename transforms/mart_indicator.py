"""mart.indicator: one row per (period_type, period_start, agency_code, agency_scope,
indicator_code), each with its numerator and denominator. ``agency_scope = 'rollup'``
rows are for every agency level: the receiving agency and every agency above it, both
in the tree as it was (parents) and in today's tree (following mergers to successors),
so past years roll up to today's agencies (one agency's figure; never summed across
agencies). ``agency_scope = 'own'`` rows count each agency's own dossiers and
procedures alone: their numerators and denominators add up across agencies.

Indicators (domain reference, section 4): on_time_rate, early_rate,
online_intake_rate, overdue_open, satisfaction_rate, online_payment_rate,
digitised_rate, processing_days_median / processing_days_p90 (working days from intake
to resolution, over dossiers resolved in the period; denominator = those dossiers),
published_rate, one_stop_rate, inter_agency_rate and online_procedures_used_rate (over
the catalogue's procedures valid in the period, by their handling agency), and
plan_completion_rate when a plan register is given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.dim_agency import ancestors

COLUMNS = [
    "period_type", "period_start", "period_end", "agency_code", "agency_scope", "indicator_code",
    "numerator", "denominator", "value",
]
SCOPES = ("rollup", "own")
"""``agency_scope`` values: ``rollup``, the agency and every agency under it (then and
today); ``own``, the agency alone (numerators and denominators add across agencies)."""
PERIOD = ["period_type", "period_start", "period_end"]
ONLINE_LEVELS = {"3", "4", "toan_trinh", "mot_phan"}

# indicator -> (numerator measure, denominator measure)
RATIOS = {
    "on_time_rate": ("resolved_on_time", "resolved_total"),
    "early_rate": ("resolved_early", "resolved_total"),
    "online_intake_rate": ("received_online", "received_new"),
    "satisfaction_rate": ("rated_satisfied", "rated"),
    "online_payment_rate": ("paid_online", "received_new"),
    "digitised_rate": ("digitised", "received_new"),
}


def rollup_map(dim_agency: pd.DataFrame, codes: pd.Series) -> pd.DataFrame:
    """``agency_code -> rollup_code`` pairs: each code with itself and its ancestors
    (as it was and today), each pair once."""
    chains_then = ancestors(dim_agency, follow_successors=False) if not dim_agency.empty else {}
    chains_now = ancestors(dim_agency, follow_successors=True) if not dim_agency.empty else {}
    rows = []
    for code in pd.unique(codes.fillna("")):
        for r in dict.fromkeys([*chains_then.get(code, [code]), *chains_now.get(code, [code])]):
            rows.append((code, r))
    return pd.DataFrame(rows, columns=["agency_code", "rollup_code"])


def scope_map(scope: str, dim_agency: pd.DataFrame, codes: pd.Series) -> pd.DataFrame:
    """``agency_code -> rollup_code`` pairs of ``scope``: :func:`rollup_map` for
    ``rollup``, each code to itself for ``own``."""
    if scope == "rollup":
        return rollup_map(dim_agency, codes)
    if scope != "own":
        raise ValueError(f"agency scope must be one of {SCOPES}, got {scope!r}")
    u = pd.unique(codes.fillna(""))
    return pd.DataFrame({"agency_code": u, "rollup_code": u})


def _ratio(df: pd.DataFrame, code: str, num: str, den: str) -> pd.DataFrame:
    out = df[[*PERIOD, "agency_code"]].copy()
    out["indicator_code"] = code
    out["numerator"] = df[num].astype("float64")
    out["denominator"] = df[den].astype("float64")
    out["value"] = np.where(out["denominator"] > 0, out["numerator"] / out["denominator"].where(out["denominator"] > 0), np.nan)
    return out


def build(
    counts: pd.DataFrame,
    fct: pd.DataFrame | None,
    dim_agency: pd.DataFrame,
    dim_procedure: pd.DataFrame,
    plans: pd.DataFrame | None = None,
    days_histogram: pd.DataFrame | None = None,
    scopes: tuple[str, ...] = SCOPES,
) -> pd.DataFrame:
    """``counts``: :func:`transforms.mart_dossier_resolution.counts_all_periods` output
    keyed by agency_code and procedure_code (with totals added or not). The processing
    days come from ``fct`` (dossier rows) or, when the dossiers are read in chunks, from
    ``days_histogram`` (:func:`processing_days_histogram` of every chunk, added up).
    One set of rows per agency scope of ``scopes`` (:data:`SCOPES`)."""
    if counts.empty:
        return pd.DataFrame({c: [] for c in COLUMNS})
    c = counts.copy()
    c["resolved_total"] = c["resolved_on_time"] + c["resolved_late"]
    c["pending_total"] = c["pending_not_due"] + c["pending_overdue"]
    grid = c[PERIOD].drop_duplicates()
    if days_histogram is None:
        days_histogram = processing_days_histogram(fct, grid) if fct is not None else None
    parts = []
    for scope in scopes:
        ru = scope_map(scope, dim_agency, c["agency_code"])
        measures = [m for m in c.columns if m not in (*PERIOD, "agency_code", "procedure_code", "period_type")]
        rolled = c.merge(ru, on="agency_code").groupby([*PERIOD, "rollup_code"], as_index=False)[measures].sum()
        rolled = rolled.rename(columns={"rollup_code": "agency_code"})
        scoped = [_ratio(rolled, code, n, d) for code, (n, d) in RATIOS.items()]
        od = rolled[[*PERIOD, "agency_code"]].copy()
        od["indicator_code"] = "overdue_open"
        od["numerator"] = rolled["pending_overdue"].astype("float64")
        od["denominator"] = rolled["pending_total"].astype("float64")
        od["value"] = od["numerator"]
        scoped.append(od)
        scoped.append(_processing_days(days_histogram, ru))
        scoped.append(_catalogue(dim_procedure, grid, dim_agency, c, scope))
        if plans is not None and not plans.empty:
            scoped.append(_plans(plans, grid, dim_agency, scope))
        parts += [p.assign(agency_scope=scope) for p in scoped if not p.empty]
    out = pd.concat(parts, ignore_index=True)
    out = out.dropna(subset=["numerator", "denominator"], how="all")
    return out[COLUMNS].sort_values(["period_type", "period_start", "agency_code", "agency_scope", "indicator_code"]
                                    ).reset_index(drop=True)


def _assign_period(dates: pd.Series, grid: pd.DataFrame) -> pd.DataFrame:
    """Rows (row index, period columns) pairing each date with the periods containing it."""
    d = pd.DataFrame({"d": dates.astype("datetime64[us]")}).reset_index()
    parts = []
    for _, g in grid.groupby("period_type"):
        g = g.sort_values("period_start").astype({"period_start": "datetime64[us]", "period_end": "datetime64[us]"})
        m = pd.merge_asof(d.dropna().sort_values("d"), g, left_on="d", right_on="period_start", direction="backward")
        m = m[m["d"] <= m["period_end"] + pd.Timedelta(hours=23, minutes=59, seconds=59)]
        parts.append(m)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["index", "d", *PERIOD])


def processing_days_histogram(fct: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
    """How many dossiers resolved in each period took each number of working days, by
    receiving agency: columns ``period_type, period_start, period_end, agency_code,
    days, n``. Histograms of disjoint sets of dossiers add up (:func:`add_histograms`),
    and medians and percentiles computed from the sum are exact."""
    cols = [*PERIOD, "agency_code", "days", "n"]
    if fct is None or fct.empty or "end_kind" not in fct:
        return pd.DataFrame({c: [] for c in cols})
    f = fct[fct["is_received"].fillna(False).astype(bool) & (fct["end_kind"] == "resolved")]
    if f.empty:
        return pd.DataFrame({c: [] for c in cols})
    f = f.reset_index(drop=True)
    m = _assign_period(f["ended_at"], grid)
    if m.empty:
        return pd.DataFrame({c: [] for c in cols})
    idx = m["index"].to_numpy()
    m["agency_code"] = f["agency_code"].fillna("").to_numpy()[idx]
    m["days"] = f["processing_working_days"].astype("float64").to_numpy()[idx]
    m = m.dropna(subset=["days"])
    return m.groupby([*PERIOD, "agency_code", "days"], as_index=False, sort=False).size().rename(
        columns={"size": "n"})[cols]


def add_histograms(parts: list[pd.DataFrame]) -> pd.DataFrame | None:
    """Sum :func:`processing_days_histogram` outputs of disjoint sets of dossiers."""
    parts = [p for p in parts if p is not None and not p.empty]
    if not parts:
        return None
    df = pd.concat(parts, ignore_index=True)
    return df.groupby([*PERIOD, "agency_code", "days"], as_index=False, sort=False)["n"].sum()


def _lerp(a: float, b: float, t: float) -> float:
    """numpy's linear interpolation (the one ``Series.quantile`` uses)."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def _quantiles(days: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Median and 90th percentile (linear, as pandas) of ``days`` repeated ``n`` times;
    ``days`` sorted."""
    cum = np.cumsum(n)
    total = int(cum[-1])

    def at(k: int) -> float:
        return float(days[int(np.searchsorted(cum, k, side="right"))])

    mid = (total - 1) / 2
    lo = int(np.floor(mid))
    median = at(lo) if lo == mid else (at(lo) + at(lo + 1)) / 2
    pos = 0.9 * (total - 1)
    lo = int(np.floor(pos))
    p90 = _lerp(at(lo), at(min(lo + 1, total - 1)), pos - lo)
    return median, p90


def _processing_days(hist: pd.DataFrame | None, ru: pd.DataFrame) -> pd.DataFrame:
    if hist is None or hist.empty:
        return pd.DataFrame(columns=COLUMNS)
    m = hist.merge(ru, on="agency_code")
    if m.empty:
        return pd.DataFrame(columns=COLUMNS)
    m = m.groupby([*PERIOD, "rollup_code", "days"], as_index=False)["n"].sum()
    m = m.sort_values([*PERIOD, "rollup_code", "days"], kind="mergesort")
    rows = []
    for key, g in m.groupby([*PERIOD, "rollup_code"], sort=False):
        median, p90 = _quantiles(g["days"].to_numpy(), g["n"].to_numpy())
        rows.append((*key, int(g["n"].sum()), median, p90))
    stats = pd.DataFrame(rows, columns=[*PERIOD, "agency_code", "n", "median", "p90"])
    out = []
    for code, col in (("processing_days_median", "median"), ("processing_days_p90", "p90")):
        o = stats[[*PERIOD, "agency_code"]].copy()
        o["indicator_code"] = code
        o["numerator"] = np.nan
        o["denominator"] = stats["n"].astype("float64")
        o["value"] = stats[col]
        out.append(o)
    return pd.concat(out, ignore_index=True)


def _catalogue(dim_procedure: pd.DataFrame, grid: pd.DataFrame, dim_agency: pd.DataFrame, counts: pd.DataFrame,
               scope: str = "rollup") -> pd.DataFrame:
    if dim_procedure.empty:
        return pd.DataFrame(columns=[c for c in COLUMNS if c != "agency_scope"])
    p = dim_procedure.copy()
    p["valid_to"] = p["valid_to"].fillna(pd.Timestamp("2200-01-01"))
    p["agency_code"] = p["agency_code"].fillna("")
    g = grid.assign(_k=1).merge(p.assign(_k=1), on="_k").drop(columns="_k")
    g = g[(g["valid_from"] <= g["period_end"]) & (g["valid_to"] >= g["period_start"])]
    # one row per procedure per period: its latest version valid in the period
    g = g.sort_values("valid_from").drop_duplicates([*PERIOD, "procedure_code"], keep="last")
    online = counts[counts["received_online"] > 0][[*PERIOD, "procedure_code"]].drop_duplicates()
    g = g.merge(online.assign(has_online=True), on=[*PERIOD, "procedure_code"], how="left")
    g["has_online"] = g["has_online"].astype("boolean").fillna(False).astype(bool)
    g["online_level"] = g["service_level"].astype("string").str.strip().str.lower().isin(ONLINE_LEVELS)
    g["online_used"] = g["online_level"] & g["has_online"]
    for f in ("is_published", "is_one_stop", "is_inter_agency"):
        g[f] = g[f].astype("boolean").fillna(False).astype(bool)
    g["one"] = 1
    g = g.merge(scope_map(scope, dim_agency, g["agency_code"]), on="agency_code")
    s = g.groupby([*PERIOD, "rollup_code"], as_index=False)[
        ["one", "is_published", "is_one_stop", "is_inter_agency", "online_level", "online_used"]].sum()
    s = s.rename(columns={"rollup_code": "agency_code"})
    out = [
        _ratio(s, "published_rate", "is_published", "one"),
        _ratio(s, "one_stop_rate", "is_one_stop", "one"),
        _ratio(s, "inter_agency_rate", "is_inter_agency", "one"),
        _ratio(s, "online_procedures_used_rate", "online_used", "online_level"),
    ]
    return pd.concat(out, ignore_index=True)


def _plans(plans: pd.DataFrame, grid: pd.DataFrame, dim_agency: pd.DataFrame, scope: str = "rollup") -> pd.DataFrame:
    """``plans``: ``agency_code, issued_on, tasks_planned, tasks_done`` (one row per plan)."""
    plans = plans.reset_index(drop=True)
    m = _assign_period(pd.to_datetime(plans["issued_on"]), grid)
    if m.empty:
        return pd.DataFrame(columns=COLUMNS)
    m["agency_code"] = plans["agency_code"].fillna("").to_numpy()[m["index"].to_numpy()]
    m["planned"] = pd.to_numeric(plans["tasks_planned"]).to_numpy()[m["index"].to_numpy()]
    m["done"] = pd.to_numeric(plans["tasks_done"]).to_numpy()[m["index"].to_numpy()]
    m = m.merge(scope_map(scope, dim_agency, m["agency_code"]), on="agency_code")
    s = m.groupby([*PERIOD, "rollup_code"], as_index=False)[["planned", "done"]].sum()
    s = s.rename(columns={"rollup_code": "agency_code"})
    return _ratio(s, "plan_completion_rate", "done", "planned")
