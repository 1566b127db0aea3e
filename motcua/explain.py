"""The dossiers behind any number of tables 1–2 (``motcua explain``), and the files of
them the report writes (``explain/``): counted by the same code as the tables
(:func:`motcua.reporting.classify`), so a cell's row count always equals the cell."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

import pandas as pd

from motcua import reporting
from motcua.report.exports import csv_safe

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
COLUMN_ALIASES = {"4": "received_total", "5": "carried_over", "6": "received_new", "7": "resolved_total",
                  "8": "resolved_on_time", "9": "resolved_late", "10": "pending_total", "11": "pending_not_due",
                  "12": "pending_overdue"}
SLUG_CHARS = 48
"""Longest readable part of a file name made from source data (the hash comes after it)."""


def explained(per: pd.DataFrame, fct: pd.DataFrame, col: str) -> pd.DataFrame:
    """The dossiers of ``per`` (:func:`motcua.reporting.classify` of ``fct``) counted in
    ``col``: one row each, ordered by procedure, intake and code."""
    hit = per[per[col] > 0]
    detail = fct.set_index("dossier_code").loc[hit["dossier_code"]]
    out = pd.DataFrame({
        "dossier_code": hit["dossier_code"].to_numpy(),
        "procedure_code": hit["procedure_code"].to_numpy(),
        "agency_code": detail["agency_code"].to_numpy(),
        "applicant": detail["applicant_pseudonym"].astype("string").str.slice(0, 12).to_numpy(),
        "channel": detail["channel_code"].to_numpy(),
        "intake_at": detail["intake_at"].to_numpy(),
        "due_date": detail["due_date"].to_numpy(),
        "resolved_at": detail["resolved_at"].to_numpy(),
        "withdrawn_at": detail["withdrawn_at"].to_numpy(),
        "why": WHY[col],
    })
    return out.sort_values(["procedure_code", "intake_at", "dossier_code"]).reset_index(drop=True)


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
        for col in self.columns:
            rows = explained(per, fct, col)
            for code, part in rows.groupby("procedure_code", sort=False):
                name = explain_file_name(str(code), col)
                csv_safe(part).to_csv(inside(self.folder, name), index=False, encoding="utf-8-sig")
                table = "table1" if col in ("received_online", "received_offline") else "table2"
                self.links[(table, str(code), col)] = f"explain/{name}"


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
