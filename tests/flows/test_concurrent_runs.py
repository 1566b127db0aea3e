"""A nightly run and a backfill at the same time, over overlapping periods, on one DuckDB
warehouse and one Prefect server: the nightly as a ``motcua nightly`` process, the
backfill as the flow in this process. The nightly pauses inside its write section (test
hook) and the backfill starts right then, so it must wait: for the write limit's slot
and for the database. Their write sections do not overlap, nothing is duplicated, and
the marts equal those of one clean run over the same data.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time

import pytest
from flow_cases import (
    BACKFILL_RANGE,
    assert_no_duplicates,
    assert_same_marts,
    motcua_command,
    read_marts,
    read_runs,
    subprocess_env,
)

from warehouse.audit import run_message


@pytest.mark.slow
def test_nightly_and_backfill_side_by_side(bundles, clean_marts, prefect_api, tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    data = tmp_path / "var"
    inside = tmp_path / "nightly-is-writing"
    env = subprocess_env(prefect_api, MOTCUA_TEST_PAUSE_AT="build_marts", MOTCUA_TEST_PAUSE_FILE=str(inside),
                         MOTCUA_TEST_PAUSE_SECONDS="3")
    nightly = subprocess.Popen(
        motcua_command("nightly", "--source", str(bundles["new"]), "--warehouse", url, "--data-dir", str(data),
                       "--no-progress"),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 240
        while not inside.exists():
            assert nightly.poll() is None, f"the nightly run ended early:\n{nightly.stdout.read()[-4000:]}"
            assert time.monotonic() < deadline, "the nightly run never reached its write section"
            time.sleep(0.05)

        from flows.backfill import backfill

        started = dt.datetime.now()
        result = backfill(date_from=dt.date.fromisoformat(BACKFILL_RANGE[0]),
                          date_to=dt.date.fromisoformat(BACKFILL_RANGE[1]), source=str(bundles["old"]),
                          warehouse=url, data_dir=str(data))
        out = nightly.communicate(timeout=240)[0]
    finally:
        if nightly.poll() is None:
            nightly.kill()
            nightly.wait()
    assert nightly.returncode == 0, f"the nightly run failed:\n{out[-4000:]}"
    assert result["records_read"] == 5

    assert_no_duplicates(url)
    assert_same_marts(read_marts(url), clean_marts)

    runs = read_runs(url)
    assert sorted(runs["flow"]) == ["backfill", "nightly"]
    assert set(runs["status"]) == {"completed"}
    spans = {r.flow: (dt.datetime.fromisoformat(run_message(r.message)["locked_at"]), r.finished_at)
             for r in runs.itertuples()}
    # the nightly held the warehouse first; the backfill, started meanwhile, only wrote after it
    assert spans["nightly"][0] < started < spans["nightly"][1] <= spans["backfill"][0], spans
