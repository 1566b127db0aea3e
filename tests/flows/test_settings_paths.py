"""Folders given as text — a CLI option, a flow parameter, the environment — are paths
everywhere: a str data_dir once made every BI snapshot fail with a warning only."""

from __future__ import annotations

from pathlib import Path

from helpers.bundle import dossier, run_pipeline, write_bundle

from flows import outcome, pipeline
from motcua.settings import Settings


def test_text_folders_become_paths(tmp_path, monkeypatch):
    assert Settings.from_env(data_dir=str(tmp_path / "v")).data_dir == tmp_path / "v"
    assert isinstance(Settings.from_env(calendar_overrides=str(tmp_path / "c.csv")).calendar_overrides, Path)
    monkeypatch.setenv("MOTCUA_DATA_DIR", str(tmp_path / "env"))
    assert Settings.from_env().data_dir == tmp_path / "env"


def test_bi_snapshot_with_the_data_dir_given_as_text(tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    snaps = [dossier("D1", 9, "20190308100000", intake="20190304090000", due="20190311170000",
                     resolved="20190308100000")]
    run_pipeline(write_bundle(tmp_path / "b", snaps), url, tmp_path / "var", validate=False)
    published, failed = outcome.bi_snapshot(pipeline.settings_for(url, str(tmp_path / "var")))
    assert failed is None and published is not None and Path(published).is_file()
    assert Path(published).is_relative_to(tmp_path / "var" / "bi")
