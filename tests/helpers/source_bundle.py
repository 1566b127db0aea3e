"""A small, slightly messy export bundle shared by the source and simulator tests.

About 50 dossiers with 1-4 snapshots each, written as JSONL lines by hand (three files,
one gzipped, lines shuffled), with the contract's fields. Messiness an API or a
database cannot carry is there too: a line that is not JSON, a snapshot without
``NgayCapNhat``, the same snapshot twice, timestamps with ``Z``/offset/ISO forms.
:func:`make_bundle` writes it; the ``bundle`` fixtures of ``tests/sources`` and
``tests/dev`` share one each per session.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

PROCEDURES = [
    {"MaTTHC": "1.004512", "TenTTHC": "Cấp giấy phép tiến hành công việc bức xạ", "MaLinhVuc": "ATBX",
     "TenLinhVuc": "An toàn bức xạ và hạt nhân", "MaDonVi": "SKHCN", "ThoiHanGiaiQuyet": "10", "MucDo": "3",
     "DiaChiDangTai": "https://dichvucong.example/1.004512", "CongKhai": "1", "MotCua": "1", "LienThong": "0",
     "HieuLucTu": "2019-01-01", "HieuLucDen": ""},
    {"MaTTHC": "2.000120", "TenTTHC": "Đăng ký hoạt động khoa học và công nghệ", "MaLinhVuc": "KHCN",
     "TenLinhVuc": "Hoạt động KH&CN", "MaDonVi": "SKHCN", "ThoiHanGiaiQuyet": "5", "MucDo": "4",
     "DiaChiDangTai": "https://dichvucong.example/2.000120", "CongKhai": "1", "MotCua": "1", "LienThong": "1",
     "HieuLucTu": "2019-01-01", "HieuLucDen": ""},
    {"MaTTHC": "1.000321", "TenTTHC": "Kiểm định phương tiện đo", "MaLinhVuc": "TCĐLCL",
     "TenLinhVuc": "Tiêu chuẩn Đo lường Chất lượng", "MaDonVi": "CCTDC", "ThoiHanGiaiQuyet": "7",
     "MucDo": "toan_trinh", "DiaChiDangTai": "", "CongKhai": "1", "MotCua": "1", "LienThong": "0",
     "HieuLucTu": "2019-01-01", "HieuLucDen": ""},
]
AGENCIES = [
    {"MaDonVi": "SKHCN", "TenDonVi": "Sở Khoa học và Công nghệ", "MaDonViCha": "", "HieuLucTu": "", "HieuLucDen": "",
     "ThayTheBoi": ""},
    {"MaDonVi": "CCTDC", "TenDonVi": "Chi cục Tiêu chuẩn Đo lường Chất lượng", "MaDonViCha": "SKHCN",
     "HieuLucTu": "", "HieuLucDen": "", "ThayTheBoi": ""},
]
PATH_STATUSES = [2, 4, 9, 10]


@dataclass
class Bundle:
    """What was written, for the tests' expectations."""

    path: Path
    snapshots: list[dict] = field(default_factory=list)  # servable snapshots as written, duplicates included
    stamps: dict[tuple[str, str], str] = field(default_factory=dict)  # (MaHoSo, NgayCapNhat) -> local stamp
    current: dict[str, dict] = field(default_factory=dict)  # MaHoSo -> current snapshot
    bad_lines: int = 0  # lines an API cannot serve

    @property
    def keys(self) -> set[tuple[str, str]]:
        return set(self.stamps)


def _fmt(t: dt.datetime, style: int) -> str:
    if style == 1:
        return (t - dt.timedelta(hours=7)).strftime("%Y%m%d%H%M%S") + "Z"
    if style == 2:
        return t.strftime("%Y-%m-%dT%H:%M:%S+07:00")
    return t.strftime("%Y%m%d%H%M%S")


