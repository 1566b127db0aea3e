"""The dossiers behind any number of tables 1–2 (``motcua explain``), and the files of
them the report writes (``explain/``): counted by the same code as the tables
(:func:`motcua.reporting.classify`), so a cell's row count always equals the cell."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from motcua import reporting
from motcua.report.exports import csv_safe_arrow, write_csv_arrow
from transforms.report_tables import TABLE2

WHY = {
    "received_new": "received in the period",
    "carried_over": "received before the period, not ended before it",
    "received_total": "carried over or received in the period",
    "resolved_on_time": "resolved in the period on or before its due day",
    "resolved_early": "resolved in the period before its due day",
    "resolved_late": "resolved in the period after its due day",
    "resolved_total": "resolved in the period",
    "pending_not_due": "open at the period end, due on or after the end",
    "pending_overdue": "open at the period end, due before the end",
    "pending_total": "open at the period end",
    "withdrawn": "withdrawn or stopped in the period",
    "received_online": "received online in the period",
    "received_offline": "received in person or by post in the period",
}
COLUMN_ALIASES = {str(c.number): c.key for c in TABLE2.columns if c.number is not None and c.dtype == "count"}
"""A column of table 2 by its number in the form: "4" -> ``received_total`` … "12"."""
SLUG_CHARS = 48
"""Longest readable part of a file name made from source data (the hash comes after it)."""


SHOWN = ["dossier_code", "procedure_code", "agency_code", "applicant", "channel", "intake_at", "due_date",
         "resolved_at", "withdrawn_at"]
"""What an explanation shows of a dossier (then ``why``)."""


def _details(per: pd.DataFrame, fct: pd.DataFrame) -> pd.DataFrame:
    """Every dossier of ``per`` with :data:`SHOWN` (the applicant's pseudonym cut to 12
    characters) and ``per``'s measures, ordered by procedure, intake and code."""
    detail = fct.set_index("dossier_code").loc[per["dossier_code"]]
    out = pd.DataFrame({
        "dossier_code": per["dossier_code"].to_numpy(),
        "procedure_code": per["procedure_code"].to_numpy(),
        "agency_code": detail["agency_code"].to_numpy(),
        "applicant": detail["applicant_pseudonym"].astype("string").str.slice(0, 12).to_numpy(),
        "channel": detail["channel_code"].to_numpy(),
        "intake_at": detail["intake_at"].to_numpy(),
        "due_date": detail["due_date"].to_numpy(),
        "resolved_at": detail["resolved_at"].to_numpy(),
        "withdrawn_at": detail["withdrawn_at"].to_numpy(),
        **{col: per[col].to_numpy() for col in WHY},
    })
    return out.sort_values(["procedure_code", "intake_at", "dossier_code"]).reset_index(drop=True)


def explained(per: pd.DataFrame, fct: pd.DataFrame, col: str) -> pd.DataFrame:
    """The dossiers of ``per`` (:func:`motcua.reporting.classify` of ``fct``) counted in
    ``col``: one row each, ordered by procedure, intake and code."""
    return _details(per[per[col] > 0], fct)[SHOWN].assign(why=WHY[col])


def _as_text(details: pd.DataFrame) -> pa.Table:
    """:data:`SHOWN` of ``details`` as the Arrow table a CSV is written from: times as
    ``yyyy-mm-dd hh:mm:ss``, the due day as a date, text cells CSV-safe."""
    table = pa.Table.from_pandas(details[SHOWN], preserve_index=False)
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
    """A report sink (:data:`motcua.reporting.Sink`) writing one CSV per non-empty cell of
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
        details = _details(per, fct)
        table = _as_text(details)
        codes = details["procedure_code"].to_numpy()
        for col in self.columns:
            hit = details[col].to_numpy() > 0
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


def column_of(column: str) -> str:
    """A column of tables 1–2 by name or by its number ``(4)``…``(12)``."""
    col = COLUMN_ALIASES.get(column.strip("()"), column)
    if col not in WHY:
        raise ValueError(f"unknown column {column!r}; one of {sorted(WHY)} or (4)…(12)")
    return col


def explain(warehouse_url: str, year: int, column: str, procedure: str | None = None, convention: str = "calendar",
            agency: str | None = None, *, every_fact: bool = False) -> pd.DataFrame:
    """The dossiers behind one cell of tables 1–2 (or a whole column when ``procedure``
    is None): one row per dossier with its pseudonymised applicant, milestones, due and
    why it falls in the cell. Reads the period's facts of that procedure only, batch by
    batch (:class:`motcua.reporting.FactScan`); holds only the answer."""
    col = column_of(column)
    start, end = reporting.period_of(year, convention)
    parts = []
    with reporting.FactScan(warehouse_url, year, convention, agency, procedure, every_fact=every_fact) as scan:
        for fct in scan.batches():
            parts.append(explained(reporting.classify(fct, start, end), fct, col))
    if not parts:
        return explained(reporting.classify(_no_facts(), start, end), _no_facts(), col)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["procedure_code", "intake_at", "dossier_code"]).reset_index(drop=True)


def _no_facts() -> pd.DataFrame:
    cols = {c: pd.Series(dtype="string") for c in reporting.REPORT_FCT_COLUMNS}
    for c in ("intake_at", "ended_at", "due_date", "resolved_at", "withdrawn_at"):
        cols[c] = pd.Series(dtype="datetime64[us]")
    cols["is_received"] = pd.Series(dtype="boolean")
    cols["end_kind"] = pd.Series(dtype="object")
    return pd.DataFrame(cols)
