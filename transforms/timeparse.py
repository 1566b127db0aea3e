"""Timestamp parsing for the one-stop contract (helper, builds no table).

The national format is ``yyyyMMddHHmmss`` in local time (Asia/Ho_Chi_Minh, UTC+7).
Also accepted, per domain rules: date only (``yyyyMMdd``), a ``Z`` or ``±HH:MM``
suffix, and ISO 8601 (``2023-01-18T23:00:00Z``, ``2023-01-18``). A date-only value
means 00:00:00 of that day; ``Z`` and offsets are converted to local time; an empty
string is null. Everything is returned as naive local ``datetime64[us]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LOCAL_UTC_OFFSET_MINUTES = 7 * 60

_PATTERN = (
    r"^(?P<y>\d{4})-?(?P<mo>\d{2})-?(?P<d>\d{2})"
    r"(?:[T ]?(?P<h>\d{2}):?(?P<mi>\d{2}):?(?P<s>\d{2})(?:\.\d{1,6})?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


def blank_to_null(values: pd.Series) -> pd.Series:
    """Strings stripped, with empty strings (and non-strings) as null."""
    s = values.astype("string").str.strip()
    return s.mask(s == "")


def parse_timestamps(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse contract timestamps.

    Returns ``(parsed, invalid)``: ``parsed`` is ``datetime64[us]`` local time (NaT
    where null or unparseable); ``invalid`` is True where a non-empty value could not
    be parsed (including impossible dates such as 20230230).
    """
    raw = blank_to_null(values)
    present = raw.notna()
    # fast path: the national format (14 digits, local time) parsed in one vectorised call
    fast = present & (raw.str.len() == 14) & raw.str.isdigit()
    fast = fast.fillna(False).astype(bool)
    if fast.all() or not (present & ~fast).any():
        parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
        if fast.any():
            parsed[fast] = pd.to_datetime(raw[fast], format="%Y%m%d%H%M%S", errors="coerce").astype("datetime64[us]")
        return parsed, (present & parsed.isna()).astype(bool)
    if fast.any():
        head, head_invalid = parse_timestamps(raw.where(fast))
        tail, tail_invalid = parse_timestamps(raw.where(~fast))
        return head.fillna(tail), (head_invalid | tail_invalid).astype(bool)
    parts = raw.str.extract(_PATTERN)
    frame = pd.DataFrame(
        {
            "year": pd.to_numeric(parts["y"], errors="coerce"),
            "month": pd.to_numeric(parts["mo"], errors="coerce"),
            "day": pd.to_numeric(parts["d"], errors="coerce"),
            "hour": pd.to_numeric(parts["h"], errors="coerce").fillna(0),
            "minute": pd.to_numeric(parts["mi"], errors="coerce").fillna(0),
            "second": pd.to_numeric(parts["s"], errors="coerce").fillna(0),
        },
        index=values.index,
    )
    ok = frame[["year", "month", "day"]].notna().all(axis=1)
    ok &= frame["hour"].between(0, 23) & frame["minute"].between(0, 59) & frame["second"].between(0, 59)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    if ok.any():
        sub = frame[ok].astype("int64")
        stamps = pd.to_datetime(sub, errors="coerce").astype("datetime64[us]")
        tz = parts.loc[ok, "tz"]
        offset = pd.Series(np.nan, index=tz.index)
        is_z = tz == "Z"
        offset[is_z.fillna(False)] = 0.0
        signed = tz.str.extract(r"^(?P<sign>[+-])(?P<hh>\d{2}):?(?P<mm>\d{2})$")
        has_off = signed["sign"].notna()
        if has_off.any():
            minutes = signed.loc[has_off, "hh"].astype(int) * 60 + signed.loc[has_off, "mm"].astype(int)
            minutes = minutes.where(signed.loc[has_off, "sign"] == "+", -minutes)
            offset[has_off] = minutes.astype(float)
        shift = (LOCAL_UTC_OFFSET_MINUTES - offset).fillna(0.0)
        stamps = stamps + pd.to_timedelta(shift.to_numpy(), unit="m")
        parsed[ok] = stamps
    invalid = present & parsed.isna()
    return parsed, invalid.astype(bool)


def parse_timestamp(value: str | None) -> pd.Timestamp | None:
    """Parse one contract timestamp; None when null, ValueError when unparseable."""
    parsed, invalid = parse_timestamps(pd.Series([value], dtype="object"))
    if bool(invalid.iloc[0]):
        raise ValueError(f"unparseable timestamp: {value!r}")
    out = parsed.iloc[0]
    return None if pd.isna(out) else out


def format_timestamp(ts: pd.Timestamp) -> str:
    """Format a local timestamp as the contract's ``yyyyMMddHHmmss``."""
    return pd.Timestamp(ts).strftime("%Y%m%d%H%M%S")
