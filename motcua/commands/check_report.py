"""``motcua check-report``: check a published appendix table against itself and the warehouse."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from motcua.commands import require_warehouse


@click.command("check-report")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=int, default=None, help="The report's year (needed to compare with the warehouse).")
@click.option("--warehouse", default=None, metavar="URL",
              help="SQLAlchemy URL of the warehouse (env MOTCUA_WAREHOUSE_URL; default duckdb:///var/warehouse.duckdb).")
@click.option("--no-warehouse", is_flag=True, help="Only check the table against itself.")
@click.option("--table", type=click.Choice(["1", "2"]), default=None,
              help="Which appendix table FILE holds (default: told by its headers).")
@click.option("--agency", default=None, metavar="CODE", help="Compare with this agency's figures (and those under it).")
@click.option("--convention", type=click.Choice(["calendar", "decree09"]), default="calendar", show_default=True,
              help="Period convention of the report's year.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def check_report(file: Path, year: int | None, warehouse: str | None, no_warehouse: bool, table: str | None,
                 agency: str | None, convention: str, as_json: bool) -> None:
    """Check FILE, a published appendix table 1 or 2 (CSV or XLSX, laid out as printed,
    Vietnamese headers), for internal faults (totals that are not the sum of the rows,
    identities that fail, blank cells, rows without results or field, names spelled two
    ways) and, unless --no-warehouse, for every cell that differs from what the
    warehouse computes for --year.

    Exits 0 when nothing is found, 1 when anything is, 2 when FILE cannot be read.
    """
    from motcua.reconcile.check import check
    from motcua.reconcile.findings import format_text
    from motcua.redact import scrub
    from motcua.settings import Settings, SettingsError

    try:
        url = None if no_warehouse else Settings.from_env(warehouse_url=warehouse).warehouse_url
        if url and year is None:
            raise click.UsageError("--year is needed to compare with the warehouse (or pass --no-warehouse)")
        if url:
            require_warehouse(url, "check-report", code=2)
        result = check(file, year=year, warehouse_url=url, table=int(table) if table else None,
                                 agency=agency, convention=convention)
    except (ValueError, SettingsError) as exc:
        click.secho(f"motcua check-report: {scrub(exc)}", fg="red", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, default=str, indent=1))
    else:
        click.echo(format_text(result))
    sys.exit(0 if result.ok else 1)
