"""Scoring indicators into points from a configuration file (JSON), so scoring rules
(the national service index of Decision 766/QĐ-TTg, a province's PAR thresholds) change
without code changes. See ``motcua/config/scoring-example.json`` for the format.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

EXAMPLE = Path(__file__).parent / "config" / "scoring-example.json"
METHODS = ("linear", "thresholds", "inverse_count")


class ScoringError(ValueError):
    """The scoring file is malformed."""


def load_rules(path: Path | str) -> dict:
    p = Path(path)
    try:
        cfg = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ScoringError(f"scoring file {p}: {exc}") from exc
    rules = cfg.get("rules")
    if not isinstance(rules, list) or not rules:
        raise ScoringError(f"scoring file {p}: 'rules' must be a non-empty list")
    for i, r in enumerate(rules, 1):
        for key in ("group", "indicator", "points", "method"):
            if key not in r:
                raise ScoringError(f"scoring file {p}, rule {i}: missing {key!r}")
        if r["method"] not in METHODS:
            raise ScoringError(f"scoring file {p}, rule {i}: method must be one of {METHODS}, got {r['method']!r}")
        if r["method"] == "thresholds" and not r.get("thresholds"):
            raise ScoringError(f"scoring file {p}, rule {i}: 'thresholds' needs a list of {{min, points}}")
    return cfg


def score(indicators: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """One row per rule: group, indicator, its value (with numerator/denominator) and the
    points it earns; a missing indicator earns nothing and says so."""
    by_code = indicators.set_index("indicator_code")
    rows = []
    for r in cfg["rules"]:
        code = r["indicator"]
        value = by_code["value"].get(code) if code in by_code.index else None
        points, why = 0.0, ""
        if value is None or pd.isna(value):
            why = "no data for this indicator"
        elif r["method"] == "linear":
            points = float(r["points"]) * max(0.0, min(1.0, float(value)))
        elif r["method"] == "thresholds":
            reached = [t for t in r["thresholds"] if float(value) >= float(t["min"])]
            points = float(max(reached, key=lambda t: float(t["min"]))["points"]) if reached else 0.0
        else:  # inverse_count
            points = max(0.0, float(r["points"]) - float(r.get("per_unit", 1)) * float(value))
        rows.append({"group": r["group"], "indicator_code": code,
                     "numerator": by_code["numerator"].get(code) if code in by_code.index else None,
                     "denominator": by_code["denominator"].get(code) if code in by_code.index else None,
                     "value": value, "max_points": float(r["points"]), "points": round(points, 2), "note": why})
    return pd.DataFrame(rows)
