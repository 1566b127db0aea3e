"""kill -9 in each stage of the write section (before the stale mark, before the core
load, before the marts are built; publish: test_kill_and_resume.py; mid-extract:
tests/sources/test_same_marts_every_source.py): the marts published before stay whole,
and the next nightly ends with the marts of a clean run, no duplicate and no run left
``marts_stale``. A real ``motcua nightly`` subprocess paused by the test hook
``MOTCUA_TEST_PAUSE_AT``, then killed."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from flow_cases import (
    assert_no_duplicates,
    assert_same_marts,
    motcua_command,
    read_marts,
    read_runs,
    run_stages,
    subprocess_env,
)
from test_kill_and_resume import _wait_for

from warehouse.audit import MARTS_STALE


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["mark_marts_stale", "load_core", "build_marts"])
def test_sigkill_in_a_stage_then_the_next_run_heals(stage, bundles, clean_marts, prefect_api, tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    data = tmp_path / "var"
    run_stages(url, data, bundles["old"])
    before = read_marts(url)
    paused = tmp_path / "paused"
    env = subprocess_env(prefect_api, MOTCUA_TEST_PAUSE_AT=stage, MOTCUA_TEST_PAUSE_FILE=str(paused),
                         MOTCUA_WRITE_LIMIT="off")
    proc = subprocess.Popen(
        motcua_command("nightly", "--source", str(bundles["new"]), "--warehouse", url, "--data-dir", str(data),
                       "--no-progress"),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        _wait_for(paused, proc, timeout=240)
        assert paused.read_text(encoding="utf-8") == stage
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert_same_marts(read_marts(url), before)  # nothing of the killed run is published

    from flows.nightly import nightly

    nightly(source=str(bundles["new"]), warehouse=url, data_dir=str(data))
    assert_same_marts(read_marts(url), clean_marts)
    assert_no_duplicates(url)
    assert MARTS_STALE not in set(read_runs(url)["status"])
