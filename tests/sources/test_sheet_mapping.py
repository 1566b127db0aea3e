"""How a vendor's sheet maps onto the contract (``motcua.sources.sheet_mapping``): the
tolerant header match (:func:`fold`), and a user's mapping file (YAML, JSON or CSV)
extending headers and values, with a target that is not a snapshot field refused."""

from __future__ import annotations

import json
import unicodedata

import pytest
from helpers.sheets import read

from motcua.sources.sheet_mapping import fold
from motcua.sources.spreadsheet import SpreadsheetSource

VENDOR = "Số biên nhận;Thủ tục;Trạng thái xử lý;Ngày tiếp nhận\nBN-1;1.004512;Hoàn tất;02/01/2023 08:00\n" \
         "BN-2;1.004512;Đang xử lý;03/01/2023\n"
MAPPINGS = {
    "map.yaml": "columns:\n  Số biên nhận: MaHoSo\n  TRANG THAI XU LY: TrangThaiHoSo\n  Thủ tục: MaTTHC\n"
                "status:\n  Hoàn tất: 10\n",
    "map.json": json.dumps({"columns": {"so bien nhan": "MaHoSo", "Trạng thái xử lý": "TrangThaiHoSo",
                                        "Thủ tục": "MaTTHC"}, "status": {"hoan tat": 10}}, ensure_ascii=False),
    "map.csv": "header,field,kind\nSố biên nhận,MaHoSo,\nTrạng thái xử lý,TrangThaiHoSo,column\n"
               "Thủ tục,MaTTHC,\nHoàn tất,10,status\n",
}


@pytest.mark.parametrize("mapping_name", sorted(MAPPINGS))
def test_user_mapping_file_extends_headers_and_values(tmp_path, mapping_name):
    sheet = tmp_path / "vendor.csv"
    sheet.write_text(VENDOR, encoding="utf-8")
    plain = SpreadsheetSource(sheet, exported_at="20230105120000")
    _, errors = read(plain)
    assert sorted(errors) == [2, 3] and "no dossier code column" in errors[2][0]
    mapping = tmp_path / mapping_name
    mapping.write_text(MAPPINGS[mapping_name], encoding="utf-8")
    ok, errors = read(SpreadsheetSource(sheet, mapping_file=mapping, exported_at="20230105120000"))
    assert errors == {}
    assert ok["BN-1"] == {"MaHoSo": "BN-1", "MaTTHC": "1.004512", "TrangThaiHoSo": 10,
                          "NgayTiepNhan": "20230102080000", "NgayCapNhat": "20230105120000", "QuaTrinhXuLy": []}
    assert ok["BN-2"]["TrangThaiHoSo"] == 4 and ok["BN-2"]["NgayTiepNhan"] == "20230103000000"


def test_bad_mapping_targets_are_refused(tmp_path):
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"Số biên nhận": "SoBienNhan"}), encoding="utf-8")
    sheet = tmp_path / "v.csv"
    sheet.write_text(VENDOR, encoding="utf-8")
    with pytest.raises(ValueError, match="not a snapshot field"):
        SpreadsheetSource(sheet, mapping_file=mapping)


def test_fold():
    assert fold("  MÃ HỒ SƠ: ") == fold("ma_ho_so") == fold("MaHoSo") == "mahoso"
    assert fold("Đơn  vị") == "donvi" and fold(unicodedata.normalize("NFD", "Ngày tiếp nhận")) == "ngaytiepnhan"
