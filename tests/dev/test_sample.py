"""The sample export bundle (``motcua sample``): layout, determinism, catalogue and agencies,
and dossier lines messy but valid (quarantine, working days and office hours, personal values)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers.sample_counter import SEED_ROWS, _current, _intake, _lines, _received, _ts

from motcua.commands.sample import sample as sample_command
from motcua.dev.sample.bundle import sample_personal_values, write_sample
from motcua.dev.sample.catalogue import SEED_PROCEDURES

PROCEDURE_HEADER = ("MaTTHC,TenTTHC,MaLinhVuc,TenLinhVuc,MaDonVi,ThoiHanGiaiQuyet,MucDo,"
                    "DiaChiDangTai,CongKhai,MotCua,LienThong,HieuLucTu,HieuLucDen")
AGENCY_HEADER = "MaDonVi,TenDonVi,MaDonViCha,HieuLucTu,HieuLucDen,ThayTheBoi"


# --------------------------------------------------------------------------- helpers


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def bundle(sample: tuple[Path, dict[str, Any]]) -> tuple[Path, dict[str, Any]]:
    """Here, the sample bundle (``conftest.py``'s ``bundle`` is the small source bundle)."""
    return sample


@pytest.fixture(scope="module")
def objs(lines: list[str]) -> list[dict[str, Any]]:
    """Every line that is a JSON object."""
    out = []
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


# --------------------------------------------------------------------------- tests


def test_command_same_seed_same_bytes(bundle: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    result = CliRunner().invoke(sample_command, ["--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    assert "477 received (11 online)" in result.output
    assert "records that must be quarantined: 11" in result.output
    assert _tree(tmp_path / "again") == _tree(bundle[0])


def test_other_seed_differs_and_replaces_previous_files(
    bundle: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    (tmp_path / "dossiers").mkdir()
    (tmp_path / "dossiers" / "stale.jsonl").write_text("{}\n", encoding="utf-8")
    (tmp_path / "dossiers" / "stale.jsonl.gz").write_bytes(gzip.compress(b"{}\n"))
    (tmp_path / "notes.txt").write_text("kept", encoding="utf-8")
    summary = write_sample(tmp_path, seed=7)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "kept"
    tree = _tree(tmp_path)
    del tree["notes.txt"]
    first = _tree(bundle[0])
    assert tree.keys() == first.keys() == set(summary["files"])  # stale files are gone
    assert tree != first
    assert tree["procedures.csv"] == first["procedures.csv"]  # the catalogue is fixed
    assert summary["received_2019"] == 477 and summary["received_2019_online"] == 11
    counts = _current(_lines(tmp_path))
    assert sum(_received(o) and (_intake(o) or dt.datetime.min).year == 2019
               and o["MaTTHC"] in {sp.code for sp in SEED_PROCEDURES}
               for o in counts.values()) == 477


def test_layout_and_headers(bundle: tuple[Path, dict[str, Any]]) -> None:
    out, summary = bundle
    assert (out / "procedures.csv").read_text(encoding="utf-8").splitlines()[0] == PROCEDURE_HEADER
    assert (out / "agencies.csv").read_text(encoding="utf-8").splitlines()[0] == AGENCY_HEADER
    files = sorted((out / "dossiers").iterdir())
    assert len(files) >= 3
    assert any(f.name.endswith(".jsonl.gz") for f in files)
    assert any(f.name.endswith(".jsonl") for f in files)
    for f in files:
        if f.name.endswith(".gz"):
            assert f.read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime 0
            gzip.decompress(f.read_bytes()).decode("utf-8")
    assert set(summary["files"]) == {p.relative_to(out).as_posix() for p in out.rglob("*")
                                     if p.is_file()}


def test_catalogue(bundle: tuple[Path, dict[str, Any]]) -> None:
    rows = _csv(bundle[0] / "procedures.csv")
    codes = {r["MaTTHC"] for r in rows}
    assert len(codes) == 59
    assert all(re.fullmatch(r"[12]\.\d{6}", c) for c in codes)
    assert all(r["CongKhai"] == r["MotCua"] == r["LienThong"] == "1" for r in rows)
    by_code: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_code[r["MaTTHC"]].append(r)
    assert [sp.name for sp in SEED_PROCEDURES] == [name for name, *_ in SEED_ROWS]
    for sp, (name, field_code, _, _) in zip(SEED_PROCEDURES, SEED_ROWS, strict=True):
        assert {r["TenTTHC"] for r in by_code[sp.code]} == {name}
        assert {r["MaLinhVuc"] for r in by_code[sp.code]} == {field_code}
        assert 5 <= sp.days <= 20 and sp.level == 3
    made_up = [c for c in codes if c not in {sp.code for sp in SEED_PROCEDURES}]
    assert all(by_code[c][0]["TenTTHC"].startswith("[Mẫu]") for c in made_up)
    in_2019 = {r["MaTTHC"]: r["MucDo"] for r in rows
               if r["HieuLucTu"] <= "2019-12-31" and (r["HieuLucDen"] or "9999") >= "2019-01-01"}
    assert len(in_2019) == 59
    assert Counter(in_2019.values()) == {"3": 58, "4": 1}
    # type-2 history: an amendment, a replacement, Decree 42/2022's levels
    amended = [c for c, rs in by_code.items()
               if any(r["HieuLucTu"] == "2019-04-18" for r in rs)
               and any(r["HieuLucDen"] == "2019-04-17" for r in rs)]
    assert len(amended) == 1
    ended = [c for c, rs in by_code.items() if max(r["HieuLucDen"] or "9999" for r in rs) == "2019-04-17"]
    begun = [c for c, rs in by_code.items() if min(r["HieuLucTu"] for r in rs) == "2019-04-18"]
    assert len(ended) == 1 and len(begun) == 1
    after_42 = Counter(r["MucDo"] for r in rows if r["HieuLucTu"] == "2022-07-01")
    assert after_42 == {"mot_phan": 57, "toan_trinh": 1}


def test_agencies(bundle: tuple[Path, dict[str, Any]]) -> None:
    rows = {r["MaDonVi"]: r for r in _csv(bundle[0] / "agencies.csv")}
    assert {"UBND-BRVT", "UBND-HCM", "SKHCN-BRVT", "SKHCN-HCM", "STTTT-BRVT", "CCTDC-BRVT",
            "CCTDC-HCM", "TTTK-BRVT", "TTUDTB-BRVT", "TTUD-BRVT", "TTUD-HCM"} <= rows.keys()
    assert rows["TTUD-BRVT"]["HieuLucTu"] == "2019-08-23"
    assert rows["TTTK-BRVT"]["ThayTheBoi"] == rows["TTUDTB-BRVT"]["ThayTheBoi"] == "TTUD-BRVT"
    assert rows["STTTT-BRVT"]["HieuLucDen"] == "2025-02-28"
    for r in rows.values():  # parents and successors exist
        assert r["MaDonViCha"] in rows or r["MaDonViCha"] == ""
        assert r["ThayTheBoi"] in rows or r["ThayTheBoi"] == ""


def test_messy_but_valid(
    bundle: tuple[Path, dict[str, Any]], lines: list[str], objs: list[dict[str, Any]]
) -> None:
    out, summary = bundle
    assert summary["lines_total"] == len(lines)
    assert max(Counter(lines).values()) >= 2  # exact duplicates
    names = [o.get("TenTTHC") or "" for o in objs]
    assert any(not unicodedata.is_normalized("NFC", n) for n in names)
    fields = Counter(o.get("TenLinhVuc") for o in objs)
    assert fields["TCDLCL"] > 0 and fields["TCĐLCL"] > 0
    stamps = [o.get("NgayCapNhat") or "" for o in objs]
    assert any(s.endswith("+07:00") for s in stamps) and any(s.endswith("Z") for s in stamps)
    assert any(o.get("NgayKetThucXuLy") == "" for o in objs)
    assert any("NgayHenTra" not in o and o.get("NgayTiepNhan") for o in objs)  # legacy
    assert any(
        [_ts(h["ThoiDiemXuLy"]) for h in o.get("QuaTrinhXuLy") or []]
        != sorted(_ts(h["ThoiDiemXuLy"]) for h in o.get("QuaTrinhXuLy") or [])
        for o in objs)
    # a newer snapshot of a dossier comes before an older one in file order
    seen: dict[str, dt.datetime] = {}
    backwards = 0
    for o in objs:
        code, at = o.get("MaHoSo"), _ts(o.get("NgayCapNhat"))
        if code and at:
            backwards += code in seen and at < seen[code]
            seen[code] = max(at, seen.get(code, at))
    assert backwards > 0
    # each dossier is spread over several files
    files_of: dict[str, set[str]] = defaultdict(set)
    for f in sorted((out / "dossiers").iterdir()):
        data = f.read_bytes()
        text = (gzip.decompress(data) if f.name.endswith(".gz") else data).decode("utf-8")
        for code in re.findall(r'"MaHoSo":"([^"]+)"', text):
            files_of[code].add(f.name)
    assert sum(len(v) > 1 for v in files_of.values()) > len(files_of) / 2


def test_records_that_must_be_quarantined(
    bundle: tuple[Path, dict[str, Any]], lines: list[str]
) -> None:
    summary = bundle[1]
    assert 8 <= summary["quarantine_records"] <= 12
    assert summary["quarantine_records"] < 0.05 * len(lines)
    unreadable = 0
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            unreadable += 1
            continue
        unreadable += not obj.get("MaHoSo")
    assert unreadable == 3  # the cut-off line, no MaHoSo, MaHoSo ""
    raw = "\n".join(lines)
    for code in summary["quarantined_dossiers"]:  # each has a code of its own
        assert raw.count(f'"MaHoSo":"{code}"') == 1


def test_working_days_and_office_hours(current: dict[str, dict[str, Any]]) -> None:
    import holidays

    vn = holidays.country_holidays("VN", years=range(2018, 2022))
    for obj in current.values():
        for h in obj["QuaTrinhXuLy"]:
            at = _ts(h["ThoiDiemXuLy"])
            if at is None:
                continue
            assert vn.is_working_day(at.date()), (obj["MaHoSo"], at)
            assert dt.time(7, 30) <= at.time() < dt.time(17, 0), (obj["MaHoSo"], at)


def test_personal_values_cover_what_is_written(objs: list[dict[str, Any]]) -> None:
    values = sample_personal_values(2019)
    written = {str(o[k]) for o in objs
               for k in ("ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email", "DiaChi")
               if o.get(k)}
    written |= {h["NguoiXuLy"] for o in objs for h in o["QuaTrinhXuLy"] if h.get("NguoiXuLy")}
    assert written <= values
    assert all(re.fullmatch(r"\d{12}", o["SoGiayToChuHoSo"]) for o in objs)
