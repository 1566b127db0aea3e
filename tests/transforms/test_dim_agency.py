"""The agency dimension's way back to the catalogue
(:func:`transforms.dim_agency.to_catalogue`): a quarantine retry places records with the
warehouse's own dimensions by handing them to the stages as a catalogue, so building the
dimension again must give exactly the rows the warehouse holds, without the placeholder
rows of codes seen on dossiers only."""

from __future__ import annotations

import pandas as pd

from transforms import dim_agency


def test_agency_dimension_round_trips_without_its_placeholders():
    raw = pd.DataFrame({"MaDonVi": ["A1", "A2", "A3"], "TenDonVi": ["Sở", "Phòng", "Chi cục"],
                        "MaDonViCha": ["", "A1", "A1"], "HieuLucTu": ["", "2018-01-01", ""],
                        "HieuLucDen": ["", "", "2019-12-31"], "ThayTheBoi": ["", "", "A2"]}).astype("string")
    dim = dim_agency.build(raw, {"Z9"})  # Z9: seen on dossiers only, a placeholder
    assert dim.set_index("agency_code").loc["Z9", "is_known"] == False  # noqa: E712
    back = dim_agency.to_catalogue(dim)
    assert list(back["MaDonVi"]) == ["A1", "A2", "A3"]  # the placeholder is not a catalogue row
    pd.testing.assert_frame_equal(dim_agency.build(back, {"Z9"}), dim)
