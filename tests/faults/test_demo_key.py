"""The Makefile's demonstration pseudonym key works on the bundled sample only: a run on
any other source with it stops before anything is read or written, in one line."""

from __future__ import annotations

from click.testing import CliRunner
from helpers.bundle import dossier, write_bundle

from motcua.cli import main
from motcua.settings.environment import DEMO_PSEUDONYM_KEY


def test_the_demo_key_is_refused_outside_the_sample(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_PSEUDONYM_KEY", DEMO_PSEUDONYM_KEY)
    bundle = write_bundle(tmp_path / "bundle", [dossier("D1", 9, "20190308100000", intake="20190304090000",
                                                        due="20190311170000", resolved="20190308100000")])
    result = CliRunner().invoke(main, ["run", "--source", str(bundle), "--warehouse",
                                       f"duckdb:///{tmp_path / 'wh.duckdb'}", "--data-dir", str(tmp_path / "var"),
                                       "--quiet"])
    assert result.exit_code == 2, result.output  # a configuration error
    assert "demonstration key" in result.output and result.output.strip().count("\n") == 0
    assert not (tmp_path / "var" / "raw").exists() and not (tmp_path / "wh.duckdb").exists()


def test_the_demo_key_is_accepted_on_the_sample(tmp_path, monkeypatch, prefect_harness):
    monkeypatch.setenv("MOTCUA_PSEUDONYM_KEY", DEMO_PSEUDONYM_KEY)
    monkeypatch.setenv("MOTCUA_WRITE_LIMIT", "off")
    runner = CliRunner()
    assert runner.invoke(main, ["sample", "--out", str(tmp_path / "sample")]).exit_code == 0
    result = runner.invoke(main, ["run", "--source", str(tmp_path / "sample"), "--warehouse",
                                  f"duckdb:///{tmp_path / 'wh.duckdb'}", "--data-dir", str(tmp_path / "var"),
                                  "--quiet"])
    assert result.exit_code == 0, result.output
