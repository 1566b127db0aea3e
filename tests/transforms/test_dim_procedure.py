"""The procedure dimension's way back to the catalogue
(:func:`transforms.dim_procedure.to_catalogue`): a quarantine retry places records with
the warehouse's own dimensions by handing them to the stages as a catalogue, so building
the dimension again must give exactly the rows the warehouse holds."""

from __future__ import annotations

import pandas as pd

from transforms import dim_procedure


def _procedures() -> pd.DataFrame:
    rows = [
        # open start and open end, flags spelled three ways, a URL
        ("1.000001", "", "", "Cấp phép", "F1", "Xây dựng", "A1", "5", "4", "https://dvc/1", "x", "1", "false"),
        # two versions of one procedure: amended on 1/7/2019 (days 10 -> 7)
        ("2.000002", "2018-01-01", "2019-06-30", "Đăng ký", "F2", "Đất đai", "A2", "10", "3", "", "1", "0", "0"),
        ("2.000002", "01/07/2019", "", "Đăng ký", "F2", "Đất đai", "A2", "7", "3", "", "TRUE", "1", ""),
        # no processing days, no field, flags missing
        ("3.000003", "", "", "Xác nhận", "", "", "A1", "", "", "", "", "", ""),
    ]
    return pd.DataFrame(rows, columns=list(dim_procedure.CATALOGUE_COLUMNS)).astype("string")


def test_procedure_dimension_round_trips_through_the_catalogue():
    dim = dim_procedure.build(_procedures())
    assert len(dim) == 4 and dim["is_inter_agency"].isna().sum() == 2  # "" is unknown, not False
    back = dim_procedure.to_catalogue(dim)
    assert back.loc[0, "HieuLucTu"] == "" and back.loc[1, "HieuLucDen"] == "2019-06-30"
    pd.testing.assert_frame_equal(dim_procedure.build(back), dim)
