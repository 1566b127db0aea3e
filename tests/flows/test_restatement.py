"""Publishing a report records its figures; after a late correction the next report names
the cells that changed, by how much and because of which dossier."""

from __future__ import annotations

from click.testing import CliRunner
from helpers.bundle import dossier, run_pipeline, write_bundle

from motcua.cli import main

BEFORE = [
    dossier("R1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000"),
    dossier("R2", 4, "20190305100000", intake="20190304090000", due="20190311170000"),
]
# late correction: R2 was resolved on 13/3, two days after its due
CORRECTION = [dossier("R2", 9, "20200110100000", intake="20190304090000", due="20190311170000",
                      resolved="20190313090000")]


def test_late_correction_is_named_in_the_next_report(tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    run_pipeline(write_bundle(tmp_path / "b1", BEFORE), url, tmp_path / "var")
    runner = CliRunner()
    first = runner.invoke(main, ["report", "--year", "2019", "--warehouse", url, "--out", str(tmp_path / "r1")])
    assert first.exit_code == 0, first.output
    assert "Lần công bố đầu tiên" in first.output
    run_pipeline(write_bundle(tmp_path / "b2", CORRECTION), url, tmp_path / "var")
    second = runner.invoke(main, ["report", "--year", "2019", "--warehouse", url, "--out", str(tmp_path / "r2")])
    assert second.exit_code == 0, second.output
    text = (tmp_path / "r2" / "thay-doi-so-lieu.txt").read_text(encoding="utf-8")
    # R2 left "open, overdue" (12) and entered "resolved late" (9) and (7)
    assert "cột resolved_late: 0 -> 1 (+1); thêm hồ sơ R2" in text
    assert "cột pending_overdue: 1 -> 0 (-1); bớt hồ sơ R2" in text
    assert "cột resolved_total: 1 -> 2 (+1); thêm hồ sơ R2" in text
    assert "received_total" not in text  # (4) did not change
