"""Golden cases for the record rules (``transforms.int_dossier_record``), worked out by
hand from the calendar: the resolution class against the due day, a pause for documents
and the moved due, withdrawal from the history or the status, the fallbacks to the
history for intake and resolution, and every quarantine reason."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers.bundle import dossier
from helpers.golden import one_record as _one


def test_resolved_on_due_day_is_on_time_and_a_day_later_is_late():
    on = _one(dossier("O", 9, "20190311230000", intake="20190304090000", due="20190311080000",
                      resolved="20190311230000"))
    late = _one(dossier("L", 9, "20190312000000", intake="20190304090000", due="20190311235959",
                        resolved="20190312000000"))
    assert on["resolution_class"] == "on_time" and late["resolution_class"] == "late"


def test_paused_for_documents_uses_the_recorded_moved_due():
    # received 4/3 (due 11/3), documents requested 6/3 and supplied 11/3: the system moved the
    # due to 14/3; resolved 13/3 is early against the recorded due, although after 11/3
    snap = dossier("P", 9, "20190313090000", intake="20190304090000", due="20190314170000",
                   resolved="20190313090000",
                   history=[(2, "20190304090000"), (5, "20190306090000"), (4, "20190311090000"), (9, "20190313090000")],
                   DanhSachHoSoBoSung=[{"NgayYeuCauBoSung": "20190306090000", "NgayBoSung": "20190311090000",
                                        "NgayHenTraTruoc": "20190311170000", "NgayHenTraMoi": "20190314170000"}])
    r = _one(snap)
    assert r["due_date"] == pd.Timestamp("2019-03-14") and r["resolution_class"] == "early"
    assert r["supplement_rounds"] == 1


def test_withdrawal_from_history_and_from_status():
    r = _one(dossier("W", 7, "20190320090000", intake="20190304090000", due="20190311170000",
                     history=[(2, "20190304090000"), (7, "20190306090000")]))
    assert r["end_kind"] == "withdrawn" and r["ended_at"] == pd.Timestamp("2019-03-06 09:00")
    r = _one(dossier("W2", 8, "20190320090000", intake="20190304090000", due="20190311170000"))
    assert r["end_kind"] == "withdrawn" and r["ended_at"] == pd.Timestamp("2019-03-20 09:00")


def test_resolution_and_withdrawal_same_instant_resolution_wins():
    r = _one(dossier("B", 9, "20190310090000", intake="20190304090000", due="20190311170000",
                     resolved="20190306090000", history=[(2, "20190304090000"), (7, "20190306090000")]))
    assert r["end_kind"] == "resolved"


def test_fallbacks_to_history_for_intake_and_resolution():
    r = _one(dossier("H", 10, "20190320090000", due="20190311170000",
                     history=[(10, "20190309090000"), (2, "20190304090000"), (2, "20190305090000"), (42, "x")]))
    assert r["intake_at"] == pd.Timestamp("2019-03-04 09:00")
    assert r["resolved_at"] == pd.Timestamp("2019-03-09 09:00")
    assert pd.isna(r["quarantine_reason"])


@pytest.mark.parametrize("snap,prefix", [
    (dossier("Q1", 42, "20190301090000"), "status_out_of_table"),
    (dossier("Q2", 2, "20190301090000", channel=9, intake="20190301090000"), "channel_out_of_table"),
    (dossier("Q3", 2, "not-a-date", intake="20190301090000"), "updated_at_invalid"),
    (dossier("Q4", 4, "20190301090000"), "received_without_intake"),
    (dossier("Q5", 9, "20190301090000", intake="20190305090000", resolved="20190301090000"), "resolution_before_intake"),
    (dossier("Q6", 2, "20190301090000", intake="31/02/2019"), "intake_unparseable"),
    (dossier("Q7", 2, "20190301090000", procedure_code="9.999999", intake="20190301090000"), "due_not_computable"),
    (dossier("Q8", 2, "20190301090000", intake="20190301090000", due="soon"), "due_unparseable"),
    (dossier("Q9", 7, "20190301090000", intake="20190301090000", due="20190311170000",
             history=[(7, "yesterday")]), "withdrawal_unparseable"),
    (dossier("", 2, "20190301090000", intake="20190301090000"), "missing_dossier_code"),
])
def test_quarantine_reasons(snap, prefix):
    r = _one(snap)
    assert str(r["quarantine_reason"]).startswith(prefix), r["quarantine_reason"]


def test_unknown_procedure_with_recorded_due_counts_and_is_flagged():
    r = _one(dossier("U", 2, "20190301090000", procedure_code="9.999999", intake="20190301090000",
                     due="20190308170000"))
    assert pd.isna(r["quarantine_reason"]) and not r["procedure_known"]
