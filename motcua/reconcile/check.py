"""``motcua check-report``'s I/O: reading the published table's file and the warehouse's
figures for the year, then finding the table's faults and differences."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from motcua.reconcile.compare import compare
from motcua.reconcile.faults import internal_faults
from motcua.reconcile.findings import CheckResult, Finding
from motcua.reconcile.published import read_table
from motcua.redact import redact_url, reveal, scrub


def warehouse_table(warehouse_url: str, year: int, table: int, convention: str = "calendar",
                    agency: str | None = None) -> pd.DataFrame:
    """The warehouse's table 1 or 2 for ``year`` (one row per procedure)."""
    import sqlalchemy as sa

    from motcua import reporting

    url = sa.engine.make_url(reveal(warehouse_url))
    if url.get_backend_name() == "duckdb" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).expanduser().exists():
        raise ValueError(f"no warehouse at {redact_url(warehouse_url)} (run `motcua run` first, or pass --no-warehouse)")
    try:
        tables = reporting.build_report(warehouse_url, year, convention, agency)
    except sa.exc.SQLAlchemyError as exc:
        raise ValueError(f"cannot read the warehouse {redact_url(warehouse_url)}: "
                         f"{scrub(str(exc).splitlines()[0])}") from None
    return (tables.table1 if table == 1 else tables.table2).reset_index(drop=True)


def check(path: Path, year: int | None = None, warehouse_url: str | None = None, table: int | None = None,
          agency: str | None = None, convention: str = "calendar") -> CheckResult:
    """Read the published table at ``path``, find its internal faults and, with a
    warehouse, every cell that differs from the warehouse's figures for ``year``."""
    t = read_table(Path(path), table)
    faults = internal_faults(t)
    differences: list[Finding] = []
    if warehouse_url:
        if year is None:
            raise ValueError("--year is needed to compare with the warehouse")
        differences = compare(t, warehouse_table(warehouse_url, year, t.table, convention, agency), year)
    return CheckResult(path=str(path), table=t.table, sheet=t.sheet, rows=len(t.rows), year=year,
                       warehouse=redact_url(warehouse_url), faults=faults, differences=differences, notes=t.notes)
