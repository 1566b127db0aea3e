"""Checks that the tables handed to the renderer agree with themselves.

The seed report's own tables disagree (rows add up to 477, the total says 466; rows
without results; …). A report rendered by motcua must not: :func:`check_tables`
lists every contradiction, and :func:`~motcua.report.render.write_report` refuses to
write a report that has any (unless told otherwise). The identities, bounds and
agreements between tables checked are those :mod:`transforms.report_tables` describes.
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
from urllib.parse import urlsplit

import pandas as pd

from motcua.report.layout import is_rate
from motcua.report.model import COLUMNS, ReportTables
from transforms.report_tables import AGREEMENTS, TABLES, Agreement


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


def _agreement(a: Agreement, table: pd.DataFrame, other: pd.DataFrame) -> list[str]:
    """Where ``a`` fails: per matched row (with ``a.per``), then on the totals."""
    if not (len(table) and len(other)):
        return []
    out = []
    parts = " + ".join(a.parts)
    if a.per:
        both = other[[a.per, *a.parts]].merge(table[[a.per, a.total]].rename(columns={a.total: "_total"}), on=a.per)
        diff = both[list(a.parts)].fillna(0).sum(axis=1) != both["_total"].fillna(0)
        if diff.any():
            out.append(f"{a.other} {parts} != {a.table} {a.total} for {a.per} {both.loc[diff, a.per].tolist()[:5]}")
    total = int(table[a.total].fillna(0).sum())
    total_parts = int(sum(other[p].fillna(0).sum() for p in a.parts))
    if total != total_parts:
        out.append(f"{a.other} total {parts} = {total_parts} but {a.table} total {a.total} = {total}")
    return out


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

    for table in TABLES:
        df = f[table.frame]
        if not (table.identities or table.bounds):
            continue
        label = df[table.row_label[0]].fillna("")
        for key in table.row_label[1:]:
            label = label + " " + df[key].fillna("")
        for ident in table.identities:
            _identity(problems, table.frame, df, ident.total, list(ident.parts), label)
        for b in table.bounds:
            over = df[b.lesser].notna() & df[b.greater].notna() & (df[b.lesser] > df[b.greater])
            if over.any():
                problems.append(f"{table.frame}: {b.lesser} > {b.greater} in row(s) {_rows(df, over, label)}")

    # Across tables: the same dossiers counted the same way.
    for a in AGREEMENTS:
        problems += _agreement(a, f[a.table], f[a.other])

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
