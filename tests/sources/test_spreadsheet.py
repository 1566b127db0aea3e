"""SpreadsheetSource (``motcua.sources.spreadsheet``): vendor XLSX/CSV exports with
Vietnamese headers, a title and a blank row above them, in the encodings and delimiters
vendors use, mapped onto the contract row by row, with the rows it cannot map as errors
under their own headers; the catalogue from companion files. Header matching and
mapping files are in ``test_sheet_mapping.py``, dates in ``test_sheet_dates.py``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from helpers.sheets import read

from motcua.sources.base import AGENCY_COLUMNS, PROCEDURE_COLUMNS
from motcua.sources.spreadsheet import SpreadsheetSource

TITLE = ["DANH SÁCH HỒ SƠ TIẾP NHẬN NĂM 2023"]
HEADERS = ["  MÃ HỒ SƠ ", "ma tthc", "Ten thu tuc", "Đơn  Vị", "kênh:", "Ngày nộp", "NGAY TIEP NHAN",
           "Hạn xử lý", "Ngày có kết quả", "ngày trả kết quả", "TRẠNG THÁI", "Ngày Cập Nhật", "Ghi chú"]
# one row per dossier; XLSX cells may be datetimes or Excel serial numbers
ROWS: list[list[object]] = [
    ["HS-001", "2.000120", "Đăng ký hoạt động KH&CN", "Sở Khoa học và Công nghệ", "Trực tuyến", "14/01/2023 16:30",
     "15/01/2023 08:00", "29/01/2023", "", "", "Đang xử lý", "16/01/2023 09:00:05", "ghi chú 1"],
    ["HS-002", "1.004512", "Cấp giấy phép bức xạ", "CCTDC", "trực tiếp", "", 44941.375, "08:30 20/01/2023",
     "19-01-2023", "20.01.2023 10:15", "Đã trả kết quả", "2023-01-20T03:15:00Z", ""],
    [3, "1.000321", "Kiểm định", "SKHCN", "3", "", dt.datetime(2023, 2, 1, 7, 45), "10/02/2023 17:00",
     "09/02/2023 15:00", "", "9", "09/02/2023 15:00", ""],
    ["HS-004", "1.004512", "", "SKHCN", "Trực tiếp", "", "01/03/2023", "", "", "", "Đang chờ phê duyệt xyz",
     "02/03/2023", ""],
    ["HS-005", "1.004512", "", "SKHCN", "Trực tiếp", "", "31/02/2023", "", "", "", "Đã tiếp nhận",
     "02/03/2023", ""],
    ["", "1.004512", "", "SKHCN", "Trực tiếp", "", "01/03/2023", "", "", "", "Đã tiếp nhận", "02/03/2023",
     "dòng thiếu mã"],
    ["HS-007", "2.000120", "", "Chi cục Tiêu chuẩn Đo lường Chất lượng", "Qua bưu điện", "", "01/03/2023 14:00",
     "", "", "", "CHO BO SUNG", "03/03/2023 08:00", ""],
]
BASE = {"QuaTrinhXuLy": []}
EXPECTED: dict[str, dict] = {
    "HS-001": {**BASE, "MaHoSo": "HS-001", "MaTTHC": "2.000120", "TenTTHC": "Đăng ký hoạt động KH&CN",
               "MaDonVi": "SKHCN", "KenhThucHien": 2, "NgayNopHoSo": "20230114163000",
               "NgayTiepNhan": "20230115080000", "NgayHenTra": "20230129000000", "TrangThaiHoSo": 4,
               "NgayCapNhat": "20230116090005"},
    "HS-002": {**BASE, "MaHoSo": "HS-002", "MaTTHC": "1.004512", "TenTTHC": "Cấp giấy phép bức xạ",
               "MaDonVi": "CCTDC", "KenhThucHien": 1, "NgayTiepNhan": "20230115090000",
               "NgayHenTra": "20230120083000", "NgayKetThucXuLy": "20230119000000", "NgayTra": "20230120101500",
               "TrangThaiHoSo": 10, "NgayCapNhat": "20230120101500"},
    "3": {**BASE, "MaHoSo": "3", "MaTTHC": "1.000321", "TenTTHC": "Kiểm định", "MaDonVi": "SKHCN",
          "KenhThucHien": 3, "NgayTiepNhan": "20230201074500", "NgayHenTra": "20230210170000",
          "NgayKetThucXuLy": "20230209150000", "TrangThaiHoSo": 9, "NgayCapNhat": "20230209150000"},
    "HS-007": {**BASE, "MaHoSo": "HS-007", "MaTTHC": "2.000120", "MaDonVi": "CCTDC", "KenhThucHien": 3,
               "NgayTiepNhan": "20230301140000", "TrangThaiHoSo": 5, "NgayCapNhat": "20230303080000"},
}
ERRORS = {  # sheet row number -> words the reason must contain
    7: ["unrecognised status", "Đang chờ phê duyệt xyz"],
    8: ["cannot read date", "31/02/2023"],
    9: ["no dossier code"],
}
AGENCIES = "MaDonVi,TenDonVi,MaDonViCha,HieuLucTu,HieuLucDen,ThayTheBoi\n" \
           "SKHCN,Sở Khoa học và Công nghệ,,,,\nCCTDC,Chi cục Tiêu chuẩn Đo lường Chất lượng,SKHCN,,,\n"


def text_rows() -> list[list[str]]:
    """The rows as a CSV export has them (serials stay numbers, datetimes become dd/mm/yyyy HH:MM)."""
    out = []
    for row in ROWS:
        out.append([v.strftime("%d/%m/%Y %H:%M") if isinstance(v, dt.datetime) else str(v) for v in row])
    return out


def write_xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Hồ sơ"
    ws.append(TITLE)
    ws.append([])
    ws.append(HEADERS)
    for row in ROWS:
        ws.append([None if v == "" else v for v in row])
    wb.save(path)
    return path


def to_cp1258(text: str) -> bytes:
    """Windows-1258 keeps some letters precomposed (â, ê, ô, ơ, ư, ă, đ) and tones as combining marks."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", ch)
        for i in range(len(marks)):  # compose the base with one mark (â, ơ ...), the tone stays combining
            head = unicodedata.normalize("NFC", base + marks[i])
            try:
                out += head.encode("cp1258") + "".join(marks[:i] + marks[i + 1:]).encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:
            out += (base + "".join(marks)).encode("cp1258")
    return bytes(out)


