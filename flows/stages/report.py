"""Write the annual report: the one path behind the ``annual_report`` flow, which both its
deployment and ``motcua report`` run.

One scan of the year's facts feeds the report tables, the explain files (the dossiers
behind each cell) and the publication record (``audit.publication``: every non-zero
cell of tables 1–2 and the cells of every dossier); then the files are rendered, the
publication recorded and compared with the previous one of the same report (the
restatements, ``thay-doi-so-lieu.txt``), and, given scoring rules, the points written
(``diem.csv``). The warehouse access lives in :mod:`warehouse.report_scan` and
:mod:`warehouse.publication`; this module only orders the steps and names the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motcua.settings import Settings

RESTATEMENT_FILE = "thay-doi-so-lieu.txt"
"""The restatements against the previous publication of the same report."""
SCORING_FILE = "diem.csv"
"""The points of each indicator, when scoring rules are given."""


def report_folder(data_dir: str | Path, year: int, convention: str, agency: str | None) -> Path:
    """Where a report goes by default: ``<data_dir>/reports/<year>``, and a sub-folder
    ``<convention>-<agency>`` for any other convention or one agency's report, so two
    reports of one year never overwrite each other."""
    folder = Path(data_dir) / "reports" / str(year)
    if convention != "calendar" or agency:
        folder = folder / "-".join(p for p in (convention, agency) if p)
    return folder


def write_annual_report(settings: Settings, year: int, convention: str, agency: str | None, target: Path,
                        render: str = "full", plans_file: str | None = None,
                        scoring_file: str | None = None) -> dict[str, Any]:
    """Compute the year's report from the warehouse and write all of it into ``target``.

    ``render="full"``: XLSX, HTML, CSV/Parquet of every table and the drafted paragraph;
    ``"csv"``: tables 1–2 as CSV. Both write the explain files, record the publication
    and write the restatements; ``scoring_file`` adds the points. Returns what was
    written: the files (``files``, and ``paths`` by name), the period, row counts,
    table 2 and the indicators as JSON-safe rows (for the flow's artifacts), the
    restatement text, the explained cells and the points' totals.
    """
    from motcua import reporting
    from motcua.explain import ExplanationWriter
    from motcua.plans import read_plan_register
    from motcua.publication import PublicationRecorder
    from transforms.rpt_restatement import restatement_text

    plans = read_plan_register(plans_file) if plans_file else None
    target = Path(target)
    explanations = ExplanationWriter(target)
    with PublicationRecorder() as recorder:
        tables = reporting.build_report(settings.warehouse_url, year, convention, agency, plans,
                                        sinks=(explanations, recorder))
        tables.explain_links = explanations.links
        paths = reporting.render_report(tables, target, render)
        changes, since = recorder.publish(settings.warehouse_url, year, convention, agency)
    restated = restatement_text(changes, since)
    restatement_path = target / RESTATEMENT_FILE
    restatement_path.write_text(restated + "\n", encoding="utf-8")
    files = [*sorted(set(paths.values())), restatement_path]
    points = None
    if scoring_file:
        from motcua.report.exports import csv_safe
        from motcua.scoring import load_rules, score

        scored = score(tables.indicators, load_rules(scoring_file))
        csv_safe(scored).to_csv(target / SCORING_FILE, index=False, encoding="utf-8-sig")
        files.append(target / SCORING_FILE)
        points = {"points": float(scored["points"].sum()), "max_points": float(scored["max_points"].sum())}
    return {"year": year, "convention": convention, "agency": agency, "agency_name": tables.agency_name,
            "period_start": str(tables.period_start), "period_end": str(tables.period_end),
            "folder": str(target), "files": [str(p) for p in files],
            "paths": {name: str(p) for name, p in paths.items()},
            "rows": {"bieu1": int(len(tables.table1)), "bieu2": int(len(tables.table2))},
            "table2": records(tables.table2), "indicators": records(tables.indicators),
            "explained_cells": len(tables.explain_links), "restatement": restated, "points": points}


def records(df: object) -> list[dict]:
    """A small frame as JSON-safe rows (for artifacts): aggregates only, no personal data."""
    import pandas as pd

    frame = pd.DataFrame(df).astype(object).where(pd.DataFrame(df).notna(), None)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in frame.to_dict("records")]
