"""mart.dossier_resolution: one row per (period_type, period_start, agency_code,
procedure_code) — dossiers received and resolved, the seed's table 2 columns (4)–(12),
withdrawn and early, for every calendar year and month and every Decree 09 year (15/12 to
14/12, ``period_type = 'decree09_year'``) from the earliest intake to the latest intake or end. Rows of all zeros are left out.

``agency_code`` is the receiving agency as recorded (``MaDonVi``); names come from the
catalogue version in force at the period's end (else the latest one, else the name
the system recorded).
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import pandas as pd

from transforms import period_counts, periods

COLUMNS = [
    "period_type", "period_start", "period_end", "agency_code", "procedure_code",
    "procedure_name", "field_name", "received_total", "carried_over", "received_new",
    "resolved_total", "resolved_on_time", "resolved_late", "pending_total", "pending_not_due",
    "pending_overdue", "withdrawn", "resolved_early",
]
KEYS = ["agency_code", "procedure_code"]


def coverage(fct: pd.DataFrame) -> tuple[dt.date, dt.date] | None:
    """First and last date the marts must cover: earliest intake to latest intake or end."""
    f = fct[fct["is_received"].fillna(False).astype(bool)]
    if f.empty or f["intake_at"].isna().all():
        return None
    first = f["intake_at"].min()
    last = max(f["intake_at"].max(), f["ended_at"].max() if f["ended_at"].notna().any() else first)
    return first.date(), last.date()


MART_PERIODS: tuple[tuple[str, str, str], ...] = (
    ("year", "year", "calendar"),
    ("month", "month", "calendar"),
    ("decree09_year", "year", "decree09"),
)
"""The marts' period types: (``period_type``, kind, convention of :mod:`transforms.periods`)."""
PERIOD_TYPES = tuple(p for p, _, _ in MART_PERIODS)
"""``period_type`` values of the marts."""


def mart_grid(span: tuple[dt.date, dt.date]) -> pd.DataFrame:
    """Every period of every :data:`MART_PERIODS` type covering ``span``, with
    ``period_type``: calendar years and months, and Decree 09 years (15/12 to 14/12)."""
    return pd.concat([periods.grid(span[0], span[1], kind, convention).assign(period_type=ptype)
                      for ptype, kind, convention in MART_PERIODS], ignore_index=True)


def counts_all_periods(fct: pd.DataFrame, keys: list[str],
                       span: tuple[dt.date, dt.date] | None = None) -> pd.DataFrame:
    """Counts for every period of :data:`MART_PERIODS` over the coverage, with ``period_type``.

    ``span`` fixes the coverage (default: ``fct``'s own), so that counts of disjoint
    sets of dossiers over the same span can be added up (see :func:`add_counts`)."""
    span = span if span is not None else coverage(fct)
    parts = []
    if span is not None:
        for ptype, kind, convention in MART_PERIODS:
            grid = periods.grid(span[0], span[1], kind, convention)
            c = period_counts.count(fct, grid, keys)
            c.insert(0, "period_type", ptype)
            parts.append(c)
    if not parts:
        return pd.DataFrame(columns=["period_type", *keys, "period_start", "period_end", *period_counts.MEASURES])
    return pd.concat(parts, ignore_index=True)


def add_counts(parts: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Sum :func:`counts_all_periods` outputs of disjoint sets of dossiers (the counts
    are additive: each dossier adds to its own cells only)."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=["period_type", *keys, "period_start", "period_end", *period_counts.MEASURES])
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    df = pd.concat(parts, ignore_index=True)
    group = ["period_type", *keys, "period_start", "period_end"]
    return df.groupby(group, as_index=False, sort=False, dropna=False)[list(period_counts.MEASURES)].sum()


def recorded_names(fct: pd.DataFrame) -> pd.DataFrame:
    """How often each procedure code was recorded under each name (NFC): columns
    ``procedure_code, procedure_name_recorded, n``. ``fct`` may be dossier rows or such
    counts already (column ``n``), e.g. counted by the warehouse."""
    rec = fct[["procedure_code", "procedure_name_recorded", *(["n"] if "n" in fct else [])]].dropna(
        subset=["procedure_code", "procedure_name_recorded"])
    if "n" not in rec:
        rec = rec.assign(n=1)
    rec = rec.assign(procedure_name_recorded=_nfc(rec["procedure_name_recorded"]))
    return rec.groupby(["procedure_code", "procedure_name_recorded"], as_index=False)["n"].sum()


def _nfc(s: pd.Series) -> pd.Series:
    return s.map(lambda v: unicodedata.normalize("NFC", v) if isinstance(v, str) else v)


def procedure_names(rows: pd.DataFrame, dim_procedure: pd.DataFrame, fct: pd.DataFrame) -> pd.DataFrame:
    """Attach catalogue attributes in force at each row's ``period_end`` (else the latest
    version) to rows with ``procedure_code``: name, field name, level, URL. Codes not in
    the catalogue take the name the system recorded most often (ties: the first name in
    code-point order); ``fct`` is dossier rows or :func:`recorded_names` counts."""
    attrs = ["procedure_name", "field_name", "service_level", "service_url"]
    out = rows.copy()
    if out.empty:
        for a in attrs:
            out[a] = pd.Series(dtype="string")
        return out
    dim = dim_procedure.sort_values("valid_from")
    q = out[["procedure_code", "period_end"]].reset_index()
    q["period_end"] = q["period_end"].astype("datetime64[us]")
    q["procedure_code"] = q["procedure_code"].astype("string")
    d = dim[["procedure_code", "valid_from", *attrs]].copy()
    d["valid_from"] = d["valid_from"].astype("datetime64[us]")
    d["procedure_code"] = d["procedure_code"].astype("string")
    m = pd.merge_asof(q.sort_values("period_end"), d.sort_values("valid_from"),
                      left_on="period_end", right_on="valid_from", by="procedure_code", direction="backward")
    m = m.set_index("index").reindex(out.index)
    latest = dim.drop_duplicates("procedure_code", keep="last").set_index("procedure_code")
    for a in attrs:
        val = m[a].astype("string")
        val = val.fillna(out["procedure_code"].map(latest[a]).astype("string"))
        out[a] = val
    # unknown codes: the name as recorded by the system (most frequent, NFC)
    rec = recorded_names(fct)
    if not rec.empty:
        rec = rec.sort_values(["procedure_code", "n", "procedure_name_recorded"], ascending=[True, False, True],
                              kind="mergesort")
        common = rec.drop_duplicates("procedure_code").set_index("procedure_code")["procedure_name_recorded"]
        out["procedure_name"] = out["procedure_name"].fillna(out["procedure_code"].map(common).astype("string"))
    return out


def build(fct: pd.DataFrame, dim_procedure: pd.DataFrame, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """fct_dossier (+ dim_procedure for names) -> mart rows. ``counts`` may pass
    precomputed :func:`counts_all_periods` output (then ``fct`` may be
    :func:`recorded_names` counts instead of dossier rows)."""
    c = period_counts.add_totals(counts if counts is not None else counts_all_periods(fct, KEYS))
    c = procedure_names(c, dim_procedure, fct)
    for col in ("period_start", "period_end"):
        c[col] = pd.to_datetime(c[col]).astype("datetime64[us]")
    out = c[COLUMNS].sort_values(["period_type", "period_start", "agency_code", "procedure_code"])
    return out.reset_index(drop=True)
