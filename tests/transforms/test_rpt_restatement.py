"""transforms.rpt_restatement: cell masks, cell values and the changes between two
publications, worked out by hand on a few dossiers."""

import datetime as dt

import pandas as pd

from transforms.rpt_restatement import (
    FIGURE_COLUMNS,
    cell_values,
    cells_of,
    changes_of,
    restatement_text,
)


def _per(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{**dict.fromkeys(FIGURE_COLUMNS, 0), **r} for r in rows])


def test_cells_of_sets_one_bit_per_published_column():
    per = _per([{"dossier_code": "D1", "procedure_code": "P", "received_total": 1, "resolved_late": 1},
                {"dossier_code": "D2", "procedure_code": "P"}])
    # received_total is bit 0, resolved_late bit 5: 1 + 32
    assert cells_of(per).tolist() == [33, 0]


def test_cell_values_are_the_non_zero_sums_per_procedure():
    per = _per([{"dossier_code": "D1", "procedure_code": "P", "received_total": 1, "resolved_total": 1},
                {"dossier_code": "D2", "procedure_code": "P", "received_total": 1},
                {"dossier_code": "D3", "procedure_code": "Q", "withdrawn": 1}])
    assert cell_values(per) == {"P|received_total": 2, "P|resolved_total": 1, "Q|withdrawn": 1}


def test_changes_name_the_dossiers_that_moved():
    # D1 was late (bit 5) and received (bit 0) under P; now on time (bit 4) and received.
    # D2 left P altogether; D3 is new under Q (received).
    moved = pd.DataFrame({"dossier_code": ["D1", "D2", "D3"],
                          "old_procedure": ["P", "P", None], "old_cells": [33, 1, None],
                          "new_procedure": ["P", None, "Q"], "new_cells": [17, None, 1]})
    previous = {"P|received_total": 2, "P|resolved_late": 1}
    current = {"P|received_total": 1, "P|resolved_on_time": 1, "Q|received_total": 1}
    changes = {(c["procedure_code"], c["column"]): c for c in changes_of(moved, previous, current)}
    assert set(changes) == {("P", "received_total"), ("P", "resolved_late"), ("P", "resolved_on_time"),
                            ("Q", "received_total")}
    assert changes[("P", "received_total")] == {
        "procedure_code": "P", "column": "received_total", "previous": 2, "current": 1, "change": -1,
        "dossiers_in": [], "dossiers_out": ["D2"]}
    assert changes[("P", "resolved_late")]["dossiers_out"] == ["D1"]
    assert changes[("P", "resolved_on_time")]["dossiers_in"] == ["D1"]
    assert changes[("Q", "received_total")]["change"] == 1


def test_unchanged_cells_are_not_restated():
    assert changes_of(pd.DataFrame(columns=["dossier_code", "old_procedure", "old_cells", "new_procedure",
                                            "new_cells"]), {"P|withdrawn": 3}, {"P|withdrawn": 3}) == []


def test_restatement_text_first_none_and_some():
    since = dt.datetime(2020, 1, 5, 9, 30)
    assert "đầu tiên" in restatement_text([], None)
    assert restatement_text([], since) == "Không có ô số liệu nào thay đổi so với lần công bố 05/01/2020 09:30."
    text = restatement_text([{"procedure_code": "P", "column": "withdrawn", "previous": 1, "current": 2,
                              "change": 1, "dossiers_in": ["D9"], "dossiers_out": []}], since)
    assert text.splitlines()[1] == "- TTHC P, cột withdrawn: 1 -> 2 (+1); thêm hồ sơ D9"
