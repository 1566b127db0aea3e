"""Suite for core.fct_dossier_event (one row per processing-history entry of a
dossier's current snapshot), run on the table read from the warehouse in large chunks
before the marts are built (the key's uniqueness within a chunk here; over the whole
table by one aggregate, :func:`warehouse.reads.grain_problem`).

Context: ``run_time``; each row carries ``in_fct`` (its dossier is in core.fct_dossier).

Critical (the run stops): ``(dossier_code, seq)`` unique and not null; ``seq`` from 1;
the status in its table; the dossier in fct_dossier. Warning: event times plausible
(not before 2000, not after the run).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from expectations.runner import checks, dates_check, plain

SUITE_NAME = "fct_dossier_event"
ID_COLUMNS = ["dossier_code", "seq"]


def prepare(df: pd.DataFrame, run_time: Any = None, **context: Any) -> pd.DataFrame:
    """Event columns plus the checks ``dossier_in_fct`` and ``dates_plausible``. ``df``
    carries ``in_fct``: whether the event's dossier is in core.fct_dossier (the warehouse
    answers it with a join as it reads the events, see :func:`expectations.gate.event_frames`)."""
    if "in_fct" not in df.columns:
        raise ValueError("fct_dossier_event is validated with its in_fct column (is the dossier in core.fct_dossier?)")
    out = plain(df, [c for c in ("dossier_code", "seq", "status_code", "event_at", "agency_code") if c in df.columns])
    out["event_at"] = pd.to_datetime(df["event_at"]).astype("datetime64[us]")
    missing = out["dossier_code"].notna() & ~df["in_fct"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    out["dossier_in_fct"] = checks(out.index, [(missing, "dossier not in fct_dossier")])
    out["dates_plausible"] = dates_check(out, ["event_at"], run_time)
    return out


def expectations(run_time: Any = None, **context: Any) -> list:
    """The suite (see the module docstring)."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=ID_COLUMNS),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ID_COLUMNS],
        gxe.ExpectColumnValuesToBeBetween(column="seq", min_value=1),
        gxe.ExpectColumnValuesToBeInSet(column="status_code", value_set=[float(i) for i in range(1, 11)]),
        gxe.ExpectColumnValuesToBeInSet(column="dossier_in_fct", value_set=["ok"]),
        gxe.ExpectColumnValuesToBeInSet(column="dates_plausible", value_set=["ok"], severity="warning"),
    ]
