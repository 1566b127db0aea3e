"""The deterministic sample export bundle (``motcua sample``).

:func:`write_sample` writes a folder laid out as the one-stop system's export bundle
(``procedures.csv``, ``agencies.csv``, ``dossiers/*.jsonl[.gz]``) for the Department
of Science and Technology of Bà Rịa - Vũng Tàu, 2018–2020. Everything in it is made
up, except what the seed report (the department's 2019 CCHC report) publishes: the 15
procedures of its appendix tables 1 and 2 with their names, online level and address,
and their 2019 dossier counts, which the sample reproduces exactly:

* 477 dossiers received in 2019 (11 online, 466 in person or by post), per procedure as
  :data:`SEED_NEW_2019` lists, every one resolved on time within 2019; none carried over
  from 2018 (every 2018 dossier ends in 2018), none open at the end of 2019, none
  withdrawn in 2019; the only other 2019 dossiers are refused at intake (status 3) or
  online submissions never accepted (status 1), which count nowhere;
* 2018 and 2020 around it, with late, withdrawn, stopped, paused (supplement) and,
  at the end of 2020, open dossiers (some overdue), and one dossier whose procedure
  code (``1.999999``) is not in the catalogue but whose due is recorded.

The snapshots are messy the way real logs are, without changing any count: each
dossier's snapshots are spread over several files in shuffled order, some lines are
exact duplicates, some histories are out of order or repeat an entry, some names are
in decomposed Unicode (NFD) or spell the field "TCDLCL"/"TCĐLCL", some nulls are empty
strings, some timestamps carry ``+07:00`` or ``Z`` or are ISO 8601 (same instant), some
2018 dossiers are legacy records without ``NgayHenTra``, and one file has Windows line
ends. A handful of records (:data:`QUARANTINE_CASES`) must be quarantined; each uses a
dossier code of its own.

Working days come from ``holidays.country_holidays("VN")`` (``is_working_day``). The
output is byte-identical for a given seed (``random.Random``, gzip ``mtime=0``, fixed
key order). The sample is generated, never committed.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import random
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import holidays

# --------------------------------------------------------------------------- contract

PROCEDURE_COLUMNS = [
    "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaDonVi", "ThoiHanGiaiQuyet", "MucDo",
    "DiaChiDangTai", "CongKhai", "MotCua", "LienThong", "HieuLucTu", "HieuLucDen",
]
AGENCY_COLUMNS = ["MaDonVi", "TenDonVi", "MaDonViCha", "HieuLucTu", "HieuLucDen", "ThayTheBoi"]

SNAPSHOT_FIELDS = [
    "MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaDonVi", "KenhThucHien",
    "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "TrangThaiHoSo",
    "NgayCapNhat", "NgayTuChoi", "LoaiDoiTuong", "ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai",
    "Email", "DiaChi", "DanhGia", "DuocThanhToanTrucTuyen", "HoSoCoThanhPhanSoHoa",
    "DanhSachHoSoBoSung", "QuaTrinhXuLy",
]
TIMESTAMP_FIELDS = [
    "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayCapNhat",
    "NgayTuChoi",
]
PERSONAL_FIELDS = ["ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email", "DiaChi"]

# --------------------------------------------------------------------------- agencies

AGENCIES: list[dict[str, str]] = [
    {"MaDonVi": "UBND-BRVT", "TenDonVi": "UBND tỉnh Bà Rịa - Vũng Tàu", "MaDonViCha": "",
     "HieuLucTu": "2008-01-01", "HieuLucDen": "2025-06-30", "ThayTheBoi": "UBND-HCM"},
    {"MaDonVi": "SKHCN-BRVT", "TenDonVi": "Sở Khoa học và Công nghệ tỉnh Bà Rịa - Vũng Tàu",
     "MaDonViCha": "UBND-BRVT", "HieuLucTu": "2008-01-01", "HieuLucDen": "2025-06-30",
     "ThayTheBoi": "SKHCN-HCM"},
    {"MaDonVi": "STTTT-BRVT", "TenDonVi": "Sở Thông tin và Truyền thông tỉnh Bà Rịa - Vũng Tàu",
     "MaDonViCha": "UBND-BRVT", "HieuLucTu": "2008-01-01", "HieuLucDen": "2025-02-28",
     "ThayTheBoi": "SKHCN-BRVT"},
    {"MaDonVi": "CCTDC-BRVT", "TenDonVi": "Chi cục Tiêu chuẩn Đo lường Chất lượng",
     "MaDonViCha": "SKHCN-BRVT", "HieuLucTu": "2008-01-01", "HieuLucDen": "2025-06-30",
     "ThayTheBoi": "CCTDC-HCM"},
    {"MaDonVi": "TTTK-BRVT", "TenDonVi": "Trung tâm Thông tin và Thống kê KH&CN",
     "MaDonViCha": "SKHCN-BRVT", "HieuLucTu": "2008-01-01", "HieuLucDen": "2019-08-22",
     "ThayTheBoi": "TTUD-BRVT"},
    {"MaDonVi": "TTUDTB-BRVT", "TenDonVi": "Trung tâm Ứng dụng tiến bộ KH&CN",
     "MaDonViCha": "SKHCN-BRVT", "HieuLucTu": "2008-01-01", "HieuLucDen": "2019-08-22",
     "ThayTheBoi": "TTUD-BRVT"},
    {"MaDonVi": "TTUD-BRVT", "TenDonVi": "Trung tâm Thông tin và Ứng dụng KH&CN",
     "MaDonViCha": "SKHCN-BRVT", "HieuLucTu": "2019-08-23", "HieuLucDen": "2025-06-30",
     "ThayTheBoi": "TTUD-HCM"},
    {"MaDonVi": "UBND-HCM", "TenDonVi": "UBND Thành phố Hồ Chí Minh", "MaDonViCha": "",
     "HieuLucTu": "2008-01-01", "HieuLucDen": "", "ThayTheBoi": ""},
    {"MaDonVi": "SKHCN-HCM", "TenDonVi": "Sở Khoa học và Công nghệ Thành phố Hồ Chí Minh",
     "MaDonViCha": "UBND-HCM", "HieuLucTu": "2008-01-01", "HieuLucDen": "", "ThayTheBoi": ""},
    {"MaDonVi": "CCTDC-HCM",
     "TenDonVi": "Chi cục Tiêu chuẩn Đo lường Chất lượng Thành phố Hồ Chí Minh",
     "MaDonViCha": "SKHCN-HCM", "HieuLucTu": "2008-01-01", "HieuLucDen": "", "ThayTheBoi": ""},
    {"MaDonVi": "TTUD-HCM",
     "TenDonVi": "Trung tâm Thông tin và Ứng dụng KH&CN Thành phố Hồ Chí Minh",
     "MaDonViCha": "SKHCN-HCM", "HieuLucTu": "2025-07-01", "HieuLucDen": "", "ThayTheBoi": ""},
]
#: Decision 2178/QĐ-UBND of 23/8/2019: the two centres merge into TTUD-BRVT.
CENTRE_MERGER = dt.date(2019, 8, 23)

# --------------------------------------------------------------------------- procedures

FIELD_NAMES: dict[str, str] = {
    "ATBX": "An toàn bức xạ và hạt nhân",
    "HDKHCN": "Hoạt động khoa học và công nghệ",
    "TCDLCL": "Tiêu chuẩn Đo lường Chất lượng",
}
FIELD_AGENCY: dict[str, str] = {"ATBX": "SKHCN-BRVT", "HDKHCN": "SKHCN-BRVT", "TCDLCL": "CCTDC-BRVT"}

_URL_PORTAL = "http://dichvucong.baria-vungtau.gov.vn"
_URL_REGISTER = "http://dichvucong.baria-vungtau.gov.vn/dang-ky-truc-tuyen/47"
_URL_DEPARTMENT = "http://dkqm.sokhcen.baria-vungtau.gov.vn"


class SeedProcedure(NamedTuple):
    """One procedure of the seed report's tables 1 and 2 (row order kept)."""

    code: str
    name: str
    field_code: str
    level: int
    url: str
    days: int


