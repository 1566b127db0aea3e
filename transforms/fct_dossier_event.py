"""fct_dossier_event: one row per processing-history entry of a dossier's current record.

Entries whose status is outside the status table are ignored (domain rules); the rest
are numbered by event time (unparseable or missing times last), then by list position.
Staff names (``NguoiXuLy``) and free text (``NoiDungXuLy``) are not kept.
"""

from __future__ import annotations

import pandas as pd

from transforms.coded_values import STATUS_CODES, read_code
from transforms.timeparse import parse_timestamps

COLUMNS = ["dossier_code", "seq", "status_code", "event_at", "agency_code", "office"]


def build(history: pd.DataFrame, winners: pd.DataFrame) -> pd.DataFrame:
    """``history``: staged history rows; ``winners``: ``record_id, dossier_code`` of the
    current record of each dossier to (re)write."""
    h = history.merge(winners[["record_id", "dossier_code"]], on="record_id", how="inner")
    status, bad = read_code(h["status_raw"], STATUS_CODES)
    h = h.assign(status_code=status)[~bad.to_numpy()]
    h["event_at"], _ = parse_timestamps(h["event_raw"])
    h = h.drop_duplicates(["dossier_code", "status_code", "event_raw", "agency_code", "office"])
    h = h.sort_values(["dossier_code", "event_at", "position"], na_position="last", kind="mergesort")
    h["seq"] = h.groupby("dossier_code").cumcount() + 1
    return h[COLUMNS].reset_index(drop=True)
