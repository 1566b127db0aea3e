"""Suite for mart.indicator (one row per period_type, period_start, agency_code,
agency_scope, indicator_code), run on the built mart before anything is published.

Critical (the run stops): the grain key unique and not null; the period end matches
its start; the agency scope known; numerator and denominator not negative; ``value = numerator /
denominator`` where the denominator is above 0 (and no value where it is 0) for the
ratio indicators, ``value = numerator`` for counts (``overdue_open``), the processing
days not negative; rates (``*_rate``) within [0, 1] with the numerator not above the
denominator. Warning: the indicator code among the known ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from expectations.mart_dossier_resolution import mart_grain_expectations, period_end_check
from expectations.runner import checks
from transforms.mart_indicator import SCOPES

SUITE_NAME = "mart_indicator"
ID_COLUMNS = ["period_type", "period_start", "agency_code", "agency_scope", "indicator_code"]
COUNT_INDICATORS = ("overdue_open",)
STAT_INDICATORS = ("processing_days_median", "processing_days_p90")


def known_codes() -> list[str]:
    """Indicator codes the mart may hold: those of ``core.dim_indicator``."""
    from transforms.dim_indicator import INDICATORS

    return sorted(i.indicator_code for i in INDICATORS)


def prepare(df: pd.DataFrame, **context: Any) -> pd.DataFrame:
    """The mart plus the checks ``value_formula`` and ``rate_range``."""
    out = df.copy()
    num = pd.to_numeric(df["numerator"], errors="coerce").astype("float64")
    den = pd.to_numeric(df["denominator"], errors="coerce").astype("float64")
    val = pd.to_numeric(df["value"], errors="coerce").astype("float64")
    code = df["indicator_code"].astype(str)
    is_count = code.isin(COUNT_INDICATORS)
    is_stat = code.isin(STAT_INDICATORS)
    is_ratio = ~is_count & ~is_stat
    ratio = num / den.where(den > 0)
    close = np.isclose(val.fillna(-1.0), ratio.fillna(-1.0), rtol=1e-9, atol=1e-12) & (val.isna() == ratio.isna())
    out["value_formula"] = checks(df.index, [
        (is_ratio & (den > 0) & ~close, "value " + val.astype(str) + " != " + num.astype(str) + "/" + den.astype(str)),
        (is_ratio & (den == 0) & val.notna(), "value " + val.astype(str) + " with denominator 0"),
        (is_count & ~((val == num) | (val.isna() & num.isna())),
         "value " + val.astype(str) + " != numerator " + num.astype(str)),
        (is_stat & (val < 0), "negative processing days " + val.astype(str)),
    ])
    is_rate = code.str.endswith("_rate")
    out["rate_range"] = checks(df.index, [
        (is_rate & val.notna() & ((val < 0) | (val > 1)), "rate " + val.astype(str) + " outside [0, 1]"),
        (is_rate & num.notna() & den.notna() & (num > den),
         "numerator " + num.astype(str) + " above denominator " + den.astype(str)),
    ])
    out["period_end_ok"] = period_end_check(df)
    out["numerator"], out["denominator"], out["value"] = num, den, val
    out["period_start"] = out["period_start"].astype(str)
    out["period_end"] = out["period_end"].astype(str)
    return out


def expectations(**context: Any) -> list:
    """The suite (see the module docstring)."""
    import great_expectations.expectations as gxe

    return [
        *mart_grain_expectations(ID_COLUMNS),
        gxe.ExpectColumnValuesToBeInSet(column="agency_scope", value_set=list(SCOPES)),
        gxe.ExpectColumnValuesToBeBetween(column="numerator", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="denominator", min_value=0),
        gxe.ExpectColumnValuesToBeInSet(column="value_formula", value_set=["ok"]),
        gxe.ExpectColumnValuesToBeInSet(column="rate_range", value_set=["ok"]),
        gxe.ExpectColumnValuesToBeInSet(column="indicator_code", value_set=known_codes(), severity="warning"),
    ]
