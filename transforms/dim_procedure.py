"""dim_procedure: one row per procedure version (type-2), procedure_code x valid_from.

From the catalogue (``procedures.csv`` columns). An amended procedure keeps its code and
gets a new row; a replaced procedure ends (``valid_to``) and its successor begins. Rows
with an empty ``HieuLucTu`` are valid from 1900-01-01; an empty ``HieuLucDen`` is
open-ended (null ``valid_to``). Duplicate versions keep the last row given.
"""

from __future__ import annotations

import pandas as pd

COLUMNS = [
    "procedure_code", "valid_from", "valid_to", "procedure_name", "field_code", "field_name",
    "agency_code", "processing_days", "service_level", "service_url", "is_published",
    "is_one_stop", "is_inter_agency",
]
OPEN_START = pd.Timestamp("1900-01-01")


def _flag(values: pd.Series) -> pd.Series:
    s = values.astype("string").str.strip().str.lower()
    return s.map({"1": True, "0": False, "true": True, "false": False, "x": True}).astype("boolean")


def _date(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, errors="coerce", format="mixed").dt.normalize().astype("datetime64[us]")


def _date_text(values: pd.Series, open_start: bool = False) -> pd.Series:
    """Dates as catalogue text (ISO); :data:`OPEN_START` and nulls as empty text."""
    d = pd.to_datetime(values)
    out = d.dt.strftime("%Y-%m-%d").astype("string").fillna("")
    return out.mask(d == OPEN_START, "") if open_start else out


def _flag_text(values: pd.Series) -> pd.Series:
    return values.astype("boolean").map({True: "1", False: "0"}).astype("string").fillna("")


CATALOGUE_COLUMNS = ("MaTTHC", "HieuLucTu", "HieuLucDen", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaDonVi",
                     "ThoiHanGiaiQuyet", "MucDo", "DiaChiDangTai", "CongKhai", "MotCua", "LienThong")
"""The catalogue's (``procedures.csv``) columns this dimension is built from."""


def to_catalogue(dim: pd.DataFrame) -> pd.DataFrame:
    """Dimension rows -> catalogue rows (``procedures.csv`` columns, text): the inverse of
    :func:`build` (``build(to_catalogue(dim))`` gives ``dim`` back), for re-placing
    records with the warehouse's own catalogue (a quarantine retry)."""
    text = {c: dim[c].astype("string").fillna("") for c in
            ("procedure_code", "procedure_name", "field_code", "field_name", "agency_code", "service_level",
             "service_url")}
    out = pd.DataFrame({
        "MaTTHC": text["procedure_code"], "HieuLucTu": _date_text(dim["valid_from"], open_start=True),
        "HieuLucDen": _date_text(dim["valid_to"]), "TenTTHC": text["procedure_name"],
        "MaLinhVuc": text["field_code"], "TenLinhVuc": text["field_name"], "MaDonVi": text["agency_code"],
        "ThoiHanGiaiQuyet": dim["processing_days"].astype("Int64").astype("string").fillna(""),
        "MucDo": text["service_level"], "DiaChiDangTai": text["service_url"],
        "CongKhai": _flag_text(dim["is_published"]), "MotCua": _flag_text(dim["is_one_stop"]),
        "LienThong": _flag_text(dim["is_inter_agency"]),
    })
    return out[list(CATALOGUE_COLUMNS)].reset_index(drop=True)


def build(procedures: pd.DataFrame) -> pd.DataFrame:
    """Catalogue rows -> dimension rows."""
    p = procedures.astype("string").apply(lambda s: s.str.strip().mask(s.str.strip() == ""))
    out = pd.DataFrame(
        {
            "procedure_code": p["MaTTHC"].astype("string").str.strip(),
            "valid_from": _date(p["HieuLucTu"]).fillna(OPEN_START),
            "valid_to": _date(p["HieuLucDen"]),
            "procedure_name": p["TenTTHC"].astype("string"),
            "field_code": p["MaLinhVuc"].astype("string"),
            "field_name": p["TenLinhVuc"].astype("string"),
            "agency_code": p["MaDonVi"].astype("string"),
            "processing_days": pd.to_numeric(p["ThoiHanGiaiQuyet"], errors="coerce").astype("Int64"),
            "service_level": p["MucDo"].astype("string"),
            "service_url": p["DiaChiDangTai"].astype("string"),
            "is_published": _flag(p["CongKhai"]),
            "is_one_stop": _flag(p["MotCua"]),
            "is_inter_agency": _flag(p["LienThong"]),
        }
    )
    out = out[out["procedure_code"].notna() & (out["procedure_code"] != "")]
    out = out.drop_duplicates(["procedure_code", "valid_from"], keep="last")
    return out.sort_values(["procedure_code", "valid_from"]).reset_index(drop=True)[COLUMNS]
