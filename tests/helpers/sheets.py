"""Reading a :class:`~motcua.sources.spreadsheet.SpreadsheetSource` whole, for the
spreadsheet tests: the snapshots it makes by dossier code, and its rows in error by
sheet row number (reason, raw row)."""

from __future__ import annotations

import json

from motcua.sources.base import RAW_SCHEMA
from motcua.sources.spreadsheet import SpreadsheetSource


def read(source: SpreadsheetSource) -> tuple[dict[str, dict], dict[int, tuple[str, dict]]]:
    ok: dict[str, dict] = {}
    errors: dict[int, tuple[str, dict]] = {}
    for batch in source.iter_records():
        assert batch.schema.equals(RAW_SCHEMA)
        for loc, rec, err in zip(*(batch.column(c).to_pylist() for c in ("locator", "record", "error")), strict=True):
            row = int(loc.rsplit(":", 1)[1])
            if err is None:
                snap = json.loads(rec)
                ok[snap["MaHoSo"]] = snap
            else:
                errors[row] = (err, json.loads(rec))
    return ok, errors
