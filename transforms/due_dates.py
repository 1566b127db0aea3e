"""What a computed due date needs: the catalogue's processing days for a procedure on
a date (:func:`processing_days_for`) and the working-day calendar of each row's agency
(:func:`calendar_groups`). Used by ``int_dossier_record``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.workdays import WorkCalendar


def calendar_groups(codes: np.ndarray, default: WorkCalendar,
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
