"""Every cell of a published table that differs from what the warehouse computes for
the year, with both values (rows matched by procedure name: NFC, case, spaces), and the
rows on one side only. Pure: the warehouse's table is handed in (see
:func:`motcua.reconcile.check.warehouse_table`)."""

from __future__ import annotations

import pandas as pd

from motcua.reconcile.findings import Finding
from motcua.reconcile.published import LABELS, PublishedTable, fold, name_key, short


def _loose(text: str) -> str:
    """Compare-form of a level or address: folded, ``_`` as a space, no final slash."""
    return fold(text).replace("_", " ").rstrip("/")


def compare(t: PublishedTable, expected: pd.DataFrame, year: int) -> list[Finding]:
    """Every cell of ``t`` that differs from ``expected`` (the warehouse's table for the
    same year: one row per procedure), with both values; rows on one side only."""
    out: list[Finding] = []
    exp = expected.copy()
    exp["_key"] = exp["procedure_name"].map(name_key)
    exp["_fold"] = exp["procedure_name"].map(fold)
    by_key = {k: g for k, g in exp.groupby("_key")}
    by_fold = {k: g for k, g in exp.groupby("_fold")}
    matched: set[int] = set()
    texts = ["service_level", "service_url"] if t.table == 1 else []
    for r in t.rows:
        hit = by_key.get(name_key(r.name))
        if hit is None:
            hit = by_fold.get(fold(r.name))
        if hit is None or len(hit) != 1:
            vals = {LABELS[k]: r.values.get(k) for k in t.counts if r.values.get(k) is not None}
            out.append(Finding("not_in_warehouse", f"row {r.label} ({short(r.name, 70)}): no procedure of that name in "
                                                   f"the warehouse for {year}; the report says {vals}",
                               r.label, None, vals, None))
            continue
        w = hit.iloc[0]
        matched.add(int(hit.index[0]))
        for k in t.counts:
            rv = r.values.get(k)
            wv = int(w[k]) if k in w and pd.notna(w[k]) else 0
            if rv is None and (k in r.bad_cells or wv == 0):
                continue
            if rv != wv:
                shown = "blank" if rv is None else rv
                out.append(Finding("difference", f"row {r.label} ({short(r.name)}), column {LABELS[k]}: report "
                                                 f"{shown}, warehouse {wv}", r.label, LABELS[k], rv, wv))
        for k in texts:
            rv, wv = (r.service_level, w.get(k)) if k == "service_level" else (r.service_url, w.get(k))
            wv = "" if wv is None or (not isinstance(wv, str) and pd.isna(wv)) else str(wv)
            if _loose(rv) != _loose(wv):
                out.append(Finding("difference", f"row {r.label} ({short(r.name)}), column {LABELS[k]}: report "
                                                 f"{rv!r}, warehouse {wv!r}", r.label, LABELS[k], rv, wv))
    for i, w in exp.iterrows():
        if i in matched:
            continue
        vals = {LABELS[k]: int(w[k]) for k in t.counts if k in w and pd.notna(w[k]) and int(w[k])}
        out.append(Finding("missing_from_report", f"{w.get('procedure_code', '')} {short(str(w['procedure_name']), 70)}: "
                                                  f"in the warehouse for {year} {vals}, not in the report",
                           None, None, None, vals))
    if t.total is not None:
        for k in t.counts:
            rv = t.total.values.get(k)
            wv = int(exp[k].sum()) if k in exp else 0
            if rv is not None and rv != wv:
                out.append(Finding("difference", f"total row, column {LABELS[k]}: report {rv}, warehouse {wv}",
                                   "total", LABELS[k], rv, wv))
    return out
