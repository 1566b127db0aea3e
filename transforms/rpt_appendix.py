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
from transforms.report_tables import TABLE1, TABLE2, TOTAL_ROW


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
    return t.sort_values("procedure_code")[list(TABLE1.frame_columns)].reset_index(drop=True)


def table2(counts: pd.DataFrame) -> pd.DataFrame:
    t = counts[(counts["received_total"] + counts["withdrawn"]) > 0]
    return t.sort_values("procedure_code")[list(TABLE2.frame_columns)].reset_index(drop=True)


def with_total(table: pd.DataFrame, label: str = TOTAL_ROW) -> pd.DataFrame:
    """The table with a totals row that is the sum of its rows."""
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    total = {c: int(table[c].sum()) for c in numeric}
    total["procedure_name"] = label
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)
