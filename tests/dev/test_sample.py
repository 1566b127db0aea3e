"""The sample export bundle (``motcua sample``): layout, determinism, and the seed's 2019
numbers, recounted here with a small counter of our own (independent of the pipeline)."""

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

from motcua.commands.sample import sample as sample_command
from motcua.dev.sample.bundle import sample_personal_values, write_sample
from motcua.dev.sample.catalogue import SEED_PROCEDURES

PROCEDURE_HEADER = ("MaTTHC,TenTTHC,MaLinhVuc,TenLinhVuc,MaDonVi,ThoiHanGiaiQuyet,MucDo,"
                    "DiaChiDangTai,CongKhai,MotCua,LienThong,HieuLucTu,HieuLucDen")
AGENCY_HEADER = "MaDonVi,TenDonVi,MaDonViCha,HieuLucTu,HieuLucDen,ThayTheBoi"

# The seed report's tables 1 and 2, row by row: name (table 2, column 2), field code,
# dossiers newly received in 2019 online and not online (table 1).
SEED_ROWS: list[tuple[str, str, int, int]] = [
    ("Khai báo thiết bị X-quang chẩn đoán trong y tế", "ATBX", 0, 2),
    ("Cấp lại giấy phép tiến hành công việc bức xạ (sử dụng thiết bị X-quang chẩn đoán "
     "trong y tế)", "ATBX", 0, 23),
    ("Cấp và cấp lại chứng chỉ nhân viên bức xạ (người phụ trách an toàn cơ sở X-quang "
     "chẩn đoán trong y tế)", "ATBX", 0, 10),
    ("Phê duyệt kế hoạch ứng phó sự cố bức xạ và hạt nhân cấp cơ sở (đối với công việc sử "
     "dụng thiết bị X-quang chẩn đoán trong y tế)", "ATBX", 0, 5),
    ("Đăng ký kết quả thực hiện nhiệm vụ khoa học và công nghệ cấp tỉnh, cấp cơ sở sử dụng "
     "ngân sách nhà nước và nhiệm vụ khoa học và công nghệ do quỹ của Nhà nước trong lĩnh "
     "vực khoa học và công nghệ tài trợ thuộc phạm vi quản lý của tỉnh, thành phố trực "
     "thuộc trung ương", "HDKHCN", 0, 5),
    ("Thủ tục đăng ký hợp quy đối với các sản phẩm, hàng hóa sản xuất trong nước, dịch vụ, "
     "quá trình, môi trường được quản lý bởi các quy chuẩn kỹ thuật quốc gia do Bộ Khoa "
     "học và Công nghệ ban hành", "TCDLCL", 2, 6),
    ("Thủ tục đăng ký công bố hợp chuẩn dựa trên kết quả chứng nhận hợp chuẩn của tổ chức "
     "chứng nhận", "TCDLCL", 9, 11),
    ("Thủ tục cấp mới Giấy phép vận chuyển hàng nguy hiểm là các chất ôxy hóa, các hợp "
     "chất ôxít hữu cơ (thuộc loại 5) và các chất ăn mòn (thuộc loại 8) bằng phương tiện "
     "giao thông cơ giới đường bộ, đường sắt và đường thủy nội địa", "TCDLCL", 0, 2),
    ("Thủ tục kiểm tra nhà nước về chất lượng sản phẩm, hàng hóa hàng hóa nhóm 2 nhập "
     "khẩu", "TCDLCL", 0, 390),
    ("Thủ tục đăng ký tham dự sơ tuyển xét tặng Giải thưởng chất lượng quốc gia",
     "HDKHCN", 0, 3),
    ("Thủ tục cấp giấy chứng nhận hoạt động lần đầu cho văn phòng đại diện, chi nhánh của "
     "tổ chức KHCN", "HDKHCN", 0, 2),
    ("Thủ tục cấp giấy chứng nhận đăng ký chuyển giao công nghệ", "HDKHCN", 0, 3),
    ("Thủ tục cấp giấy chứng nhận doanh nghiệp KHCN", "HDKHCN", 0, 2),
    ("Thủ tục đánh giá kết quả thực hiện nhiệm vụ KHCN không sử dụng ngân sách nhà nước",
     "HDKHCN", 0, 1),
    ("Thủ tục cấp giấy chứng nhận đăng ký hoạt động lần đầu cho tổ chức KHCN",
     "HDKHCN", 0, 1),
]


# --------------------------------------------------------------------------- helpers


def _ts(value: Any) -> dt.datetime | None:
    """Parse a timestamp of the sample: ``yyyyMMddHHmmss`` or ISO 8601, optionally with a
    ``Z`` or ``+07:00`` suffix, to naive local time (UTC+7). None when empty or invalid."""
    if not isinstance(value, str) or not value.strip():
        return None
    text, offset = value.strip(), None
    if text.endswith("Z"):
        text, offset = text[:-1], 0
    elif re.search(r"[+-]\d\d:\d\d$", text):
        sign = 1 if text[-6] == "+" else -1
        offset = sign * (int(text[-5:-3]) * 60 + int(text[-2:]))
        text = text[:-6]
    digits = re.sub(r"\D", "", text)
    if len(digits) not in (8, 14):
        return None
    try:
        stamp = dt.datetime.strptime(digits.ljust(14, "0"), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    if offset is not None:
        stamp += dt.timedelta(minutes=7 * 60 - offset)
    return stamp


def _lines(bundle: Path) -> list[str]:
    """Every line of every dossier file, in file order."""
    out: list[str] = []
    for f in sorted((bundle / "dossiers").iterdir()):
        data = f.read_bytes()
        if f.name.endswith(".gz"):
            data = gzip.decompress(data)
        out += data.decode("utf-8").splitlines()
    return out


def _current(lines: list[str]) -> dict[str, dict[str, Any]]:
    """The newest snapshot (by NgayCapNhat) of each dossier, skipping lines that are not
    JSON objects, lack MaHoSo or have no readable NgayCapNhat."""
    current: dict[str, tuple[dt.datetime, dict[str, Any]]] = {}
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict) or not obj.get("MaHoSo"):
            continue
        updated = _ts(obj.get("NgayCapNhat"))
        if updated is None:
            continue
        code = obj["MaHoSo"]
        if code not in current or updated > current[code][0]:
            current[code] = (updated, obj)
    return {code: obj for code, (_, obj) in current.items()}


