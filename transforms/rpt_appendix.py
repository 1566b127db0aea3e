"""Report tables for one period: one row per procedure (tables 1 and 2 of the annual
report), counted directly from fct_dossier for any period convention.

Table 1 (Kết quả tiếp nhận, giải quyết hồ sơ TTHC, DVC): procedures with new dossiers
in the period, their level and address, new online / not online.
Table 2 (Tổng hợp số lượng hồ sơ giải quyết): procedures with any dossier in (4) or
withdrawn, columns (4)–(12), withdrawn and early.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from transforms import period_counts
from transforms.mart_dossier_resolution import procedure_names

TABLE1_COLUMNS = ["procedure_code", "procedure_name", "service_level", "service_url",
                  "received_online", "received_offline"]
TABLE2_COLUMNS = ["procedure_code", "procedure_name", "field_name", "received_total", "carried_over",
                  "received_new", "resolved_total", "resolved_on_time", "resolved_late", "pending_total",
                  "pending_not_due", "pending_overdue", "withdrawn", "resolved_early"]


def counts_for_period(fct: pd.DataFrame, dim_procedure: pd.DataFrame, start: dt.date, end: dt.date,
                      keys: tuple[str, ...] = ("procedure_code",), names: pd.DataFrame | None = None) -> pd.DataFrame:
    """All measures for the single period [start, end], per ``keys``, with names (of
    codes not in the catalogue: as recorded most often in ``names``, the
    ``recorded_names`` counts, else in ``fct``)."""
    grid = pd.DataFrame({"period_start": [pd.Timestamp(start)], "period_end": [pd.Timestamp(end)]})
    c = period_counts.add_totals(period_counts.count(fct, grid, list(keys)))
    if "procedure_code" in keys:
        c = procedure_names(c, dim_procedure, fct if names is None else names)
    return c


def table1(counts: pd.DataFrame) -> pd.DataFrame:
    t = counts[(counts["received_online"] + counts["received_offline"]) > 0]
    return t.sort_values("procedure_code")[TABLE1_COLUMNS].reset_index(drop=True)


def table2(counts: pd.DataFrame) -> pd.DataFrame:
    t = counts[(counts["received_total"] + counts["withdrawn"]) > 0]
    return t.sort_values("procedure_code")[TABLE2_COLUMNS].reset_index(drop=True)


def with_total(table: pd.DataFrame, label: str = "Tổng cộng") -> pd.DataFrame:
    """The table with a totals row that is the sum of its rows."""
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    total = {c: int(table[c].sum()) for c in numeric}
    total["procedure_name"] = label
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)
