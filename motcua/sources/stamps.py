"""The contract's timestamps: ``yyyyMMddHHmmss`` in local time (UTC+7), as every source
gives them to the pipeline (watermarks, ``NgayCapNhat``); shared by the sources."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

LOCAL_TZ = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")
STAMP_FORMAT = "%Y%m%d%H%M%S"

_CONTRACT_RE = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})"
    r"(?:[T ]?(\d{2}):?(\d{2}):?(\d{2})(?:\.\d{1,6})?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)

def contract_stamp(value: Any) -> str | None:
    """Normalise a contract timestamp to local ``yyyyMMddHHmmss``.

    Accepts ``yyyyMMddHHmmss``, ``yyyyMMdd`` (00:00:00), a ``Z`` or ``±HH:MM`` suffix
    (converted to local time, UTC+7), ISO 8601, and :class:`datetime.datetime` /
    :class:`datetime.date` values (naive = local). Returns None for null/empty or
    unparseable values.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
        return value.strftime(STAMP_FORMAT)
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d") + "000000"
    if not isinstance(value, str):
        return None
    s = value.strip()
    if len(s) == 14 and s.isdigit():  # fast path: the national format
        try:
            dt.datetime(int(s[:4]), int(s[4:6]), int(s[6:8]), int(s[8:10]), int(s[10:12]), int(s[12:]))
        except ValueError:
            return None
        return s
    m = _CONTRACT_RE.match(s)
    if not m:
        return None
    y, mo, d, h, mi, sec, tz = m.groups()
    try:
        t = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0))
    except ValueError:
        return None
    if tz:
        if tz == "Z":
            minutes = 0
        else:
            sign = 1 if tz[0] == "+" else -1
            digits = tz[1:].replace(":", "")
            minutes = sign * (int(digits[:2]) * 60 + int(digits[2:]))
        t = t + dt.timedelta(minutes=7 * 60 - minutes)
    return t.strftime(STAMP_FORMAT)


def shift_stamp(stamp: str, seconds: float) -> str:
    """Add ``seconds`` (may be negative) to a ``yyyyMMddHHmmss`` stamp."""
    t = dt.datetime.strptime(stamp, STAMP_FORMAT) + dt.timedelta(seconds=seconds)
    return t.strftime(STAMP_FORMAT)
