"""The export contract's names the sample writes: the catalogue CSVs' columns and the
dossier snapshot's fields (domain.md section 2)."""

from __future__ import annotations

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
