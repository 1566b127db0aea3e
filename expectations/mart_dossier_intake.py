"""Suite for mart.dossier_intake (one row per period_type, period_start, agency_code,
procedure_code: new dossiers by channel), run on the built mart before anything is
published.

Context: ``resolution`` (the mart.dossier_resolution being built) for the
relationship check.

Critical (the run stops): the grain key unique and not null; the period end matches
its start; counts not negative; online + not online = new (6) of the same row of
mart.dossier_resolution (:data:`transforms.report_tables.INTAKE_SPLIT`), and as many rows as that mart has rows with new dossiers;
"totals = sum of rows": the year row equals the sum of its month rows.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from expectations.mart_dossier_resolution import (
    mart_grain_expectations,
    period_end_check,
    year_vs_months,
)
from expectations.runner import checks
from transforms.report_tables import INTAKE_SPLIT, TABLE2

SUITE_NAME = "mart_dossier_intake"
ID_COLUMNS = ["period_type", "period_start", "agency_code", "procedure_code"]
COUNTS = list(INTAKE_SPLIT.parts)


def prepare(df: pd.DataFrame, resolution: pd.DataFrame | None = None, **context: Any) -> pd.DataFrame:
    """The mart plus ``period_end_ok``, ``year_vs_months`` and ``matches_resolution``."""
    out = df.copy()
    out["period_end_ok"] = period_end_check(df)
    out["year_vs_months"] = year_vs_months(df, COUNTS)
    if resolution is not None:
        key = ["period_type", "period_start", "agency_code", "procedure_code"]
        new = resolution[[*key, INTAKE_SPLIT.total]].copy()
        new["period_start"] = pd.to_datetime(new["period_start"]).astype("datetime64[us]")
        left = df[key].copy()
        left["period_start"] = pd.to_datetime(left["period_start"]).astype("datetime64[us]")
        got = left.merge(new, on=key, how="left")[INTAKE_SPLIT.total].to_numpy()
        got = pd.Series(got, index=df.index, dtype="float64")
        total = sum(df[p] for p in INTAKE_SPLIT.parts).astype("float64")
        out["matches_resolution"] = checks(df.index, [
            (got.isna(), "no row in mart.dossier_resolution"),
            (got.notna() & (total != got),
             "online + not online = " + total.astype(str) + f" but new {TABLE2.term(INTAKE_SPLIT.total)} = "
             + got.astype(str)),
        ])
    else:
        out["matches_resolution"] = "ok"
    out["period_start"] = out["period_start"].astype(str)
    out["period_end"] = out["period_end"].astype(str)
    for c in COUNTS:
        out[c] = out[c].astype("float64")
    return out


def expectations(resolution: pd.DataFrame | None = None, **context: Any) -> list:
    """The suite (see the module docstring)."""
    import great_expectations.expectations as gxe

    exps = [
        *mart_grain_expectations(ID_COLUMNS),
        *[gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in COUNTS],
        gxe.ExpectColumnValuesToBeInSet(column="year_vs_months", value_set=["ok"]),
        gxe.ExpectColumnValuesToBeInSet(column="matches_resolution", value_set=["ok"]),
    ]
    if resolution is not None:
        rows = int((resolution[INTAKE_SPLIT.total] > 0).sum())
        exps.append(gxe.ExpectTableRowCountToEqual(value=rows))
    return exps