def write_csv(path: Path, encoding: str, delimiter: str = ",") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(TITLE)
    w.writerow([])
    w.writerow(HEADERS)
    w.writerows(text_rows())
    text = buf.getvalue()
    data = to_cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    path.write_bytes(data)
    return path


def check(source: SpreadsheetSource) -> None:
    ok, errors = read(source)
    assert ok == EXPECTED
    assert sorted(errors) == sorted(ERRORS)
    for row, words in ERRORS.items():
        reason, raw = errors[row]
        assert all(w in reason for w in words), reason
        assert set(raw) >= {h.strip() for h in HEADERS}  # the raw row, under its own headers
    assert errors[9][1]["Ghi chú"] == "dòng thiếu mã"
    assert source.unmapped_headers == ["Ghi chú"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "agencies.csv").write_text(AGENCIES, encoding="utf-8")
    return tmp_path


def test_xlsx(folder):
    source = SpreadsheetSource(write_xlsx(folder / "ho_so.xlsx"))
    check(source)
    loc = next(iter(source.iter_records())).column("locator")[0].as_py()
    assert loc == "ho_so.xlsx[Hồ sơ]:4"


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ","), ("utf-8", ";"), ("utf-16", "\t"), ("utf-16-le", "\t"), ("cp1258", ",")],
)
def test_csv_encodings(folder, encoding, delimiter):
    path = write_csv(folder / f"export-{encoding}.csv", encoding, delimiter)
    if encoding == "cp1258":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    check(SpreadsheetSource(path))


def test_without_the_agencies_names_stay_as_given(tmp_path):
    ok, _ = read(SpreadsheetSource(write_xlsx(tmp_path / "x.xlsx")))
    assert ok["HS-001"]["MaDonVi"] == "Sở Khoa học và Công nghệ"


def test_catalogue_from_companion_files_or_empty(folder, tmp_path):
    sheet = write_xlsx(folder / "ho_so.xlsx")
    source = SpreadsheetSource(sheet)
    assert list(source.read_agencies()["MaDonVi"]) == ["SKHCN", "CCTDC"]
    empty = source.read_procedures()
    assert list(empty.columns) == PROCEDURE_COLUMNS and empty.empty
    elsewhere = tmp_path / "catalogue"
    elsewhere.mkdir()
    (elsewhere / "thu_tuc.csv").write_text(
        "\ufeffMaTTHC,TenTTHC,ThoiHanGiaiQuyet\n1.004512,Cấp giấy phép,10\n", encoding="utf-8"
    )
    given = SpreadsheetSource(sheet, procedures=elsewhere / "thu_tuc.csv")
    procedures = given.read_procedures()
    assert list(procedures.columns) == PROCEDURE_COLUMNS
    assert procedures.loc[0, "ThoiHanGiaiQuyet"] == "10" and procedures["MucDo"].isna().all()
    alone = SpreadsheetSource(write_xlsx(elsewhere / "alone.xlsx"))
    assert list(alone.read_agencies().columns) == AGENCY_COLUMNS and alone.read_agencies().empty