def make_bundle(path: Path, dossiers: int = 50, seed: int = 42, max_snapshots: int = 4) -> Bundle:
    """Write a bundle at ``path`` and return what it holds."""
    rng = random.Random(seed)
    out = Bundle(path)
    lines: list[str] = []
    base = dt.datetime(2023, 1, 2, 8, 0, 0)
    for n in range(1, dossiers + 1):
        code = f"HS-2023-{n:05d}"
        proc = PROCEDURES[n % len(PROCEDURES)]
        channel = rng.choice([1, 2, 3])
        t = base + dt.timedelta(days=rng.randrange(300), minutes=rng.randrange(600))
        intake = t
        history: list[dict] = []
        for k in range(rng.randint(1, max_snapshots)):
            status = PATH_STATUSES[k]
            t = t + dt.timedelta(hours=rng.randint(1, 72), seconds=rng.randrange(60))
            history.append({"TrangThai": status, "ThoiDiemXuLy": t.strftime("%Y%m%d%H%M%S"),
                            "DonViXuLy": proc["MaDonVi"], "PhongBanXuLy": "Phòng Quản lý chuyên ngành",
                            "NguoiXuLy": "Nguyễn Văn Bình", "NoiDungXuLy": f"Bước {k + 1}"})
            snap = {
                "MaHoSo": code, "MaTTHC": proc["MaTTHC"], "TenTTHC": proc["TenTTHC"],
                "MaLinhVuc": proc["MaLinhVuc"], "TenLinhVuc": proc["TenLinhVuc"], "MaDonVi": proc["MaDonVi"],
                "KenhThucHien": channel,
                "NgayTiepNhan": intake.strftime("%Y%m%d%H%M%S"),
                "NgayHenTra": (intake + dt.timedelta(days=14)).strftime("%Y%m%d170000") if n % 7 else "",
                "TrangThaiHoSo": status,
                "NgayCapNhat": _fmt(t, 0 if n % 9 else (k % 3)),
                "LoaiDoiTuong": 1 + n % 4, "ChuHoSo": "Trần Thị Đào", "SoGiayToChuHoSo": f"0790{n:08d}",
                "SoDienThoai": "0912345678", "Email": f"dan{n}@example.vn", "DiaChi": "Phường 1, Vũng Tàu",
                "DuocThanhToanTrucTuyen": channel == 2, "HoSoCoThanhPhanSoHoa": n % 2 == 0,
                "DanhSachHoSoBoSung": [], "QuaTrinhXuLy": [dict(h) for h in history],
            }
            if channel == 2:
                snap["NgayNopHoSo"] = (intake - dt.timedelta(hours=2)).strftime("%Y%m%d%H%M%S")
            if status >= 9:
                snap["NgayKetThucXuLy"] = history[2]["ThoiDiemXuLy"]
                snap["DanhGia"] = 1 + n % 3
            if status == 10:
                snap["NgayTra"] = history[3]["ThoiDiemXuLy"]
            if n % 5 == 0:
                snap["DanhSachHoSoBoSung"] = [{"NgayYeuCauBoSung": "20230301080000", "NgayBoSung": "20230305080000",
                                               "NgayHenTraTruoc": "20230310170000", "NgayHenTraMoi": "20230315170000"}]
            out.snapshots.append(snap)
            out.stamps[(code, snap["NgayCapNhat"])] = t.strftime("%Y%m%d%H%M%S")
            out.current[code] = snap
            lines.append(json.dumps(snap, ensure_ascii=False))
    # the same snapshot twice
    lines.append(lines[3])
    out.snapshots.append(json.loads(lines[3]))
    # lines an API cannot serve
    lines.append('{"MaHoSo": "HS-BROKEN", "NgayCapNhat": "2023')
    lines.append(json.dumps({"MaHoSo": "HS-NO-DATE", "MaTTHC": "1.004512", "TrangThaiHoSo": 2, "QuaTrinhXuLy": []}))
    out.bad_lines = 2
    rng.shuffle(lines)
    folder = path / "dossiers"
    folder.mkdir(parents=True, exist_ok=True)
    thirds = [lines[i::3] for i in range(3)]
    (folder / "b-2023.jsonl").write_text("\n".join(thirds[0]) + "\n", encoding="utf-8")
    (folder / "a-2023.jsonl").write_text("\n".join(thirds[1]) + "\n", encoding="utf-8")
    (folder / "c-2023.jsonl.gz").write_bytes(gzip.compress(("\n".join(thirds[2]) + "\n").encode(), mtime=0))
    for name, rows in (("procedures.csv", PROCEDURES), ("agencies.csv", AGENCIES)):
        with open(path / name, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return out
