"""The incremental watermark's ceiling (``transforms.watermark``): a watermark never
passes the run's own clock, only a full ``yyyyMMddHHmmss`` stamp is one, and the run's
clock is Vietnam local time (UTC+7)."""

from __future__ import annotations

import datetime as dt

import pytest

from transforms.watermark import capped, run_clock_stamp

FUTURE = "20990101000000"  # a vendor's clock (or a typo) in 2099


@pytest.mark.parametrize(("mark", "ceiling", "want"), [
    ("20190308100000", "20261203183000", ("20190308100000", False)),
    ("20261203183000", "20261203183000", ("20261203183000", False)),
    ("20261203183001", "20261203183000", ("20261203183000", True)),
    (FUTURE, "20261203183000", ("20261203183000", True)),
])
def test_capped(mark, ceiling, want):
    assert capped(mark, ceiling) == want


def test_capped_refuses_what_is_not_a_stamp():
    with pytest.raises(ValueError):
        capped("2099", "20261203183000")


def test_run_clock_is_vietnam_local_time():
    utc = dt.datetime(2026, 12, 3, 23, 30, 5, tzinfo=dt.UTC)
    assert run_clock_stamp(utc) == "20261204063005"  # UTC+7, the next day
