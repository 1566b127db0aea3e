"""Suite for mart.dossier_resolution (one row per period_type, period_start,
agency_code, procedure_code), run on the built mart before anything is published.

Critical (the run stops): the grain key unique and not null; the period end matches
its start (a calendar month or year, a Decree 09 year); counts not negative; the identities and bounds of
table 2 (:data:`transforms.report_tables.TABLE2`: (4)=(5)+(6) …, early <= on time) on
every row, one check column each (``identity_4_eq_5_plus_6`` …, see
:func:`identity_checks`); and "totals = sum of rows" across periods: the year row of each
(agency, procedure) equals the sum of its month rows for the additive columns (new,
resolved on time / late / early, resolved, withdrawn), and its carried-over count
equals January's (check column ``year_vs_months``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from expectations.runner import OK, checks
from transforms.mart_dossier_resolution import PERIOD_TYPES
from transforms.report_tables import TABLE2, Identity

SUITE_NAME = "mart_dossier_resolution"
ID_COLUMNS = ["period_type", "period_start", "agency_code", "procedure_code"]
KEYS = ["agency_code", "procedure_code"]
COUNTS = list(TABLE2.of_dtype("count"))
ADDITIVE = ["received_new", "resolved_total", "resolved_on_time", "resolved_late", "resolved_early", "withdrawn"]


def identity_checks() -> dict[str, Identity]:
    """Check column -> identity, for every identity of table 2 (the description as it is
    when the suite runs). The bounds' check columns are named by the bounds."""
    return {TABLE2.identity_name(i): i for i in TABLE2.identities}


def period_end_check(df: pd.DataFrame) -> pd.Series:
    """``"ok"`` where ``period_end`` is the last day of the period of its type that
    starts at ``period_start``: a calendar month or year, or a Decree 09 year (15
    December to 14 December of the next year)."""
    start = pd.to_datetime(df["period_start"])
    end = pd.to_datetime(df["period_end"])
    ptype = df["period_type"].astype(str)
    month = ptype == "month"
    decree09 = ptype == "decree09_year"
    expected = (start + pd.offsets.MonthEnd(0)).where(month, start + pd.offsets.YearEnd(0))
    expected = expected.where(~decree09, start + pd.DateOffset(years=1) - pd.Timedelta(days=1))
    starts_ok = ((start.dt.day == 1) & (month | (start.dt.month == 1))).where(
        ~decree09, (start.dt.day == 15) & (start.dt.month == 12))
    return checks(df.index, [
        (~starts_ok | (end.dt.normalize() != expected.dt.normalize()),
         ptype + " " + start.dt.date.astype(str) + ".." + end.dt.date.astype(str)
         + " is not a period of its type"),
    ])


def mart_grain_expectations(id_columns: list[str]) -> list:
    """What every mart suite checks first: the grain key unique and not null, the
    period type known, ``period_end`` consistent with ``period_start`` (the prepared
    ``period_end_ok`` column)."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=id_columns),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in id_columns],
        gxe.ExpectColumnValuesToBeInSet(column="period_type", value_set=list(PERIOD_TYPES)),
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
    ``counts_not_negative``, a column per bound (``early_not_above_on_time``: True when
    it holds), ``period_end_ok`` and ``year_vs_months``."""
    out = df.copy()
    out["period_start"] = out["period_start"].astype(str)
    for name, i in identity_checks().items():
        out[name] = (out[i.total] - sum(out[p] for p in i.parts)).astype("float64")
    for c in COUNTS:
        out[c] = out[c].astype("float64")
    negative = out[COUNTS] < 0
    out["counts_not_negative"] = checks(out.index, [
        (negative.any(axis=1), lambda i: negative.loc[i].apply(
            lambda r: ", ".join(f"{c}={out.at[r.name, c]:g}" for c in COUNTS if r[c]) + " negative", axis=1)),
    ])
    for b in TABLE2.bounds:
        out[b.name] = (df[b.lesser] <= df[b.greater]).astype(bool)
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
        *[gxe.ExpectColumnValuesToBeInSet(column=name, value_set=[0.0]) for name in identity_checks()],
        *[gxe.ExpectColumnValuesToBeInSet(column=b.name, value_set=[True]) for b in TABLE2.bounds],
        gxe.ExpectColumnValuesToBeInSet(column="year_vs_months", value_set=["ok"]),
    ]
