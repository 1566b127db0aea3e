"""Trust boundary, spreadsheet source (``motcua.sources.spreadsheet``): sheets that used
to stop the run (a cell longer than the csv module allows, a lone surrogate) or could
inflate without bound (a sheet over the file limit, an XLSX bomb), fed through
:class:`SpreadsheetSource` and the pipeline's stages. Each one either stops the run
with one clear line naming the file and the setting, or reaches the quarantine with its
reason; records read = loaded + quarantined."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from helpers.bundle import assert_balanced, run_and_read, write_bundle
from helpers.hostile_files import MIB

from motcua.sources.limits import Limits, SourceLimitError
from motcua.sources.spreadsheet import SpreadsheetSource

HEADER = ["Mã hồ sơ", "Mã TTHC", "Tên thủ tục", "Đơn vị", "Kênh", "Ngày tiếp nhận", "Hạn xử lý", "Trạng thái",
          "Ngày cập nhật"]


def _row(code: str, name: str = "Thủ tục") -> list[str]:
    return [code, "1.000001", name, "A1", "Trực tiếp", "05/03/2019 09:00", "12/03/2019 17:00", "Đang xử lý",
            "08/03/2019 12:00"]


def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", errors: str = "strict") -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, *rows])
    path.write_bytes((b"\xff\xfe" if encoding == "utf-16-le" else b"") + buf.getvalue().encode(encoding, errors))
    return path


def _catalogue(folder: Path) -> None:
    write_bundle(folder, [])  # procedures.csv and agencies.csv next to the sheet
    for f in (folder / "dossiers").iterdir():
        f.unlink()
    (folder / "dossiers").rmdir()


def test_a_sheet_cell_longer_than_the_csv_module_allows_is_quarantined(tmp_path):
    """A 300 KB cell stopped the file (csv: "field larger than field limit (131072)")."""
    _catalogue(tmp_path / "sheet")
    sheet = _write_csv(tmp_path / "sheet" / "export.csv", [_row("S1"), _row("SBIG", "x" * 300_000), _row("S2")])
    out = run_and_read(sheet, tmp_path, max_record_bytes=100_000)
    assert_balanced(out["staged"], 3)
    q = out["quarantine"]
    assert q["locator"].tolist() == ["export.csv:3"]
    assert q["reason"].iloc[0].startswith("record_too_large: "), q["reason"].iloc[0]
    assert sorted(out["fct"]["dossier_code"]) == ["S1", "S2"]


def test_a_lone_surrogate_in_a_utf16_sheet_is_quarantined(tmp_path):
    _catalogue(tmp_path / "sheet")
    rows = [_row("S1"), _row("SSUR", "Thủ tục \udc00"), _row("S2")]
    sheet = _write_csv(tmp_path / "sheet" / "export.csv", rows, "utf-16-le", "surrogatepass")
    out = run_and_read(sheet, tmp_path)
    assert_balanced(out["staged"], 3)
    q = out["quarantine"]
    assert q["locator"].tolist() == ["export.csv:3"] and q["reason"].iloc[0].startswith("invalid_json:")
    assert sorted(out["fct"]["dossier_code"]) == ["S1", "S2"]


def test_a_sheet_over_the_file_limit_stops(tmp_path):
    sheet = _write_csv(tmp_path / "export.csv", [_row(f"S{i}") for i in range(2000)])
    with pytest.raises(SourceLimitError, match=r"export.csv: \d+ bytes, over MOTCUA_MAX_FILE_BYTES = 65536"):
        list(SpreadsheetSource(sheet, limits=Limits(max_file_bytes=64 << 10)).iter_records())


def test_an_xlsx_bomb_stops_before_it_is_inflated(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.active.append(_row("S1"))
    small = tmp_path / "small.xlsx"
    wb.save(small)
    path = tmp_path / "export.xlsx"  # the same workbook, its sheet padded with 8 MiB (a few KiB zipped)
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", b"<!--" + b"0" * 8 * MIB + b"--></worksheet>")
            dst.writestr(info.filename, data)
    assert path.stat().st_size < MIB
    with pytest.raises(SourceLimitError, match=r"export.xlsx: part xl/\S+: expands beyond 4194304 bytes"):
        run_and_read(path, tmp_path, max_compression_ratio=4)
