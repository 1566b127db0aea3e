"""The annual report's numbers, computed from the warehouse for any year, period
convention and agency, handed to :mod:`motcua.report` for rendering.

The report reads only the facts that can count in its period, in batches of whole
procedures (:class:`FactScan`): memory is bounded by a batch whatever the size of the
warehouse, and everything per procedure (a row of tables 1–2, its explanations, its
published figures) is complete inside one batch. Each batch is classified per dossier
(:func:`classify`, the same counting code as the marts) and added up
(:class:`ReportCounts`); other readers of the same pass (the explanation files, the
publication record) see each batch through ``sinks``."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from transforms import period_counts, periods, rpt_appendix
from transforms.mart_indicator import (
    ONLINE_LEVELS,
    add_histograms,
    processing_days_histogram,
    rollup_map,
)
from transforms.mart_indicator import build as build_indicators
from transforms.report_tables import TABLE3
from warehouse.engine import duckdb_buffer_share, make_engine

if TYPE_CHECKING:
    from motcua.report import ReportTables

INDICATOR_NAMES = {
    "on_time_rate": "Tỷ lệ hồ sơ giải quyết đúng hạn",
    "early_rate": "Tỷ lệ hồ sơ giải quyết trước hạn",
    "online_intake_rate": "Tỷ lệ hồ sơ tiếp nhận trực tuyến",
    "online_procedures_used_rate": "Tỷ lệ TTHC trực tuyến có phát sinh hồ sơ trực tuyến",
    "overdue_open": "Số hồ sơ đang giải quyết quá hạn",
    "processing_days_median": "Thời gian giải quyết, trung vị (ngày làm việc)",
    "processing_days_p90": "Thời gian giải quyết, phân vị 90 (ngày làm việc)",
    "published_rate": "Tỷ lệ TTHC công khai",
    "one_stop_rate": "Tỷ lệ TTHC thực hiện theo cơ chế một cửa",
    "inter_agency_rate": "Tỷ lệ TTHC thực hiện theo cơ chế một cửa liên thông",
    "satisfaction_rate": "Tỷ lệ hài lòng",
    "online_payment_rate": "Tỷ lệ thanh toán trực tuyến",
    "digitised_rate": "Tỷ lệ hồ sơ số hóa",
    "plan_completion_rate": "Tỷ lệ nhiệm vụ kế hoạch hoàn thành",
}
SCOPE = "*"
REPORT_FCT_COLUMNS = [
    "dossier_code", "agency_code", "procedure_code", "procedure_name_recorded", "is_received", "intake_at",
    "ended_at", "due_date", "resolved_at", "withdrawn_at", "resolution_class", "channel_code", "rating",
    "paid_online", "digitised", "processing_working_days", "applicant_pseudonym",
]
"""The fct_dossier columns reports and explanations use."""
REPORT_BATCH_ROWS = 400_000
"""Facts a report batch holds (one procedure bigger than this is a batch of its own)."""

Sink = Callable[[pd.DataFrame, pd.DataFrame], None]
"""Sees each batch of a report's pass: ``(facts, per-dossier counts)`` (see :func:`classify`)."""


def period_of(year: int, convention: str) -> tuple[dt.date, dt.date]:
    return periods.bounds(year, "year", 1, convention)


def _single(start: dt.date, end: dt.date) -> pd.DataFrame:
    return pd.DataFrame({"period_start": [pd.Timestamp(start)], "period_end": [pd.Timestamp(end)]}).astype(
        "datetime64[us]")


@dataclass
class Scope:
    """What a report reads besides the facts: the two dimensions in the agency scope,
    ``names`` (how often each procedure code was recorded under each name, over every
    fact in scope) and ``members`` (the agency codes in scope; None = every agency)."""

    dim_procedure: pd.DataFrame
    dim_agency: pd.DataFrame
    names: pd.DataFrame
    members: set[str] | None


def agency_members(dim_procedure: pd.DataFrame, dim_agency: pd.DataFrame, fact_agencies: Sequence[str],
                   agency: str | None) -> set[str] | None:
    """Agency codes at or under ``agency`` (as it was or today); None = everything."""
    if not agency:
        return None
    codes = pd.concat([pd.Series(sorted(fact_agencies), dtype="string"), dim_procedure["agency_code"],
                       dim_agency["agency_code"]])
    ru = rollup_map(dim_agency, codes.dropna())
    members = set(ru.loc[ru["rollup_code"] == agency, "agency_code"])
    if not members:
        raise ValueError(f"unknown agency {agency!r}: not in core.dim_agency nor on any dossier")
    return members


