"""The gates stop `motcua run`: a mart that breaks a report identity (a deliberately
broken transform: a test double of ``transforms.mart_dossier_resolution.build``, not
of the warehouse) fails the mart suite, the run exits non-zero and the marts published
before are unchanged; a fact that breaks a critical core expectation (a broken
``transforms.fct_dossier.build``) stops the run before the core is written (write,
audit, publish: the facts, events and marts as they were); a quarantined share above
the threshold exits non-zero too."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers.bundle import dossier, read_table, run_pipeline, write_bundle

from motcua.cli import main
from transforms import fct_dossier, mart_dossier_resolution

MARTS = ("mart.dossier_resolution", "mart.dossier_intake", "mart.indicator")
GOOD = [
    dossier("D1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000"),
    dossier("D2", 4, "20190405100000", intake="20190405090000", due="20190412170000"),
]


@pytest.fixture(autouse=True)
def _database_lock_only(monkeypatch):
    """The test Prefect server has no global concurrency limit: rely on the database lock."""
    monkeypatch.setenv("MOTCUA_WRITE_LIMIT", "off")


def _run(bundle, url: str, data_dir, *extra: str):  # noqa: ANN001, ANN202
    return CliRunner().invoke(main, ["run", "--source", str(bundle), "--warehouse", url, "--data-dir", str(data_dir),
                                     "--quiet", *extra])


def test_broken_mart_transform_stops_the_run(tmp_path, monkeypatch, prefect_harness):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    # marts published before, without D2; the run below brings D2, so it rebuilds April 2019 and the year
    run_pipeline(write_bundle(tmp_path / "before", GOOD[:1]), url, tmp_path / "var", validate=False)
    bundle = write_bundle(tmp_path / "bundle", GOOD)
    before = {t: read_table(url, t) for t in MARTS}
    assert len(before["mart.dossier_resolution"]) > 0

    real_build = mart_dossier_resolution.build

    def broken(fct: pd.DataFrame, dim_procedure: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
        out = real_build(fct, dim_procedure, **kwargs)
        out.loc[out.index[0], "received_total"] += 1  # (4) != (5) + (6)
        return out

    monkeypatch.setattr(mart_dossier_resolution, "build", broken)
    result = _run(bundle, url, tmp_path / "var")
    assert result.exit_code == 5, result.output  # validation stopped publication
    assert "mart_dossier_resolution" in result.output and "identity_4_eq_5_plus_6" in result.output
    for t, df in before.items():
        pd.testing.assert_frame_equal(read_table(url, t), df)


def test_broken_fact_stops_the_run_before_the_core_is_written(tmp_path, monkeypatch, prefect_harness):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    run_pipeline(write_bundle(tmp_path / "before", GOOD[:1]), url, tmp_path / "var", validate=False)
    core = ("core.fct_dossier", "core.fct_dossier_event", "core.dim_procedure", "core.dim_agency")
    before = {t: read_table(url, t) for t in (*core, *MARTS)}
    assert len(before["core.fct_dossier"]) == 1
    # D1 resolved again later (a change to D1) and D2 new: the run would write both
    later = dossier("D1", 9, "20190309100000", intake="20190304090000", due="20190311170000",
                    resolved="20190309100000")
    bundle = write_bundle(tmp_path / "bundle", [later, GOOD[1]])
    real_build = fct_dossier.build

    def broken(candidates: pd.DataFrame, existing: pd.DataFrame | None) -> pd.DataFrame:
        out = real_build(candidates, existing)
        out.loc[out["dossier_code"] == "D2", "channel_code"] = 7  # outside the channel table
        return out

    monkeypatch.setattr(fct_dossier, "build", broken)
    result = _run(bundle, url, tmp_path / "var")
    assert result.exit_code == 5, result.output
    assert "the core is unchanged" in result.output and "fct_dossier" in result.output
    for t, df in before.items():  # D1's change was not written either: nothing of the run is
        pd.testing.assert_frame_equal(read_table(url, t), df)


def test_quarantine_share_above_threshold_fails_the_run(tmp_path, prefect_harness):
    bad = [dossier("B1", 42, "20190305100000"), dossier("B2", 4, "20190305100000", channel=9)]
    bundle = write_bundle(tmp_path / "bundle", [*GOOD, *bad])  # half the records quarantined
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    result = _run(bundle, url, tmp_path / "var", "--quarantine-threshold", "0.1")
    assert result.exit_code == 4, result.output  # the quarantine over the threshold
    assert "2 of 4 records quarantined (50.0%), above the threshold 10.0%" in result.output
    assert read_table(url, "core.fct_dossier").empty  # nothing loaded
    assert len(read_table(url, "audit.quarantine")) == 2  # the records kept, to work from
    # Prefect's final state names the same error (the README's exit-code table gives both)
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        [last] = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=1)
    assert last.state.is_failed() and "QuarantineThresholdExceeded" in last.state.message, last.state.message


def test_quarantine_share_at_or_below_threshold_passes():
    from flows.stages.load_core import check_quarantine_share

    staged = {"records_read": 4, "records_quarantined": 2}
    assert check_quarantine_share(staged, 0.5) is None
    assert "above the threshold" in check_quarantine_share(staged, 0.49)