#: The 15 procedures of the seed's tables 1 and 2, row 1 first. Names exactly as printed
#: in table 2 (wrapped lines joined); codes and processing days are made up.
SEED_PROCEDURES: list[SeedProcedure] = [
    SeedProcedure("1.003561", "Khai báo thiết bị X-quang chẩn đoán trong y tế",
                  "ATBX", 3, _URL_PORTAL, 5),
    SeedProcedure("1.003602", "Cấp lại giấy phép tiến hành công việc bức xạ (sử dụng thiết bị "
                  "X-quang chẩn đoán trong y tế)", "ATBX", 3, _URL_PORTAL, 10),
    SeedProcedure("1.003655", "Cấp và cấp lại chứng chỉ nhân viên bức xạ (người phụ trách an "
                  "toàn cơ sở X-quang chẩn đoán trong y tế)", "ATBX", 3, _URL_PORTAL, 10),
    SeedProcedure("1.003703", "Phê duyệt kế hoạch ứng phó sự cố bức xạ và hạt nhân cấp cơ sở "
                  "(đối với công việc sử dụng thiết bị X-quang chẩn đoán trong y tế)",
                  "ATBX", 3, _URL_PORTAL, 10),
    SeedProcedure("1.004112", "Đăng ký kết quả thực hiện nhiệm vụ khoa học và công nghệ cấp "
                  "tỉnh, cấp cơ sở sử dụng ngân sách nhà nước và nhiệm vụ khoa học và công nghệ "
                  "do quỹ của Nhà nước trong lĩnh vực khoa học và công nghệ tài trợ thuộc phạm vi "
                  "quản lý của tỉnh, thành phố trực thuộc trung ương",
                  "HDKHCN", 3, _URL_PORTAL, 15),
    SeedProcedure("1.000874", "Thủ tục đăng ký hợp quy đối với các sản phẩm, hàng hóa sản xuất "
                  "trong nước, dịch vụ, quá trình, môi trường được quản lý bởi các quy chuẩn kỹ "
                  "thuật quốc gia do Bộ Khoa học và Công nghệ ban hành",
                  "TCDLCL", 3, _URL_REGISTER, 5),
    SeedProcedure("1.000898", "Thủ tục đăng ký công bố hợp chuẩn dựa trên kết quả chứng nhận "
                  "hợp chuẩn của tổ chức chứng nhận", "TCDLCL", 3, _URL_REGISTER, 7),
    SeedProcedure("1.000921", "Thủ tục cấp mới Giấy phép vận chuyển hàng nguy hiểm là các chất "
                  "ôxy hóa, các hợp chất ôxít hữu cơ (thuộc loại 5) và các chất ăn mòn (thuộc loại "
                  "8) bằng phương tiện giao thông cơ giới đường bộ, đường sắt và đường thủy nội "
                  "địa", "TCDLCL", 3, _URL_REGISTER, 10),
    SeedProcedure("1.000945", "Thủ tục kiểm tra nhà nước về chất lượng sản phẩm, hàng hóa hàng "
                  "hóa nhóm 2 nhập khẩu", "TCDLCL", 3, _URL_REGISTER, 5),
    SeedProcedure("2.000312", "Thủ tục đăng ký tham dự sơ tuyển xét tặng Giải thưởng chất lượng "
                  "quốc gia", "HDKHCN", 3, _URL_REGISTER, 20),
    SeedProcedure("1.004207", "Thủ tục cấp giấy chứng nhận hoạt động lần đầu cho văn phòng đại "
                  "diện, chi nhánh của tổ chức KHCN", "HDKHCN", 3, _URL_REGISTER, 10),
    SeedProcedure("1.004251", "Thủ tục cấp giấy chứng nhận đăng ký chuyển giao công nghệ",
                  "HDKHCN", 3, _URL_REGISTER, 15),
    SeedProcedure("1.004298", "Thủ tục cấp giấy chứng nhận doanh nghiệp KHCN",
                  "HDKHCN", 3, _URL_REGISTER, 15),
    SeedProcedure("1.004136", "Thủ tục đánh giá kết quả thực hiện nhiệm vụ KHCN không sử dụng "
                  "ngân sách nhà nước", "HDKHCN", 3, _URL_REGISTER, 20),
    SeedProcedure("1.004185", "Thủ tục cấp giấy chứng nhận đăng ký hoạt động lần đầu cho tổ chức "
                  "KHCN", "HDKHCN", 3, _URL_REGISTER, 10),
]

#: Seed table 1, per seed row: dossiers newly received in 2019 (online, not online).
SEED_NEW_2019: list[tuple[int, int]] = [
    (0, 2), (0, 23), (0, 10), (0, 5), (0, 5), (2, 6), (9, 11), (0, 2), (0, 390),
    (0, 3), (0, 2), (0, 3), (0, 2), (0, 1), (0, 1),
]

#: Seed row 12 is amended by Decision 965/QĐ-UBND of 18/4/2019 (same code, a new row).
AMENDED_PROCEDURE = SEED_PROCEDURES[11].code
AMENDED_ON = dt.date(2019, 4, 18)
AMENDED_DAYS = 12
#: Decree 42/2022/NĐ-CP: online levels become "toàn trình" / "một phần".
DECREE_42_FROM = dt.date(2022, 7, 1)
CATALOGUE_FROM = "2017-01-01"