class FactScan:
    """One read of the warehouse for a report: :attr:`scope`, then :meth:`batches` of the
    facts that can count in ``year``'s period (received by its end, not ended before
    its start), in the agency scope, optionally of one procedure. ``every_fact`` drops
    the period filter (a test holds the filter to it). A context manager: the
    connection lives as long as the ``with``."""

    def __init__(self, warehouse_url: str, year: int, convention: str = "calendar", agency: str | None = None,
                 procedure: str | None = None, *, every_fact: bool = False,
                 batch_rows: int = REPORT_BATCH_ROWS) -> None:
        self.url, self.year, self.convention, self.agency = warehouse_url, year, convention, agency
        self.procedure, self.every_fact, self.batch_rows = procedure, every_fact, batch_rows
        self.facts_read = 0

    def __enter__(self) -> FactScan:
        from warehouse import load, schema
        from warehouse.reads import read_dims

        t = schema.fct_dossier
        self._engine = make_engine(self.url)
        self._stack = contextlib.ExitStack()
        try:
            self._conn = self._stack.enter_context(self._engine.connect())
            self._stack.enter_context(duckdb_buffer_share(self._conn))
            dim_proc, dim_ag = read_dims(self._conn)
            codes = [str(c) for (c,) in self._conn.execute(sa.select(t.c.agency_code).distinct())]
            names = load.read_frame(self._conn, sa.select(
                t.c.agency_code, t.c.procedure_code, t.c.procedure_name_recorded, sa.func.count().label("n"))
                .group_by(t.c.agency_code, t.c.procedure_code, t.c.procedure_name_recorded))
            members = agency_members(dim_proc, dim_ag, codes, self.agency)
        except BaseException:
            self.__exit__()
            raise
        if members is not None:
            dim_proc = dim_proc[dim_proc["agency_code"].isin(members)]
            names = names[names["agency_code"].isin(members)]
        self.scope = Scope(dim_proc, dim_ag, names.drop(columns="agency_code"), members)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._stack.close()
        finally:
            self._engine.dispose()

    def _where(self) -> sa.ColumnElement[bool]:
        from warehouse import schema

        t = schema.fct_dossier
        where: list[sa.ColumnElement[bool]] = []
        if not self.every_fact:
            start, end = period_of(self.year, self.convention)
            after_end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
            where += [sa.or_(t.c.intake_at.is_(None), t.c.intake_at < after_end),
                      sa.or_(t.c.ended_at.is_(None), t.c.ended_at >= dt.datetime.combine(start, dt.time()))]
        if self.scope.members is not None:
            where.append(t.c.agency_code.in_(sorted(self.scope.members)))
        if self.procedure is not None:
            where.append(t.c.procedure_code == self.procedure)
        return sa.and_(sa.true(), *where)

    def _batch_of_procedure(self) -> sa.Subquery:
        """``procedure_code -> batch``: procedures in code order, each in the batch where
        its first fact falls when the facts are laid end to end ``batch_rows`` a batch."""
        from warehouse import schema

        t = schema.fct_dossier
        per = sa.select(t.c.procedure_code, sa.func.count().label("n")).where(self._where()) \
            .group_by(t.c.procedure_code).subquery("per_procedure")
        before = sa.func.sum(per.c.n).over(order_by=per.c.procedure_code, rows=(None, 0)) - per.c.n
        return sa.select(per.c.procedure_code, sa.func.floor(before / self.batch_rows).label("batch")).subquery("b")

    def batches(self) -> Iterator[pd.DataFrame]:
        """The facts (:data:`REPORT_FCT_COLUMNS`, plus ``end_kind``) in batches of whole
        procedures, each at most ``batch_rows`` facts unless one procedure has more."""
        from warehouse.reads import iter_fct

        b = self._batch_of_procedure()
        n_batches = self._conn.execute(sa.select(sa.func.max(b.c.batch))).scalar()
        if n_batches is None:
            return
        from warehouse import schema

        t = schema.fct_dossier
        for i in range(int(n_batches) + 1):
            members = sa.select(b.c.procedure_code).where(b.c.batch == i)
            where = sa.and_(self._where(), t.c.procedure_code.in_(members))
            parts = list(iter_fct(self._conn, REPORT_FCT_COLUMNS, where=where, chunk=self.batch_rows))
            if not parts:
                continue
            batch = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            self.facts_read += len(batch)
            yield batch


