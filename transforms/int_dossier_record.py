"""int_dossier_record: one row per staged record, with its milestones and, when it
cannot be placed, the reason it is quarantined.

Rules (domain reference, section 3):

* intake r = ``NgayTiepNhan``, else the earliest history entry with status 2;
* resolution f = ``NgayKetThucXuLy``, else the earliest history entry with status 9,
  else with status 10;
* withdrawal/stop w = the earliest history entry with status 7 or 8, else the
  snapshot's ``NgayCapNhat`` when its status is 7 or 8;
* where both f and w exist the earlier ends the dossier (same instant: resolution);
* due u = ``NgayHenTra``, else the n-th working day after r's date, n = the
  ``ThoiHanGiaiQuyet`` of the catalogue row valid on r's date (else the row in force
  most recently before it);
* history entries with a status outside the table are ignored;
* on time is decided by calendar day: early (date f < date u), on time (=), late (>).

A record is quarantined (``quarantine_reason`` not null) when it is not valid JSON,
has no ``MaHoSo``, a status or channel outside its table, ``NgayCapNhat`` missing or
unparseable, an intake, resolution, withdrawal or due present but unparseable, is
received (status not 1 or 3) with no intake, ends before its intake, or is received
with no due and none computable.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from transforms.coded_values import CHANNEL_CODES, STATUS_CODES, read_bool, read_code, read_int64
from transforms.due_dates import calendar_groups, processing_days_for
from transforms.history_milestones import history_milestones_on
from transforms.timeparse import parse_timestamps
from transforms.workdays import WorkCalendar

NOT_RECEIVED = (1, 3)
END_STATUSES_WITHDRAWN = (7, 8)

OUTPUT_COLUMNS = [
    "record_id", "locator", "record_hash", "dossier_code", "procedure_code", "procedure_name",
    "field_code", "field_name", "agency_code", "channel_code", "status_code", "applicant_type",
    "is_received", "submitted_at", "intake_at", "due_date", "due_source", "resolved_at",
    "withdrawn_at", "ended_at", "end_kind", "returned_at", "refused_at", "updated_at",
    "resolution_class", "processing_working_days", "rating", "paid_online", "digitised",
    "supplement_rounds", "applicant_id", "phone", "email", "procedure_known", "agency_known",
    "quarantine_reason",
]


def _labels(conditions: list, labels: list[str], index: pd.Index) -> pd.Series:
    """``pd.Series(np.select(conditions, labels, default=""), index=index).mask(x == "")``
    (the label of the first true condition, else null), made from Arrow rather than from
    a numpy text array when the Series gets a pyarrow-backed string dtype."""
    dtype = pd.Series(np.array(labels)).dtype
    if len(index) == 0 or not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        out = pd.Series(np.select(conditions, labels, default=""), index=index)
        return out.mask(out == "")
    code = np.select(conditions, list(range(len(labels))), default=-1)
    arr = pa.DictionaryArray.from_arrays(pa.array(code, mask=code < 0), pa.array(labels)).cast(pa.large_string())
    return pd.Series(dtype.__from_arrow__(pa.chunked_array([arr])), index=index)


def _add_reason(reasons: pd.Series, mask: pd.Series,
                text: pd.Series | str | Callable[[], pd.Series]) -> pd.Series:
    """Append ``text`` to the reasons where ``mask``; a callable text is only made (for
    every row, as written) when some row needs it."""
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return reasons
    if callable(text):
        text = text()
    add = text if isinstance(text, str) else text[mask]
    new = reasons.copy()
    cur = new[mask]
    new[mask] = np.where(cur.isna(), add, cur.astype(str) + "; " + (add if isinstance(add, str) else add.astype(str)))
    return new


def build(
    staged: pd.DataFrame,
    history: pd.DataFrame,
    procedures: pd.DataFrame,
    agency_codes: set[str] | None = None,
    calendar: WorkCalendar | None = None,
    agency_calendars: dict[str, WorkCalendar] | None = None,
) -> pd.DataFrame:
    """Milestones and quarantine reasons for every staged record (same row count)."""
    cal = calendar or WorkCalendar()
    s = staged.set_index("record_id", drop=False)
    idx = s.index
    reason = pd.Series(pd.NA, index=idx, dtype="object")
    reason = reason.mask(s["parse_error"].notna(), s["parse_error"])

    dossier = s["dossier_code"]
    reason = _add_reason(reason, s["parse_error"].isna() & dossier.isna(), "missing_dossier_code: MaHoSo absent or empty")

    status, status_bad = read_code(s["status_raw"], STATUS_CODES)
    reason = _add_reason(reason, s["parse_error"].isna() & status_bad,
                         lambda: "status_out_of_table: TrangThaiHoSo=" + s["status_raw"].fillna("<missing>").astype(str))
    channel, channel_bad = read_code(s["channel_raw"], CHANNEL_CODES)
    reason = _add_reason(reason, s["parse_error"].isna() & channel_bad,
                         lambda: "channel_out_of_table: KenhThucHien=" + s["channel_raw"].fillna("<missing>").astype(str))

    updated, updated_bad = parse_timestamps(s["updated_raw"])
    reason = _add_reason(reason, s["parse_error"].isna() & updated.isna(),
                         lambda: "updated_at_invalid: NgayCapNhat=" + s["updated_raw"].fillna("<missing>").astype(str))

    intake_rec, intake_bad = parse_timestamps(s["intake_raw"])
    due_rec, due_bad = parse_timestamps(s["due_raw"])
    resolved_rec, resolved_bad = parse_timestamps(s["resolved_raw"])
    submitted, _ = parse_timestamps(s["submitted_raw"])
    returned, _ = parse_timestamps(s["returned_raw"])
    refused, _ = parse_timestamps(s["refused_raw"])

    hm = history_milestones_on(history, idx)

    reason = _add_reason(reason, intake_bad, lambda: "intake_unparseable: NgayTiepNhan=" + s["intake_raw"].astype(str))
    reason = _add_reason(reason, s["intake_raw"].isna() & hm["h_intake_bad"],
                         "intake_unparseable: status-2 history entry time")
    reason = _add_reason(reason, resolved_bad, lambda: "resolution_unparseable: NgayKetThucXuLy=" + s["resolved_raw"].astype(str))
    reason = _add_reason(reason, s["resolved_raw"].isna() & hm["h_resolved_bad"],
                         "resolution_unparseable: status-9/10 history entry time")
    reason = _add_reason(reason, hm["h_withdrawn_bad"],
                         lambda: "withdrawal_unparseable: status-7/8 history entry ThoiDiemXuLy=" + hm["h_withdrawn_bad_value"].astype(str))
    reason = _add_reason(reason, due_bad, lambda: "due_unparseable: NgayHenTra=" + s["due_raw"].astype(str))

    intake = intake_rec.fillna(hm["h_intake"]).astype("datetime64[us]")
    resolved = resolved_rec.fillna(hm["h_resolved9"]).fillna(hm["h_resolved10"]).astype("datetime64[us]")
    st_int = status.astype("Int64")
    is_end_status = st_int.isin(list(END_STATUSES_WITHDRAWN)).fillna(False).astype(bool)
    withdrawn = hm["h_withdrawn"].astype("datetime64[us]")
    withdrawn = withdrawn.fillna(updated.where(is_end_status)).astype("datetime64[us]")

    is_received = (~st_int.isin(list(NOT_RECEIVED))).fillna(False).astype(bool) & st_int.notna()
    reason = _add_reason(reason, is_received & intake.isna() & ~intake_bad & ~hm["h_intake_bad"],
                         lambda: "received_without_intake: TrangThaiHoSo=" + s["status_raw"].astype(str))
    before = intake.notna() & ((resolved.notna() & (resolved < intake)) | (withdrawn.notna() & (withdrawn < intake)))
    reason = _add_reason(reason, before & resolved.notna() & (resolved < intake),
                         lambda: "resolution_before_intake: f=" + resolved.astype(str) + " r=" + intake.astype(str))
    reason = _add_reason(reason, before & withdrawn.notna() & (withdrawn < intake),
                         lambda: "withdrawal_before_intake: w=" + withdrawn.astype(str) + " r=" + intake.astype(str))

    # the end: the earlier of f and w; resolution wins a tie
    res_ends = resolved.notna() & (withdrawn.isna() | (resolved <= withdrawn))
    wd_ends = withdrawn.notna() & ~res_ends
    ended = resolved.where(res_ends).fillna(withdrawn.where(wd_ends)).astype("datetime64[us]")
    end_kind = _labels([res_ends, wd_ends], ["resolved", "withdrawn"], idx)

    # due date
    due = due_rec.dt.normalize().astype("datetime64[us]")
    due_source = pd.Series(np.where(due.notna(), "recorded", None), index=idx, dtype="object")
    need = due.isna() & intake.notna()
    agency = s["agency_code"].fillna("")
    procedure = s["procedure_code"].fillna("")
    if need.any():
        n_days = processing_days_for(procedures, procedure[need], intake[need])
        start = intake[need].to_numpy().astype("datetime64[D]")
        days = n_days.to_numpy()
        d = np.full(len(start), np.datetime64("NaT"), dtype="datetime64[D]")
        for c, rows in calendar_groups(agency[need].to_numpy(), cal, agency_calendars):
            d[rows] = c.nth_working_day_after(start[rows], days[rows])
        computed = pd.Series(pd.to_datetime(d).astype("datetime64[us]"), index=n_days.index)
        due = due.fillna(computed)
        due_source = due_source.where(~(need & computed.reindex(idx).notna()), "computed")
    reason = _add_reason(reason, is_received & due.isna() & ~due_bad & intake.notna(),
                         lambda: "due_not_computable: no NgayHenTra and MaTTHC=" + procedure.astype(str)
                         + " has no catalogue row with ThoiHanGiaiQuyet")

    # resolution class and processing days (only where the resolution ends the dossier)
    f_date = resolved.where(res_ends).dt.normalize()
    resolution_class = _labels([f_date < due, f_date == due, f_date > due], ["early", "on_time", "late"], idx)
    proc_days = pd.Series(np.nan, index=idx)
    has_f = res_ends & intake.notna()
    if has_f.any():
        pos = np.flatnonzero(has_f.to_numpy())
        start = intake.to_numpy()[pos].astype("datetime64[D]")
        end = resolved.to_numpy()[pos].astype("datetime64[D]")
        days = np.full(len(pos), np.nan)
        for c, rows in calendar_groups(agency.to_numpy()[pos], cal, agency_calendars):
            days[rows] = c.working_days_between(start[rows], end[rows])
        values = np.full(len(idx), np.nan)
        values[pos] = days
        proc_days = pd.Series(values, index=idx)

    cat_codes = set(procedures["procedure_code"].dropna()) if procedures is not None and not procedures.empty else set()
    out = pd.DataFrame(
        {
            "record_id": s["record_id"].to_numpy(),
            "locator": s["locator"],
            "record_hash": s["record_hash"],
            "dossier_code": dossier,
            "procedure_code": procedure.astype("string"),
            "procedure_name": s["procedure_name"],
            "field_code": s["field_code"],
            "field_name": s["field_name"],
            "agency_code": agency.astype("string"),
            "channel_code": channel,
            "status_code": st_int,
            "applicant_type": read_int64(s["applicant_type_raw"]),
            "is_received": is_received,
            "submitted_at": submitted,
            "intake_at": intake,
            "due_date": due,
            "due_source": due_source.where(due.notna()),
            "resolved_at": resolved.where(res_ends),
            "withdrawn_at": withdrawn.where(wd_ends),
            "ended_at": ended,
            "end_kind": end_kind,
            "returned_at": returned,
            "refused_at": refused,
            "updated_at": updated,
            "resolution_class": resolution_class,
            "processing_working_days": pd.array(proc_days.round(), dtype="Int64") if len(proc_days) else pd.array([], dtype="Int64"),
            "rating": read_int64(s["rating_raw"]),
            "paid_online": read_bool(s["paid_online_raw"]),
            "digitised": read_bool(s["digitised_raw"]),
            "supplement_rounds": s["supplement_rounds"],
            "applicant_id": s["applicant_id"],
            "phone": s["phone"],
            "email": s["email"],
            "procedure_known": procedure.isin(cat_codes),
            "agency_known": agency.isin(agency_codes or set()),
            "quarantine_reason": reason.astype("string"),
        }
    )
    for c in ("submitted_at", "intake_at", "due_date", "resolved_at", "withdrawn_at", "ended_at",
              "returned_at", "refused_at", "updated_at"):
        out[c] = out[c].astype("datetime64[us]")
    return out.reset_index(drop=True)[OUTPUT_COLUMNS]
