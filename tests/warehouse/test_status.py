"""warehouse.status and ``motcua status``: the state a small run leaves, read back; a
missing warehouse is reported and never created."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner
from helpers.bundle import dossier, run_pipeline, write_bundle

from motcua.commands.status import status
from warehouse.engine import connected
from warehouse.status import absent, read_status


def _warehouse(tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    snaps = [dossier("D1", 9, "20190308100000", intake="20190304090000", due="20190311170000",
                     resolved="20190308100000"),
             "this line is not JSON"]
    run = run_pipeline(write_bundle(tmp_path / "b", snaps), url, tmp_path / "var", validate=False,
                       quarantine_threshold=1.0)
    return url, run


def test_a_run_read_back(tmp_path):
    url, run = _warehouse(tmp_path)
    assert absent(url) is None
    with connected(url) as conn:
        state = read_status(conn, dt.datetime(2019, 3, 9, 10, 0), stale_hours=36)
    [r] = state["runs"]
    assert (r["run_id"], r["status"]) == (run["run_id"], "completed")
    assert (r["records_read"], r["records_loaded"], r["records_quarantined"]) == (2, 1, 1)
    [s] = state["sources"]
    # the watermark is D1's NgayCapNhat, 24 hours before "now"
    assert (s["watermark"], s["age_hours"], s["stale"]) == ("20190308100000", 24.0, False)
    assert sum(state["quarantine_open"].values()) == 1
    assert state["marts_published_at"] is not None
    with connected(url) as conn:
        later = read_status(conn, dt.datetime(2019, 3, 10, 10, 0, 1), stale_hours=48)
    assert later["sources"][0]["stale"]  # 48 h and a second


def test_the_command_prints_and_exits_by_health(tmp_path):
    url, _ = _warehouse(tmp_path)
    res = CliRunner().invoke(status, ["--warehouse", url, "--json"])
    state = json.loads(res.output)
    assert state["sources"][0]["stale"] and res.exit_code == 2  # a 2019 watermark is stale today
    res = CliRunner().invoke(status, ["--warehouse", url, "--stale-hours", str(24 * 365 * 100)])
    assert res.exit_code == 0, res.output
    assert "quarantine: 1 open" in res.output and "completed" in res.output


def test_a_missing_warehouse_is_named_and_not_created(tmp_path):
    db = tmp_path / "nowhere" / "wh.duckdb"
    res = CliRunner().invoke(status, ["--warehouse", f"duckdb:///{db}"])
    assert res.exit_code == 1 and f"no warehouse at {db}" in res.output
    assert not db.exists() and not db.parent.exists()


def test_an_empty_warehouse_is_named(tmp_path):
    import duckdb

    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    assert "has no motcua tables" in absent(f"duckdb:///{db}")
