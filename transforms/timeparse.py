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
import pyarrow as pa
import pyarrow.compute as pc

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

    Values in the national format with a plainly valid date and time (the bulk of every
    log) are parsed with integer arithmetic; the rest as :func:`_parse_timestamps` says.
    """
    text = values.astype("string")
    arr = pa.array(text.array).cast(pa.large_string())
    n = len(arr)
    plain = pc.and_(pc.equal(pc.binary_length(arr), 14), pc.ascii_is_decimal(arr))
    plain = plain.fill_null(False).to_numpy(zero_copy_only=False)
    stamps = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    good = np.zeros(n, dtype=bool)
    if plain.any():
        where = np.flatnonzero(plain)
        num = pc.cast(arr.filter(pa.array(plain)), pa.int64()).to_numpy()
        at, ok = _national(num)
        stamps[where[ok]] = at[ok]
        good[where[ok]] = True
    rest = ~good & text.notna().to_numpy()
    if not rest.any():  # nothing else to parse (null, or none but the plain values)
        return pd.Series(stamps, index=values.index), pd.Series(np.zeros(n, dtype=bool), index=values.index)
    pos = np.flatnonzero(rest)
    parsed, invalid = _parse_timestamps(values.iloc[pos])
    stamps[pos] = parsed.to_numpy()
    bad = np.zeros(n, dtype=bool)
    bad[pos] = invalid.to_numpy()
    return pd.Series(stamps, index=values.index), pd.Series(bad, index=values.index)


# years whose plainly valid dates every path parses alike
_FIRST_YEAR, _LAST_YEAR = 1900, 2199


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _national(num: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``yyyyMMddHHmmss`` values (as integers) to ``datetime64[us]``, and a mask of the
    values that are a real date and time between 1900 and 2199 (the others are left to
    :func:`_parse_timestamps`). Days from the civil date as in H. Hinnant's
    ``days_from_civil``."""
    year, rest = np.divmod(num, 10**10)
    month, rest = np.divmod(rest, 10**8)
    day, rest = np.divmod(rest, 10**6)
    hour, rest = np.divmod(rest, 10**4)
    minute, second = np.divmod(rest, 100)
    ok = ((year >= _FIRST_YEAR) & (year <= _LAST_YEAR) & (month >= 1) & (month <= 12) & (day >= 1)
          & (hour <= 23) & (minute <= 59) & (second <= 59))
    y = np.where(ok, year, 2000)
    m = np.where(ok, month, 1)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    ok &= day <= _MONTH_DAYS[m] + (leap & (m == 2))
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + day - 1
    days = era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468
    at = (((days * 24 + hour) * 60 + minute) * 60 + second) * 1_000_000
    return at.view("datetime64[us]"), ok


def _parse_timestamps(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_timestamps` with pandas (every accepted form)."""
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
        head, head_invalid = _parse_timestamps(raw.where(fast))
        tail, tail_invalid = _parse_timestamps(raw.where(~fast))
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
