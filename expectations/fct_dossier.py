"""Suite for core.fct_dossier (one row per dossier: its current state and milestones),
run on the table read from the warehouse before the marts are built.

Context: ``dim_procedure`` and ``dim_agency`` (relationship checks), ``run_time``.

Critical (the run stops): ``dossier_code`` unique and not null; status and channel in
their tables; the received flag agrees with the status; a received dossier has an
intake and a due; the end is the earlier of resolution and withdrawal, never both,
and not before the intake; the resolution class in its set and consistent with the
dates (early / on time / late by calendar day of f against u); ``agency_code`` is an
agency of ``dim_agency`` (empty when the record had none). Warning (flagged): the
procedure code in ``dim_procedure`` (unknown codes still count, with
``procedure_known`` False); the agency known; dates plausible (not before 2000, not
after the run; a due at most two years ahead).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from expectations.runner import checks, dates_check, plain

SUITE_NAME = "fct_dossier"
ID_COLUMNS = ["dossier_code"]
COLUMNS = ["dossier_code", "procedure_code", "agency_code", "channel_code", "status_code", "is_received",
           "submitted_at", "intake_at", "due_date", "due_source", "resolved_at", "withdrawn_at", "ended_at",
           "resolution_class", "processing_working_days", "procedure_known", "agency_known", "updated_at"]
DATES = ["intake_at", "resolved_at", "withdrawn_at", "ended_at", "updated_at", "submitted_at", "due_date"]


def _str(s: pd.Series) -> pd.Series:
    return s.astype(str)


def prepare(df: pd.DataFrame, dim_procedure: pd.DataFrame | None = None,
            dim_agency: pd.DataFrame | None = None, run_time: Any = None, **context: Any) -> pd.DataFrame:
    """Fact columns (no pseudonyms) plus the check columns ``received``, ``end``,
    ``resolution_class_dates``, ``agency_in_dim``, ``procedure_in_dim`` and
    ``dates_plausible``."""
    out = plain(df, [c for c in COLUMNS if c in df.columns])
    for c in DATES:
        out[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
    for c in ("is_received", "procedure_known", "agency_known"):
        out[c] = df[c].astype("boolean").fillna(False).astype(bool)
    idx = out.index
    status = out["status_code"]
    expect_received = status.notna() & ~status.isin([1.0, 3.0])
    r, f, w, e, u = (out[c] for c in ("intake_at", "resolved_at", "withdrawn_at", "ended_at", "due_date"))
    out["received"] = checks(idx, [
        (out["is_received"] != expect_received,
         lambda i: "is_received=" + _str(out["is_received"][i]) + " with status " + _str(status[i])),
        (out["is_received"] & r.isna(), "received without intake"),
        (out["is_received"] & u.isna(), "received without due"),
    ])
    first_end = f.where(w.isna() | (f.notna() & (f <= w)), w)
    out["end"] = checks(idx, [
        (f.notna() & w.notna(), lambda i: "both resolved_at " + _str(f[i]) + " and withdrawn_at " + _str(w[i])),
        (~((e.isna() & first_end.isna()) | (e == first_end)),
         lambda i: "ended_at " + _str(e[i]) + " is not the earlier of f and w (" + _str(first_end[i]) + ")"),
    ])
    fd, ud = f.dt.normalize(), u.dt.normalize()
    expected = pd.Series(np.select([fd < ud, fd == ud, fd > ud], ["early", "on_time", "late"], default=""),
                         index=idx).replace("", None)
    actual = out["resolution_class"]
    differs = ~((actual.isna() & expected.isna()) | (actual == expected))
    out["resolution_class_dates"] = checks(idx, [
        (differs, lambda i: _str(actual[i]) + " but f=" + _str(fd[i].dt.date) + " u=" + _str(ud[i].dt.date)
         + " gives " + _str(expected[i])),
    ])
    agency = out["agency_code"].fillna("")
    if dim_agency is not None:
        known_agencies = set(dim_agency["agency_code"].dropna())
        in_dim = agency.isin(known_agencies) | (agency == "")
    else:
        in_dim = pd.Series(True, index=idx)
    out["agency_in_dim"] = checks(idx, [(~in_dim, lambda i: "agency_code " + agency[i] + " not in dim_agency")])
    code = out["procedure_code"].fillna("")
    if dim_procedure is not None:
        in_cat = code.isin(set(dim_procedure["procedure_code"].dropna()))
    else:
        in_cat = out["procedure_known"]
    out["procedure_in_dim"] = checks(idx, [
        (~in_cat, lambda i: "procedure_code '" + code[i] + "' not in dim_procedure (procedure_known="
         + _str(out["procedure_known"][i]) + ")"),
    ])
    out["dates_plausible"] = dates_check(out, ["intake_at", "ended_at", "updated_at", "due_date"], run_time,
                                         ahead={"due_date": 2 * 366})
    return out


def expectations(run_time: Any = None, **context: Any) -> list:
    """The suite (see the module docstring)."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="dossier_code"),
        gxe.ExpectColumnValuesToBeUnique(column="dossier_code"),
        gxe.ExpectColumnValuesToNotBeNull(column="status_code"),
        gxe.ExpectColumnValuesToBeInSet(column="status_code", value_set=[float(i) for i in range(1, 11)]),
        gxe.ExpectColumnValuesToNotBeNull(column="channel_code"),
        gxe.ExpectColumnValuesToBeInSet(column="channel_code", value_set=[1.0, 2.0, 3.0]),
        gxe.ExpectColumnValuesToBeInSet(column="received", value_set=["ok"]),
        gxe.ExpectColumnValuesToBeInSet(column="end", value_set=["ok"]),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="ended_at", column_B="intake_at", or_equal=True,
                                                    ignore_row_if="either_value_is_missing"),
        gxe.ExpectColumnValuesToBeInSet(column="resolution_class", value_set=["early", "on_time", "late"]),
        gxe.ExpectColumnValuesToBeInSet(column="resolution_class_dates", value_set=["ok"]),
        gxe.ExpectColumnValuesToBeInSet(column="due_source", value_set=["recorded", "computed"]),
        gxe.ExpectColumnValuesToBeBetween(column="processing_working_days", min_value=0),
        gxe.ExpectColumnValuesToBeInSet(column="agency_in_dim", value_set=["ok"]),
        gxe.ExpectColumnValuesToBeInSet(column="procedure_in_dim", value_set=["ok"], severity="warning"),
        gxe.ExpectColumnValuesToBeInSet(column="agency_known", value_set=[True], severity="warning"),
        gxe.ExpectColumnValuesToBeInSet(column="dates_plausible", value_set=["ok"], severity="warning"),
    ]
