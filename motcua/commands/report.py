"""``motcua report`` and ``motcua explain``: the annual report and the dossiers behind any number."""

from __future__ import annotations

import sys
from pathlib import Path

import click

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
              help="Output folder (default: <data dir>/reports/<year>).")
def report(year: int, agency: str | None, convention: str, warehouse: str | None, plans_file: str | None,
           scoring_file: str | None, out_dir: str | None) -> None:
    """Write the annual CCHC report: XLSX (the four appendix tables, Biểu 06, indicators),
    CSV and Parquet of each table, a self-contained HTML report with charts, and a drafted
    paragraph for section II.2."""
    from motcua import reporting
    from motcua.explain import ExplanationWriter
    from motcua.plans import PlanRegisterError, read_plan_register
    from motcua.publication import PublicationRecorder, restatement_text
    from motcua.report import ReportDataError, write_report
    from motcua.report.exports import csv_safe
    from motcua.settings import Settings

    settings = Settings.from_env(warehouse_url=warehouse)
    try:
        plans = read_plan_register(plans_file) if plans_file else None
        target = Path(out_dir) if out_dir else Path(settings.data_dir) / "reports" / str(year)
        explanations = ExplanationWriter(target)
        with PublicationRecorder() as recorder:
            tables = reporting.build_report(settings.warehouse_url, year, convention, agency, plans,
                                            sinks=(explanations, recorder))
            tables.explain_links = explanations.links
            paths = write_report(tables, target)
            changes, since = recorder.publish(settings.warehouse_url, year, convention, agency)
        restated = restatement_text(changes, since)
        (target / "thay-doi-so-lieu.txt").write_text(restated + "\n", encoding="utf-8")
        if scoring_file:
            from motcua.scoring import load_rules, score

            points = score(tables.indicators, load_rules(scoring_file))
            csv_safe(points).to_csv(target / "diem.csv", index=False, encoding="utf-8-sig")
    except (PlanRegisterError, ReportDataError, ValueError) as exc:  # ScoringError is a ValueError
        click.secho(f"motcua report failed: {scrub(exc)}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"report {year} ({convention}, {tables.period_start:%d/%m/%Y}–{tables.period_end:%d/%m/%Y}, "
               f"{tables.agency_name}) written to {target}:")
    for key in ("xlsx", "html", "paragraph"):
        click.echo(f"  {key}: {paths[key]}")
    click.echo(f"  + CSV and Parquet of each table ({sum(1 for k in paths if k.endswith('_csv'))} tables), "
               f"and the dossiers behind each number in {target / 'explain'} ({len(tables.explain_links)} cells)")
    click.echo("")
    click.echo(Path(paths["paragraph"]).read_text(encoding="utf-8"))
    click.echo("")
    click.echo(restated)
    if scoring_file:
        click.echo(f"\npoints ({points['points'].sum():g} of {points['max_points'].sum():g}) written to {target / 'diem.csv'}")


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
