"""Dates in a vendor's sheet (``motcua.sources.sheet_dates``): the forms a cell may hold
(day first, a time before or after the date, Excel serial numbers, the contract's
stamp, ISO with Z, a date cell) as ``yyyyMMddHHmmss``, and those that cannot be read."""

from __future__ import annotations

import datetime as dt

import pytest

from motcua.sources.sheet_dates import sheet_date_stamp


@pytest.mark.parametrize(
    ("value", "stamp"),
    [("5/1/2023", "20230105000000"), ("05/01/2023 7:05", "20230105070500"), ("05/01/2023 07:05:09", "20230105070509"),
     ("07h05 05/01/2023", "20230105070500"), (44931, "20230105000000"), ("44931.5", "20230105120000"),
     ("20230105070509", "20230105070509"), ("2023-01-05T00:05:09Z", "20230105070509"), ("", None),
     (dt.date(2023, 1, 5), "20230105000000")],
)
def test_sheet_dates(value, stamp):
    assert sheet_date_stamp(value) == stamp


@pytest.mark.parametrize("value", ["31/02/2023", "05/01/23", "hôm qua", "13/13/2023", True, 0])
def test_unreadable_dates(value):
    with pytest.raises(ValueError):
        sheet_date_stamp(value)
