"""``write_report``: every output of the annual report from already-computed tables.

Pure rendering: no database, no pipeline. The tables are checked first
(:func:`~motcua.report.checks.check_tables`); a report whose tables contradict
themselves is not written.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from motcua.report.checks import consistency_problems, scalar_problems
from motcua.report.exports import write_exports
from motcua.report.html import render_html
from motcua.report.layout import build_sheets
from motcua.report.model import ReportDataError, ReportTables
from motcua.report.paragraph import draft_section_ii2
from motcua.report.xlsx import write_xlsx

log = logging.getLogger(__name__)

PARAGRAPH_FILE = "doan-van-II2.txt"


def report_basename(year: int) -> str:
    """``bao-cao-cchc-<year>``."""
    return f"bao-cao-cchc-{year}"


def _write_text(path: Path, text: str) -> None:
    """Write atomically (a reader never sees half a file)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(tables: ReportTables, out_dir: Path, *, strict: bool = True) -> dict[str, Path]:
    """Write the report's files into ``out_dir`` and return them by name.

    Files: ``bao-cao-cchc-<year>.xlsx`` (sheets Bieu 1–4, Bieu 06, Chi so),
    ``bao-cao-cchc-<year>.html`` (self-contained), ``doan-van-II2.txt`` (section II.2),
    and ``bieu1`` … ``bieu4``, ``bieu06``, ``chiso`` as ``.csv`` (UTF-8 with BOM) and
    ``.parquet``. Keys: ``xlsx``, ``html``, ``paragraph``, ``<name>_csv``,
    ``<name>_parquet``.

    Raises :class:`~motcua.report.model.ReportDataError` when the tables are malformed or
    contradict themselves; with ``strict=False`` contradictions (not malformed input)
    are logged as warnings and the report is written anyway.
    """
    # Normalise once (every writer reads these frames); malformed input is always refused.
    tables, malformed = tables.normalized()
    malformed = scalar_problems(tables) + malformed
    if malformed:
        raise ReportDataError(malformed)
    problems = consistency_problems(tables)
    if problems:
        if strict:
            raise ReportDataError(problems)
        for p in problems:
            log.warning("report tables: %s", p)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sheets = build_sheets(tables)
    paragraph = draft_section_ii2(tables)
    base = report_basename(tables.year)

    paths: dict[str, Path] = {}
    xlsx_path = out_dir / f"{base}.xlsx"
    write_xlsx(tables, sheets, xlsx_path)
    paths["xlsx"] = xlsx_path
    paths.update(write_exports(tables, out_dir))
    html_path = out_dir / f"{base}.html"
    _write_text(html_path, render_html(tables, sheets, paragraph))
    paths["html"] = html_path
    para_path = out_dir / PARAGRAPH_FILE
    _write_text(para_path, paragraph + "\n")
    paths["paragraph"] = para_path
    return paths
