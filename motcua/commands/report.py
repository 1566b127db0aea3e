"""``motcua report`` and ``motcua explain``: the annual report and the dossiers behind any number."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from motcua.commands import require_warehouse
from motcua.redact import scrub


@click.command()
@click.option("--year", type=int, required=True, help="Report year (e.g. 2019).")
@click.option("--agency", default=None, metavar="CODE",
              help="Report for this agency and every agency under it (as it was, and today's tree). Default: all.")
@click.option("--convention", type=click.Choice(["calendar", "decree09"]), default="calendar", show_default=True,
              help="Period convention: calendar year, or Decree 09/2019's 15 December – 14 December.")
@click.option("--warehouse", default=None, metavar="URL", help="SQLAlchemy URL of the warehouse (env MOTCUA_WAREHOUSE_URL).")
@click.option("--plans", "plans_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Plan register (CSV/XLSX) for table 3 and plan_completion_rate.")
@click.option("--scoring", "scoring_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Scoring rules (JSON) turning indicators into points; see motcua/config/scoring-example.json.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Output folder (default: <data dir>/reports/<year>, then <convention>-<agency> for any "
                   "other convention or one agency).")
def report(year: int, agency: str | None, convention: str, warehouse: str | None, plans_file: str | None,
           scoring_file: str | None, out_dir: str | None) -> None:
    """Write the annual CCHC report: XLSX (the four appendix tables, Biểu 06, indicators),
    CSV and Parquet of each table, a self-contained HTML report with charts, a drafted
    paragraph for section II.2, the dossiers behind each number (explain/), and the
    restatements since the last publication (the publication is recorded in the
    warehouse).

    Runs the ``annual_report`` flow, as its scheduled deployment does: the same files and
    the same publication record either way.
    """
    from flows.annual_report import annual_report
    from motcua.plans import PlanRegisterError
    from motcua.redact import conceal
    from motcua.report import ReportDataError
    from motcua.settings import Settings, SettingsError

    try:
        settings = Settings.from_env(warehouse_url=warehouse)
        require_warehouse(settings.warehouse_url, "report")
        written = annual_report(year=year, convention=convention, agency=agency, render="full",
                                warehouse=conceal(settings.warehouse_url), data_dir=str(settings.data_dir),
                                out_dir=str(Path(out_dir).resolve()) if out_dir else None,
                                plans_file=str(Path(plans_file).resolve()) if plans_file else None,
                                scoring_file=str(Path(scoring_file).resolve()) if scoring_file else None)
    except (PlanRegisterError, ReportDataError, SettingsError, ValueError) as exc:  # ScoringError is a ValueError
        click.secho(f"motcua report failed: {scrub(exc)}", fg="red", err=True)
        sys.exit(1)
    target, paths = Path(written["folder"]), written["paths"]
    start, end = (dt.date.fromisoformat(written[k]) for k in ("period_start", "period_end"))
    click.echo(f"report {year} ({convention}, {start:%d/%m/%Y}–{end:%d/%m/%Y}, "
               f"{written['agency_name']}) written to {target}:")
    for key in ("xlsx", "html", "paragraph"):
        click.echo(f"  {key}: {paths[key]}")
    click.echo(f"  + CSV and Parquet of each table ({sum(1 for k in paths if k.endswith('_csv'))} tables), "
               f"and the dossiers behind each number in {target / 'explain'} ({written['explained_cells']} cells)")
    click.echo("")
    click.echo(Path(paths["paragraph"]).read_text(encoding="utf-8"))
    click.echo("")
    click.echo(written["restatement"])
    if written["points"]:
        points = written["points"]
        click.echo(f"\npoints ({points['points']:g} of {points['max_points']:g}) written to {target / 'diem.csv'}")


@click.command()
@click.option("--year", type=int, required=True, help="Report year.")
@click.option("--column", required=True,
              help="A column of tables 1–2: received_new, carried_over, resolved_on_time, resolved_late, "
                   "pending_overdue, withdrawn, received_online … or its number (4)…(12).")
@click.option("--procedure", default=None, metavar="CODE", help="The row's procedure code (default: the totals row).")
@click.option("--agency", default=None, metavar="CODE", help="Agency scope, as for `motcua report`.")
@click.option("--convention", type=click.Choice(["calendar", "decree09"]), default="calendar", show_default=True)
@click.option("--warehouse", default=None, metavar="URL", help="SQLAlchemy URL of the warehouse.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
def explain(year: int, column: str, procedure: str | None, agency: str | None, convention: str,
            warehouse: str | None, as_csv: bool) -> None:
    """List the dossiers behind one number of tables 1–2: pseudonymised applicant,
    milestones, due, and why each falls in that cell."""
    from motcua.explain import explain as explain_cell
    from motcua.report.exports import csv_safe
    from motcua.settings import Settings

    settings = Settings.from_env(warehouse_url=warehouse)
    require_warehouse(settings.warehouse_url, "explain")
    try:
        rows = explain_cell(settings.warehouse_url, year, column, procedure, convention, agency)
    except ValueError as exc:
        click.secho(f"motcua explain failed: {scrub(exc)}", fg="red", err=True)
        sys.exit(1)
    if as_csv:
        click.echo(csv_safe(rows).to_csv(index=False), nl=False)
        return
    click.echo(f"{len(rows)} dossier(s) in {column} for {year}" + (f", procedure {procedure}" if procedure else ""))
    if len(rows):
        click.echo(rows.to_string(index=False))
