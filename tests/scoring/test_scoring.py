"""Scoring rules come from a file: points computed by hand for a small indicator set."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from motcua.scoring import EXAMPLE, ScoringError, load_rules, score

INDICATORS = pd.DataFrame({
    "indicator_code": ["on_time_rate", "online_intake_rate", "overdue_open"],
    "numerator": [45.0, 30.0, 3.0], "denominator": [50.0, 100.0, 10.0], "value": [0.9, 0.3, 3.0]})


def test_points_by_method(tmp_path):
    cfg = {"rules": [
        {"group": "A", "indicator": "on_time_rate", "points": 20, "method": "linear"},  # 0.9 x 20 = 18
        {"group": "B", "indicator": "online_intake_rate", "points": 12, "method": "thresholds",
         "thresholds": [{"min": 0, "points": 0}, {"min": 0.2, "points": 6}, {"min": 0.5, "points": 12}]},  # 6
        {"group": "C", "indicator": "overdue_open", "points": 5, "method": "inverse_count", "per_unit": 1},  # 5-3=2
        {"group": "D", "indicator": "digitised_rate", "points": 10, "method": "linear"},  # no data: 0
    ]}
    f = tmp_path / "s.json"
    f.write_text(json.dumps(cfg), encoding="utf-8")
    out = score(INDICATORS, load_rules(f))
    assert list(out["points"]) == [18.0, 6.0, 2.0, 0.0]
    assert out.loc[3, "note"] == "no data for this indicator"
    assert out.loc[0, "numerator"] == 45.0 and out.loc[0, "denominator"] == 50.0


def test_example_file_loads_and_bad_files_fail_clearly(tmp_path):
    assert load_rules(EXAMPLE)["rules"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rules": [{"group": "A", "indicator": "x", "points": 1, "method": "magic"}]}))
    with pytest.raises(ScoringError, match="method must be one of"):
        load_rules(bad)
