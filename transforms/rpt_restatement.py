"""What changed between two publications of the same report: each dossier's published
cells as a bit mask (:func:`cells_of`), the cell values of a batch (:func:`cell_values`),
and the changes from the dossiers that moved (:func:`changes_of`), told in words
(:func:`restatement_text`). Pure; the warehouse side is :mod:`warehouse.publication`.

Grain: :func:`changes_of` gives one change per cell ``(procedure, column)`` whose value
or dossiers differ."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd

FIGURE_COLUMNS = ("received_total", "carried_over", "received_new", "resolved_total", "resolved_on_time",
                  "resolved_late", "pending_total", "pending_not_due", "pending_overdue", "withdrawn",
                  "received_online", "received_offline")
"""The published columns; a dossier's ``cells`` has bit ``i`` set when it counts in
``FIGURE_COLUMNS[i]`` (frozen: revision 0005 stored bits in this order)."""


def cells_of(per: pd.DataFrame) -> pd.Series:
    """Each dossier's published cells as a bit mask (see :data:`FIGURE_COLUMNS`)."""
    mask = pd.Series(0, index=per.index, dtype="int64")
    for i, col in enumerate(FIGURE_COLUMNS):
        mask |= (per[col] > 0).astype("int64") * (1 << i)
    return mask


def cell_values(per: pd.DataFrame) -> dict[str, int]:
    """The non-zero cells ``"procedure|column" -> value`` of a batch of whole procedures
    (:func:`transforms.rpt_counts.classify`)."""
    sums = per.groupby("procedure_code")[list(FIGURE_COLUMNS)].sum()
    return {f"{code}|{col}": int(row[col]) for code, row in sums.iterrows() for col in FIGURE_COLUMNS if row[col] > 0}


def _cells(procedure: object, mask: object) -> set[str]:
    if procedure is None or pd.isna(procedure) or mask is None or pd.isna(mask):
        return set()
    return {f"{procedure}|{col}" for i, col in enumerate(FIGURE_COLUMNS) if int(mask) >> i & 1}


def changes_of(moved: pd.DataFrame, previous: dict[str, int], current: dict[str, int]) -> list[dict]:
    """The cells whose value or dossiers changed, each with the dossiers that entered or
    left it. ``moved``: the dossiers whose cells differ (``dossier_code, old_procedure,
    old_cells, new_procedure, new_cells``; None where a side lacks the dossier);
    ``previous``/``current``: the two publications' cell values."""
    entered: dict[str, list[str]] = defaultdict(list)
    left: dict[str, list[str]] = defaultdict(list)
    for r in moved.itertuples(index=False):
        before, after = _cells(r.old_procedure, r.old_cells), _cells(r.new_procedure, r.new_cells)
        for key in after - before:
            entered[key].append(str(r.dossier_code))
        for key in before - after:
            left[key].append(str(r.dossier_code))
    changes = []
    for key in sorted(set(previous) | set(current) | set(entered) | set(left)):
        was, now = previous.get(key, 0), current.get(key, 0)
        if was == now and key not in entered and key not in left:
            continue
        procedure, column = key.split("|", 1)
        changes.append({"procedure_code": procedure, "column": column, "previous": was, "current": now,
                        "change": now - was, "dossiers_in": sorted(entered.get(key, [])),
                        "dossiers_out": sorted(left.get(key, []))})
    return changes


def restatement_text(changes: list[dict], since: dt.datetime | None) -> str:
    """A readable account of the changes, for the officer and the report folder."""
    if since is None:
        return "Lần công bố đầu tiên của báo cáo này: chưa có số liệu để so sánh."
    if not changes:
        return f"Không có ô số liệu nào thay đổi so với lần công bố {since:%d/%m/%Y %H:%M}."
    lines = [f"{len(changes)} ô số liệu thay đổi so với lần công bố {since:%d/%m/%Y %H:%M}:"]
    for ch in changes:
        moved = []
        if ch["dossiers_in"]:
            moved.append("thêm hồ sơ " + ", ".join(ch["dossiers_in"]))
        if ch["dossiers_out"]:
            moved.append("bớt hồ sơ " + ", ".join(ch["dossiers_out"]))
        lines.append(f"- TTHC {ch['procedure_code']}, cột {ch['column']}: {ch['previous']} -> {ch['current']} "
                     f"({ch['change']:+d}); " + "; ".join(moved))
    return "\n".join(lines)
