"""Suite for raw snapshots (one row per record as read from a source, before parsing:
``locator, record, error, run_id, source``), run on every raw batch.

Critical (the record is quarantined): the locator, the record text, the run and the
source present; the record not empty. Warning (flagged, loaded): a locator seen twice
in the batch; a record over a megabyte.

The suite sees the record's length (``record_chars``, null when there is no record),
never its text: the text holds personal data, and GX would hash all of it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from expectations.runner import plain

SUITE_NAME = "raw_snapshot"
ID_COLUMNS = ["row"]
MAX_CHARS = 1_000_000


def prepare(df: pd.DataFrame | pa.Table, **context: Any) -> pd.DataFrame:
    """``row`` (position in the batch), the raw columns but the record, and
    ``record_chars`` (the record's length; a table may carry it instead of the text)."""
    if isinstance(df, pa.Table):
        if "record" in df.column_names:
            lengths = pc.utf8_length(df.column("record"))
        else:  # the record's text already dropped, its length kept (staging holds batches so)
            lengths = df.column("record_chars") if "record_chars" in df.column_names else None
        frame = df.drop_columns([c for c in ("record", "record_chars") if c in df.column_names]).to_pandas()
        chars = (lengths.to_pandas() if lengths is not None else pd.Series([None] * len(frame))).astype("float64")
    else:
        frame = df.drop(columns=["record"], errors="ignore")
        chars = (df["record"].str.len() if "record" in df.columns else pd.Series([None] * len(df))).astype("float64")
    cols = [c for c in ("locator", "error", "run_id", "source") if c in frame.columns]
    out = plain(frame, cols).reset_index(drop=True)
    for c in ("locator", "run_id", "source"):
        if c not in out.columns:
            out[c] = None
    out.insert(0, "row", range(len(out)))
    out["record_chars"] = chars.to_numpy()
    return out


def expectations(**context: Any) -> list:
    """The suite (see the module docstring)."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="locator"),
        gxe.ExpectColumnValuesToNotBeNull(column="record_chars"),
        gxe.ExpectColumnValuesToNotBeNull(column="run_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="source"),
        gxe.ExpectColumnValuesToBeBetween(column="record_chars", min_value=1),
        gxe.ExpectColumnValuesToBeUnique(column="locator", severity="warning"),
        gxe.ExpectColumnValuesToBeBetween(column="record_chars", max_value=MAX_CHARS, severity="warning"),
    ]
