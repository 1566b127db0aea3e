"""Milestones from a record's processing history: per record, the earliest valid time
of its entries of status 2 (intake), 9 and 10 (resolution) and 7/8 (withdrawal or
stop), and whether an entry of those statuses has a time that cannot be parsed. Used by
``int_dossier_record``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.coded_values import STATUS_CODES, read_code, read_code_arrays, read_code_pandas
from transforms.timeparse import parse_timestamps


def history_milestones(history: pd.DataFrame) -> pd.DataFrame:
    """Per record: earliest valid time of statuses 2, 9, 10 and 7/8, and whether an
    entry of those statuses has an unparseable time (a pivot table: the statement that
    :func:`history_milestones_on` is tested against)."""
    cols = ["h_intake", "h_resolved9", "h_resolved10", "h_withdrawn",
            "h_intake_bad", "h_resolved_bad", "h_withdrawn_bad", "h_withdrawn_bad_value"]
    if history.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="record_id"))
    h = history[["record_id", "status_raw", "event_raw"]].copy()
    h["status"], _ = read_code(h["status_raw"], STATUS_CODES)
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


def history_milestones_on(history: pd.DataFrame, idx: pd.Index) -> pd.DataFrame:
    """:func:`history_milestones` for the records ``idx`` (the record ids, unique), with
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
    plain = read_code_arrays(history["status_raw"], STATUS_CODES)
    if plain is None:
        status = read_code_pandas(history["status_raw"], STATUS_CODES)[0].fillna(0).to_numpy(dtype=np.int64)
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
