"""Suite for int_dossier_record (one row per raw record, with milestones), run on the
records that the domain rules did not already quarantine.

Critical (the record is quarantined): the dossier code present; status and channel in
their tables; ``NgayCapNhat`` present; a received dossier has an intake and a due; the
end is not before the intake. Warning (flagged, loaded): procedure and agency codes
known to the catalogue; dates plausible (not before 2000, not after the run).
"""

from __future__ import annotations

import pandas as pd

SUITE_NAME = "int_dossier_record"
ID_COLUMNS = ["record_id"]
EARLIEST = pd.Timestamp("2000-01-01")


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["record_id", "dossier_code", "status_code", "channel_code", "updated_at", "is_received",
            "intake_at", "due_date", "ended_at", "procedure_known", "agency_known"]
    out = df[cols].copy()
    for c in ("status_code", "channel_code"):
        out[c] = out[c].astype("float64")
    out["dossier_code"] = out["dossier_code"].astype(object)
    out["is_received"] = out["is_received"].astype(bool)
    out["procedure_known"] = out["procedure_known"].astype(bool)
    out["agency_known"] = out["agency_known"].astype(bool)
    return out


def expectations(run_time: pd.Timestamp | None = None) -> list:
    import great_expectations.expectations as gxe

    latest = (run_time or pd.Timestamp.now()) + pd.Timedelta(days=1)
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="dossier_code"),
        gxe.ExpectColumnValuesToBeInSet(column="status_code", value_set=[float(i) for i in range(1, 11)]),
        gxe.ExpectColumnValuesToBeInSet(column="channel_code", value_set=[1.0, 2.0, 3.0]),
        gxe.ExpectColumnValuesToNotBeNull(column="updated_at"),
        gxe.ExpectColumnValuesToNotBeNull(column="intake_at", row_condition="is_received==True", condition_parser="pandas"),
        gxe.ExpectColumnValuesToNotBeNull(column="due_date", row_condition="is_received==True", condition_parser="pandas"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="ended_at", column_B="intake_at", or_equal=True,
                                                    ignore_row_if="either_value_is_missing"),
        gxe.ExpectColumnValuesToBeInSet(column="procedure_known", value_set=[True], severity="warning"),
        gxe.ExpectColumnValuesToBeInSet(column="agency_known", value_set=[True], severity="warning"),
        gxe.ExpectColumnValuesToBeBetween(column="intake_at", min_value=EARLIEST, max_value=latest, severity="warning"),
        gxe.ExpectColumnValuesToBeBetween(column="updated_at", min_value=EARLIEST, max_value=latest, severity="warning"),
    ]
