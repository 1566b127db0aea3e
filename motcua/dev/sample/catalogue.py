"""The sample's catalogue: the agencies and the procedures (the seed report's 15 and 44
made up), with their validity intervals, as the rows of ``agencies.csv`` and
``procedures.csv``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import NamedTuple

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


@dataclass(frozen=True)
class CatalogueRow:
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


def catalogue() -> list[CatalogueRow]:
    """Every catalogue row, ordered by procedure then validity."""
    start = dt.date.fromisoformat(CATALOGUE_FROM)
    end_42 = DECREE_42_FROM - dt.timedelta(days=1)
    rows: list[CatalogueRow] = []

    def with_decree_42(p: CatalogueRow) -> list[CatalogueRow]:
        new_level = "toan_trinh" if p.level == "4" else "mot_phan"
        return [
            replace(p, valid_to=end_42),
            replace(p, level=new_level, valid_from=DECREE_42_FROM),
        ]

    for i, sp in enumerate(SEED_PROCEDURES, start=1):
        base = CatalogueRow(sp.code, sp.name, sp.field_code, FIELD_AGENCY[sp.field_code], sp.days,
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
        base = CatalogueRow(code, name, fcode, FIELD_AGENCY[fcode], days, level, _URL_DEPARTMENT,
                            start, None)
        if code == REPLACED_PROCEDURE:
            rows.append(replace(base, valid_to=REPLACED_ON - dt.timedelta(days=1)))
            continue
        if code == SUCCESSOR_PROCEDURE:
            base = replace(base, valid_from=REPLACED_ON)
        rows.extend(with_decree_42(base))
    return rows


def procedure_rows() -> list[dict[str, str]]:
    """The rows of ``procedures.csv`` (columns :data:`motcua.dev.sample.contract.PROCEDURE_COLUMNS`)."""
    return [
        {
            "MaTTHC": p.code, "TenTTHC": p.name, "MaLinhVuc": p.field_code,
            "TenLinhVuc": FIELD_NAMES[p.field_code], "MaDonVi": p.agency,
            "ThoiHanGiaiQuyet": str(p.days), "MucDo": p.level, "DiaChiDangTai": p.url,
            "CongKhai": "1", "MotCua": "1", "LienThong": "1",
            "HieuLucTu": p.valid_from.isoformat(),
            "HieuLucDen": p.valid_to.isoformat() if p.valid_to else "",
        }
        for p in catalogue()
    ]


def agency_rows() -> list[dict[str, str]]:
    """The rows of ``agencies.csv`` (columns :data:`motcua.dev.sample.contract.AGENCY_COLUMNS`)."""
    return [dict(a) for a in AGENCIES]
