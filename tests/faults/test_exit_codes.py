"""The exit codes of the README's table that tests elsewhere do not take one by one:
a configuration error (2) and a warehouse locked by another process (6). (3 and 8:
test_source_faults.py; 4 and 5: tests/expectations/test_run_gates.py; 7:
test_clear_errors.py.)"""

from __future__ import annotations

from click.testing import CliRunner
from helpers.bundle import dossier, write_bundle
from helpers.holders import holding

from motcua.cli import main
from motcua.errors import EXIT_CODES


def _bundle(tmp_path):  # noqa: ANN001, ANN202
    return write_bundle(tmp_path / "bundle", [dossier("D1", 9, "20190308100000", intake="20190304090000",
                                                      due="20190311170000", resolved="20190308100000")])


def test_a_setting_that_cannot_be_used_exits_2(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_QUARANTINE_THRESHOLD", "lots")
    result = CliRunner().invoke(main, ["run", "--source", str(_bundle(tmp_path)), "--warehouse",
                                       f"duckdb:///{tmp_path / 'wh.duckdb'}", "--quiet"])
    assert result.exit_code == 2, result.output
    assert "MOTCUA_QUARANTINE_THRESHOLD" in result.output and result.output.strip().count("\n") == 0
    assert not (tmp_path / "wh.duckdb").exists()


def test_a_warehouse_held_by_another_process_exits_6(tmp_path, monkeypatch, prefect_harness):
    monkeypatch.setenv("MOTCUA_WRITE_LIMIT", "off")
    monkeypatch.setenv("MOTCUA_LOCK_TIMEOUT_SECONDS", "2")
    db = tmp_path / "wh.duckdb"
    with holding(db):
        result = CliRunner().invoke(main, ["run", "--source", str(_bundle(tmp_path)), "--warehouse",
                                           f"duckdb:///{db}", "--data-dir", str(tmp_path / "var"), "--quiet"])
    assert result.exit_code == 6, result.output
    assert "locked" in result.output


def test_every_code_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for code in EXIT_CODES:
        assert f"| {code} |" in readme, code
