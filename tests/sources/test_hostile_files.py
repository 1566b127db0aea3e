"""Trust boundary, file and database sources: inputs that used to stop the run (or read
a file whole, however large) fed through the real sources and the pipeline's stages.
Each one either stops the run with one clear line naming the file and the setting, or
reaches the quarantine with its reason; records read = loaded + quarantined.

Hostile inputs are generated here (no big files are committed): a gzip bomb is a few
hundred KiB of gzip members that inflate to hundreds of MiB."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest
from helpers.bundle import (
    add_dossier_file,
    assert_balanced,
    dossier,
    run_and_read,
    write_bundle,
)

from motcua.settings import Settings, SettingsError
from motcua.sources.bundle import BundleSource
from motcua.sources.limits import Limits, SourceLimitError, line_batches
from motcua.sources.spreadsheet import SpreadsheetSource

MIB = 1 << 20
GOOD = [dossier("F1", 9, "20190308100000", intake="20190304090000", due="20190311170000",
                resolved="20190308100000", history=[(2, "20190304090000"), (9, "20190308100000")]),
        dossier("F2", 4, "20190308120000", intake="20190305090000", due="20190312170000",
                history=[(2, "20190305090000")])]


def _bomb(total: int, block: bytes = b"0" * MIB) -> bytes:
    """A gzip file of ``total`` bytes (rounded to blocks) of ``block``s: one member per
    block, each a few KiB, so it is made without holding ``total`` bytes."""
    member = gzip.compress(block, compresslevel=9, mtime=0)
    return member * (total // len(block))


# --------------------------------------------------------------------------- bundle


@pytest.mark.parametrize("gz", [False, True], ids=["jsonl", "jsonl.gz"])
def test_a_line_over_the_record_limit_is_quarantined(tmp_path, gz):
    big = dossier("FBIG", 4, "20190308110000", intake="20190305090000", due="20190312170000",
                  GhiChu="đ" * (3 * MIB // 2))  # 3 MiB of UTF-8 on one line
    bundle = write_bundle(tmp_path / "bundle", [GOOD[0], big, GOOD[1]], gz=gz)
    out = run_and_read(bundle, tmp_path)
    assert_balanced(out["staged"], 3)
    q = out["quarantine"]
    name = "part-000.jsonl.gz" if gz else "part-000.jsonl"
    assert q["locator"].tolist() == [f"dossiers/{name}:2"]
    size = len(json.dumps(big, ensure_ascii=False).encode())
    kept = q["record"].iloc[0]  # its first 4096 bytes, without cutting a character ("đ" is 2)
    assert 4094 <= len(kept.encode()) <= 4096 and json.dumps(big, ensure_ascii=False).startswith(kept)
    assert q["reason"].iloc[0] == (f"record_too_large: {size} bytes (MOTCUA_MAX_RECORD_BYTES = {MIB}); "
                                   f"the record kept is its first {len(kept.encode())} bytes")
    assert sorted(out["fct"]["dossier_code"]) == ["F1", "F2"]


class _Spy(io.BufferedReader):
    """A reader that remembers the longest piece it handed out."""

    longest = 0

    def readline(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        line = super().readline(size)
        _Spy.longest = max(_Spy.longest, len(line))
        return line

    def __iter__(self):  # a whole-line iteration would read any line whole
        raise AssertionError("lines must be read with a size limit")


def test_a_long_line_is_never_held_whole():
    limits = Limits(max_record_bytes=1000)
    data = b'{"a": 1}\n' + b"x" * (5 * MIB) + b"\n" + b" " * 5000 + b"\n" + b'{"b": 2}' + b"y" * 2000
    _Spy.longest = 0
    batches = list(line_batches(_Spy(io.BytesIO(data)), limits, "test", 10, 1 << 30))
    assert _Spy.longest <= MIB  # at most one chunk of the skip loop
    lines, errors = batches[0]
    assert lines[0] == b'{"a": 1}' and lines[2] == b""  # a blank line stays blank, however long
    assert lines[1] == b"x" * 1000 and errors[1].startswith(f"record_too_large: {5 * MIB} bytes")
    assert lines[3] == b'{"b": 2}' + b"y" * 992 and errors[3].startswith("record_too_large: 2008 bytes")
    assert set(errors) == {1, 3}
    exact = list(line_batches(io.BytesIO(b"z" * 1000 + b"\n" + b"w" * 1000), limits, "test", 10, 1 << 30))
    assert exact == [([b"z" * 1000, b"w" * 1000], {})]  # at the limit: whole


def test_a_gzip_bomb_stops_the_run_with_a_clear_error(tmp_path):
    """200 MiB of zeros on one line, in 200 KiB of gzip: refused at MOTCUA_MAX_COMPRESSION_RATIO
    (100) times 1 MiB, never read to its end nor held whole."""
    bundle = write_bundle(tmp_path / "bundle", GOOD)
    bomb = _bomb(200 * MIB)
    assert len(bomb) < 400 << 10
    (bundle / "dossiers" / "z-bomb.jsonl.gz").write_bytes(bomb)
    with pytest.raises(SourceLimitError) as caught:
        run_and_read(bundle, tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert "dossiers/z-bomb.jsonl.gz: expands beyond 104857600 bytes" in message
    assert "MOTCUA_MAX_COMPRESSION_RATIO = 100" in message


@pytest.mark.parametrize("shape", ["records", "utf16-whole"])
def test_a_smaller_bomb_stops_at_a_lower_ratio_setting(tmp_path, shape):
    """Many short lines (each a record: they are landed until the limit is reached), and a
    UTF-16 file (decoded whole: the bound applies while it is decompressed)."""
    bundle = write_bundle(tmp_path / "bundle", GOOD)
    if shape == "records":
        line = (json.dumps(GOOD[0]) + "\n").encode()
        bomb = _bomb(24 * MIB, line * (MIB // len(line)))
    else:
        bomb = gzip.compress(b"\xff\xfe" + "{}\n".encode("utf-16-le"), mtime=0) + _bomb(24 * MIB)
    (bundle / "dossiers" / "z-bomb.jsonl.gz").write_bytes(bomb)
    with pytest.raises(SourceLimitError, match=r"z-bomb.jsonl.gz: expands beyond 10485760 bytes"):
        run_and_read(bundle, tmp_path, max_compression_ratio=10)


def test_a_file_read_whole_over_the_file_limit_stops(tmp_path):
    bundle = write_bundle(tmp_path / "bundle", GOOD)
    text = "\n".join(json.dumps(d) for d in GOOD * 200) + "\n"
    (bundle / "dossiers" / "legacy.jsonl").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    with pytest.raises(SourceLimitError) as caught:
        run_and_read(bundle, tmp_path, max_file_bytes=64 << 10)
    assert "legacy.jsonl: " in str(caught.value) and "over MOTCUA_MAX_FILE_BYTES = 65536" in str(caught.value)


def test_a_lone_surrogate_in_a_bundle_line_is_quarantined(tmp_path):
    """A UTF-16 file with an unpaired surrogate used to stop the run (UnicodeDecodeError);
    a UTF-8 line with the escape ``\\ud800`` reaches staging as it is. Both are quarantined
    (``invalid_json``: no JSON reader accepts a lone surrogate), the other lines load."""
    bundle = write_bundle(tmp_path / "bundle", [GOOD[0], '{"MaHoSo": "FESC", "TenTTHC": "a\\ud800b"}'])
    lone = dossier("FSUR", 4, "20190308110000", intake="20190305090000", due="20190312170000",
                   TenTTHC="Thủ tục \ud800 lỗi")
    body = "\n".join([json.dumps(GOOD[1], ensure_ascii=False), json.dumps(lone, ensure_ascii=False)]) + "\n"
    (bundle / "dossiers" / "utf16.jsonl").write_bytes(b"\xff\xfe" + body.encode("utf-16-le", "surrogatepass"))
    out = run_and_read(bundle, tmp_path)
    assert_balanced(out["staged"], 4)
    q = out["quarantine"].sort_values("locator")
    assert q["locator"].tolist() == ["dossiers/part-000.jsonl:2", "dossiers/utf16.jsonl:2"]
    assert q["reason"].str.startswith("invalid_json:").all(), q["reason"].tolist()
    assert "\\ud800" in q["record"].iloc[1]  # the surrogate as its escape
    assert sorted(out["fct"]["dossier_code"]) == ["F1", "F2"]


def test_a_file_name_that_is_not_utf8_does_not_break_the_batch(tmp_path):
    bundle = write_bundle(tmp_path / "bundle", [GOOD[0]])
    odd = os.path.join(os.fsencode(bundle / "dossiers"), b"\xff-more.jsonl")
    with open(odd, "wb") as fh:
        fh.write((json.dumps(GOOD[1]) + "\n").encode())
    out = run_and_read(bundle, tmp_path)
    assert_balanced(out["staged"], 2)
    assert sorted(out["fct"]["dossier_code"]) == ["F1", "F2"]
    batches = list(BundleSource(bundle).iter_records())
    assert [loc for b in batches for loc in b.column("locator").to_pylist()][-1] == "dossiers/\\udcff-more.jsonl:1"


def test_a_cut_gzip_with_a_long_last_line_keeps_that_line(tmp_path):
    bundle = write_bundle(tmp_path / "bundle", GOOD)
    whole = gzip.compress(b'{"MaHoSo": "F3"}\n' + b"x" * (6 * MIB), mtime=0)
    (bundle / "dossiers" / "cut.jsonl.gz").write_bytes(whole[: len(whole) * 2 // 3])
    out = run_and_read(bundle, tmp_path)
    assert_balanced(out["staged"], 4)
    cut = out["quarantine"][out["quarantine"]["locator"] == "dossiers/cut.jsonl.gz:2"]
    assert cut["reason"].iloc[0].startswith("record_too_large: "), out["quarantine"][["locator", "reason"]]


def test_legacy_file_lines_are_bounded_too(tmp_path):
    bundle = write_bundle(tmp_path / "bundle", GOOD)
    add_dossier_file(bundle, "legacy.jsonl", [GOOD[0], {"MaHoSo": "FL", "GhiChu": "ơ" * 3000}], encoding="cp1258")
    out = run_and_read(bundle, tmp_path, max_record_bytes=2000)
    assert_balanced(out["staged"], 4)
    q = out["quarantine"]
    row = q[q["locator"].str.startswith("dossiers/legacy.jsonl:2")]
    assert row["reason"].iloc[0].startswith("record_too_large: ") and len(row["record"].iloc[0].encode()) <= 2000


# --------------------------------------------------------------------------- spreadsheet

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


# --------------------------------------------------------------------------- database


def test_a_database_row_over_the_record_limit_is_quarantined(tmp_path, mariadb_source):
    from motcua.dev.database_loader import load_bundle_into_database

    big = dossier("DBIG", 4, "20190308110000", intake="20190305090000", due="20190312170000",
                  TenTTHC="Thủ tục " + "ư" * 20_000)
    load_bundle_into_database(write_bundle(tmp_path / "b", [GOOD[0], big, GOOD[1]]), mariadb_source, replace=True)
    out = run_and_read(mariadb_source, tmp_path, max_record_bytes=16_384)
    assert_balanced(out["staged"], 3)
    q = out["quarantine"]
    assert q["locator"].tolist() == ["ho_so:DBIG"] and q["reason"].iloc[0].startswith("record_too_large: ")
    assert sorted(out["fct"]["dossier_code"]) == ["F1", "F2"]


# --------------------------------------------------------------------------- settings


def test_the_limits_are_settings(monkeypatch):
    monkeypatch.setenv("MOTCUA_MAX_RECORD_BYTES", "2048")
    monkeypatch.setenv("MOTCUA_MAX_FILE_BYTES", "1000000")
    monkeypatch.setenv("MOTCUA_MAX_COMPRESSION_RATIO", "0")
    monkeypatch.setenv("MOTCUA_HTTP_MAX_EMPTY_PAGES", "7")
    assert Limits.from_env() == Limits(2048, 1_000_000, 0, 7)
    assert Limits.from_env().inflate_allowance(10**9) is None  # 0: no ratio limit
    assert Limits().inflate_allowance(10) == 100 * MIB and Limits().inflate_allowance(10 * MIB) == 1000 * MIB
    for name, value in (("MOTCUA_MAX_RECORD_BYTES", "0"), ("MOTCUA_MAX_COMPRESSION_RATIO", "-1"),
                        ("MOTCUA_MAX_FILE_BYTES", "1GB"), ("MOTCUA_HTTP_MAX_EMPTY_PAGES", "0")):
        monkeypatch.setenv(name, value)
        with pytest.raises(SettingsError, match=name):
            Settings.from_env()
        monkeypatch.delenv(name)
