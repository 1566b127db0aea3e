"""Dates in vendors' spreadsheets: ``dd/mm/yyyy[ HH:MM[:SS]]`` (also ``-`` or ``.``
separators, or the time first), Excel serial dates (numbers, or 5-digit numeric text in
CSVs), native spreadsheet dates and the contract's own forms (``yyyyMMddHHmmss``, ISO
8601, with ``Z``/offset), as the contract's ``yyyyMMddHHmmss`` local time."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from motcua.sources.stamps import STAMP_FORMAT, contract_stamp

_DMY_RE = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
    r"(?:(?:\s+|\s*,\s*|T)(\d{1,2})[:hH](\d{2})(?::(\d{2}))?)?$"
)
_TIME_FIRST_RE = re.compile(
    r"^(\d{1,2})[:hH](\d{2})(?::(\d{2}))?(?:\s+|\s*,\s*)(?:ngày\s+)?"
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$",
    re.IGNORECASE,
)
_SERIAL_RE = re.compile(r"^\d{5}(?:\.\d+)?$")
EXCEL_EPOCH_1900 = dt.datetime(1899, 12, 30)
EXCEL_EPOCH_1904 = dt.datetime(1904, 1, 1)


def excel_serial_stamp(serial: float, epoch: dt.datetime = EXCEL_EPOCH_1900) -> str:
    """An Excel serial date (days since the workbook's epoch, fraction = time of day)."""
    if not 1 <= serial < 2958466:
        raise ValueError(f"not an Excel serial date: {serial!r}")
    t = epoch + dt.timedelta(seconds=round(serial * 86400))
    return t.strftime(STAMP_FORMAT)


def sheet_date_stamp(value: Any, epoch: dt.datetime = EXCEL_EPOCH_1900) -> str | None:
    """Convert a spreadsheet date cell to ``yyyyMMddHHmmss``.

    None for an empty cell; :class:`ValueError` for a value that is not a date in
    any accepted form (``dd/mm/yyyy[ HH:MM[:SS]]``, time first, Excel serial,
    native date, the contract's forms). Day-first always: ``03/04/2023`` is 3 April.
    """
    if value is None:
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return contract_stamp(value)
    if isinstance(value, bool):
        raise ValueError(f"not a date: {value!r}")
    if isinstance(value, (int, float)):
        return excel_serial_stamp(float(value), epoch)
    if isinstance(value, dt.time):
        raise ValueError(f"a time without a date: {value!r}")
    s = unicodedata.normalize("NFC", str(value)).strip()
    if not s:
        return None
    m = _DMY_RE.match(s)
    if m:
        d, mo, y, h, mi, sec = m.groups()
    else:
        m = _TIME_FIRST_RE.match(s)
        if m:
            h, mi, sec, d, mo, y = m.groups()
    if m:
        try:
            t = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0))
        except ValueError:
            raise ValueError(f"not a valid date: {s!r}") from None
        return t.strftime(STAMP_FORMAT)
    if _SERIAL_RE.match(s):
        return excel_serial_stamp(float(s), epoch)
    out = contract_stamp(s)
    if out is None:
        raise ValueError(f"not a date in a known form: {s!r}")
    return out
