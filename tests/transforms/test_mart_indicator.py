"""The indicators' agency roll-up (``transforms.mart_indicator.rollup_map``): each agency
with its ancestors both in the tree as it was and in today's, after mergers."""

from __future__ import annotations

import pandas as pd

from transforms import dim_agency
from transforms.mart_indicator import rollup_map


def test_agency_rollup_as_it_was_and_today():
    agencies = pd.DataFrame({
        "MaDonVi": ["UB-OLD", "UB-NEW", "SO", "TT1", "TT2", "TTM"],
        "TenDonVi": ["UBND cũ", "UBND mới", "Sở", "Trung tâm 1", "Trung tâm 2", "Trung tâm hợp nhất"],
        "MaDonViCha": ["", "", "UB-OLD", "SO", "SO", "SO"],
        "HieuLucTu": ["2000-01-01", "2025-07-01", "2000-01-01", "2000-01-01", "2000-01-01", "2019-08-23"],
        "HieuLucDen": ["2025-06-30", "", "", "2019-08-22", "2019-08-22", ""],
        "ThayTheBoi": ["UB-NEW", "", "", "TTM", "TTM", ""],
    }).astype("string")
    dim = dim_agency.build(agencies)
    ru = rollup_map(dim, pd.Series(["TT1", "TTM"]))
    tt1 = set(ru.loc[ru["agency_code"] == "TT1", "rollup_code"])
    # as it was: TT1 -> SO -> UB-OLD; today: TT1 -> TTM -> SO -> UB-OLD -> UB-NEW
    assert tt1 == {"TT1", "SO", "UB-OLD", "TTM", "UB-NEW"}
    assert len(ru[ru["agency_code"] == "TT1"]) == len(tt1)  # each ancestor once
