"""The annual report, built and written: one pass over the period's facts
(:class:`warehouse.report_scan.FactScan`), each batch classified and added up
(:mod:`transforms.rpt_counts`), the tables made from the sums
(:mod:`transforms.rpt_tables`) and handed to :mod:`motcua.report` for rendering. Other
readers of the same pass (the explanation files, the publication record) see each
batch through ``sinks``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from transforms import rpt_appendix
from transforms.rpt_counts import ReportCounts, Sink, classify, period_of
from transforms.rpt_tables import tables_of
from warehouse.report_scan import REPORT_BATCH_ROWS, FactScan

if TYPE_CHECKING:
    from motcua.report import ReportTables


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
    from motcua.report import ReportTables

    with FactScan(warehouse_url, year, convention, agency, every_fact=every_fact, batch_rows=batch_rows) as scan:
        acc = report_counts(scan, sinks)
        return ReportTables(**tables_of(acc, scan.scope, year, convention, agency, plans))


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