def _history_time(obj: dict[str, Any], statuses: tuple[int, ...]) -> dt.datetime | None:
    times = [_ts(h.get("ThoiDiemXuLy")) for h in obj.get("QuaTrinhXuLy") or []
             if h.get("TrangThai") in statuses]
    times = [t for t in times if t is not None]
    return min(times) if times else None


def _intake(obj: dict[str, Any]) -> dt.datetime | None:
    return _ts(obj.get("NgayTiepNhan")) or _history_time(obj, (2,))


def _resolution(obj: dict[str, Any]) -> dt.datetime | None:
    return (_ts(obj.get("NgayKetThucXuLy")) or _history_time(obj, (9,))
            or _history_time(obj, (10,)))


def _received(obj: dict[str, Any]) -> bool:
    return obj.get("TrangThaiHoSo") not in (1, 3)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("sample")
    return out, write_sample(out, seed=2019)


@pytest.fixture(scope="module")
def lines(bundle: tuple[Path, dict[str, Any]]) -> list[str]:
    return _lines(bundle[0])


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


@pytest.fixture(scope="module")
def current(lines: list[str]) -> dict[str, dict[str, Any]]:
    return _current(lines)


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


def test_2019_counts_equal_the_seed(current: dict[str, dict[str, Any]]) -> None:
    seed_codes = [sp.code for sp in SEED_PROCEDURES]
    counts: dict[str, Counter[str]] = {c: Counter() for c in seed_codes}
    for obj in current.values():
        intake = _intake(obj)
        if _received(obj) and intake and intake.year == 2019 and obj["MaTTHC"] in counts:
            counts[obj["MaTTHC"]]["online" if obj["KenhThucHien"] == 2 else "other"] += 1
    got = [(counts[c]["online"], counts[c]["other"]) for c in seed_codes]
    assert got == [(online, other) for _, _, online, other in SEED_ROWS]
    assert sum(map(sum, got)) == 477


def test_2019_all_resolved_on_time_in_2019(
    bundle: tuple[Path, dict[str, Any]], current: dict[str, dict[str, Any]]
) -> None:
    quarantined = set(bundle[1]["quarantined_dossiers"])
    seed_codes = {sp.code for sp in SEED_PROCEDURES}
    checked = 0
    channels: Counter[int] = Counter()
    for code, obj in current.items():
        intake = _intake(obj)
        if not (_received(obj) and intake and intake.year <= 2019):
            continue
        resolved = _resolution(obj)
        if intake.year == 2018:  # nothing carried over into 2019
            ended = resolved or _history_time(obj, (7, 8))
            assert ended is not None and ended.year == 2018, code
            continue
        if obj["MaTTHC"] not in seed_codes:
            assert code in quarantined, code  # only the records that must be quarantined
            continue
        due = _ts(obj.get("NgayHenTra"))
        assert due is not None and resolved is not None, code
        assert resolved.year == 2019 and resolved.date() <= due.date(), code
        assert not any(h["TrangThai"] in (7, 8) for h in obj["QuaTrinhXuLy"]), code
        channels[obj["KenhThucHien"]] += 1
        checked += 1
    assert checked == 477
    assert channels[2] == 11 and channels[3] > 0 and channels[1] + channels[3] == 466


def test_2019_has_dossiers_that_count_nowhere(current: dict[str, dict[str, Any]]) -> None:
    status = Counter(obj["TrangThaiHoSo"] for obj in current.values()
                     if not _received(obj)
                     and (_ts(obj.get("NgayNopHoSo")) or _ts(obj.get("NgayTuChoi"))
                          or dt.datetime.min).year == 2019)
    assert status[1] >= 2 and status[3] >= 2


def test_2020_has_open_late_withdrawn_stopped_and_unknown(
    current: dict[str, dict[str, Any]],
) -> None:
    year_end = dt.date(2020, 12, 31)
    received = [o for o in current.values()
                if _received(o) and (_intake(o) or dt.datetime.min).year == 2020]
    ends = Counter(o["TrangThaiHoSo"] for o in received)
    assert ends[7] == 1 and ends[8] == 1
    open_ = [o for o in received if o["TrangThaiHoSo"] in (2, 4, 5)]
    overdue = [o for o in open_ if _ts(o["NgayHenTra"]).date() < year_end]
    assert len(open_) > len(overdue) > 0
    late = [o for o in received
            if _resolution(o) and _resolution(o).date() > _ts(o["NgayHenTra"]).date()]
    assert late
    assert any(len(o.get("DanhSachHoSoBoSung") or []) > 0 for o in received)
    unknown = [o for o in received if o["MaTTHC"] == "1.999999"]
    assert len(unknown) == 1 and _ts(unknown[0]["NgayHenTra"]) is not None
    assert all(_ts(o["NgayCapNhat"]) <= dt.datetime(2020, 12, 31, 23, 59, 59)
               for o in current.values())


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
