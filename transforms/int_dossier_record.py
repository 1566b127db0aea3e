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
import pyarrow.compute as pc

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


def _plain_ints(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """The values written as plain ASCII digits (at most 9) as integers, and where they
    are; None when the values are not text. What ``pd.to_numeric`` makes of them."""
    if not isinstance(values.dtype, pd.StringDtype):
        return None
    arr = pa.array(values.array)
    plain = pc.and_(pc.less_equal(pc.binary_length(arr), 9), pc.ascii_is_decimal(arr)).fill_null(False)
    nums = np.zeros(len(arr), dtype=np.int64)
    mask = plain.to_numpy(zero_copy_only=False)
    if mask.any():
        nums[mask] = pc.cast(arr.filter(plain), pa.int64()).to_numpy()
    return nums, mask


def _code(values: pd.Series, allowed: frozenset[int]) -> tuple[pd.Series, pd.Series]:
    """Integer code and a mask of values present but outside ``allowed``."""
    plain = _code_arrays(values, allowed)
    if plain is None:
        return _code_pandas(values, allowed)
    nums, inside = plain
    code = pd.Series(pd.arrays.IntegerArray(nums, ~inside), index=values.index, name=values.name)
    return code, pd.Series(~inside, index=values.index, name=values.name)


def _code_arrays(values: pd.Series, allowed: frozenset[int]) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_code` as numpy arrays (codes, 0 where outside; inside), None when the
    values are not text."""
    plain = _plain_ints(values)
    if plain is None:
        return None
    nums, is_plain = plain
    inside = is_plain & np.isin(nums, np.array(sorted(allowed), dtype=np.int64))
    rest = ~is_plain & values.notna().to_numpy()
    if rest.any():  # anything but plain digits, as pandas reads it
        pos = np.flatnonzero(rest)
        code, bad = _code_pandas(values.iloc[pos], allowed)
        inside[pos] = ~bad.to_numpy()
        nums[pos] = code.fillna(0).to_numpy(dtype=np.int64)
    return np.where(inside, nums, 0), inside


def _to_int64(values: pd.Series) -> pd.Series:
    """``pd.to_numeric(values, errors="coerce").astype("Int64")``, plain digits read directly."""
    plain = _plain_ints(values)
    if plain is None or (~plain[1] & values.notna().to_numpy()).any():
        return pd.to_numeric(values, errors="coerce").astype("Int64")
    nums, mask = plain
    return pd.Series(pd.arrays.IntegerArray(nums, ~mask), index=values.index, name=values.name)


def _code_pandas(values: pd.Series, allowed: frozenset[int]) -> tuple[pd.Series, pd.Series]:
    """:func:`_code` with ``pd.to_numeric`` (every numeric form)."""
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


_MILESTONE_GROUPS = (("h_intake", (2,)), ("h_resolved9", (9,)), ("h_resolved10", (10,)), ("h_withdrawn", (7, 8)))


def _history_milestones_on(history: pd.DataFrame, idx: pd.Index) -> pd.DataFrame:
    """:func:`_history_milestones` for the records ``idx`` (the record ids, unique), with
    what a record without such entries gets: NaT and False."""
    n = len(idx)
    out = pd.DataFrame(index=idx)
    nat = np.iinfo(np.int64).max
    if history.empty:
        for name, _ in _MILESTONE_GROUPS:
            out[name] = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        for name in ("h_intake_bad", "h_resolved_bad", "h_withdrawn_bad"):
            out[name] = np.zeros(n, dtype=bool)
        out["h_withdrawn_bad_value"] = pd.Series(pd.NA, index=idx, dtype="object")
        return out
    plain = _code_arrays(history["status_raw"], STATUS_CODES)
    if plain is None:
        status = _code_pandas(history["status_raw"], STATUS_CODES)[0].fillna(0).to_numpy(dtype=np.int64)
    else:
        status = plain[0]
    keep = np.isin(status, [2, 7, 8, 9, 10])
    pos = idx.get_indexer(history["record_id"].to_numpy()[keep])
    status = status[keep]
    event = history["event_raw"][keep]
    at, bad = parse_timestamps(event)
    at = at.to_numpy().view(np.int64)  # NaT is the smallest int64
    bad = bad.to_numpy()
    inside = pos >= 0
    good = inside & ~bad & (at != np.iinfo(np.int64).min)
    for name, statuses in _MILESTONE_GROUPS:
        m = good & np.isin(status, statuses)
        earliest = np.full(n, nat, dtype=np.int64)
        np.minimum.at(earliest, pos[m], at[m])
        earliest[earliest == nat] = np.iinfo(np.int64).min
        out[name] = earliest.view("datetime64[us]")
    for name, statuses in (("h_intake_bad", (2,)), ("h_resolved_bad", (9, 10))):
        flag = np.zeros(n, dtype=bool)
        flag[pos[inside & bad & np.isin(status, statuses)]] = True
        out[name] = flag
    wbad = np.flatnonzero(inside & bad & np.isin(status, (7, 8)))
    flag = np.zeros(n, dtype=bool)
    flag[pos[wbad]] = True
    out["h_withdrawn_bad"] = flag
    first = wbad[np.unique(pos[wbad], return_index=True)[1]]  # each record's first such entry
    out["h_withdrawn_bad_value"] = pd.Series(event.iloc[first].to_numpy(), index=idx[pos[first]],
                                             dtype=event.dtype).reindex(idx)
    return out


def _calendars(codes: np.ndarray, default: WorkCalendar,
               per_agency: dict[str, WorkCalendar] | None) -> list[tuple[WorkCalendar, np.ndarray]]:
    """(calendar, rows) for every row: an agency with calendar overrides gets its own,
    every other row (one call for them all) the default."""
    rest = np.ones(len(codes), dtype=bool)
    out = []
    for code in sorted(set(codes.tolist()) & set(per_agency or {}), key=str):
        rows = codes == code
        out.append((per_agency[code], rows))
        rest &= ~rows
    out.append((default, rest))
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
                         lambda: "status_out_of_table: TrangThaiHoSo=" + s["status_raw"].fillna("<missing>").astype(str))
    channel, channel_bad = _code(s["channel_raw"], CHANNEL_CODES)
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

    hm = _history_milestones_on(history, idx)

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
        for c, rows in _calendars(agency[need].to_numpy(), cal, agency_calendars):
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
        for c, rows in _calendars(agency.to_numpy()[pos], cal, agency_calendars):
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
            "applicant_type": _to_int64(s["applicant_type_raw"]),
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
            "rating": _to_int64(s["rating_raw"]),
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
