"""The ``annual_report`` flow: year, period convention and agency -> the published
report (deployment ``annual_report/annual_report``: 16 December 06:00 Asia/Ho_Chi_Minh,
after Decree 09/2019's 14 December cut-off, and on demand; see prefect.yaml)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from prefect import flow, get_run_logger

from flows import pipeline, tasks
from flows.stages.report import report_folder
from warehouse.errors import StepFailed


def default_report_year(today: dt.date, convention: str) -> int:
    """The latest report year whose period has ended by ``today``: under Decree 09 the
    year Y ends on 14 December of Y; a calendar year on 31 December."""
    if convention == "decree09":
        return today.year if today >= dt.date(today.year, 12, 15) else today.year - 1
    return today.year - 1


@flow(name="annual_report", log_prints=False,  # ANNUAL_REPORT_TIMEOUT_SECONDS, 2 h: the report reads the
      # marts only and takes minutes; 2 h leaves room for a wait on the warehouse
      timeout_seconds=(ANNUAL_REPORT_TIMEOUT_SECONDS := 2 * 3600))
def annual_report(year: int | None = None, convention: Literal["calendar", "decree09"] = "calendar",
                  agency: str | None = None, render: Literal["csv", "full"] = "full",
                  warehouse: str | None = None, data_dir: str | None = None, out_dir: str | None = None,
                  plans_file: str | None = None, scoring_file: str | None = None) -> dict:
    """Compute the annual CCHC report from the warehouse and publish it: the files, the
    explain files (the dossiers behind each cell), the publication record in
    ``audit.publication``, the restatements since the previous publication and, with
    scoring rules, the points. ``motcua report`` runs this flow, so a scheduled run and
    the command write the same things.

    Args:
        year: report year (default: the latest year whose period has ended, by the
            run's scheduled date in Asia/Ho_Chi_Minh).
        convention: ``calendar`` (1 January – 31 December) or ``decree09`` (Decree
            09/2019/NĐ-CP: 15 December of the year before – 14 December).
        agency: report for this agency and every agency under it (default: all).
        render: ``csv`` (tables 1–2) or ``full`` (the complete report; see :func:`motcua.reporting.render_report`).
        warehouse: SQLAlchemy URL of the warehouse (default: MOTCUA_WAREHOUSE_URL),
            without a password in clear (Prefect stores parameters): redacted (``user:***@``) or none; see
            :mod:`flows.pipeline`.
        data_dir: where reports go by default (``<data_dir>/reports/<year>``, then
            ``<convention>-<agency>`` for any other report: :func:`flows.stages.report.report_folder`).
        out_dir: write the files here instead.
        plans_file: plan register (CSV/XLSX) for table 3 and ``plan_completion_rate``.
        scoring_file: scoring rules (JSON) turning the indicators into points (``diem.csv``).
    """
    logger = get_run_logger()
    settings = pipeline.settings_for(warehouse, data_dir)
    today = pipeline.local_date(pipeline.scheduled_moment())
    y = year or default_report_year(today, convention)
    target = out_dir or str(report_folder(settings.data_dir, y, convention, agency))
    pipeline.progress("report", f"{y} ({convention}, {agency or 'all agencies'})")
    written = tasks.write_annual_report(settings, y, convention, agency, target, render, plans_file, scoring_file)
    logger.info("report %s written: %s", y, written["files"])
    headline = tasks.headline_indicators(settings, y)
    rows = [{"file": Path(f).name, "folder": str(Path(f).parent)} for f in written["files"]]
    from prefect.artifacts import create_table_artifact

    failed: list[str] = []  # an artifact not created fails the flow (the report itself is written)
    for table, key, description in (
            (rows, "motcua-annual-report-files", f"annual report {y} ({convention}, {agency or 'all agencies'}): "
             "files written"),
            (written["table2"], "motcua-annual-report-table2", f"Biểu 2, {y} ({convention}, {agency or 'all agencies'})"),
            (written["indicators"], "motcua-annual-report-indicators",
             f"indicators with numerators and denominators, {y}")):
        try:
            create_table_artifact(table=table, key=key, description=description)
        except Exception as exc:  # noqa: BLE001 - named below, the flow fails
            failed.append(f"artifact {key} not created: {exc}")
            logger.error(failed[-1])
    step = pipeline.publish_artifacts(
        "annual_report", [], headline, written["files"],
        note=(f"Report {y}, convention {convention} ({written['period_start']} → {written['period_end']}), "
              f"agency {agency or 'all'}: table 1 {written['rows']['bieu1']} rows, table 2 {written['rows']['bieu2']} rows."))
    if step or failed:
        raise StepFailed(f"report {y} written ({', '.join(written['files'])}), but "
                         + "; ".join(failed + ([step["error"]] if step else [])))
    return written