def classify(fct: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per dossier of ``fct`` that counts anywhere in [start, end]: ``dossier_code,
    procedure_code, agency_code``, every :data:`period_counts.MEASURES` (0 or 1) and the
    totals (4), (7), (10), counted by :func:`period_counts.count`."""
    per = period_counts.add_totals(period_counts.count(fct, _single(start, end), ["dossier_code"]))
    where = fct.set_index("dossier_code")[["procedure_code", "agency_code"]].reindex(per["dossier_code"])
    per.insert(1, "procedure_code", where["procedure_code"].to_numpy())
    per.insert(2, "agency_code", where["agency_code"].to_numpy())
    return per


@dataclass
class ReportCounts:
    """The report's sums over every batch: per (agency, procedure), per month, the
    processing-days histograms (of the scope, and by working days)."""

    start: dt.date
    end: dt.date
    convention: str
    by_group: list[pd.DataFrame] = field(default_factory=list)
    monthly: list[pd.DataFrame] = field(default_factory=list)
    scope_days: list[pd.DataFrame] = field(default_factory=list)
    days: list[pd.Series] = field(default_factory=list)

    def add(self, fct: pd.DataFrame, per: pd.DataFrame) -> None:
        measures = [*period_counts.MEASURES, *period_counts.TOTALS]
        self.by_group.append(per.groupby(["agency_code", "procedure_code"], as_index=False)[measures].sum())
        months = periods.grid(self.start, self.end, "month", self.convention)
        self.monthly.append(period_counts.count(fct.assign(_all=SCOPE), months, ["_all"]))
        grid = _single(self.start, self.end).assign(period_type="report")
        self.scope_days.append(processing_days_histogram(fct.assign(agency_code=SCOPE), grid))
        f = fct[fct["is_received"].astype(bool) & fct["resolved_at"].notna()
                & (fct["resolved_at"] >= pd.Timestamp(self.start))
                & (fct["resolved_at"] < pd.Timestamp(self.end) + pd.Timedelta(days=1))]
        self.days.append(f["processing_working_days"].dropna().astype(int).value_counts())

    def groups(self) -> pd.DataFrame:
        """Sums per (agency_code, procedure_code), with the period columns."""
        cols = ["agency_code", "procedure_code", *period_counts.MEASURES, *period_counts.TOTALS]
        parts = [p for p in self.by_group if not p.empty]
        g = (pd.concat(parts, ignore_index=True).groupby(["agency_code", "procedure_code"], as_index=False).sum()
             if parts else pd.DataFrame({c: pd.Series(dtype="int64") for c in cols}))
        g.insert(2, "period_start", pd.Timestamp(self.start).as_unit("us"))
        g.insert(3, "period_end", pd.Timestamp(self.end).as_unit("us"))
        return g

    def by(self, key: str) -> pd.DataFrame:
        """Sums per ``key`` (``procedure_code`` or ``agency_code``) in key order."""
        g = self.groups()
        out = g.drop(columns=[c for c in ("agency_code", "procedure_code") if c != key]).groupby(
            [key, "period_start", "period_end"], as_index=False).sum()
        return out.sort_values(key).reset_index(drop=True)

    def months(self) -> pd.DataFrame:
        parts = [p for p in self.monthly if not p.empty]
        if not parts:
            return pd.DataFrame({c: [] for c in ["period_start", "received_online", "received_offline"]})
        return pd.concat(parts, ignore_index=True).groupby(["period_start", "period_end"], as_index=False)[
            period_counts.MEASURES].sum().sort_values("period_start").reset_index(drop=True)

    def processing_days(self) -> pd.DataFrame:
        parts = [p for p in self.days if not p.empty]
        hist = (pd.concat(parts).groupby(level=0).sum().sort_index() if parts else pd.Series(dtype="int64"))
        return pd.DataFrame({"working_days": hist.index.to_numpy(dtype="int64"), "dossiers": hist.to_numpy(dtype="int64")})


def _table4(dim_procedure: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    p = dim_procedure.copy()
    valid_to = p["valid_to"].fillna(pd.Timestamp("2200-01-01"))
    p = p[(p["valid_from"] <= pd.Timestamp(end)) & (valid_to >= pd.Timestamp(start))]
    p = p.sort_values("valid_from").drop_duplicates("procedure_code", keep="last")
    total = len(p)
    level = p["service_level"].astype("string").str.strip().str.lower()

    def row(criterion: str, mask: pd.Series, note: str = "") -> dict:
        n = int(mask.fillna(False).astype(bool).sum())
        return {"criterion": criterion, "count": n, "share_pct": (100.0 * n / total) if total else None, "note": note}

    top = level.isin(["4", "toan_trinh"])
    n_top = int(top.sum())
    return pd.DataFrame([
        row("Số TTHC được công khai đầy đủ, đúng quy định Cổng thông tin điện tử hoặc Trang thông tin điện tử tỉnh",
            p["is_published"].astype("boolean")),
        row("Số lượng các TTHC thực hiện ở địa phương được giải quyết theo cơ chế một cửa",
            p["is_one_stop"].astype("boolean")),
        row("Số TTHC giải quyết theo cơ chế một cửa liên thông", p["is_inter_agency"].astype("boolean")),
        row("Số TTHC thực hiện cung cấp dịch vụ công trực tuyến mức độ 3,4", level.isin(list(ONLINE_LEVELS)),
            f"{n_top:02d} Mức độ 4" if n_top else ""),
    ])


def report_counts(scan: FactScan, sinks: Sequence[Sink] = ()) -> ReportCounts:
    """One pass over ``scan``'s batches: the report's sums, each batch also handed to
    every sink."""
    start, end = period_of(scan.year, scan.convention)
    acc = ReportCounts(start, end, scan.convention)
    for fct in scan.batches():
        per = classify(fct, start, end)
        acc.add(fct, per)
        for sink in sinks:
            sink(fct, per)
    return acc


def build_report(warehouse_url: str, year: int, convention: str = "calendar", agency: str | None = None,
                 plans: pd.DataFrame | None = None, sinks: Sequence[Sink] = (), *, every_fact: bool = False,
                 batch_rows: int = REPORT_BATCH_ROWS) -> ReportTables:
    """Every table of the annual report for ``year`` (``ReportTables``), in one pass over
    the period's facts (see :class:`FactScan`; ``sinks`` see every batch)."""
    with FactScan(warehouse_url, year, convention, agency, every_fact=every_fact, batch_rows=batch_rows) as scan:
        acc = report_counts(scan, sinks)
        return tables_of(acc, scan.scope, year, convention, agency, plans)


def tables_of(acc: ReportCounts, scope: Scope, year: int, convention: str, agency: str | None,
              plans: pd.DataFrame | None) -> ReportTables:
    """The ``ReportTables`` from a pass's sums."""
    from motcua.report import ReportTables

    start, end = acc.start, acc.end
    counts = rpt_appendix.procedure_names(acc.by("procedure_code"), scope.dim_procedure, scope.names)
    table1, table2 = rpt_appendix.table1(counts), rpt_appendix.table2(counts)

    by_field = counts.assign(field_name=counts["field_name"].fillna("(không rõ lĩnh vực)")).groupby(
        "field_name", as_index=False).sum(numeric_only=True)
    form06 = pd.DataFrame({
        "field_name": by_field["field_name"], "received_total": by_field["received_total"],
        "received_online": by_field["received_online"], "received_offline": by_field["received_offline"],
        "carried_over": by_field["carried_over"], "resolved_total": by_field["resolved_total"],
        "resolved_early": by_field["resolved_early"],
        "resolved_on_time": by_field["resolved_on_time"] - by_field["resolved_early"],
        "resolved_late": by_field["resolved_late"], "pending_total": by_field["pending_total"],
        "pending_not_due": by_field["pending_not_due"], "pending_overdue": by_field["pending_overdue"],
    })
    form06 = form06[form06[["received_total", "resolved_total"]].sum(axis=1) > 0]

    # indicators for the report's scope: every agency collapsed into one
    ind_counts = acc.by("procedure_code").drop(columns=list(period_counts.TOTALS))
    ind_counts.insert(0, "agency_code", SCOPE)
    ind_counts.insert(0, "period_type", "report")
    plan_frame = plans.assign(agency_code=SCOPE) if plans is not None and not plans.empty else None
    ind = build_indicators(ind_counts, None, scope.dim_agency.iloc[0:0], scope.dim_procedure.assign(agency_code=SCOPE),
                           plan_frame, days_histogram=add_histograms(acc.scope_days))
    ind = ind[ind["agency_code"] == SCOPE]
    indicators = pd.DataFrame({
        "indicator_code": ind["indicator_code"], "name_vi": ind["indicator_code"].map(INDICATOR_NAMES),
        "numerator": ind["numerator"], "denominator": ind["denominator"], "value": ind["value"]})

    monthly = acc.months()
    monthly_intake = pd.DataFrame({"month": pd.to_datetime(monthly["period_start"]).map(
        lambda d: d.month if convention == "calendar" else (d + pd.DateOffset(months=1)).month),
        "received_online": monthly["received_online"], "received_offline": monthly["received_offline"]})

    by_agency = acc.by("agency_code")
    names = scope.dim_agency.sort_values("valid_from").drop_duplicates("agency_code", keep="last").set_index(
        "agency_code")["agency_name"]
    open_by_agency = pd.DataFrame({"agency_code": by_agency["agency_code"],
                                   "agency_name": by_agency["agency_code"].map(names),
                                   "pending_not_due": by_agency["pending_not_due"],
                                   "pending_overdue": by_agency["pending_overdue"]})
    open_by_agency = open_by_agency[open_by_agency[["pending_not_due", "pending_overdue"]].sum(axis=1) > 0]

    agency_name = str(names.get(agency, agency)) if agency else "Tất cả đơn vị"
    return ReportTables(
        title=f"Báo cáo công tác cải cách hành chính năm {year}", year=year, period_start=start, period_end=end,
        agency_name=agency_name, convention=convention,  # type: ignore[arg-type]
        table1=table1, table2=table2,
        table3=plans if plans is not None else pd.DataFrame(columns=list(TABLE3.frame_columns)),
        table4=_table4(scope.dim_procedure, start, end), form06=form06, indicators=indicators,
        monthly_intake=monthly_intake,
        ontime_by_field=form06.assign(resolved_on_time=form06["resolved_on_time"] + form06["resolved_early"])[
            ["field_name", "resolved_on_time", "resolved_total"]],
        ontime_by_procedure=table2[["procedure_code", "procedure_name", "resolved_on_time", "resolved_total"]],
        open_by_agency=open_by_agency, processing_days=acc.processing_days())


def latest_year(warehouse_url: str) -> int | None:
    """The year of the latest intake of a received dossier (None: no dossier)."""
    from warehouse import schema

    t = schema.fct_dossier
    engine = make_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            latest = conn.execute(sa.select(sa.func.max(t.c.intake_at)).where(t.c.is_received)).scalar()
    finally:
        engine.dispose()
    return None if latest is None else pd.Timestamp(latest).year


def write_csv(tables: ReportTables, out_dir: Path) -> list[Path]:
    """Tables 1 and 2 with totals as CSV (UTF-8 with BOM), for ``motcua run``."""
    from motcua.report.exports import csv_safe

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, t in (("bieu1", tables.table1), ("bieu2", tables.table2)):
        p = out_dir / f"{name}-{tables.year}.csv"
        csv_safe(rpt_appendix.with_total(t)).to_csv(p, index=False, encoding="utf-8-sig")
        paths.append(p)
    return paths


def render_report(tables: object, out_dir: Path, render: str = "csv") -> dict[str, Path]:
    """Write the report's files and return them by name.

    ``render="full"`` hands the tables to :func:`motcua.report.write_report` (XLSX, HTML,
    CSV/Parquet of every table, the drafted paragraph: keys ``xlsx``, ``html``,
    ``paragraph``, ``<table>_csv``, ``<table>_parquet``); ``render="csv"`` writes only
    tables 1–2 as CSV through :func:`motcua.reporting.write_csv` (``bieu1_csv``,
    ``bieu2_csv``).
    """
    if render == "full":
        from motcua.report import write_report

        return write_report(tables, out_dir)  # type: ignore[arg-type]
    if render != "csv":
        raise ValueError(f"render must be 'csv' or 'full', got {render!r}")
    return {f"bieu{i}_csv": p for i, p in enumerate(write_csv(tables, out_dir), start=1)}  # type: ignore[arg-type]
