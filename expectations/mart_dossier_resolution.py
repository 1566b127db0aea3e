"""Suite for mart.dossier_resolution (one row per period_type, period_start,
agency_code, procedure_code), run on the built mart before anything is published.

Critical (the run stops): the grain key unique and not null; the period end matches
its start (a calendar month or year); counts not negative; the report identities
(4)=(5)+(6), (7)=(8)+(9), (10)=(11)+(12), (4)=(7)+(10)+withdrawn and early <= on time
on every row; and "totals = sum of rows" across periods: the year row of each
(agency, procedure) equals the sum of its month rows for the additive columns (new,
resolved on time / late / early, resolved, withdrawn), and its carried-over count
equals January's (check column ``year_vs_months``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from expectations.runner import OK, checks

SUITE_NAME = "mart_dossier_resolution"
ID_COLUMNS = ["period_type", "period_start", "agency_code", "procedure_code"]
KEYS = ["agency_code", "procedure_code"]
COUNTS = ["received_total", "carried_over", "received_new", "resolved_total", "resolved_on_time",
          "resolved_late", "pending_total", "pending_not_due", "pending_overdue", "withdrawn", "resolved_early"]
ADDITIVE = ["received_new", "resolved_total", "resolved_on_time", "resolved_late", "resolved_early", "withdrawn"]
IDENTITIES = {
    "identity_4_eq_5_plus_6": ("received_total", ["carried_over", "received_new"]),
    "identity_7_eq_8_plus_9": ("resolved_total", ["resolved_on_time", "resolved_late"]),
    "identity_10_eq_11_plus_12": ("pending_total", ["pending_not_due", "pending_overdue"]),
    "identity_4_eq_7_plus_10_plus_withdrawn": ("received_total", ["resolved_total", "pending_total", "withdrawn"]),
}


def period_end_check(df: pd.DataFrame) -> pd.Series:
    """``"ok"`` where ``period_end`` is the last day of the calendar month/year that
    starts at ``period_start``."""
    start = pd.to_datetime(df["period_start"])
    end = pd.to_datetime(df["period_end"])
    month = df["period_type"] == "month"
    expected = (start + pd.offsets.MonthEnd(0)).where(month, start + pd.offsets.YearEnd(0))
    starts_ok = (start.dt.day == 1) & (month | (start.dt.month == 1))
    return checks(df.index, [
        (~starts_ok | (end.dt.normalize() != expected.dt.normalize()),
         df["period_type"].astype(str) + " " + start.dt.date.astype(str) + ".." + end.dt.date.astype(str)
         + " is not a calendar period"),
    ])


def mart_grain_expectations(id_columns: list[str]) -> list:
    """What every mart suite checks first: the grain key unique and not null, the
    period type known, ``period_end`` consistent with ``period_start`` (the prepared
    ``period_end_ok`` column)."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=id_columns),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in id_columns],
        gxe.ExpectColumnValuesToBeInSet(column="period_type", value_set=["year", "month"]),
        gxe.ExpectColumnValuesToBeInSet(column="period_end_ok", value_set=["ok"]),
    ]


def year_vs_months(df: pd.DataFrame, additive: list[str], keys: list[str] = KEYS,
                   first_month_equal: tuple[str, ...] = ()) -> pd.Series:
    """Check column: on each year row, the additive columns equal the sum of the
    year's month rows for the same keys (and ``first_month_equal`` columns equal
    January's). Month rows of a year that has no year row but non-zero additive sums
    are marked too. Rows left out of a mart (all zeros) count as zeros."""
    out = pd.Series(OK, index=df.index, dtype=object)
    if df.empty:
        return out
    start = pd.to_datetime(df["period_start"])
    k = df[keys].fillna("").astype(str)
    frame = k.assign(_year=start.dt.year, _type=df["period_type"].to_numpy(), _month=start.dt.month)
    cols = [*additive, *first_month_equal]
    vals = df[cols].astype("float64").fillna(0.0)
    frame = pd.concat([frame, vals], axis=1)
    group = [*keys, "_year"]
    months = frame[frame["_type"] == "month"]
    sums = months.groupby(group)[additive].sum()
    if first_month_equal:
        jan = months[months["_month"] == 1].groupby(group)[list(first_month_equal)].sum()
        sums = sums.join(jan, how="outer")
    years = frame[frame["_type"] == "year"]
    yk = pd.MultiIndex.from_frame(years[group])
    expected = sums.reindex(yk).fillna(0.0)
    problems = []
    for c in cols:
        got = years[c].to_numpy()
        want = expected[c].to_numpy()
        bad = got != want
        label = "sum of months" if c in additive else "January's"
        text = [f"{c}: year {g:g} vs {label} {w:g}" for g, w in zip(got[bad], want[bad], strict=True)]
        problems.append((pd.Series(bad, index=years.index), pd.Series(text, index=years.index[bad])))
    year_checks = checks(years.index, [(m, t.reindex(years.index)) for m, t in problems])
    out.loc[years.index] = year_checks
    # months whose year has no year row although they count something
    has_year = pd.MultiIndex.from_frame(months[group]).isin(yk)
    orphan = ~has_year & (months[additive].sum(axis=1) != 0).to_numpy()
    out.loc[months.index[orphan]] = "month counts but its year has no row"
    return out


def prepare(df: pd.DataFrame, **context: Any) -> pd.DataFrame:
    """The mart plus identity columns (0 when the identity holds, else the difference),
    ``counts_not_negative``, ``early_not_above_on_time``, ``period_end_ok`` and
    ``year_vs_months``."""
    out = df.copy()
    out["period_start"] = out["period_start"].astype(str)
    for name, (total, parts) in IDENTITIES.items():
        out[name] = (out[total] - sum(out[p] for p in parts)).astype("float64")
    for c in COUNTS:
        out[c] = out[c].astype("float64")
    negative = out[COUNTS] < 0
    out["counts_not_negative"] = checks(out.index, [
        (negative.any(axis=1), lambda i: negative.loc[i].apply(
            lambda r: ", ".join(f"{c}={out.at[r.name, c]:g}" for c in COUNTS if r[c]) + " negative", axis=1)),
    ])
    out["early_not_above_on_time"] = (df["resolved_early"] <= df["resolved_on_time"]).astype(bool)
    out["period_end_ok"] = period_end_check(df)
    out["year_vs_months"] = year_vs_months(df, ADDITIVE, first_month_equal=("carried_over",))
    out["period_end"] = out["period_end"].astype(str)
    return out


def expectations(**context: Any) -> list:
    """The suite (see the module docstring)."""
    import great_expectations.expectations as gxe

    return [
        *mart_grain_expectations(ID_COLUMNS),
        gxe.ExpectColumnValuesToBeInSet(column="counts_not_negative", value_set=["ok"]),
        *[gxe.ExpectColumnValuesToBeInSet(column=name, value_set=[0.0]) for name in IDENTITIES],
        gxe.ExpectColumnValuesToBeInSet(column="early_not_above_on_time", value_set=[True]),
        gxe.ExpectColumnValuesToBeInSet(column="year_vs_months", value_set=["ok"]),
    ]
