"""The catalogue of a generated bundle (``bench/gen_bundle.py``): the province's
agencies (``agencies.csv``: departments, sub-agencies, mergers) and procedures
(``procedures.csv``: codes, fields, processing times, a few amended), with the words
they are named from, and the CSV writer for both."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

PROVINCE = "Bà Rịa - Vũng Tàu"
# fmt: off
PROCEDURE_COLUMNS = [
    "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaDonVi", "ThoiHanGiaiQuyet", "MucDo",
    "DiaChiDangTai", "CongKhai", "MotCua", "LienThong", "HieuLucTu", "HieuLucDen",
]
AGENCY_COLUMNS = ["MaDonVi", "TenDonVi", "MaDonViCha", "HieuLucTu", "HieuLucDen", "ThayTheBoi"]

DEPARTMENTS = [
    "Sở Khoa học và Công nghệ", "Sở Tư pháp", "Sở Kế hoạch và Đầu tư", "Sở Tài chính",
    "Sở Công Thương", "Sở Nông nghiệp và Phát triển nông thôn", "Sở Giao thông vận tải",
    "Sở Xây dựng", "Sở Tài nguyên và Môi trường", "Sở Thông tin và Truyền thông",
    "Sở Lao động - Thương binh và Xã hội", "Sở Văn hóa, Thể thao và Du lịch", "Sở Y tế",
    "Sở Giáo dục và Đào tạo", "Sở Nội vụ", "Sở Ngoại vụ", "Ban Quản lý các khu công nghiệp",
    "Thanh tra tỉnh", "Công an tỉnh", "Bảo hiểm xã hội tỉnh",
]
SUB_AGENCIES = [
    (0, "Chi cục Tiêu chuẩn Đo lường Chất lượng"),
    (0, "Trung tâm Thông tin và Ứng dụng tiến bộ KH&CN"), (5, "Chi cục Thủy sản"),
    (5, "Chi cục Chăn nuôi và Thú y"), (5, "Chi cục Trồng trọt và Bảo vệ thực vật"),
    (8, "Văn phòng Đăng ký đất đai"), (8, "Chi cục Biển và Hải đảo"),
    (10, "Trung tâm Dịch vụ việc làm"), (12, "Chi cục Dân số - Kế hoạch hóa gia đình"),
    (12, "Chi cục An toàn vệ sinh thực phẩm"), (14, "Ban Thi đua - Khen thưởng"),
    (14, "Ban Tôn giáo"),
]
FIELD_WORDS = [
    "Hoạt động khoa học và công nghệ", "An toàn bức xạ và hạt nhân",
    "Tiêu chuẩn Đo lường Chất lượng", "Sở hữu trí tuệ", "Chuyển giao công nghệ", "Hộ tịch",
    "Lý lịch tư pháp", "Công chứng", "Đăng ký doanh nghiệp", "Đầu tư", "Quản lý giá",
    "Xúc tiến thương mại", "Hóa chất", "Điện", "Thủy sản", "Thú y", "Trồng trọt", "Đường bộ",
    "Đăng kiểm", "Hoạt động xây dựng", "Đất đai", "Môi trường", "Tài nguyên nước", "Báo chí",
    "Xuất bản, In và Phát hành", "Việc làm", "Người có công", "Bảo trợ xã hội",
    "Di sản văn hóa", "Du lịch", "Khám bệnh, chữa bệnh", "Dược phẩm", "Giáo dục và Đào tạo",
    "Thi đua - Khen thưởng", "Tôn giáo", "Quản lý lãnh sự",
]
PROCEDURE_VERBS = [
    "Cấp", "Cấp lại", "Sửa đổi, bổ sung", "Gia hạn", "Đăng ký", "Thẩm định", "Xác nhận",
    "Công nhận", "Phê duyệt", "Điều chỉnh", "Thu hồi", "Cho phép",
]
PROCEDURE_OBJECTS = [
    "giấy phép hoạt động", "giấy chứng nhận đăng ký", "chứng chỉ hành nghề", "giấy xác nhận",
    "quyết định công nhận", "hồ sơ đề nghị", "văn bản chấp thuận",
    "giấy phép tiến hành công việc bức xạ", "giấy chứng nhận đủ điều kiện", "kết quả thẩm định",
    "hợp đồng chuyển giao", "dấu định lượng",
]
# fmt: on


def make_agencies() -> list[dict[str, str]]:
    """A few dozen agencies: the provincial committee, departments, sub-agencies, two
    centres merged in 2019 and the Department of Information and Communications merged
    into Science and Technology in March 2025 (domain.md section 2)."""
    root = "000.00.00.H04"
    rows = [
        dict(
            MaDonVi=root,
            TenDonVi=f"UBND tỉnh {PROVINCE}",
            MaDonViCha="",
            HieuLucTu="2004-01-01",
            HieuLucDen="",
            ThayTheBoi="",
        )
    ]
    for k, name in enumerate(DEPARTMENTS):
        code = f"000.00.{k + 1:02d}.H04"
        ends = "2025-02-28" if "Thông tin và Truyền thông" in name else ""
        rows.append(
            dict(
                MaDonVi=code,
                TenDonVi=name,
                MaDonViCha=root,
                HieuLucTu="2008-04-01",
                HieuLucDen=ends,
                ThayTheBoi="000.00.01.H04" if ends else "",
            )
        )
    for k, (dep, name) in enumerate(SUB_AGENCIES):
        code = f"000.{k + 1:02d}.{dep + 1:02d}.H04"
        rows.append(
            dict(
                MaDonVi=code,
                TenDonVi=name,
                MaDonViCha=f"000.00.{dep + 1:02d}.H04",
                HieuLucTu="2019-07-01" if k == 1 else "2010-01-01",
                HieuLucDen="",
                ThayTheBoi="",
            )
        )
    centre = "000.02.01.H04"
    for k, name in enumerate(
        ["Trung tâm Thông tin và Thống kê KH&CN", "Trung tâm Ứng dụng tiến bộ KH&CN"]
    ):
        rows.append(
            dict(
                MaDonVi=f"000.{90 + k}.01.H04",
                TenDonVi=name,
                MaDonViCha="000.00.01.H04",
                HieuLucTu="2010-01-01",
                HieuLucDen="2019-06-30",
                ThayTheBoi=centre,
            )
        )
    return rows


def make_procedures(n: int, agencies: list[dict[str, str]], seed: int) -> list[dict[str, str]]:
    """``n`` procedures (codes ``^[12]\\.\\d{6}$``) over the agencies that still exist,
    about 5 % amended (a second row with the same code from 2024-01-01)."""
    rng = np.random.default_rng(seed)
    live = [a["MaDonVi"] for a in agencies if not a["HieuLucDen"] and a["MaDonViCha"]]
    numbers = rng.choice(1_000_000, size=n, replace=False)
    levels = ["1", "2"]
    rows: list[dict[str, str]] = []
    for k in range(n):
        code = f"{levels[int(rng.random() < 0.35)]}.{numbers[k]:06d}"
        agency = live[int(rng.integers(len(live)))]
        field = int(rng.integers(len(FIELD_WORDS)))
        name = (
            f"{PROCEDURE_VERBS[int(rng.integers(len(PROCEDURE_VERBS)))]} "
            f"{PROCEDURE_OBJECTS[int(rng.integers(len(PROCEDURE_OBJECTS)))]} "
            f"{FIELD_WORDS[field].lower()}"
        )
        days = int(
            rng.choice(
                [1, 2, 3, 5, 7, 10, 12, 15, 20, 30],
                p=[0.05, 0.05, 0.15, 0.2, 0.15, 0.15, 0.05, 0.1, 0.05, 0.05],
            )
        )
        level = str(
            rng.choice(["2", "3", "4", "toan_trinh", "mot_phan"], p=[0.2, 0.2, 0.1, 0.3, 0.2])
        )
        online = level in ("3", "4", "toan_trinh", "mot_phan")
        row = dict(
            MaTTHC=code,
            TenTTHC=name,
            MaLinhVuc=f"LV{field + 1:03d}",
            TenLinhVuc=FIELD_WORDS[field],
            MaDonVi=agency,
            ThoiHanGiaiQuyet=str(days),
            MucDo=level,
            DiaChiDangTai=(
                f"https://dichvucong.baria-vungtau.gov.vn/thu-tuc/{code}" if online else ""
            ),
            CongKhai=str(int(rng.random() < 0.97)),
            MotCua=str(int(rng.random() < 0.9)),
            LienThong=str(int(rng.random() < 0.1)),
            HieuLucTu="2019-01-01",
            HieuLucDen="",
        )
        if rng.random() < 0.05:
            amended = dict(row, ThoiHanGiaiQuyet=str(max(1, days - 2)), HieuLucTu="2024-01-01")
            row["HieuLucDen"] = "2023-12-31"
            rows.extend([row, amended])
        else:
            rows.append(row)
    return rows


def write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    """Write ``rows`` as UTF-8 CSV with exactly ``columns``."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