_MADE_UP_TOPICS: list[tuple[str, str]] = [
    *[("ATBX", t) for t in (
        "khai báo nguồn phóng xạ", "cấp giấy phép sử dụng nguồn phóng xạ",
        "gia hạn giấy phép tiến hành công việc bức xạ",
        "sửa đổi giấy phép tiến hành công việc bức xạ", "cấp chứng chỉ nhân viên bức xạ",
        "phê duyệt kế hoạch ứng phó sự cố bức xạ", "khai báo chất thải phóng xạ",
        "cấp giấy phép vận chuyển chất phóng xạ", "thẩm định hồ sơ an toàn bức xạ",
        "cấp lại chứng chỉ nhân viên bức xạ", "khai báo thiết bị X-quang công nghiệp",
        "gia hạn chứng chỉ nhân viên bức xạ")],
    *[("HDKHCN", t) for t in (
        "đăng ký hoạt động tổ chức KH&CN", "thay đổi giấy chứng nhận tổ chức KH&CN",
        "cấp lại giấy chứng nhận tổ chức KH&CN", "đăng ký thông tin nhiệm vụ KH&CN",
        "xét giao trực tiếp nhiệm vụ KH&CN", "tuyển chọn tổ chức chủ trì nhiệm vụ KH&CN",
        "thẩm định kinh phí nhiệm vụ KH&CN", "công nhận kết quả nghiên cứu KH&CN",
        "đăng ký gia hạn chuyển giao công nghệ", "sửa đổi hợp đồng chuyển giao công nghệ",
        "cấp lại giấy chứng nhận doanh nghiệp KH&CN", "hỗ trợ doanh nghiệp đổi mới công nghệ",
        "đăng ký sáng kiến", "công nhận sáng kiến cấp tỉnh",
        "xác nhận hàng hóa dùng trực tiếp cho nghiên cứu",
        "thành lập hội đồng tư vấn KH&CN")],
    *[("TCDLCL", t) for t in (
        "công bố sử dụng dấu định lượng", "miễn kiểm tra chất lượng hàng hóa nhập khẩu",
        "chứng nhận chuẩn đo lường", "đăng ký kiểm định phương tiện đo",
        "cấp giấy phép vận chuyển hàng nguy hiểm loại 2",
        "cấp lại giấy phép vận chuyển hàng nguy hiểm", "tiếp nhận hồ sơ công bố hợp quy",
        "xét tặng giải thưởng chất lượng cấp tỉnh", "kiểm tra đo lường hàng đóng gói sẵn",
        "đăng ký hoạt động đánh giá sự phù hợp", "hỗ trợ cấp mã số mã vạch",
        "chứng nhận phòng thử nghiệm", "điều chỉnh giấy phép vận chuyển hàng nguy hiểm",
        "đăng ký công bố tiêu chuẩn cơ sở", "hỗ trợ áp dụng hệ thống quản lý chất lượng",
        "kiểm tra nhà nước về đo lường")],
]
_FIRST_MADE_UP = len(SEED_PROCEDURES) + 1  # numbered 16..59


def _made_up_code(number: int) -> str:
    return f"2.{1900 + number:06d}"


#: A made-up procedure replaced on 2019-04-18 by a made-up successor (new code).
REPLACED_PROCEDURE = _made_up_code(40)
SUCCESSOR_PROCEDURE = _made_up_code(41)
REPLACED_ON = dt.date(2019, 4, 18)
#: The one procedure at online level 4 (seed table 4: "01 Mức độ 4").
LEVEL4_PROCEDURE = _made_up_code(47)
#: A procedure code not in the catalogue; its dossier records its due, so it counts.
UNKNOWN_PROCEDURE = "1.999999"
#: Another code not in the catalogue, on a record without due: quarantined.
UNKNOWN_PROCEDURE_NO_DUE = "1.888888"

#: The bundle is exported at the end of 2020: no snapshot is newer.
EXPORT_END = dt.datetime(2020, 12, 31, 23, 59, 59)

QUARANTINE_CASES: dict[str, str] = {
    "truncated": "a line cut off mid-JSON (the last line of a file)",
    "no_code": "no MaHoSo",
    "empty_code": "MaHoSo is an empty string",
    "status_42": "TrangThaiHoSo 42 (outside the status table)",
    "channel_9": "KenhThucHien 9 (outside the channel table)",
    "bad_updated": "NgayCapNhat 'not-a-date'",
    "resolved_before_intake": "NgayKetThucXuLy before NgayTiepNhan",
    "no_intake": "status 4 without NgayTiepNhan or a status-2 history entry",
    "bad_intake": "NgayTiepNhan '31/02/2019'",
    "bad_due": "NgayHenTra '2019-13-45'",
    "unknown_no_due": "procedure 1.888888 (not in the catalogue) and no NgayHenTra",
}


@dataclass(frozen=True)
class _Proc:
    """One catalogue row (one validity interval of a procedure)."""

    code: str
    name: str
    field_code: str
    agency: str
    days: int
    level: str
    url: str
    valid_from: dt.date
    valid_to: dt.date | None
    seed_row: int | None = None  # 1..15 for the seed's procedures

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def _catalogue() -> list[_Proc]:
    """Every catalogue row, ordered by procedure then validity."""
    start = dt.date.fromisoformat(CATALOGUE_FROM)
    end_42 = DECREE_42_FROM - dt.timedelta(days=1)
    rows: list[_Proc] = []

    def with_decree_42(p: _Proc) -> list[_Proc]:
        new_level = "toan_trinh" if p.level == "4" else "mot_phan"
        return [
            replace(p, valid_to=end_42),
            replace(p, level=new_level, valid_from=DECREE_42_FROM),
        ]

    for i, sp in enumerate(SEED_PROCEDURES, start=1):
        base = _Proc(sp.code, sp.name, sp.field_code, FIELD_AGENCY[sp.field_code], sp.days,
                     str(sp.level), sp.url, start, None, i)
        if sp.code == AMENDED_PROCEDURE:
            rows.append(replace(base, valid_to=AMENDED_ON - dt.timedelta(days=1)))
            base = replace(base, days=AMENDED_DAYS, valid_from=AMENDED_ON)
        rows.extend(with_decree_42(base))
    for k, (fcode, topic) in enumerate(_MADE_UP_TOPICS):
        number = _FIRST_MADE_UP + k
        code = _made_up_code(number)
        name = f"[Mẫu] Thủ tục minh họa số {number} – {topic[0].upper()}{topic[1:]}"
        if code == SUCCESSOR_PROCEDURE:
            name += " (thay thế thủ tục minh họa số 40)"
        level = "4" if code == LEVEL4_PROCEDURE else "3"
        days = 5 + (number * 7) % 16
        base = _Proc(code, name, fcode, FIELD_AGENCY[fcode], days, level, _URL_DEPARTMENT,
                     start, None)
        if code == REPLACED_PROCEDURE:
            rows.append(replace(base, valid_to=REPLACED_ON - dt.timedelta(days=1)))
            continue
        if code == SUCCESSOR_PROCEDURE:
            base = replace(base, valid_from=REPLACED_ON)
        rows.extend(with_decree_42(base))
    return rows


def procedure_rows() -> list[dict[str, str]]:
    """The rows of ``procedures.csv`` (columns :data:`PROCEDURE_COLUMNS`)."""
    return [
        {
            "MaTTHC": p.code, "TenTTHC": p.name, "MaLinhVuc": p.field_code,
            "TenLinhVuc": FIELD_NAMES[p.field_code], "MaDonVi": p.agency,
            "ThoiHanGiaiQuyet": str(p.days), "MucDo": p.level, "DiaChiDangTai": p.url,
            "CongKhai": "1", "MotCua": "1", "LienThong": "1",
            "HieuLucTu": p.valid_from.isoformat(),
            "HieuLucDen": p.valid_to.isoformat() if p.valid_to else "",
        }
        for p in _catalogue()
    ]


def agency_rows() -> list[dict[str, str]]:
    """The rows of ``agencies.csv`` (columns :data:`AGENCY_COLUMNS`)."""
    return [dict(a) for a in AGENCIES]


