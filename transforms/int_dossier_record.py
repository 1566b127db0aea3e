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

import numpy as np
import pandas as pd

from transforms.timeparse import parse_timestamps
from transforms.workdays import WorkCalendar

STATUS_CODES = frozenset(range(1, 11))
CHANNEL_CODES = frozenset({1, 2, 3})
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


def _code(values: pd.Series, allowed: frozenset[int]) -> tuple[pd.Series, pd.Series]:
    """Integer code and a mask of values present but outside ``allowed``."""
    num = pd.to_numeric(values, errors="coerce")
    integral = num.notna() & (num == num.round())
    code = num.where(integral).astype("Int64")
    inside = code.isin(list(allowed)).fillna(False).astype(bool)
    return code.where(inside), ~inside


def _bool(values: pd.Series) -> pd.Series:
    s = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[s.isin(["1", "true", "yes", "co", "có"]).fillna(False).astype(bool)] = True
    out[s.isin(["0", "false", "no", "khong", "không"]).fillna(False).astype(bool)] = False
    return out


def _add_reason(reasons: pd.Series, mask: pd.Series, text: pd.Series | str) -> pd.Series:
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return reasons
    add = text if isinstance(text, str) else text[mask]
    new = reasons.copy()
    cur = new[mask]
    new[mask] = np.where(cur.isna(), add, cur.astype(str) + "; " + (add if isinstance(add, str) else add.astype(str)))
    return new


def _history_milestones(history: pd.DataFrame) -> pd.DataFrame:
    """Per record: earliest valid time of statuses 2, 9, 10 and 7/8, and whether an
    entry of those statuses has an unparseable time."""
    cols = ["h_intake", "h_resolved9", "h_resolved10", "h_withdrawn",
            "h_intake_bad", "h_resolved_bad", "h_withdrawn_bad", "h_withdrawn_bad_value"]
    if history.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="record_id"))
    h = history[["record_id", "status_raw", "event_raw"]].copy()
    h["status"], _ = _code(h["status_raw"], STATUS_CODES)
    h = h[h["status"].isin([2, 7, 8, 9, 10]).fillna(False).astype(bool)]
    h["at"], h["bad"] = parse_timestamps(h["event_raw"])
    st = h["status"].astype("int64")
    group = np.select([st == 2, st.isin([9]), st.isin([10]), st.isin([7, 8])],
                      ["intake", "r9", "r10", "w"], default="")
    h["group"] = group
    good = h[~h["bad"] & h["at"].notna()]
    earliest = good.pivot_table(index="record_id", columns="group", values="at", aggfunc="min")
    out = pd.DataFrame(index=pd.Index(h["record_id"].unique(), name="record_id"))
    for g, name in (("intake", "h_intake"), ("r9", "h_resolved9"), ("r10", "h_resolved10"), ("w", "h_withdrawn")):
        out[name] = earliest[g] if g in earliest.columns else pd.Series(dtype="datetime64[us]")
        out[name] = out[name].astype("datetime64[us]")
    bad = h[h["bad"]]
    out["h_intake_bad"] = out.index.isin(bad.loc[bad["group"] == "intake", "record_id"])
    out["h_resolved_bad"] = out.index.isin(bad.loc[bad["group"].isin(["r9", "r10"]), "record_id"])
    wbad = bad[bad["group"] == "w"].drop_duplicates("record_id").set_index("record_id")["event_raw"]
    out["h_withdrawn_bad"] = out.index.isin(wbad.index)
    out["h_withdrawn_bad_value"] = wbad.reindex(out.index)
    return out


