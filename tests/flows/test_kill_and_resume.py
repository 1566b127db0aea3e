"""A run killed (SIGKILL) in the middle of publishing the marts, or before the stale
mark, the core load or the marts' build: the marts still show the previous complete
state, and the next run finishes the work, ending with the marts of a clean run.

The killed run is a real ``motcua nightly`` subprocess, paused inside the publish
transaction (after the old partitions were deleted) by the test hook
``MOTCUA_TEST_PAUSE_AT=publish``. It uses the session's Prefect test server but not the
Prefect write limit (``MOTCUA_WRITE_LIMIT=off``): a killed holder's slot is only freed
when its lease expires (a minute or more), which the database lock does not need.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from flow_cases import (
    NEW,
    assert_no_duplicates,
    assert_same_marts,
    motcua_command,
    read_marts,
    read_runs,
    run_stages,
    subprocess_env,
)

from warehouse.audit import MARTS_HEALED, MARTS_STALE


def _wait_for(path, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"the run ended (exit {proc.returncode}) before pausing:\n{out[-4000:]}")
        assert time.monotonic() < deadline, "the run never reached the publish stage"
        time.sleep(0.1)


def _kill_nightly_at(stage: str, prefect_api: str, url: str, data, bundle, tmp_path) -> None:  # noqa: ANN001
    """A ``motcua nightly`` subprocess paused at ``stage`` by the test hook, then SIGKILLed."""
    paused = tmp_path / "paused"
    env = subprocess_env(prefect_api, MOTCUA_TEST_PAUSE_AT=stage, MOTCUA_TEST_PAUSE_FILE=str(paused),
                         MOTCUA_WRITE_LIMIT="off")
    proc = subprocess.Popen(
        motcua_command("nightly", "--source", str(bundle), "--warehouse", url, "--data-dir", str(data),
                       "--no-progress"),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        _wait_for(paused, proc, timeout=240)
        assert paused.read_text(encoding="utf-8") == stage
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_sigkill_during_publish_then_the_next_run_heals(bundles, clean_marts, prefect_api, tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    data = tmp_path / "var"
    run_stages(url, data, bundles["old"])  # the previous complete state
    before = read_marts(url)

    _kill_nightly_at("publish", prefect_api, url, data, bundles["new"], tmp_path)

    # the publish transaction never committed: the previous marts, whole
    assert_same_marts(read_marts(url), before)
    runs = read_runs(url)
    killed = runs.index[runs["status"] == MARTS_STALE].tolist()
    assert len(killed) == 1 and runs.loc[killed[0], "flow"] == "nightly"

    # the next nightly run (the flow, in this process) has nothing new to load, but
    # rebuilds the periods the killed run had loaded into the core
    from flows.nightly import nightly

    result = nightly(source=str(bundles["new"]), warehouse=url, data_dir=str(data))
    assert result["dossiers_changed"] == 0
    assert result["healed_runs"] == killed
    assert_same_marts(read_marts(url), clean_marts)
    assert_no_duplicates(url)
    assert read_runs(url).loc[killed[0], "status"] == MARTS_HEALED

    # the rerun's artifacts: counts per source and the headline indicators, nothing per dossier
    from prefect import get_client

    with get_client(sync_client=True) as client:
        artifacts = {a.key: a for a in client.read_artifacts() if str(a.flow_run_id) == result["flow_run_id"]}
    assert set(artifacts) == {"motcua-nightly-records", "motcua-nightly-summary"}
    table = artifacts["motcua-nightly-records"].data
    (row,) = json.loads(table) if isinstance(table, str) else table
    assert (row["records_read"], row["records_quarantined"], row["dossiers_changed"]) == (len(NEW), 0, 0)
    summary = artifacts["motcua-nightly-summary"].data
    assert "on_time_rate" in summary and "Headline indicators, 2020" in summary
    assert not any(f"E{i}" in summary for i in range(1, 9))  # no dossier appears in it


# kill -9 in the other stages of the write section (before the stale mark, before the core
# load, before the marts are built; mid-extract: tests/sources/test_same_marts_every_source.py):
# the marts published before stay whole, the next nightly ends with a clean run's marts.
@pytest.mark.slow
@pytest.mark.parametrize("stage", ["mark_marts_stale", "load_core", "build_marts"])
def test_sigkill_in_a_stage_then_the_next_run_heals(stage, bundles, clean_marts, prefect_api, tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    data = tmp_path / "var"
    run_stages(url, data, bundles["old"])
    before = read_marts(url)
    _kill_nightly_at(stage, prefect_api, url, data, bundles["new"], tmp_path)
    assert_same_marts(read_marts(url), before)  # nothing of the killed run is published

    from flows.nightly import nightly

    nightly(source=str(bundles["new"]), warehouse=url, data_dir=str(data))
    assert_same_marts(read_marts(url), clean_marts)
    assert_no_duplicates(url)
    assert MARTS_STALE not in set(read_runs(url)["status"])
