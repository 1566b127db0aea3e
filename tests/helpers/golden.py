"""The catalogue the hand-worked golden cases of ``tests/transforms`` are worked out
against (procedure 1.000001: 5 working days, 1.000003: 1 working day, both of agency
A1), and one snapshot through staging and the record rules."""

from __future__ import annotations

import json

import pandas as pd

from helpers.bundle import procedure
from helpers.pure import procedures_frame
from motcua.sources.base import make_batch
from transforms import dim_procedure, int_dossier_record, stg_dossier_snapshot

PROCS = procedures_frame([procedure("1.000001", 5), procedure("1.000003", 1)])


def one_record(snapshot: dict, calendar=None, agency_calendars=None) -> pd.Series:
    """``snapshot``'s ``int_dossier_record`` row, against :data:`PROCS` with agency A1
    known, under ``calendar`` and ``agency_calendars`` (the national calendar if None)."""
    staged, history = stg_dossier_snapshot.build(make_batch(["t:1"], [json.dumps(snapshot)]))
    out = int_dossier_record.build(staged, history, dim_procedure.build(PROCS), {"A1"}, calendar, agency_calendars)
    return out.iloc[0]