# --------------------------------------------------------------------------- calendar


class _WorkDays:
    """Vietnam's working days (``holidays``' ``is_working_day``) as a sorted list."""

    def __init__(self, first_year: int = 2016, last_year: int = 2024) -> None:
        vn = holidays.country_holidays("VN", years=range(first_year, last_year + 1))
        day, last = dt.date(first_year, 1, 1), dt.date(last_year, 12, 31)
        days: list[dt.date] = []
        while day <= last:
            if vn.is_working_day(day):
                days.append(day)
            day += dt.timedelta(days=1)
        self.days = days

    def after(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after ``day`` (n ≥ 1); ``day`` itself when n = 0."""
        if n <= 0:
            return day
        return self.days[bisect_right(self.days, day) + n - 1]

    def before(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day before ``day`` (n ≥ 1)."""
        return self.days[bisect_left(self.days, day) - n]

    def span(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """The working days from ``first`` to ``last``, both included."""
        return self.days[bisect_left(self.days, first):bisect_right(self.days, last)]

    def last_on_or_before(self, day: dt.date) -> dt.date:
        return self.days[bisect_right(self.days, day) - 1]


@lru_cache(maxsize=1)
def _workdays() -> _WorkDays:
    return _WorkDays()


# Office hours: 07:30–11:29 and 13:30–16:59 (the due time is 17:00).
_SLOTS = list(range(7 * 60 + 30, 11 * 60 + 30)) + list(range(13 * 60 + 30, 17 * 60))
_DUE_TIME = dt.time(17, 0, 0)

# --------------------------------------------------------------------------- people

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
           "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Trương", "Đinh", "Lâm", "Mai"]
_MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Hữu", "Thanh", "Quốc", "Thu", "Đức", "Hoài",
           "Kim", "Gia", "Bảo", "Xuân"]
_GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng",
          "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phong", "Phúc", "Quân", "Sơn",
          "Tâm", "Thảo", "Trang", "Trung", "Tuấn", "Vy", "Yến", "Khoa", "Nhung", "Thịnh"]
_COMPANY_KIND = ["Công ty TNHH", "Công ty Cổ phần", "Công ty TNHH MTV", "Doanh nghiệp tư nhân"]
_COMPANY_TRADE = ["Thiết bị Y tế", "Kỹ thuật", "Thương mại Dịch vụ", "Xuất nhập khẩu",
                  "Công nghệ", "Hóa chất", "Vật tư Công nghiệp", "Dầu khí", "Thủy sản",
                  "Xây dựng", "Điện tử", "Phòng khám Đa khoa"]
_COMPANY_BRAND = ["Phước Thành", "An Khang", "Hải Đăng", "Minh Phát", "Sao Biển", "Long Hải",
                  "Bình Minh", "Thái Sơn", "Phú Mỹ", "Côn Đảo", "Hồ Tràm", "Châu Đức",
                  "Tân Thành", "Vạn Lợi", "Đông Á", "Nam Việt"]
_STREETS = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Văn Trỗi", "Ba Cu", "Lê Hồng Phong",
            "Nguyễn An Ninh", "Thùy Vân", "Hạ Long", "Đô Lương", "30 Tháng 4", "Bình Giã",
            "Cách Mạng Tháng Tám", "Hùng Vương", "Nguyễn Thanh Đằng", "Độc Lập"]
_PLACES = [
    "phường 1, thành phố Vũng Tàu", "phường 7, thành phố Vũng Tàu",
    "phường Thắng Tam, thành phố Vũng Tàu", "phường Rạch Dừa, thành phố Vũng Tàu",
    "phường Phước Trung, thành phố Bà Rịa", "phường Long Toàn, thành phố Bà Rịa",
    "phường Phú Mỹ, thị xã Phú Mỹ", "thị trấn Long Điền, huyện Long Điền",
    "xã Phước Thuận, huyện Xuyên Mộc", "thị trấn Ngãi Giao, huyện Châu Đức",
]
_PHONE_PREFIX = ["090", "091", "093", "094", "097", "098", "083", "084", "085", "070",
                 "077", "079", "089"]

#: Made-up staff (NguoiXuLy), per agency; the intake desk has its own.
_STAFF: dict[str, list[str]] = {
    "desk": ["Bùi Thị Kim Ngân", "Đặng Văn Hậu", "Lâm Thị Bích Tuyền"],
    "SKHCN-BRVT": ["Trần Thị Mỹ Hạnh", "Nguyễn Hoàng Phúc", "Lê Văn Thành", "Phạm Ngọc Diệp"],
    "CCTDC-BRVT": ["Võ Minh Tâm", "Đỗ Thị Thu Hà", "Huỳnh Quốc Bảo", "Dương Thị Ngọc Hân"],
    "TTTK-BRVT": ["Hồ Thị Lan Anh", "Mai Xuân Lộc"],
    "TTUD-BRVT": ["Ngô Thanh Tùng", "Hồ Thị Lan Anh"],
}
_OFFICE: dict[str, str] = {
    "ATBX": "Phòng Quản lý chuyên ngành",
    "HDKHCN": "Phòng Quản lý khoa học",
    "TCDLCL": "Phòng Quản lý Tiêu chuẩn Chất lượng",
    "centre": "Phòng Thông tin - Thống kê",
    "desk": "Bộ phận Tiếp nhận và Trả kết quả",
    "portal": "Cổng Dịch vụ công",
}
_NOTES: dict[str, str] = {
    "submit": "Nộp hồ sơ trực tuyến",
    "intake": "Tiếp nhận hồ sơ, hẹn trả ngày {due}",
    "refuse": "Từ chối tiếp nhận: hồ sơ chưa đủ thành phần theo quy định",
    "process": "Chuyển phòng chuyên môn xử lý",
    "request": "Yêu cầu bổ sung hồ sơ",
    "resume": "Đã nhận hồ sơ bổ sung, tiếp tục xử lý",
    "withdraw": "Tổ chức, cá nhân rút hồ sơ",
    "stop": "Dừng xử lý hồ sơ",
    "resolve": "Hoàn thành xử lý, có kết quả",
    "return": "Trả kết quả cho tổ chức, cá nhân",
}


