"""Working from the quarantine (``audit.quarantine``): list it, show records, choose the
records a retry sends again.

A quarantined record is a raw record (line, row, API item) that could not be placed,
kept with its reason and counted nowhere. After a fix (a code change, a catalogue
entry, or a corrected line) ``motcua quarantine retry`` runs the ``quarantine-retry``
flow (:mod:`flows.quarantine_retry`): the records :func:`select_for_retry` chooses go
through the normal stages — staged and validated, loaded with a newest-wins merge (a
fixed record counts once), the marts they touch rebuilt and published — and a loaded
record's row is resolved (``resolved_run_id``); one that still fails keeps its row with
its new reason. The statements are in :mod:`warehouse.quarantine`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from warehouse import quarantine as rows_of


class QuarantineError(ValueError):
    """The request cannot be carried out as asked (nothing was changed)."""


def reason_prefix(reason: str | None) -> str:
    """The reason's kind: the text before its first ``:`` (``invalid_json``,
    ``due_not_computable``, ``expectation`` …)."""
    if reason is None:
        return ""
    return str(reason).split(":", 1)[0].strip()


def counts(warehouse_url: str, include_resolved: bool = False) -> pd.DataFrame:
    """Quarantined records by reason kind and source: ``reason, source, open`` (and
    ``resolved``, ``total`` with ``include_resolved``), largest first."""
    df = rows_of.states(warehouse_url, include_resolved)
    cols = ["reason", "source", "open", *(["resolved", "total"] if include_resolved else [])]
    if df.empty:
        return pd.DataFrame({c: [] for c in cols})
    df["reason"] = df["reason"].map(reason_prefix)
    df["open"] = df["resolved_run_id"].isna().astype(int)
    df["resolved"] = 1 - df["open"]
    df["total"] = 1
    out = df.groupby(["reason", "source"], as_index=False)[["open", "resolved", "total"]].sum()
    out = out.sort_values(["total", "reason", "source"], ascending=[False, True, True])
    return out[cols].reset_index(drop=True)


def find(warehouse_url: str, id_prefix: str | None = None, reason: str | None = None,
         limit: int | None = 20, include_resolved: bool = True) -> pd.DataFrame:
    """Quarantine rows whose id starts with ``id_prefix`` and/or whose reason starts
    with ``reason``, oldest first (all columns, the raw record included)."""
    return rows_of.find(warehouse_url, id_prefix, reason, limit, include_resolved)


def read_corrections(path: Path) -> list[str]:
    """Corrected records from a JSONL file: one snapshot a line (blank lines skipped;
    UTF-8, a BOM tolerated)."""
    text = Path(path).read_bytes().decode("utf-8-sig")
    return [ln.rstrip("\r") for ln in text.split("\n") if ln.strip()]


def _dossier_code(line: str) -> str | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict) or obj.get("MaHoSo") in (None, ""):
        return None
    return str(obj["MaHoSo"]).strip()


def assign_corrections(open_rows: pd.DataFrame, lines: list[str], ids: list[str] | None = None) -> pd.DataFrame:
    """The open rows the corrected ``lines`` replace, with ``record`` set to them.

    With ``ids`` (quarantine id prefixes), line *i* replaces the record of id *i* (as
    many lines as ids). Otherwise each line replaces the one open record with the same
    ``MaHoSo``; a line whose code matches none, or several, is an error."""
    rows = open_rows.copy()
    out = []
    if ids:
        if len(ids) != len(lines):
            raise QuarantineError(f"{len(ids)} id(s) given for {len(lines)} corrected line(s): give one id per line")
        for prefix, line in zip(ids, lines, strict=True):
            hit = rows[rows["quarantine_id"].str.startswith(prefix.lower())]
            if len(hit) != 1:
                raise QuarantineError(f"id {prefix!r} matches {len(hit)} open quarantined records")
            out.append(hit.assign(record=line))
    else:
        for n, line in enumerate(lines, 1):
            code = _dossier_code(line)
            if code is None:
                raise QuarantineError(f"corrected line {n} has no MaHoSo (or is not a JSON object): pass --id")
            hit = rows[rows["dossier_code"].fillna("").astype(str).str.strip() == code]
            if len(hit) != 1:
                raise QuarantineError(f"corrected line {n}: MaHoSo {code!r} matches {len(hit)} open quarantined "
                                      "records (pass --id to choose)")
            out.append(hit.assign(record=line))
    if not out:
        return rows.iloc[0:0]
    result = pd.concat(out, ignore_index=True)
    dup = result["quarantine_id"].duplicated()
    if dup.any():
        raise QuarantineError(f"several corrected lines replace the same record {result.loc[dup, 'quarantine_id'].iloc[0][:12]}")
    return result


def _select(open_rows: pd.DataFrame, ids: list[str] | None, from_file: Path | None) -> pd.DataFrame:
    if from_file is not None:
        return assign_corrections(open_rows, read_corrections(from_file), ids).reset_index(drop=True)
    if ids:
        mask = pd.Series(False, index=open_rows.index)
        for prefix in ids:
            mask |= open_rows["quarantine_id"].str.startswith(prefix.lower())
        return open_rows[mask].reset_index(drop=True)
    return open_rows.reset_index(drop=True)


def select_for_retry(warehouse_url: str, reason: str | None = None, ids: list[str] | None = None,
                     from_file: Path | str | None = None) -> pd.DataFrame:
    """The open rows a retry sends again (all, those whose reason starts with ``reason``,
    those whose id starts with one of ``ids``, or those the corrected lines of
    ``from_file`` replace, ``record`` set to the corrected text), oldest first, with
    ``original_id``: the row's id as stored. Raises :class:`QuarantineError` when the
    request cannot be carried out as asked."""
    open_rows = rows_of.find(warehouse_url, reason=reason, limit=None, include_resolved=False)
    chosen = _select(open_rows, ids, Path(from_file) if from_file else None)
    return chosen.assign(original_id=chosen["quarantine_id"])
