"""Suite for mart.dossier_resolution (one row per period_type, period_start,
agency_code, procedure_code): the grain key unique and not null, counts not negative,
and the report identities (4)=(5)+(6), (7)=(8)+(9), (10)=(11)+(12),
(4)=(7)+(10)+withdrawn and early <= on time, on every row.
"""

from __future__ import annotations

import pandas as pd

SUITE_NAME = "mart_dossier_resolution"
ID_COLUMNS = ["period_type", "period_start", "agency_code", "procedure_code"]
COUNTS = ["received_total", "carried_over", "received_new", "resolved_total", "resolved_on_time",
          "resolved_late", "pending_total", "pending_not_due", "pending_overdue", "withdrawn", "resolved_early"]
IDENTITIES = {
    "identity_4_eq_5_plus_6": ("received_total", ["carried_over", "received_new"]),
    "identity_7_eq_8_plus_9": ("resolved_total", ["resolved_on_time", "resolved_late"]),
    "identity_10_eq_11_plus_12": ("pending_total", ["pending_not_due", "pending_overdue"]),
    "identity_4_eq_7_plus_10_plus_withdrawn": ("received_total", ["resolved_total", "pending_total", "withdrawn"]),
}


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["period_start"] = out["period_start"].astype(str)
    for name, (total, parts) in IDENTITIES.items():
        out[name] = out[total] - sum(out[p] for p in parts)
    out["early_not_above_on_time"] = (out["resolved_early"] <= out["resolved_on_time"]).astype(bool)
    return out


def expectations() -> list:
    import great_expectations.expectations as gxe

    exps = [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=ID_COLUMNS),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ID_COLUMNS],
        gxe.ExpectColumnValuesToBeInSet(column="period_type", value_set=["year", "month"]),
        *[gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in COUNTS],
        *[gxe.ExpectColumnValuesToBeInSet(column=name, value_set=[0]) for name in IDENTITIES],
        gxe.ExpectColumnValuesToBeInSet(column="early_not_above_on_time", value_set=[True]),
    ]
    return exps