def processing_days_for(
    procedures: pd.DataFrame, procedure_code: pd.Series, on_date: pd.Series
) -> pd.Series:
    """``ThoiHanGiaiQuyet`` of the catalogue row valid on each date, else of the row in
    force most recently before it; NaN when the code has no such row.

    ``procedures`` has ``procedure_code, valid_from, valid_to, processing_days``.
    """
    out = pd.Series(np.nan, index=procedure_code.index)
    if procedures is None or procedures.empty:
        return out
    cat = procedures[["procedure_code", "valid_from", "valid_to", "processing_days"]].copy()
    cat["valid_from"] = pd.to_datetime(cat["valid_from"]).astype("datetime64[us]").fillna(pd.Timestamp("1900-01-01"))
    cat["valid_to"] = pd.to_datetime(cat["valid_to"]).astype("datetime64[us]").fillna(pd.Timestamp("2200-01-01"))
    cat = cat.dropna(subset=["procedure_code"])
    q = pd.DataFrame({"code": procedure_code.astype("string"), "d": pd.to_datetime(on_date).dt.normalize().astype("datetime64[us]")})
    q = q[q["code"].notna() & q["d"].notna()].rename_axis("_row").reset_index()
    if q.empty:
        return out
    m = q.merge(cat, left_on="code", right_on="procedure_code", how="inner")
    valid = m[(m["valid_from"] <= m["d"]) & (m["d"] <= m["valid_to"])]
    # the latest-starting row valid on the date
    valid = valid.sort_values(["_row", "valid_from"]).drop_duplicates("_row", keep="last")
    before = m[m["valid_to"] < m["d"]].sort_values(["_row", "valid_to", "valid_from"])
    before = before.drop_duplicates("_row", keep="last")
    chosen = pd.concat([valid, before[~before["_row"].isin(valid["_row"])]])
    days = pd.to_numeric(chosen["processing_days"], errors="coerce")
    out.loc[chosen["_row"].to_numpy()] = days.to_numpy()
    return out


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

    status, status_bad = _code(s["status_raw"], STATUS_CODES)
    reason = _add_reason(reason, s["parse_error"].isna() & status_bad,
                         "status_out_of_table: TrangThaiHoSo=" + s["status_raw"].fillna("<missing>").astype(str))
    channel, channel_bad = _code(s["channel_raw"], CHANNEL_CODES)
    reason = _add_reason(reason, s["parse_error"].isna() & channel_bad,
                         "channel_out_of_table: KenhThucHien=" + s["channel_raw"].fillna("<missing>").astype(str))

    updated, updated_bad = parse_timestamps(s["updated_raw"])
    reason = _add_reason(reason, s["parse_error"].isna() & updated.isna(),
                         "updated_at_invalid: NgayCapNhat=" + s["updated_raw"].fillna("<missing>").astype(str))

    intake_rec, intake_bad = parse_timestamps(s["intake_raw"])
    due_rec, due_bad = parse_timestamps(s["due_raw"])
    resolved_rec, resolved_bad = parse_timestamps(s["resolved_raw"])
    submitted, _ = parse_timestamps(s["submitted_raw"])
    returned, _ = parse_timestamps(s["returned_raw"])
    refused, _ = parse_timestamps(s["refused_raw"])

    hm = _history_milestones(history).reindex(idx)
    for c in ("h_intake_bad", "h_resolved_bad", "h_withdrawn_bad"):
        hm[c] = hm[c].fillna(False).astype(bool)

    reason = _add_reason(reason, intake_bad, "intake_unparseable: NgayTiepNhan=" + s["intake_raw"].astype(str))
    reason = _add_reason(reason, s["intake_raw"].isna() & hm["h_intake_bad"],
                         "intake_unparseable: status-2 history entry time")
    reason = _add_reason(reason, resolved_bad, "resolution_unparseable: NgayKetThucXuLy=" + s["resolved_raw"].astype(str))
    reason = _add_reason(reason, s["resolved_raw"].isna() & hm["h_resolved_bad"],
                         "resolution_unparseable: status-9/10 history entry time")
    reason = _add_reason(reason, hm["h_withdrawn_bad"],
                         "withdrawal_unparseable: status-7/8 history entry ThoiDiemXuLy=" + hm["h_withdrawn_bad_value"].astype(str))
    reason = _add_reason(reason, due_bad, "due_unparseable: NgayHenTra=" + s["due_raw"].astype(str))

    for c in ("h_intake", "h_resolved9", "h_resolved10", "h_withdrawn"):
        hm[c] = pd.to_datetime(hm[c]).astype("datetime64[us]")
    intake = intake_rec.fillna(hm["h_intake"]).astype("datetime64[us]")
    resolved = resolved_rec.fillna(hm["h_resolved9"]).fillna(hm["h_resolved10"]).astype("datetime64[us]")
    st_int = status.astype("Int64")
    is_end_status = st_int.isin(list(END_STATUSES_WITHDRAWN)).fillna(False).astype(bool)
    withdrawn = hm["h_withdrawn"].astype("datetime64[us]")
    withdrawn = withdrawn.fillna(updated.where(is_end_status)).astype("datetime64[us]")

    is_received = (~st_int.isin(list(NOT_RECEIVED))).fillna(False).astype(bool) & st_int.notna()
    reason = _add_reason(reason, is_received & intake.isna() & ~intake_bad & ~hm["h_intake_bad"],
                         "received_without_intake: TrangThaiHoSo=" + s["status_raw"].astype(str))
    before = intake.notna() & ((resolved.notna() & (resolved < intake)) | (withdrawn.notna() & (withdrawn < intake)))
    reason = _add_reason(reason, before & resolved.notna() & (resolved < intake),
                         "resolution_before_intake: f=" + resolved.astype(str) + " r=" + intake.astype(str))
    reason = _add_reason(reason, before & withdrawn.notna() & (withdrawn < intake),
                         "withdrawal_before_intake: w=" + withdrawn.astype(str) + " r=" + intake.astype(str))

    # the end: the earlier of f and w; resolution wins a tie
    res_ends = resolved.notna() & (withdrawn.isna() | (resolved <= withdrawn))
    wd_ends = withdrawn.notna() & ~res_ends
    ended = resolved.where(res_ends).fillna(withdrawn.where(wd_ends)).astype("datetime64[us]")
    end_kind = pd.Series(np.select([res_ends, wd_ends], ["resolved", "withdrawn"], default=""), index=idx)
    end_kind = end_kind.mask(end_kind == "")

    # due date
    due = due_rec.dt.normalize().astype("datetime64[us]")
    due_source = pd.Series(np.where(due.notna(), "recorded", None), index=idx, dtype="object")
    need = due.isna() & intake.notna()
    agency = s["agency_code"].fillna("")
    procedure = s["procedure_code"].fillna("")
    if need.any():
        n_days = processing_days_for(procedures, procedure[need], intake[need])
        computed = pd.Series(pd.NaT, index=n_days.index, dtype="datetime64[us]")
        ag = agency[need]
        for code, rows in n_days.groupby(ag):
            c = (agency_calendars or {}).get(code, cal)
            d = c.nth_working_day_after(intake[rows.index].to_numpy().astype("datetime64[D]"), rows.to_numpy())
            computed[rows.index] = pd.to_datetime(d).astype("datetime64[us]")
        due = due.fillna(computed)
        due_source = due_source.where(~(need & computed.reindex(idx).notna()), "computed")
    reason = _add_reason(reason, is_received & due.isna() & ~due_bad & intake.notna(),
                         "due_not_computable: no NgayHenTra and MaTTHC=" + procedure.astype(str)
                         + " has no catalogue row with ThoiHanGiaiQuyet")

    # resolution class and processing days (only where the resolution ends the dossier)
    f_date = resolved.where(res_ends).dt.normalize()
    cls = np.select([f_date < due, f_date == due, f_date > due], ["early", "on_time", "late"], default="")
    resolution_class = pd.Series(cls, index=idx).mask(lambda x: x == "")
    proc_days = pd.Series(np.nan, index=idx)
    has_f = res_ends & intake.notna()
    if has_f.any():
        for code, rows in agency[has_f].groupby(agency[has_f]):
            c = (agency_calendars or {}).get(code, cal)
            proc_days[rows.index] = c.working_days_between(
                intake[rows.index].to_numpy().astype("datetime64[D]"),
                resolved[rows.index].to_numpy().astype("datetime64[D]"))

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
            "applicant_type": pd.to_numeric(s["applicant_type_raw"], errors="coerce").astype("Int64"),
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
            "rating": pd.to_numeric(s["rating_raw"], errors="coerce").astype("Int64"),
            "paid_online": _bool(s["paid_online_raw"]),
            "digitised": _bool(s["digitised_raw"]),
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
