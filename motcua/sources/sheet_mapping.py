"""How a vendor's sheet maps onto the snapshot contract: headers matched tolerantly
(:func:`fold`: case, accents with "Đ" as "D", spacing and punctuation ignored) against
the default aliases (:data:`FIELD_ALIASES`) or the contract's own names, and value
texts ("Trực tuyến", "Đã trả kết quả") turned into codes; a user's mapping file
(:func:`load_mapping`) extends or overrides both."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from motcua.sources.workbook import decode_bytes


def fold(text: Any) -> str:
    """Matching key: lower case, no accents ("đ" -> "d"), letters and digits only."""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.replace("đ", "d").replace("Đ", "D").lower()
    return re.sub(r"[^a-z0-9]", "", s)


#: Contract field -> default header aliases, most specific first (when two columns
#: map to one field, the one whose alias comes first wins).
FIELD_ALIASES: dict[str, list[str]] = {
    "MaHoSo": ["Mã hồ sơ", "Số hồ sơ", "Mã số hồ sơ", "Mã HS", "Số HS"],
    "MaTTHC": ["Mã TTHC", "Mã thủ tục", "Mã thủ tục hành chính", "Mã số TTHC", "Mã TT"],
    "TenTTHC": ["Tên TTHC", "Tên thủ tục", "Tên thủ tục hành chính", "Thủ tục hành chính", "Thủ tục", "TTHC"],
    "MaLinhVuc": ["Mã lĩnh vực"],
    "TenLinhVuc": ["Tên lĩnh vực", "Lĩnh vực"],
    "MaDonVi": [
        "Mã đơn vị", "Mã cơ quan", "Mã đơn vị tiếp nhận", "Đơn vị", "Đơn vị tiếp nhận",
        "Cơ quan", "Cơ quan tiếp nhận", "Đơn vị xử lý", "Cơ quan giải quyết",
    ],
    "KenhThucHien": [
        "Kênh", "Kênh thực hiện", "Kênh tiếp nhận", "Kênh nộp", "Hình thức nộp",
        "Hình thức tiếp nhận", "Hình thức nộp hồ sơ", "Hình thức",
    ],
    "NgayNopHoSo": ["Ngày nộp", "Ngày nộp hồ sơ", "Thời gian nộp", "Ngày đăng ký"],
    "NgayTiepNhan": ["Ngày tiếp nhận", "Thời gian tiếp nhận", "Ngày nhận", "Ngày nhận hồ sơ"],
    "NgayHenTra": [
        "Ngày hẹn trả", "Hạn xử lý", "Ngày hẹn trả kết quả", "Hạn giải quyết", "Hạn trả kết quả",
        "Hạn xử lý hồ sơ", "Ngày hẹn",
    ],
    "NgayKetThucXuLy": [
        "Ngày kết thúc xử lý", "Ngày có kết quả", "Ngày hoàn thành", "Ngày hoàn thành xử lý",
        "Ngày giải quyết xong", "Ngày xử lý xong", "Ngày kết thúc",
    ],
    "NgayTra": ["Ngày trả kết quả", "Ngày trả", "Thời gian trả kết quả"],
    "TrangThaiHoSo": ["Trạng thái", "Trạng thái hồ sơ", "Tình trạng", "Tình trạng hồ sơ"],
    "NgayCapNhat": ["Ngày cập nhật", "Thời gian cập nhật", "Cập nhật lúc", "Cập nhật"],
    "NgayTuChoi": ["Ngày từ chối", "Ngày từ chối tiếp nhận"],
    "LoaiDoiTuong": ["Loại đối tượng", "Đối tượng", "Loại chủ hồ sơ"],
    "ChuHoSo": ["Chủ hồ sơ", "Tên chủ hồ sơ", "Người nộp", "Tên người nộp", "Người đứng tên"],
    "SoGiayToChuHoSo": ["Số giấy tờ", "Số CCCD", "Số CMND", "CMND/CCCD", "Số định danh", "Số giấy tờ tùy thân"],
    "SoDienThoai": ["Số điện thoại", "Điện thoại", "SĐT", "ĐT"],
    "Email": ["Email", "E-mail", "Thư điện tử"],
    "DiaChi": ["Địa chỉ", "Địa chỉ chủ hồ sơ"],
    "DanhGia": ["Đánh giá", "Mức độ hài lòng", "Kết quả đánh giá"],
    "DuocThanhToanTrucTuyen": ["Thanh toán trực tuyến", "Đã thanh toán trực tuyến", "TT trực tuyến"],
    "HoSoCoThanhPhanSoHoa": ["Số hóa", "Hồ sơ số hóa", "Đã số hóa", "Có thành phần số hóa"],
}

SNAPSHOT_FIELDS: list[str] = [
    "MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaDonVi", "KenhThucHien",
    "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "TrangThaiHoSo",
    "NgayCapNhat", "NgayTuChoi", "LoaiDoiTuong", "ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai",
    "Email", "DiaChi", "DanhGia", "DuocThanhToanTrucTuyen", "HoSoCoThanhPhanSoHoa",
]
DATE_FIELDS = frozenset(
    {"NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayCapNhat", "NgayTuChoi"}
)
BOOL_FIELDS = frozenset({"DuocThanhToanTrucTuyen", "HoSoCoThanhPhanSoHoa"})
IGNORE = "ignore"

#: Status texts (folded on use) -> TrangThaiHoSo codes (domain.md status table).
STATUS_TEXT: dict[str, int] = {
    "Mới đăng ký": 1, "Chờ tiếp nhận": 1, "Đã nộp trực tuyến": 1, "Nộp trực tuyến": 1,
    "Chờ tiếp nhận trực tuyến": 1, "Chờ xử lý tiếp nhận": 1, "Mới nộp": 1,
    "Đã tiếp nhận": 2, "Tiếp nhận": 2, "Mới tiếp nhận": 2,
    "Từ chối tiếp nhận": 3, "Từ chối": 3, "Không tiếp nhận": 3, "Không đủ điều kiện tiếp nhận": 3,
    "Đang xử lý": 4, "Đang giải quyết": 4, "Đang thụ lý": 4, "Đang thẩm định": 4,
    "Yêu cầu bổ sung": 5, "Bổ sung hồ sơ": 5, "Chờ bổ sung": 5, "Yêu cầu bổ sung hồ sơ": 5,
    "Chờ bổ sung hồ sơ": 5,
    "Chờ thực hiện nghĩa vụ tài chính": 6, "Nghĩa vụ tài chính": 6, "Yêu cầu thực hiện nghĩa vụ tài chính": 6,
    "Chờ thanh toán": 6, "Yêu cầu thanh toán": 6, "Chờ nộp phí": 6,
    "Rút hồ sơ": 7, "Đã rút": 7, "Đã rút hồ sơ": 7, "Công dân rút hồ sơ": 7, "Rút": 7,
    "Dừng xử lý": 8, "Dừng giải quyết": 8, "Đã dừng xử lý": 8, "Dừng": 8,
    "Đã giải quyết": 9, "Có kết quả": 9, "Đã có kết quả": 9, "Chờ trả kết quả": 9,
    "Đã xử lý xong": 9, "Giải quyết xong": 9,
    "Đã trả kết quả": 10, "Trả kết quả": 10, "Đã trả": 10, "Đã trả kết quả cho công dân": 10,
}
#: Channel texts -> KenhThucHien codes (1 in person, 2 online, 3 postal).
CHANNEL_TEXT: dict[str, int] = {
    "Trực tiếp": 1, "Nộp trực tiếp": 1, "Tại quầy": 1, "Tại bộ phận một cửa": 1, "Một cửa": 1,
    "Trực tuyến": 2, "Nộp trực tuyến": 2, "Online": 2, "Qua mạng": 2, "DVC trực tuyến": 2,
    "Dịch vụ công trực tuyến": 2, "Cổng dịch vụ công": 2, "Mạng": 2,
    "Bưu chính": 3, "Bưu chính công ích": 3, "BCCI": 3, "Qua bưu điện": 3, "Bưu điện": 3,
    "Qua bưu chính công ích": 3, "Qua dịch vụ bưu chính công ích": 3,
}
RATING_TEXT: dict[str, int] = {"Rất hài lòng": 1, "Hài lòng": 2, "Không hài lòng": 3, "Chưa hài lòng": 3}
APPLICANT_TEXT: dict[str, int] = {
    "Công dân": 1, "Cá nhân": 1, "Doanh nghiệp": 2, "Cơ quan nhà nước": 3, "Tổ chức": 4, "Tổ chức khác": 4,
}
TRUE_TEXT = frozenset(fold(t) for t in ("1", "x", "có", "true", "yes", "đã", "đúng", "y"))
FALSE_TEXT = frozenset(fold(t) for t in ("0", "không", "false", "no", "chưa", "sai", "n"))

_VALUE_KINDS = {"status": "TrangThaiHoSo", "channel": "KenhThucHien", "rating": "DanhGia", "applicant": "LoaiDoiTuong"}


class Mapping:
    """Header aliases and value texts, defaults plus a user's mapping file."""

    def __init__(self) -> None:
        self.headers: dict[str, tuple[int, str]] = {}  # folded header -> (priority, field)
        for field, aliases in FIELD_ALIASES.items():
            for i, alias in enumerate([*aliases]):
                self.headers.setdefault(fold(alias), (100 + i, field))
        for field in SNAPSHOT_FIELDS:
            self.headers.setdefault(fold(field), (99, field))
        self.values: dict[str, dict[str, int]] = {
            "TrangThaiHoSo": {fold(k): v for k, v in STATUS_TEXT.items()},
            "KenhThucHien": {fold(k): v for k, v in CHANNEL_TEXT.items()},
            "DanhGia": {fold(k): v for k, v in RATING_TEXT.items()},
            "LoaiDoiTuong": {fold(k): v for k, v in APPLICANT_TEXT.items()},
        }

    def add_header(self, header: str, field: str) -> None:
        """A user alias: wins over every default alias."""
        field = field.strip()
        if field.lower() in {IGNORE, "", "-"}:
            field = IGNORE
        elif field not in SNAPSHOT_FIELDS:
            raise ValueError(f"mapping: {header!r} -> {field!r}: not a snapshot field (or 'ignore')")
        self.headers[fold(header)] = (0, field)

    def add_value(self, kind: str, text: str, code: Any) -> None:
        """A user value text for ``status``, ``channel``, ``rating`` or ``applicant``."""
        field = _VALUE_KINDS.get(kind.strip().lower(), kind.strip())
        if field not in self.values:
            raise ValueError(f"mapping: unknown value kind {kind!r} (expected {sorted(_VALUE_KINDS)})")
        try:
            self.values[field][fold(text)] = int(code)
        except (TypeError, ValueError):
            raise ValueError(f"mapping: {kind} {text!r} -> {code!r}: the code must be an integer") from None

    def field_of(self, header: Any) -> tuple[int, str] | None:
        if header is None:
            return None
        return self.headers.get(fold(header))


