"""Trust boundary, bundle source (``motcua.sources.bundle``): files that used to stop the
run (or be read whole, however large) fed through :class:`BundleSource` and the
pipeline's stages. Each one either stops the run with one clear line naming the file and
the setting, or reaches the quarantine with its reason; records read = loaded +
quarantined.

Hostile inputs are generated here (no big files are committed): a gzip bomb is a few
hundred KiB of gzip members that inflate to hundreds of MiB."""

from __future__ import annotations

import gzip
import json
import os

import pytest
from helpers.bundle import (
    add_dossier_file,
    assert_balanced,
    dossier,
    run_and_read,
    write_bundle,
)
from helpers.hostile_files import GOOD, MIB

from motcua.sources.bundle import BundleSource
from motcua.sources.limits import SourceLimitError


def _bomb(total: int, block: bytes = b"0" * MIB) -> bytes:
    """A gzip file of ``total`` bytes (rounded to blocks) of ``block``s: one member per
    block, each a few KiB, so it is made without holding ``total`` bytes."""
    member = gzip.compress(block, compresslevel=9, mtime=0)
    return member * (total // len(block))


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
