"""The dossiers behind any number of tables 1–2 (``motcua explain``), and the files of
them the report writes (``explain/``): counted by the same code as the tables
(:func:`motcua.classify`), so a cell's row count always equals the cell."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from motcua.report.exports import csv_safe_arrow, write_csv_arrow
from transforms.rpt_counts import classify, no_facts, period_of
from transforms.rpt_explain import SHOWN, WHY, column_of, details, explained
from warehouse.report_scan import FactScan

SLUG_CHARS = 48
"""Longest readable part of a file name made from source data (the hash comes after it)."""


def _as_text(frame: pd.DataFrame) -> pa.Table:
    """:data:`SHOWN` of ``frame`` as the Arrow table a CSV is written from: times as
    ``yyyy-mm-dd hh:mm:ss``, the due day as a date, text cells CSV-safe."""
    table = pa.Table.from_pandas(frame[SHOWN], preserve_index=False)
    for name in ("intake_at", "resolved_at", "withdrawn_at"):
        seconds = pc.cast(table.column(name), pa.timestamp("s"), safe=False)
        # Arrow's cast prints ``yyyy-mm-dd hh:mm:ss``, as strftime would, 40x faster
        table = table.set_column(table.schema.get_field_index(name), name, pc.cast(seconds, pa.string()))
    table = table.set_column(table.schema.get_field_index("due_date"), "due_date",
                             pc.cast(table.column("due_date"), pa.date32()))
    return csv_safe_arrow(table)


def safe_file_part(text: str, limit: int = SLUG_CHARS) -> str:
    """A file-name part for ``text`` read from the source (a procedure code …): a readable
    ASCII slug (letters, digits, ``.``, ``_``, ``-``; Vietnamese letters without their
    marks) of at most ``limit`` characters, then ``-`` and a 10-hex hash of the original
    text, so two different texts never share a name. No path separator, no NUL, no
    leading dot, whatever ``text`` holds (``../../x``, ``\\x00``, 300 characters)."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text)
    slug = re.sub(r"\.{2,}", ".", slug)[:limit].strip(".-_")
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{slug}-{digest}" if slug else digest


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, checked to stay inside ``folder`` once resolved (raises
    ``ValueError`` otherwise)."""
    base = folder.resolve()
    path = (base / name).resolve()
    if path.parent != base:
        raise ValueError(f"file name {name!r} would be written outside {folder}")
    return path


def explain_file_name(code: str, column: str) -> str:
    """The CSV under ``explain/`` holding the dossiers of one cell (see :func:`safe_file_part`)."""
    return f"{safe_file_part(str(code))}-{column}.csv"


class ExplanationWriter:
    """A report sink (:data:`transforms.rpt_counts.Sink`) writing one CSV per non-empty cell of
    tables 1–2 under ``out_dir/explain/``, named by :func:`explain_file_name` (never by
    the raw procedure code: it comes from the source). A batch holds whole procedures,
    so each file is written once, complete. :attr:`links` is the ``explain_links``
    mapping (relative paths) for the HTML report."""

    def __init__(self, out_dir: Path, columns: tuple[str, ...] = tuple(WHY)) -> None:
        self.folder = out_dir / "explain"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.columns = columns
        self.links: dict[tuple[str, str, str], str] = {}

    def __call__(self, fct: pd.DataFrame, per: pd.DataFrame) -> None:
        frame = details(per, fct)
        table = _as_text(frame)
        codes = frame["procedure_code"].to_numpy()
        for col in self.columns:
            hit = frame[col].to_numpy() > 0
            if not hit.any():
                continue
            rows = table.filter(pa.array(hit))
            rows = rows.append_column("why", pa.repeat(pa.scalar(WHY[col]), rows.num_rows))
            of = codes[hit]  # sorted by procedure: one run of rows each
            starts = np.flatnonzero(np.r_[True, of[1:] != of[:-1]])
            for start, stop in zip(starts, np.r_[starts[1:], len(of)], strict=True):
                name = explain_file_name(str(of[start]), col)
                write_csv_arrow(rows.slice(start, stop - start), inside(self.folder, name))
                table_name = "table1" if col in ("received_online", "received_offline") else "table2"
                self.links[(table_name, str(of[start]), col)] = f"explain/{name}"


def explain(warehouse_url: str, year: int, column: str, procedure: str | None = None, convention: str = "calendar",
            agency: str | None = None, *, every_fact: bool = False) -> pd.DataFrame:
    """The dossiers behind one cell of tables 1–2 (or a whole column when ``procedure``
    is None): one row per dossier with its pseudonymised applicant, milestones, due and
    why it falls in the cell. Reads the period's facts of that procedure only, batch by
    batch (:class:`motcua.FactScan`); holds only the answer."""
    col = column_of(column)
    start, end = period_of(year, convention)
    parts = []
    with FactScan(warehouse_url, year, convention, agency, procedure, every_fact=every_fact) as scan:
        for fct in scan.batches():
            parts.append(explained(classify(fct, start, end), fct, col))
    if not parts:
        return explained(classify(no_facts(), start, end), no_facts(), col)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["procedure_code", "intake_at", "dossier_code"]).reset_index(drop=True)
