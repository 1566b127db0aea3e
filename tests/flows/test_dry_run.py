"""``--dry-run`` on run, nightly and backfill: what would be read and rebuilt, from what
the warehouse knows, and nothing written (no warehouse file created, no run folder,
no raw zone file, no audit.run row)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from helpers.bundle import dossier, read_table, run_pipeline, write_bundle

from motcua.cli import main

SNAPS = [dossier("D1", 9, "20190308100000", intake="20190304090000", due="20190311170000",
                 resolved="20190308100000")]


@pytest.fixture(autouse=True)
def _database_lock_only(monkeypatch):
    monkeypatch.setenv("MOTCUA_WRITE_LIMIT", "off")


def _files(folder) -> set:  # noqa: ANN001
    return {p for p in folder.rglob("*")} if folder.exists() else set()


def test_a_dry_run_on_no_warehouse_creates_nothing(tmp_path, prefect_harness):
    bundle = write_bundle(tmp_path / "bundle", SNAPS)
    wh = tmp_path / "wh" / "wh.duckdb"
    result = CliRunner().invoke(main, ["run", "--source", str(bundle), "--warehouse", f"duckdb:///{wh}",
                                       "--data-dir", str(tmp_path / "var"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would read: everything the source holds" in result.output
    assert "would rebuild: every mart period (no published marts)" in result.output
    assert f"no warehouse at {wh}" in result.output
    assert not wh.exists() and not (tmp_path / "var").exists()


def test_nightly_and_backfill_dry_runs_read_the_plan_and_write_nothing(tmp_path, prefect_harness):
    from flows.stages.extract import extract
    from flows.stages.publish import mark_marts_stale
    from flows.stages.runs import new_run
    from flows.stages.stage import stage
    from motcua.settings import Settings

    bundle = write_bundle(tmp_path / "bundle", SNAPS)
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    data = tmp_path / "var"
    run_pipeline(bundle, url, data, validate=False)
    # a run interrupted after marking its marts stale (killed before it loaded)
    settings = Settings.from_env(warehouse_url=url, data_dir=data)
    run = new_run(settings, str(bundle))
    mark_marts_stale(run, settings, stage(run, settings, extract(run, settings), validate=False))
    runs, files = read_table(url, "audit.run"), _files(data)
    runner = CliRunner()
    common = ["--source", str(bundle), "--warehouse", url, "--data-dir", str(data), "--dry-run", "--no-progress"]

    nightly = runner.invoke(main, ["nightly", *common])
    assert nightly.exit_code == 0, nightly.output
    # the watermark is D1's NgayCapNhat; the plan names the interrupted run
    assert "would read: the changes since the watermark 20190308100000" in nightly.output
    assert f"the periods of 1 interrupted run(s) ({run.run_id})" in nightly.output

    backfill = runner.invoke(main, ["backfill", "--from", "2019-03-01", "--to", "2019-03-31", *common])
    assert backfill.exit_code == 0, backfill.output
    assert "every change at the source since 2019-03-01" in backfill.output
    assert "the periods of 2019-03-01 → 2019-03-31" in backfill.output

    import pandas as pd

    pd.testing.assert_frame_equal(read_table(url, "audit.run"), runs)  # nothing recorded
    assert _files(data) == files  # no run folder, no raw-zone file