def load_mapping(path: Path | str, mapping: Mapping | None = None) -> Mapping:
    """Extend the default mapping with a user file.

    * YAML (``.yaml``/``.yml``) or JSON: either a flat object ``{header: field}`` or
      ``{"columns": {header: field}, "status": {text: code}, "channel": {text: code},
      "rating": {...}, "applicant": {...}}``; ``field`` is a contract name or
      ``ignore``;
    * CSV: columns ``header, field`` (one alias a row), optionally ``kind`` (``column``
      -- the default --, ``status``, ``channel``, ``rating``, ``applicant``; for value
      kinds ``header`` is the text and ``field`` the code).
    """
    path = Path(path)
    mapping = mapping or Mapping()
    suffix = path.suffix.lower()
    text, _ = decode_bytes(path.read_bytes())
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        for row in rows:
            row = {fold(k): (v or "").strip() for k, v in row.items() if k is not None}
            header, field = row.get("header", ""), row.get("field", "")
            kind = row.get("kind", "") or "column"
            if not header:
                continue
            if fold(kind) == "column":
                mapping.add_header(header, field)
            else:
                mapping.add_value(kind, header, field)
        return mapping
    if suffix in {".yaml", ".yml"}:
        try:
            import yaml
        except ImportError:  # pragma: no cover - PyYAML comes with the project's deps
            raise RuntimeError("reading a YAML mapping file needs PyYAML; use JSON or CSV") from None
        data = yaml.safe_load(text) or {}
    elif suffix == ".json":
        data = json.loads(text or "{}")
    else:
        raise ValueError(f"mapping file {path}: expected .yaml, .yml, .json or .csv")
    if not isinstance(data, dict):
        raise ValueError(f"mapping file {path}: expected an object at the top level")
    sections = {"columns", *(_VALUE_KINDS)}
    if not (set(data) & sections):
        data = {"columns": data}
    for key in data:
        if key not in sections:
            raise ValueError(f"mapping file {path}: unknown section {key!r} (expected {sorted(sections)})")
    for header, field in (data.get("columns") or {}).items():
        mapping.add_header(str(header), str(field if field is not None else IGNORE))
    for kind in _VALUE_KINDS:
        for value_text, code in (data.get(kind) or {}).items():
            mapping.add_value(kind, str(value_text), code)
    return mapping
