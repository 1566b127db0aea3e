"""Checks that the tables handed to the renderer agree with themselves.

The seed report's own tables disagree (rows add up to 477, the total says 466; rows
without results; …). A report rendered by motcua must not: :func:`check_tables`
lists every contradiction, and :func:`~motcua.report.render.write_report` refuses to
write a report that has any (unless told otherwise).
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
from urllib.parse import urlsplit

import pandas as pd

from motcua.report.layout import is_rate
from motcua.report.model import COLUMNS, ReportTables


def _rows(df: pd.DataFrame, mask: pd.Series, label: pd.Series) -> list[str]:
    return [str(x) for x in label[mask].tolist()[:5]]


def _identity(problems: list[str], name: str, df: pd.DataFrame, lhs: str, rhs: list[str],
              label: pd.Series) -> None:
    """Record rows where ``lhs != sum(rhs)`` (all values present)."""
    parts = df[[lhs, *rhs]]
    complete = parts.notna().all(axis=1)
    diff = complete & (df[lhs] != df[rhs].sum(axis=1))
    if diff.any():
        problems.append(f"{name}: {lhs} != {' + '.join(rhs)} in row(s) {_rows(df, diff, label)}")


def check_tables(t: ReportTables) -> list[str]:
    """Every problem found in ``t`` (empty when the tables are well-formed and consistent)."""
    return input_problems(t) or consistency_problems(t)


def input_problems(t: ReportTables) -> list[str]:
    """Malformed input: wrong scalar types, missing columns, values that are not numbers/dates."""
    return scalar_problems(t) + t.normalized()[1]


def scalar_problems(t: ReportTables) -> list[str]:
    """Wrong year, period dates or convention."""
    problems: list[str] = []
    if not isinstance(t.year, int) or isinstance(t.year, bool):
        problems.append(f"year: expected int, got {t.year!r}")
    for attr in ("period_start", "period_end"):
        if not isinstance(getattr(t, attr), dt.date):
            problems.append(f"{attr}: expected a datetime.date, got {getattr(t, attr)!r}")
    if (isinstance(t.period_start, dt.date) and isinstance(t.period_end, dt.date)
            and t.period_start > t.period_end):
        problems.append(f"period_start {t.period_start} is after period_end {t.period_end}")
    if t.convention not in ("calendar", "decree09"):
        problems.append(f"convention: expected 'calendar' or 'decree09', got {t.convention!r}")

    return problems


def consistency_problems(t: ReportTables) -> list[str]:
    """Contradictions within and between well-formed tables (see :func:`input_problems`)."""
    problems: list[str] = []
    t, malformed = t.normalized()
    if malformed:
        return malformed
    f = {name: t.frame(name) for name in COLUMNS}

    t2 = f["table2"]
    lab2 = t2["procedure_code"].fillna("") + " " + t2["procedure_name"].fillna("")
    _identity(problems, "table2", t2, "received_total", ["carried_over", "received_new"], lab2)
    _identity(problems, "table2", t2, "resolved_total", ["resolved_on_time", "resolved_late"], lab2)
    _identity(problems, "table2", t2, "pending_total", ["pending_not_due", "pending_overdue"], lab2)
    _identity(problems, "table2", t2, "received_total", ["resolved_total", "pending_total", "withdrawn"], lab2)
    early = t2["resolved_early"].notna() & t2["resolved_on_time"].notna() & (
        t2["resolved_early"] > t2["resolved_on_time"])
    if early.any():
        problems.append(f"table2: resolved_early > resolved_on_time in row(s) {_rows(t2, early, lab2)}")

    f6 = f["form06"]
    lab6 = f6["field_name"].fillna("")
    _identity(problems, "form06", f6, "received_total",
              ["received_online", "received_offline", "carried_over"], lab6)
    _identity(problems, "form06", f6, "resolved_total",
              ["resolved_early", "resolved_on_time", "resolved_late"], lab6)
    _identity(problems, "form06", f6, "pending_total", ["pending_not_due", "pending_overdue"], lab6)

    # Across tables: the same dossiers counted the same way.
    t1 = f["table1"]
    if len(t1) and len(t2):
        both = t1.merge(t2, on="procedure_code", suffixes=("", "_2"))
        diff = (both["received_online"].fillna(0) + both["received_offline"].fillna(0)
                != both["received_new"].fillna(0))
        if diff.any():
            problems.append("table1 online + offline != table2 received_new for procedure(s) "
                            f"{both.loc[diff, 'procedure_code'].tolist()[:5]}")
        s1 = int(t1["received_online"].fillna(0).sum() + t1["received_offline"].fillna(0).sum())
        s2 = int(t2["received_new"].fillna(0).sum())
        if s1 != s2:
            problems.append(f"table1 receives {s1} new dossiers in total, table2 {s2}")
    if len(f6) and len(t2):
        for c in ("received_total", "carried_over", "resolved_total", "resolved_late",
                  "pending_not_due", "pending_overdue"):
            a, b = int(t2[c].fillna(0).sum()), int(f6[c].fillna(0).sum())
            if a != b:
                problems.append(f"form06 total {c} = {b} but table2 total {c} = {a}")
        a = int(t2["resolved_on_time"].fillna(0).sum())
        b = int(f6["resolved_early"].fillna(0).sum() + f6["resolved_on_time"].fillna(0).sum())
        if a != b:
            problems.append(f"form06 early + on time = {b} but table2 resolved_on_time (early included) = {a}")

    t3 = f["table3"]
    over = t3["tasks_done"].notna() & t3["tasks_planned"].notna() & (t3["tasks_done"] > t3["tasks_planned"])
    if over.any():
        problems.append(f"table3: tasks_done > tasks_planned for {t3.loc[over, 'plan_name'].tolist()[:5]}")

    t4 = f["table4"]
    bad = t4["share_pct"].notna() & ((t4["share_pct"] < 0) | (t4["share_pct"] > 100))
    if bad.any():
        problems.append(f"table4: share_pct outside 0–100: {t4.loc[bad, 'share_pct'].tolist()}")

    ind = f["indicators"]
    for _, r in ind.iterrows():
        if not is_rate(r["indicator_code"]):
            continue
        num, den, val = r["numerator"], r["denominator"], r["value"]
        if pd.isna(num) or pd.isna(den):
            continue
        if den == 0:
            if not pd.isna(val):
                problems.append(f"indicators: {r['indicator_code']} has value {val} with denominator 0")
        elif pd.isna(val) or not math.isclose(val, num / den, rel_tol=1e-9, abs_tol=1e-12):
            problems.append(f"indicators: {r['indicator_code']} value {val} != {num}/{den}")

    m = f["monthly_intake"]
    bad = m["month"].notna() & ((m["month"] < 1) | (m["month"] > 12))
    if bad.any() or m["month"].isna().any():
        problems.append(f"monthly_intake: month outside 1..12: {m['month'].tolist()}")
    if m["month"].duplicated().any():
        problems.append("monthly_intake: a month appears twice")
    for name in ("ontime_by_field", "ontime_by_procedure"):
        o = f[name]
        bad = o["resolved_on_time"].fillna(0) > o["resolved_total"].fillna(0)
        if bad.any():
            problems.append(f"{name}: resolved_on_time > resolved_total in {int(bad.sum())} row(s)")
    if f["processing_days"]["working_days"].duplicated().any():
        problems.append("processing_days: a working_days value appears twice")

    for key, href in (t.explain_links or {}).items():
        if not (isinstance(key, tuple) and len(key) == 3):
            problems.append(f"explain_links: key {key!r} is not (table, procedure_code, column)")
            continue
        table, _code, col = key
        if table not in ("table1", "table2", "bieu1", "bieu2"):
            problems.append(f"explain_links: table {table!r} is not table1/table2")
        elif col not in COLUMNS["table1" if table in ("table1", "bieu1") else "table2"]:
            problems.append(f"explain_links: unknown column {col!r} of {table}")
        if not is_relative_href(href):
            problems.append(f"explain_links: {href!r} is not a relative link")
    return problems


def is_relative_href(href: object) -> bool:
    """A relative link (no scheme, no host), e.g. ``explain/1.004512.html#c7``."""
    if not isinstance(href, str) or not href.strip():
        return False
    parts = urlsplit(href.strip())
    if parts.scheme or parts.netloc or href.strip().startswith("//"):
        return False
    return not posixpath.isabs(parts.path) or parts.path == ""
