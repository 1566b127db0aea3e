"""mart.dossier_intake: one row per (period_type, period_start, agency_code,
procedure_code) — new dossiers received online and not online (in person or by post),
with the procedure's online service level and address (the seed's table 1), for every
calendar year and month of the coverage. Rows of all zeros are left out.
"""

from __future__ import annotations

import pandas as pd

from transforms.mart_dossier_resolution import KEYS, counts_all_periods, procedure_names

COLUMNS = [
    "period_type", "period_start", "period_end", "agency_code", "procedure_code",
    "procedure_name", "service_level", "service_url", "received_online", "received_offline",
]


def build(fct: pd.DataFrame, dim_procedure: pd.DataFrame, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """fct_dossier (+ dim_procedure) -> mart rows. ``counts`` may pass precomputed
    :func:`counts_all_periods` output to avoid counting twice."""
    c = counts if counts is not None else counts_all_periods(fct, KEYS)
    c = c[(c["received_online"] + c["received_offline"]) > 0]
    c = procedure_names(c, dim_procedure, fct)
    for col in ("period_start", "period_end"):
        c[col] = pd.to_datetime(c[col]).astype("datetime64[us]")
    out = c[COLUMNS].sort_values(["period_type", "period_start", "agency_code", "procedure_code"])
    return out.reset_index(drop=True)
