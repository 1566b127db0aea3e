"""The incremental watermark's ceiling (helper, builds no table).

A source's watermark is the greatest ``NgayCapNhat`` (``yyyyMMddHHmmss``, local time
Asia/Ho_Chi_Minh) a run has read; the next run asks for what changed since it. The
source's clocks are outside our control: one record stamped 2099 would set the
watermark to 2099, and every run after it would ask for ``updated_since=2099…``, read
nothing and report success. So the watermark never passes the run's own clock: a stamp
later than the moment the run started is capped there. Capping errs on the safe side —
records stamped ahead of the run's clock are read again by the next run, and reading a
record twice is harmless (the newest snapshot per dossier wins).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
STAMP_FORMAT = "%Y%m%d%H%M%S"


def run_clock_stamp(started_at: dt.datetime) -> str:
    """``started_at`` (naive: the machine's local time; or aware) as a contract stamp in
    Asia/Ho_Chi_Minh local time."""
    return started_at.astimezone(LOCAL_ZONE).strftime(STAMP_FORMAT)


def capped(mark: str, ceiling: str) -> tuple[str, bool]:
    """``(watermark, was_capped)``: ``mark`` itself, or ``ceiling`` when ``mark`` lies
    after it. Both are 14-digit contract stamps, so they compare as strings."""
    for value in (mark, ceiling):
        if len(value) != 14 or not value.isdigit():
            raise ValueError(f"not a yyyyMMddHHmmss stamp: {value!r}")
    if mark > ceiling:
        return ceiling, True
    return mark, False
