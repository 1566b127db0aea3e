"""Reading a vendor's sheet as rows of cells: text files decoded (UTF-8 with or without
BOM, UTF-16, else Windows-1258) and read as CSV with the delimiter that gives the best
header, XLSX read with openpyxl in read-only mode, both within the source's limits."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from motcua.sources.limits import Limits, check_zip, decode_utf16, read_file, widen_csv_fields
from motcua.sources.sheet_dates import EXCEL_EPOCH_1900, EXCEL_EPOCH_1904

log = logging.getLogger(__name__)

#: the header is looked for in the first rows of a sheet, this many
HEADER_SCAN_ROWS = 30


def decode_bytes(data: bytes) -> tuple[str, str | None]:
    """Decode a text file: UTF-8 (BOM or not), UTF-16 (BOM, or NUL-byte pattern), else
    Windows-1258 (then NFC-composed). Returns the text and the encoding name used."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return decode_utf16(data), "utf-16"
    head = data[:4096]
    if head and head.count(b"\x00") > len(head) // 4:
        even_nuls = head[0::2].count(b"\x00")
        odd_nuls = head[1::2].count(b"\x00")
        return decode_utf16(data, "utf-16-be" if even_nuls > odd_nuls else "utf-16-le"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return unicodedata.normalize("NFC", data.decode("cp1258", errors="replace")), "cp1258"


def read_csv_rows(path: Path, score: Callable[[list[list[Any]]], int], limits: Limits) -> Iterator[list[Any]]:
    """Rows of a CSV file (at most ``max_file_bytes``); the delimiter is the one whose
    first rows hold the best header."""
    text, encoding = decode_bytes(read_file(path, limits))
    widen_csv_fields(limits)
    head = text[:20000].splitlines()[:HEADER_SCAN_ROWS]
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t", "|"):
        rows = list(csv.reader(head, delimiter=delimiter))
        found = score(rows)
        if found > best_score:
            best, best_score = delimiter, found
    log.debug("%s decoded as %s, delimiter %r", path, encoding, best)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=best)


def read_xlsx_rows(path: Path, sheet: str | None, limits: Limits) -> tuple[Iterator[list[Any]], dt.datetime, str, Any]:
    """Rows of a worksheet (``sheet``, default the first), its date epoch, its title and
    the open workbook (the caller closes it)."""
    import openpyxl

    check_zip(path, limits)  # a part over the limits stops before openpyxl inflates it
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    epoch = EXCEL_EPOCH_1904 if getattr(wb, "epoch", None) == dt.datetime(1904, 1, 1) else EXCEL_EPOCH_1900
    rows = (list(r) for r in ws.iter_rows(values_only=True))
    return rows, epoch, ws.title, wb
