"""A vectorised screen in front of great_expectations: which rows of a prepared batch
could fail a suite, read off the suite's own expectations.

GX's pandas engine costs about half a second per 100k rows for a suite, mostly per row
(it filters and copies the frame per expectation). The pipeline's large suites
(records, facts, events) are made of a few expectation kinds whose unexpected rows are
one pandas expression each, so :func:`rows_to_check` evaluates those expressions on the
whole batch in milliseconds, and :func:`expectations.runner.validate` hands GX only the
rows the screen flags plus an evenly spread audit sample of the rows it passed. GX still
decides: every quarantine reason and every failure comes from its results, and a row
the screen passed that GX fails (in the sample, or anywhere on a batch GX sees whole)
is a table-level error that stops the run, because the screen would then be wrong.

The screen is a superset by construction where that is cheap (a compound key's
duplicates are flagged whatever their nulls); an expectation it cannot read (another
kind, ``mostly``, a row condition other than ``column==True/False``) makes it return
None, and the batch goes to GX whole.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

AUDIT_ROWS = 1_000
"""Rows the screen passed that GX validates anyway, spread evenly over the batch."""

_CONDITION = re.compile(r"^\s*(\w+)\s*==\s*(True|False)\s*$")


def _condition(exp: Any, df: pd.DataFrame) -> pd.Series | None:
    """The rows an expectation applies to (its ``row_condition``), or None when the
    condition is not of the one form the screen reads (``column==True|False``)."""
    cond = getattr(exp, "row_condition", None)
    if cond is None:
        return pd.Series(True, index=df.index)
    text = getattr(cond, "pass_through_filter", cond)
    if not isinstance(text, str) or getattr(exp, "condition_parser", None) != "pandas":
        return None
    m = _CONDITION.match(text)
    if m is None or m.group(1) not in df.columns:
        return None
    return (df[m.group(1)] == (m.group(2) == "True")).fillna(False).astype(bool)


def _bounded(s: pd.Series, exp: Any) -> pd.Series:
    ok = pd.Series(True, index=s.index)
    if exp.min_value is not None:
        ok &= (s > exp.min_value) if exp.strict_min else (s >= exp.min_value)
    if exp.max_value is not None:
        ok &= (s < exp.max_value) if exp.strict_max else (s <= exp.max_value)
    return s.notna() & ~ok.fillna(False).astype(bool)


def _pair(df: pd.DataFrame, exp: Any) -> pd.Series:
    a, b = df[exp.column_A], df[exp.column_B]
    ok = (a >= b) if exp.or_equal else (a > b)
    ignore = getattr(exp, "ignore_row_if", "both_values_are_missing")
    if ignore == "either_value_is_missing":
        applies = a.notna() & b.notna()
    elif ignore == "both_values_are_missing":
        applies = a.notna() | b.notna()
    else:
        applies = pd.Series(True, index=df.index)
    return applies & ~ok.fillna(False).astype(bool)


def could_fail(exp: Any, df: pd.DataFrame) -> np.ndarray | None:
    """The rows of ``df`` that ``exp`` could report unexpected (a boolean array), or
    None when the screen cannot read ``exp`` (or cannot evaluate it on ``df``: a missing
    column, bounds of another type), so that GX sees the batch whole."""
    try:
        return _could_fail(exp, df)
    except (KeyError, TypeError, ValueError):
        return None


def _could_fail(exp: Any, df: pd.DataFrame) -> np.ndarray | None:
    if getattr(exp, "mostly", 1) not in (1, 1.0, None):
        return None
    cond = _condition(exp, df)
    if cond is None:
        return None
    kind = type(exp).__name__
    if kind == "ExpectColumnValuesToNotBeNull":
        m = df[exp.column].isna()
    elif kind == "ExpectColumnValuesToBeInSet":  # GX leaves nulls to NotBeNull
        s = df[exp.column]
        m = s.notna() & ~s.isin(list(exp.value_set))
    elif kind == "ExpectColumnValuesToBeBetween":
        m = _bounded(df[exp.column], exp)
    elif kind == "ExpectColumnValuesToBeUnique":
        s = df[exp.column]
        m = s.notna() & s.duplicated(keep=False)
    elif kind == "ExpectCompoundColumnsToBeUnique":  # every member of a repeated key
        m = df[list(exp.column_list)].duplicated(keep=False)
    elif kind == "ExpectColumnPairValuesAToBeGreaterThanB":
        m = _pair(df, exp)
    else:
        return None
    return (cond & m).to_numpy(dtype=bool)


def rows_to_check(expectations: list, df: pd.DataFrame) -> np.ndarray | None:
    """The rows of ``df`` any of ``expectations`` could fail, or None when one of them
    is of a kind the screen cannot read (the caller then validates every row)."""
    mask = np.zeros(len(df), dtype=bool)
    for exp in expectations:
        m = could_fail(exp, df)
        if m is None:
            return None
        mask |= m
    return mask


def audit_sample(passed: np.ndarray, rows: int = AUDIT_ROWS) -> np.ndarray:
    """About ``rows`` of the rows the screen passed (``passed`` True), evenly spread."""
    sample = np.zeros(len(passed), dtype=bool)
    where = np.flatnonzero(passed)
    if len(where):
        sample[where[:: max(1, len(where) // rows)]] = True
    return sample
