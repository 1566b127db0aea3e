"""Which dossiers make a cell of tables 1–2, and why: counted by the same code as the
tables (:func:`transforms.rpt_counts.classify`), so a cell's row count always equals the
cell. Pure.

Grain: one row per dossier counted in the cell."""

from __future__ import annotations

import pandas as pd

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
SHOWN = ["dossier_code", "procedure_code", "agency_code", "applicant", "channel", "intake_at", "due_date",
         "resolved_at", "withdrawn_at"]
"""What an explanation shows of a dossier (then ``why``)."""


def details(per: pd.DataFrame, fct: pd.DataFrame) -> pd.DataFrame:
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
    """The dossiers of ``per`` (:func:`transforms.rpt_counts.classify` of ``fct``) counted in
    ``col``: one row each, ordered by procedure, intake and code."""
    return details(per[per[col] > 0], fct)[SHOWN].assign(why=WHY[col])


def column_of(column: str) -> str:
    """A column of tables 1–2 by name or by its number ``(4)``…``(12)``."""
    col = COLUMN_ALIASES.get(column.strip("()"), column)
    if col not in WHY:
        raise ValueError(f"unknown column {column!r}; one of {sorted(WHY)} or (4)…(12)")
    return col
