"""End to end on a real Prefect server (``e2e_driver.py``, started in the background
when the tests are collected): ``prefect server start`` and a process worker on
127.0.0.1 with their own PREFECT_HOME, ``motcua setup-prefect``, ``prefect deploy --all``
from prefect.yaml, a ``backfill`` triggered with parameters through the API and awaited.
Here: the warehouse it loaded equals a clean run, the run left its artifacts and motcua's own log lines, and the
nightly schedule's time zone and next run time read back through the API are right."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from flow_cases import assert_no_duplicates, assert_same_marts, read_marts, read_runs

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.prefect_server
def test_deploy_and_run_backfill_on_a_real_server(e2e_run, clean_marts):
    assert e2e_run["ok"], f"{e2e_run.get('error')}\n{e2e_run.get('logs')}"
    assert "created global concurrency limit 'motcua-warehouse-writes'" in e2e_run["setup_prefect"]["output"]
    assert "created process work pool 'motcua-pool'" in e2e_run["setup_prefect"]["output"]
    assert e2e_run["backfill"]["state"] == "COMPLETED", e2e_run["backfill"]

    # the warehouse the worker's flow run loaded: what one clean run over the same data gives
    url = e2e_run["url"]
    assert_same_marts(read_marts(url), clean_marts)
    assert_no_duplicates(url)
    runs = read_runs(url)
    assert list(runs["flow"]) == ["backfill"] and list(runs["status"]) == ["completed"]
    assert {"motcua-backfill-records", "motcua-backfill-summary"} <= set(e2e_run["artifacts"])
    # motcua's own loggers reach the flow run's logs in Prefect, at INFO (prefect.yaml's job variables)
    ours = [lg for lg in e2e_run["backfill_logs"] if lg["name"].startswith("motcua")]
    assert any(lg["message"].startswith("BI snapshot published at") and lg["level"] == 20 for lg in ours), \
        sorted({lg["name"] for lg in e2e_run["backfill_logs"]})

    deployments = e2e_run["deployments"]
    assert {d["work_pool"] for d in deployments.values()} == {"motcua-pool"}
    assert {"date_from", "date_to", "source", "replay"} <= set(deployments["backfill/backfill"]["parameters"])
    assert deployments["backfill/backfill"]["schedules"] == []
    assert deployments["annual_report/annual_report"]["schedules"] == [
        {"cron": "0 6 16 12 *", "timezone": "Asia/Ho_Chi_Minh", "active": True,
         "parameters": {"convention": "decree09"}}]

    # the nightly schedule: 01:30 in Ho Chi Minh City, i.e. 18:30 UTC; the next run is the next such time
    assert deployments["nightly/nightly"]["schedules"] == [
        {"cron": "30 1 * * *", "timezone": "Asia/Ho_Chi_Minh", "active": True, "parameters": {}}]
    nxt = dt.datetime.fromisoformat(e2e_run["nightly_next"])
    assert (nxt.hour, nxt.minute, nxt.utcoffset()) == (18, 30, dt.timedelta(0))
    local = nxt.astimezone(HCM)
    now = dt.datetime.now(HCM)
    expected = now.replace(hour=1, minute=30, second=0, microsecond=0)
    if expected <= now:
        expected += dt.timedelta(days=1)
    assert local == expected
