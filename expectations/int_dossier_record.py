"""Suite for int_dossier_record (one row per raw record, with milestones), run on the
records that the domain rules did not already quarantine, batch by batch.

Critical (the record is quarantined): the dossier code present; status and channel in
their tables; ``NgayCapNhat`` present; a received dossier has an intake and a due; the
end is not before the intake; resolution class and due source in their sets; working
days not negative. Warning (flagged, loaded): procedure and agency codes known to the
catalogue; dates plausible (not before 2000, not after the run; a due at most two
years ahead); an online submission not after its intake.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from expectations.runner import checks, dates_check, plain

SUITE_NAME = "int_dossier_record"
ID_COLUMNS = ["record_id"]
EARLIEST = pd.Timestamp("2000-01-01")
COLUMNS = ["record_id", "dossier_code", "status_code", "channel_code", "updated_at", "is_received",
           "submitted_at", "intake_at", "due_date", "due_source", "resolved_at", "ended_at",
           "resolution_class", "processing_working_days", "procedure_known", "agency_known"]


def prepare(df: pd.DataFrame, run_time: Any = None, **context: Any) -> pd.DataFrame:
    """The columns the suite tests (no personal data), in dtypes GX handles, plus the
    checks ``submitted_not_after_intake`` and ``dates_plausible``."""
    out = plain(df, [c for c in COLUMNS if c in df.columns])
    for c in ("is_received", "procedure_known", "agency_known"):
        out[c] = df[c].fillna(False).astype(bool)
    sub_after = out["submitted_at"].notna() & out["intake_at"].notna() & (out["submitted_at"] > out["intake_at"])
    out["submitted_not_after_intake"] = checks(out.index, [
        (sub_after, lambda i: "NgayNopHoSo " + out["submitted_at"][i].astype(str) + " after intake "
         + out["intake_at"][i].astype(str)),
    ])
    out["dates_plausible"] = dates_check(out, ["intake_at", "updated_at", "ended_at", "due_date"], run_time,
                                         ahead={"due_date": 2 * 366})
    return out


def expectations(run_time: Any = None, **context: Any) -> list:
    """The suite (see the module docstring)."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="dossier_code"),
        gxe.ExpectColumnValuesToBeInSet(column="status_code", value_set=[float(i) for i in range(1, 11)]),
        gxe.ExpectColumnValuesToBeInSet(column="channel_code", value_set=[1.0, 2.0, 3.0]),
        gxe.ExpectColumnValuesToNotBeNull(column="updated_at"),
        gxe.ExpectColumnValuesToNotBeNull(column="intake_at", row_condition="is_received==True", condition_parser="pandas"),
        gxe.ExpectColumnValuesToNotBeNull(column="due_date", row_condition="is_received==True", condition_parser="pandas"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="ended_at", column_B="intake_at", or_equal=True,
                                                    ignore_row_if="either_value_is_missing"),
        gxe.ExpectColumnValuesToBeInSet(column="resolution_class", value_set=["early", "on_time", "late"]),
        gxe.ExpectColumnValuesToBeInSet(column="due_source", value_set=["recorded", "computed"]),
        gxe.ExpectColumnValuesToBeBetween(column="processing_working_days", min_value=0),
        gxe.ExpectColumnValuesToBeInSet(column="procedure_known", value_set=[True], severity="warning"),
        gxe.ExpectColumnValuesToBeInSet(column="agency_known", value_set=[True], severity="warning"),
        gxe.ExpectColumnValuesToBeInSet(column="dates_plausible", value_set=["ok"], severity="warning"),
        gxe.ExpectColumnValuesToBeInSet(column="submitted_not_after_intake", value_set=["ok"], severity="warning"),
    ]