def _ascii(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    text = unicodedata.normalize("NFD", text)
    return "".join(c for c in text if c.isascii() and c.isalnum()).lower()


def _applicant(rng: random.Random) -> dict[str, Any]:
    """Made-up applicant: type and personal data."""
    kind = rng.choices([2, 1, 4], weights=[70, 25, 5])[0]
    person = f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
    if kind == 1:
        holder = person
        mail = f"{_ascii(person)}{rng.randint(60, 99)}@example.com"
    else:
        brand = rng.choice(_COMPANY_BRAND)
        holder = f"{rng.choice(_COMPANY_KIND)} {rng.choice(_COMPANY_TRADE)} {brand}"
        mail = f"lienhe.{_ascii(brand)}{rng.randint(1, 99)}@example.com"
    born = rng.randint(1955, 2000)
    id_number = f"077{(born >= 2000) * 2 + rng.randint(0, 1)}{born % 100:02d}{rng.randint(0, 999999):06d}"
    phone = f"{rng.choice(_PHONE_PREFIX)}{rng.randint(0, 9999999):07d}"
    address = (f"Số {rng.randint(1, 250)} đường {rng.choice(_STREETS)}, {rng.choice(_PLACES)}, "
               "tỉnh Bà Rịa - Vũng Tàu")
    return {"LoaiDoiTuong": kind, "ChuHoSo": holder, "SoGiayToChuHoSo": id_number,
            "SoDienThoai": phone, "Email": mail, "DiaChi": address}


# --------------------------------------------------------------------------- dossiers


@dataclass
class _Event:
    day: dt.date
    status: int
    kind: str
    at: dt.datetime | None = None


@dataclass
class _Dossier:
    code: str
    year: int
    proc: _Proc
    channel: int
    applicant: dict[str, Any]
    events: list[_Event]
    due0: dt.date | None = None
    rounds: list[tuple[dt.date, dt.date, dt.date, dt.date]] = field(default_factory=list)
    legacy: bool = False
    paid_online: bool = False
    digitised: bool = False
    rating: int | None = None


class _Generator:
    """Builds the dossiers of one sample, deterministically from a seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.cal = _workdays()
        self.catalogue = _catalogue()
        self.seq: Counter[str] = Counter()

    def rng(self, part: str) -> random.Random:
        return random.Random(f"motcua-sample:{self.seed}:{part}")

    # -- helpers
    def code(self, proc_agency: str, day: dt.date) -> str:
        prefix = "TDC" if proc_agency == "CCTDC-BRVT" else "KHCN"
        key = f"{prefix}-{day:%y%m%d}"
        self.seq[key] += 1
        return f"{key}-{self.seq[key]:04d}"

    def proc_on(self, code: str, day: dt.date) -> _Proc:
        for p in self.catalogue:
            if p.code == code and p.valid_on(day):
                return p
        raise LookupError(f"no catalogue row for {code} on {day}")

    def procs_on(self, day: dt.date) -> list[_Proc]:
        return [p for p in self.catalogue if p.valid_on(day)]

    def random_day(self, rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
        return rng.choice(self.cal.span(first, last))

    def weighted_proc(self, rng: random.Random, day: dt.date) -> _Proc:
        procs = self.procs_on(day)
        weights = [max(1, sum(SEED_NEW_2019[p.seed_row - 1])) if p.seed_row else 3
                   for p in procs]
        return rng.choices(procs, weights=weights)[0]

    # -- lifecycles
    def received(
        self, rng: random.Random, *, year: int, proc: _Proc, channel: int, intake: dt.date,
        outcome: str = "on_time", cap: dt.date | None = None, rounds: int = 0,
        past_first_due: bool = False,
    ) -> _Dossier:
        """A received dossier. ``outcome``: on_time, late, open, withdrawn or stopped.
        ``cap``: no event after this day. ``past_first_due``: an on-time resolution after
        the due first given (possible thanks to the supplement pause)."""
        cal = self.cal
        events: list[_Event] = []
        first_day = intake
        if channel == 2:
            back = rng.choice([0, 0, 1, 1, 2])
            submit = cal.before(intake, back) if back else intake
            if submit.year != intake.year:
                submit = intake
            first_day = submit
            events.append(_Event(submit, 1, "submit"))
        due0 = cal.after(intake, proc.days)
        events.append(_Event(intake, 2, "intake"))
        process = intake if rng.random() < 0.5 else cal.after(intake, 1)
        if cap is not None and process > cap:
            process = intake
        events.append(_Event(process, 4, "process"))
        cursor, due = process, due0
        dossier_rounds = []
        for _ in range(rounds):
            request = cal.after(cursor, rng.randint(1, 2))
            paused = rng.randint(2, 4)
            supplied = cal.after(request, paused)
            new_due = cal.after(due, paused)
            dossier_rounds.append((request, supplied, due, new_due))
            events.append(_Event(request, 5, "request"))
            events.append(_Event(supplied, 4, "resume"))
            cursor, due = supplied, new_due
        end: dt.date | None = None
        if outcome == "on_time":
            last = due if cap is None else min(due, cap)
            first = cursor
            if past_first_due and dossier_rounds and cal.after(due0, 1) <= last:
                first = max(first, cal.after(due0, 1))
            end = rng.choice(cal.span(first, last))
        elif outcome == "late":
            end = cal.after(due, rng.randint(1, 6))
            if cap is not None and end > cap:
                raise ValueError(f"late dossier received {intake} cannot end by {cap}")
        elif outcome in ("withdrawn", "stopped"):
            end = rng.choice(cal.span(cal.after(cursor, 1), max(due, cal.after(cursor, 1))))
        if end is not None and outcome in ("on_time", "late"):
            events.append(_Event(end, 9, "resolve"))
            back_in = rng.choice([0, 0, 1, 1, 2, 3])
            returned = cal.after(end, back_in)
            if cap is not None and returned > cap:
                returned = end
            events.append(_Event(returned, 10, "return"))
        elif end is not None:
            events.append(_Event(end, 7 if outcome == "withdrawn" else 8,
                                 "withdraw" if outcome == "withdrawn" else "stop"))
        online_paid = channel == 2 and (proc.level == "4" or (year >= 2020 and rng.random() < 0.3))
        digitised = rng.random() < {2018: 0.05, 2019: 0.15}.get(year, 0.45)
        rating = None
        if any(e.status == 10 for e in events) and rng.random() < 0.35:
            rating = rng.choice([1, 1, 1, 1, 1, 1, 2, 2, 2, 3])
        return _Dossier(self.code(proc.agency, first_day), year, proc, channel, _applicant(rng),
                        events, due0, dossier_rounds, paid_online=online_paid,
                        digitised=digitised, rating=rating)

    def not_received(self, rng: random.Random, *, year: int, proc: _Proc, day: dt.date,
                     refused: bool) -> _Dossier:
        """Refused at intake (status 3) or an online submission never accepted (status 1)."""
        if refused:
            channel = rng.choice([1, 1, 2])
            events = []
            if channel == 2:
                events.append(_Event(day, 1, "submit"))
                refuse_day = self.cal.after(day, rng.randint(0, 2))
                if refuse_day.year != year:
                    refuse_day = day
                events.append(_Event(refuse_day, 3, "refuse"))
            else:
                events.append(_Event(day, 3, "refuse"))
        else:
            channel = 2
            events = [_Event(day, 1, "submit")]
        return _Dossier(self.code(proc.agency, day), year, proc, channel, _applicant(rng), events)

    # -- years
    def year_2018(self) -> list[_Dossier]:
        rng = self.rng("2018")
        cal = self.cal
        cap = cal.last_on_or_before(dt.date(2018, 12, 31))
        first = dt.date(2018, 1, 2)
        out: list[_Dossier] = []
        specials = ["late"] * 6 + ["withdrawn"] + ["supplement"] * 3 + ["legacy"] * 15
        plain = 280 - len(specials)
        for kind in specials + ["plain"] * plain:
            last_intake = {"late": dt.date(2018, 11, 15), "supplement": dt.date(2018, 10, 31),
                           "withdrawn": dt.date(2018, 10, 31)}.get(kind, dt.date(2018, 12, 14))
            intake = self.random_day(rng, first, last_intake)
            proc = self.weighted_proc(rng, intake)
            channel = self._channel(rng, proc, 2018)
            outcome = {"late": "late", "withdrawn": "withdrawn"}.get(kind, "on_time")
            if kind == "legacy" and rng.random() < 0.2:
                outcome = "late" if intake <= dt.date(2018, 11, 15) else "on_time"
            d = self.received(rng, year=2018, proc=proc, channel=channel, intake=intake,
                              outcome=outcome, cap=cap, rounds=1 if kind == "supplement" else 0)
            d.legacy = kind == "legacy"
            out.append(d)
        out += self._not_received(rng, 2018, refused=4, unaccepted=2)
        return out

    def year_2019(self) -> list[_Dossier]:
        rng = self.rng("2019")
        cal = self.cal
        cap = dt.date(2019, 12, 31)
        first = dt.date(2019, 1, 2)
        plans: list[tuple[SeedProcedure, int]] = []
        for sp, (online, offline) in zip(SEED_PROCEDURES, SEED_NEW_2019, strict=True):
            plans += [(sp, 2)] * online + [(sp, 1)] * offline
        offline_at = [i for i, (_, ch) in enumerate(plans) if ch == 1]
        postal = set(rng.sample(offline_at, 12))
        supplement = set(rng.sample(offline_at, 4))
        year_end = [i for i in rng.sample(offline_at, 8) if i not in supplement][:5]
        year_end_days = cal.span(dt.date(2019, 12, 23), cap)
        out: list[_Dossier] = []
        for i, (sp, channel) in enumerate(plans):
            if i in supplement:
                intake = self.random_day(rng, first, dt.date(2019, 10, 31))
            elif i in year_end:
                intake = year_end_days[year_end.index(i) % len(year_end_days)]
            else:
                intake = self.random_day(rng, first, cap)
            proc = self.proc_on(sp.code, intake)
            out.append(self.received(
                rng, year=2019, proc=proc, channel=3 if i in postal else channel, intake=intake,
                outcome="on_time", cap=cap, rounds=1 if i in supplement else 0,
                past_first_due=True))
        out += self._not_received(rng, 2019, refused=5, unaccepted=4, seed_only=True)
        return out

    def year_2020(self) -> list[_Dossier]:
        rng = self.rng("2020")
        first = dt.date(2020, 1, 2)
        last = dt.date(2020, 12, 31)
        specials = (["late"] * 10 + ["stalled"] * 5 + ["withdrawn", "stopped"]
                    + ["supplement"] * 2 + ["supplement2"] + ["year_end"] * 8)
        out: list[_Dossier] = []
        for kind in specials + ["plain"] * (330 - len(specials)):
            if kind == "stalled":
                intake = self.random_day(rng, dt.date(2020, 9, 1), dt.date(2020, 11, 20))
            elif kind == "year_end":  # still open, not yet due, at the end of 2020
                intake = self.random_day(rng, dt.date(2020, 12, 24), last)
            elif kind in ("late", "supplement", "supplement2", "withdrawn", "stopped"):
                intake = self.random_day(rng, first, dt.date(2020, 10, 30))
            else:
                intake = self.random_day(rng, first, last)
            proc = self.weighted_proc(rng, intake)
            channel = self._channel(rng, proc, 2020)
            outcome = {"late": "late", "stalled": "open", "year_end": "open", "withdrawn": "withdrawn",
                       "stopped": "stopped"}.get(kind, "on_time")
            rounds = {"supplement": 1, "supplement2": 2}.get(kind, 0)
            out.append(self.received(rng, year=2020, proc=proc, channel=channel, intake=intake,
                                     outcome=outcome, rounds=rounds))
        # a procedure code missing from the catalogue, with its due recorded: it counts
        intake = dt.date(2020, 6, 16)
        known = self.proc_on(SEED_PROCEDURES[4].code, intake)
        stray = _Proc(UNKNOWN_PROCEDURE, "Thủ tục chưa có trong danh mục (minh họa)",
                      known.field_code, known.agency, 10, "3", "", intake, None)
        d = self.received(rng, year=2020, proc=stray, channel=1, intake=intake)
        out.append(d)
        out += self._not_received(rng, 2020, refused=5, unaccepted=3)
        for d in out:  # the export ends with 2020: later changes are not in it
            d.events = [e for e in d.events if e.day <= EXPORT_END.date()]
        return out

    def _channel(self, rng: random.Random, proc: _Proc, year: int) -> int:
        online = {2018: 0.03, 2020: 0.15}[year]
        if proc.level == "4":
            online = 0.6
        r = rng.random()
        return 2 if r < online else 3 if r < online + 0.03 else 1

    def _not_received(self, rng: random.Random, year: int, *, refused: int, unaccepted: int,
                      seed_only: bool = False) -> list[_Dossier]:
        out = []
        first = dt.date(year, 1, 2)
        last = self.cal.last_on_or_before(dt.date(year, 12, 20))
        for k in range(refused + unaccepted):
            day = self.random_day(rng, first, last)
            if seed_only:
                proc = self.proc_on(rng.choice(SEED_PROCEDURES[5:9]).code, day)
            else:
                proc = self.weighted_proc(rng, day)
            out.append(self.not_received(rng, year=year, proc=proc, day=day, refused=k < refused))
        return out

    # -- bad records
    def quarantine_records(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(case, line text, applicant) for every record that must be quarantined. Each
        has a dossier code of its own; those on the seed's procedures cannot be read as a
        dossier at all (no JSON, no code), the others are on made-up procedures."""
        rng = self.rng("quarantine")
        row9 = SEED_PROCEDURES[8].code
        out: list[tuple[str, str, dict[str, Any]]] = []
        for k, case in enumerate(QUARANTINE_CASES):
            intake = self.random_day(rng, dt.date(2019, 2, 11), dt.date(2019, 11, 29))
            if case in ("truncated", "no_code", "empty_code"):
                proc = self.proc_on(row9, intake)
            else:
                made_up = [p for p in self.procs_on(intake) if p.seed_row is None]
                proc = made_up[(k * 7) % len(made_up)]
            outcome = "on_time" if case == "resolved_before_intake" else "open"
            d = self.received(rng, year=2019, proc=proc, channel=1, intake=intake, outcome=outcome)
            d.events = [e for e in d.events if e.kind != "return"]
            self.stamp(rng, d)
            snap = self.snapshots(d)[-1]
            if case == "no_code":
                del snap["MaHoSo"]
            elif case == "empty_code":
                snap["MaHoSo"] = ""
            elif case == "status_42":
                snap["TrangThaiHoSo"] = 42
            elif case == "channel_9":
                snap["KenhThucHien"] = 9
            elif case == "bad_updated":
                snap["NgayCapNhat"] = "not-a-date"
            elif case == "resolved_before_intake":
                early = dt.datetime.combine(self.cal.before(intake, 2), dt.time(9, 12, 40))
                snap["NgayKetThucXuLy"] = early
                for entry in snap["QuaTrinhXuLy"]:
                    if entry["TrangThai"] == 9:
                        entry["ThoiDiemXuLy"] = early
            elif case == "no_intake":
                snap["NgayTiepNhan"] = None
                snap["QuaTrinhXuLy"] = [e for e in snap["QuaTrinhXuLy"] if e["TrangThai"] != 2]
            elif case == "bad_intake":
                snap["NgayTiepNhan"] = "31/02/2019"
            elif case == "bad_due":
                snap["NgayHenTra"] = "2019-13-45"
            elif case == "unknown_no_due":
                snap["MaTTHC"] = UNKNOWN_PROCEDURE_NO_DUE
                snap["TenTTHC"] = "Thủ tục không rõ mã (minh họa)"
                snap["NgayHenTra"] = None
            text = _dumps(_plain(snap))
            out.append((case, text[: len(text) // 2] if case == "truncated" else text,
                        d.applicant))
        return out

    # -- times and snapshots
    def stamp(self, rng: random.Random, d: _Dossier) -> None:
        """Give each event a time: office hours, increasing within the day."""
        i = 0
        while i < len(d.events):
            j = i
            while j < len(d.events) and d.events[j].day == d.events[i].day:
                j += 1
            minutes = sorted(rng.sample(_SLOTS, j - i))
            for e, m in zip(d.events[i:j], minutes, strict=True):
                e.at = dt.datetime.combine(e.day, dt.time(m // 60, m % 60, rng.randint(0, 59)))
            i = j

    def snapshots(self, d: _Dossier) -> list[dict[str, Any]]:
        """One full snapshot per event, with the history so far (times as datetimes)."""
        p = d.proc
        state: dict[str, Any] = dict.fromkeys(SNAPSHOT_FIELDS)
        state.update({
            "MaHoSo": d.code, "MaTTHC": p.code, "TenTTHC": p.name,
            "MaLinhVuc": p.field_code, "TenLinhVuc": FIELD_NAMES[p.field_code],
            "MaDonVi": p.agency, "KenhThucHien": d.channel, **d.applicant,
            "DuocThanhToanTrucTuyen": False, "HoSoCoThanhPhanSoHoa": d.digitised,
        })
        history: list[dict[str, Any]] = []
        supplements: list[dict[str, Any]] = []
        rounds = iter(d.rounds)
        current_round: tuple[dt.date, dt.date, dt.date, dt.date] | None = None
        out: list[dict[str, Any]] = []
        for e in d.events:
            at = e.at
            assert at is not None
            agency, office = p.agency, _OFFICE[p.field_code]
            staff_pool = _STAFF.get(p.agency, _STAFF["SKHCN-BRVT"])
            note = _NOTES[e.kind]
            if e.kind == "submit":
                state["NgayNopHoSo"] = at
                office, staff = _OFFICE["portal"], d.applicant["ChuHoSo"]
            elif e.kind in ("intake", "refuse", "return"):
                office = _OFFICE["desk"]
                staff = _staff(d.code, e.kind, _STAFF["desk"])
                if e.kind == "intake":
                    assert d.due0 is not None
                    due = dt.datetime.combine(d.due0, _DUE_TIME)
                    state["NgayTiepNhan"], state["NgayHenTra"] = at, due
                    note = note.format(due=f"{d.due0:%d/%m/%Y}")
                elif e.kind == "refuse":
                    state["NgayTuChoi"] = at
                else:
                    state["NgayTra"] = at
                    state["DanhGia"] = d.rating
                    state["DuocThanhToanTrucTuyen"] = d.paid_online
            else:
                if p.seed_row in (5, 14) or (p.seed_row is None and p.field_code == "HDKHCN"
                                             and int(p.code[-2:]) % 3 == 0):
                    agency = "TTTK-BRVT" if e.day < CENTRE_MERGER else "TTUD-BRVT"
                    office = _OFFICE["centre"]
                    staff_pool = _STAFF[agency]
                staff = _staff(d.code, "process", staff_pool)
                if e.kind == "request":
                    current_round = next(rounds)
                    supplements.append({
                        "NgayYeuCauBoSung": at, "NgayBoSung": None,
                        "NgayHenTraTruoc": dt.datetime.combine(current_round[2], _DUE_TIME),
                        "NgayHenTraMoi": None,
                    })
                elif e.kind == "resume":
                    assert current_round is not None
                    new_due = dt.datetime.combine(current_round[3], _DUE_TIME)
                    supplements[-1] = {**supplements[-1], "NgayBoSung": at, "NgayHenTraMoi": new_due}
                    state["NgayHenTra"] = new_due
                elif e.kind == "resolve":
                    state["NgayKetThucXuLy"] = at
            history.append({"TrangThai": e.status, "ThoiDiemXuLy": at, "DonViXuLy": agency,
                            "PhongBanXuLy": office, "NguoiXuLy": staff, "NoiDungXuLy": note})
            state["TrangThaiHoSo"] = e.status
            state["NgayCapNhat"] = at
            state["DanhSachHoSoBoSung"] = [dict(s) for s in supplements]
            state["QuaTrinhXuLy"] = [dict(h) for h in history]
            out.append(dict(state))
        return out


def _staff(code: str, step: str, pool: list[str]) -> str:
    """A stable staff member for a dossier's step (the same person on every snapshot)."""
    return pool[sum(map(ord, code + step)) % len(pool)]


# --------------------------------------------------------------------------- rendering


@lru_cache(maxsize=1 << 16)
def _fmt(value: dt.datetime) -> str:
    return f"{value:%Y%m%d%H%M%S}"


def _fmt_styled(value: dt.datetime, style: str) -> str:
    utc = value - dt.timedelta(hours=7)
    return {
        "offset": f"{value:%Y%m%d%H%M%S}+07:00",
        "iso": f"{value:%Y-%m-%dT%H:%M:%S}+07:00",
        "iso_z": f"{utc:%Y-%m-%dT%H:%M:%SZ}",
        "z": f"{utc:%Y%m%d%H%M%S}Z",
    }[style]


def _ts(value: Any) -> Any:
    return _fmt(value) if isinstance(value, dt.datetime) else value


def _plain(snap: dict[str, Any]) -> dict[str, Any]:
    """A snapshot with its datetimes (top level, supplement rounds, history) as contract
    timestamps."""
    out = dict(snap)
    for k in TIMESTAMP_FIELDS:
        if k in out:
            out[k] = _ts(out[k])
    for key, fields in (("DanhSachHoSoBoSung", None), ("QuaTrinhXuLy", ("ThoiDiemXuLy",))):
        items = out.get(key)
        if isinstance(items, list):
            out[key] = [
                {k: (_ts(v) if fields is None or k in fields else v) for k, v in item.items()}
                for item in items
            ]
    return out


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


_TCDLCL_SPELLINGS = ["TCĐLCL", "TCDLCL"]


def _render(snap: dict[str, Any], rng: random.Random, *, legacy: bool) -> str:
    """One snapshot as a JSON line, with the harmless mess of real logs."""
    s = dict(snap)
    if rng.random() < 0.1:
        s["TenTTHC"] = unicodedata.normalize("NFD", s["TenTTHC"])
    r = rng.random()
    if s["MaLinhVuc"] == "TCDLCL" and r < 0.35:
        s["TenLinhVuc"] = _TCDLCL_SPELLINGS[int(r < 0.2)]
    elif r > 0.9:
        s["TenLinhVuc"] = unicodedata.normalize("NFD", s["TenLinhVuc"])
    history = [dict(h) for h in s["QuaTrinhXuLy"]]
    if len(history) > 1 and rng.random() < 0.15:
        rng.shuffle(history)
    if len(history) > 2 and rng.random() < 0.03:
        history.insert(rng.randrange(len(history)), dict(history[1]))
    if rng.random() < 0.1:
        style = rng.choice(["offset", "iso", "iso_z", "z"])
        for k in TIMESTAMP_FIELDS:
            if isinstance(s[k], dt.datetime) and rng.random() < 0.6:
                s[k] = _fmt_styled(s[k], style)
        for h in history:
            if rng.random() < 0.5:
                h["ThoiDiemXuLy"] = _fmt_styled(h["ThoiDiemXuLy"], style)
    s["QuaTrinhXuLy"] = history
    if rng.random() < 0.3:
        s = {k: ("" if v is None else v) for k, v in s.items()}
    if legacy:
        for k in ("NgayHenTra", "DanhSachHoSoBoSung", "DanhGia", "DuocThanhToanTrucTuyen",
                  "HoSoCoThanhPhanSoHoa", "Email"):
            s.pop(k, None)
    return _dumps(_plain(s))


# --------------------------------------------------------------------------- files

#: Dossier files: (name, share of the lines). One uses Windows line ends.
DOSSIER_FILES: list[tuple[str, int]] = [
    ("export-01.jsonl", 3), ("export-02.jsonl.gz", 3), ("export-03.jsonl", 2),
    ("export-04.jsonl.gz", 2), ("export-05.jsonl", 2), ("legacy-export.jsonl", 1),
]
CRLF_FILE = "legacy-export.jsonl"
TRUNCATED_FILE = "export-05.jsonl"


@dataclass
class _Sample:
    dossiers: list[_Dossier]
    lines: list[tuple[int, str]]  # (year, JSON line), in generation order
    bad: list[tuple[str, str, dict[str, Any]]]  # (case, text, applicant)
    duplicates: int


def _build(seed: int) -> tuple[_Generator, _Sample]:
    gen = _Generator(seed)
    dossiers = gen.year_2018() + gen.year_2019() + gen.year_2020()
    rng = gen.rng("render")
    lines: list[tuple[int, str]] = []
    duplicates = 0
    for d in dossiers:
        gen.stamp(rng, d)
        for snap in gen.snapshots(d):
            text = _render(snap, rng, legacy=d.legacy)
            lines.append((d.year, text))
            if rng.random() < 0.03:
                lines.append((d.year, text))
                duplicates += 1
    return gen, _Sample(dossiers, lines, gen.quarantine_records(), duplicates)


def sample_personal_values(seed: int = 2019) -> frozenset[str]:
    """Every personal value written in the sample of ``seed`` (applicants' ``ChuHoSo``,
    ``SoGiayToChuHoSo``, ``SoDienThoai``, ``Email``, ``DiaChi`` and staff ``NguoiXuLy``),
    so that a test can check none of them reaches the warehouse."""
    _, sample = _build(seed)
    applicants = [d.applicant for d in sample.dossiers] + [a for _, _, a in sample.bad]
    values = {str(a[k]) for a in applicants for k in PERSONAL_FIELDS}
    for staff in _STAFF.values():
        values.update(staff)
    values.discard("")
    return frozenset(values)


def _csv_bytes(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()


def write_sample(out: Path, seed: int = 2019) -> dict[str, Any]:
    """Write the sample export bundle into ``out`` and return a small summary.

    Replaces the files of a previous sample in ``out`` (``procedures.csv``,
    ``agencies.csv`` and ``dossiers/*.jsonl[.gz]``); leaves anything else alone. The bytes
    written depend only on ``seed``.

    The summary: ``out``, ``seed``, ``files`` (paths relative to ``out``), ``procedures``
    (distinct codes), ``catalogue_rows``, ``agencies``, ``dossiers`` and ``lines`` per year
    (of intake, else of submission or refusal), ``lines_total``, ``duplicate_lines``,
    ``received_2019`` / ``received_2019_online``, ``quarantine_records`` (lines that must be
    quarantined) and ``quarantined_dossiers`` (their non-empty dossier codes).
    """
    out = Path(out)
    gen, sample = _build(seed)
    folder = out / "dossiers"
    folder.mkdir(parents=True, exist_ok=True)
    for old in sorted(folder.iterdir()):
        if old.is_file() and old.name.endswith((".jsonl", ".jsonl.gz")):
            old.unlink()

    rng = gen.rng("files")
    names = [n for n, _ in DOSSIER_FILES]
    weights = [w for _, w in DOSSIER_FILES]
    per_file: dict[str, list[str]] = {n: [] for n in names}
    targets = rng.choices(names, weights=weights, k=len(sample.lines))
    for (_, text), target in zip(sample.lines, targets, strict=True):
        per_file[target].append(text)
    truncated = ""
    for case, text, _ in sample.bad:
        if case == "truncated":
            truncated = text
        else:
            per_file[rng.choice(names)].append(text)
    for n in names:
        rng.shuffle(per_file[n])

    written: list[str] = []
    cat = procedure_rows()
    (out / "procedures.csv").write_bytes(_csv_bytes(PROCEDURE_COLUMNS, cat))
    (out / "agencies.csv").write_bytes(_csv_bytes(AGENCY_COLUMNS, agency_rows()))
    written += ["procedures.csv", "agencies.csv"]
    for n in names:
        eol = "\r\n" if n == CRLF_FILE else "\n"
        body = "".join(line + eol for line in per_file[n])
        if n == TRUNCATED_FILE:
            body += truncated  # cut off: no line end either
        data = body.encode("utf-8")
        (folder / n).write_bytes(_gzip_bytes(data) if n.endswith(".gz") else data)
        written.append(f"dossiers/{n}")

    dossiers_per_year = Counter(d.year for d in sample.dossiers)
    lines_per_year = Counter(year for year, _ in sample.lines)
    received_2019 = [d for d in sample.dossiers
                     if d.year == 2019 and any(e.status == 2 for e in d.events)]
    quarantined_codes = []
    for _, text, _ in sample.bad:
        try:
            code = json.loads(text).get("MaHoSo")
        except ValueError:
            code = None
        if code:
            quarantined_codes.append(code)
    return {
        "out": str(out),
        "seed": seed,
        "files": written,
        "procedures": len({r["MaTTHC"] for r in cat}),
        "catalogue_rows": len(cat),
        "agencies": len(AGENCIES),
        "dossiers": dict(sorted(dossiers_per_year.items())),
        "lines": dict(sorted(lines_per_year.items())),
        "lines_total": len(sample.lines) + len(sample.bad),
        "duplicate_lines": sample.duplicates,
        "received_2019": len(received_2019),
        "received_2019_online": sum(d.channel == 2 for d in received_2019),
        "quarantine_records": len(sample.bad),
        "quarantined_dossiers": sorted(quarantined_codes),
    }
