"""A small counter of our own (independent of the pipeline) for the tests of the sample
export bundle (``tests/dev/test_sample*.py``): the seed report's rows, the sample's
timestamps, its dossier lines, each dossier's newest snapshot, intake and resolution."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from pathlib import Path
from typing import Any

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
