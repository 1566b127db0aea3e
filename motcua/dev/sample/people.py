"""Made-up people of the sample: applicants (names, ID numbers, phones, e-mails,
addresses), the staff who handle dossiers, their offices and the notes they write."""

from __future__ import annotations

import random
import unicodedata
from typing import Any

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
STAFF: dict[str, list[str]] = {
    "desk": ["Bùi Thị Kim Ngân", "Đặng Văn Hậu", "Lâm Thị Bích Tuyền"],
    "SKHCN-BRVT": ["Trần Thị Mỹ Hạnh", "Nguyễn Hoàng Phúc", "Lê Văn Thành", "Phạm Ngọc Diệp"],
    "CCTDC-BRVT": ["Võ Minh Tâm", "Đỗ Thị Thu Hà", "Huỳnh Quốc Bảo", "Dương Thị Ngọc Hân"],
    "TTTK-BRVT": ["Hồ Thị Lan Anh", "Mai Xuân Lộc"],
    "TTUD-BRVT": ["Ngô Thanh Tùng", "Hồ Thị Lan Anh"],
}
OFFICE: dict[str, str] = {
    "ATBX": "Phòng Quản lý chuyên ngành",
    "HDKHCN": "Phòng Quản lý khoa học",
    "TCDLCL": "Phòng Quản lý Tiêu chuẩn Chất lượng",
    "centre": "Phòng Thông tin - Thống kê",
    "desk": "Bộ phận Tiếp nhận và Trả kết quả",
    "portal": "Cổng Dịch vụ công",
}
NOTES: dict[str, str] = {
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


def make_applicant(rng: random.Random) -> dict[str, Any]:
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
