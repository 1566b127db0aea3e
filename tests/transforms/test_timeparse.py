"""Timestamp parsing (``transforms.timeparse``): the forms the contract accepts, an
empty value (no time, not invalid) and an impossible date (invalid). Its fast path
against the pandas path is in ``test_staging_equivalence.py``."""

from __future__ import annotations

import pandas as pd

from transforms.timeparse import parse_timestamps


def test_timestamp_forms():
    s = pd.Series(["20230118230000", "20230118", "20230118160000Z", "20230118230000+07:00",
                   "2023-01-18T16:00:00Z", "2023-01-18", "", "31/02/2019"])
    parsed, invalid = parse_timestamps(s)
    assert list(parsed[:6]) == [pd.Timestamp("2023-01-18 23:00"), pd.Timestamp("2023-01-18"),
                                pd.Timestamp("2023-01-18 23:00"), pd.Timestamp("2023-01-18 23:00"),
                                pd.Timestamp("2023-01-18 23:00"), pd.Timestamp("2023-01-18")]
    assert pd.isna(parsed[6]) and not invalid[6]
    assert pd.isna(parsed[7]) and invalid[7]
