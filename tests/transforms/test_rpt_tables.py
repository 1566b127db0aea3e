"""transforms.rpt_tables: table 4 and Biểu 06 worked out by hand on a small catalogue
and small counts."""

import datetime as dt

import pandas as pd

from transforms.rpt_tables import form06, table4


def _catalogue() -> pd.DataFrame:
    ts = pd.Timestamp
    return pd.DataFrame({
        "procedure_code": ["P1", "P1", "P2", "P3", "P4"],
        "valid_from": [ts("2018-01-01"), ts("2019-06-01"), ts("2018-01-01"), ts("2018-01-01"), ts("2020-02-01")],
        "valid_to": [ts("2019-05-31"), None, ts("2018-12-31"), None, None],
        "is_published": [False, True, True, True, True],
        "is_one_stop": [True, True, True, False, True],
        "is_inter_agency": [False, False, True, True, False],
        "service_level": ["2", "4", "3", " 3 ", "4"],
    })


def test_table4_counts_the_latest_version_of_each_procedure_in_force():
    # in force in 2019: P1 (two versions, the later counts: published, one-stop, level 4)
    # and P3; P2 ended in 2018, P4 starts in 2020 -> 2 procedures
    t = table4(_catalogue(), dt.date(2019, 1, 1), dt.date(2019, 12, 31))
    assert t["count"].tolist() == [2, 1, 1, 2]
    assert t["share_pct"].tolist() == [100.0, 50.0, 50.0, 100.0]
    assert t["note"].tolist() == ["", "", "", "01 Mức độ 4"]


def test_table4_of_an_empty_catalogue_has_no_share():
    t = table4(_catalogue().iloc[0:0], dt.date(2019, 1, 1), dt.date(2019, 12, 31))
    assert t["count"].tolist() == [0, 0, 0, 0] and t["share_pct"].isna().all()


def test_form06_groups_by_field_and_separates_early_from_on_time():
    zero = dict.fromkeys(["received_total", "received_online", "received_offline", "carried_over", "resolved_total",
                          "resolved_early", "resolved_on_time", "resolved_late", "pending_total",
                          "pending_not_due", "pending_overdue"], 0)
    counts = pd.DataFrame([
        {**zero, "field_name": "Đất đai", "received_total": 3, "resolved_total": 3, "resolved_on_time": 2,
         "resolved_early": 1, "resolved_late": 1},
        {**zero, "field_name": "Đất đai", "received_total": 1, "pending_total": 1, "pending_overdue": 1},
        {**zero, "field_name": None, "received_total": 2, "resolved_total": 2, "resolved_on_time": 2},
        {**zero, "field_name": "Xây dựng"},  # nothing received or resolved: no row
    ])
    f = form06(counts).set_index("field_name")
    assert list(f.index) == ["(không rõ lĩnh vực)", "Đất đai"]
    assert f.loc["Đất đai", ["received_total", "resolved_early", "resolved_on_time", "resolved_late",
                             "pending_overdue"]].tolist() == [4, 1, 1, 1, 1]
    assert f.loc["(không rõ lĩnh vực)", "resolved_on_time"] == 2
