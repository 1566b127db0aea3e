"""Publishing by partition, idempotence and healing, in-process (no Prefect server).

One warehouse goes through a scenario, step by step (module fixture), and each test
checks one step against the marts of a clean run over the same data:

1. the old export: first run, every period built;
2. the new export, "killed" between the core load and the publish;
3. a backfill replaying the new export from the raw zone (by its raw-zone name, the
   bundle gone): heals step 2;
4. the new export again, after a mart row outside its periods was tampered with:
   nothing changes, so nothing is rewritten (the tampered row stays);
5. the catalogue renamed a procedure: every partition is rebuilt (the row is restored).
"""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest
import sqlalchemy as sa
from flow_cases import (
    AGENCIES,
    NEW,
    P1,
    PROCEDURES,
    assert_no_duplicates,
    assert_same_marts,
    read_marts,
    read_runs,
    run_stages,
)
from helpers.bundle import procedure, write_bundle

from flows.stages.runs import source_name
from transforms.partitions import merge_intervals, partition_mask
from warehouse import schema
from warehouse.audit import MARTS_HEALED, MARTS_STALE
from warehouse.engine import make_engine
from warehouse.marts import partition_clause

TAMPERED = 999
RES = schema.dossier_resolution.name


def _tamper(url: str) -> None:
    """Set received_new of December 2018 (a period the new export does not touch)."""
    t = schema.dossier_resolution
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(t.update().where(t.c.period_type == "month", t.c.period_start == dt.date(2018, 12, 1))
                     .values(received_new=TAMPERED))
    engine.dispose()


def _with_tamper(marts: dict) -> dict:
    out = {k: v.copy() for k, v in marts.items()}
    df = out[RES]
    rows = (df["period_type"] == "month") & (pd.to_datetime(df["period_start"]) == pd.Timestamp("2018-12-01"))
    assert rows.sum() == 1
    df.loc[rows, "received_new"] = TAMPERED
    return out


@pytest.fixture(scope="module")
def scenario(bundles, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("partitions")
    url = f"duckdb:///{tmp / 'wh.duckdb'}"
    data = tmp / "var"
    new_copy = shutil.copytree(bundles["new"], tmp / "new")  # deleted before the replay
    steps: dict = {}
    steps["old"] = run_stages(url, data, bundles["old"])
    steps["old_marts"] = read_marts(url)
    assert run_stages(url, data, new_copy, stop_after_load=True) is None
    steps["killed_marts"] = read_marts(url)
    steps["killed_runs"] = read_runs(url)
    raw_name = source_name(str(new_copy))
    shutil.rmtree(new_copy)
    days = (dt.date.today() - dt.timedelta(days=1), dt.date.today())  # the extraction date, even at midnight
    steps["replay"] = run_stages(url, data, raw_name, replay=days, ranges=[days])
    steps["replay_marts"] = read_marts(url)
    steps["replay_runs"] = read_runs(url)
    _tamper(url)
    steps["rerun"] = run_stages(url, data, bundles["new"])
    steps["rerun_marts"] = read_marts(url)
    renamed = [procedure(P1, days=5, name="Thủ tục đã đổi tên"), *PROCEDURES[1:]]
    catalogue = write_bundle(tmp / "renamed", NEW[:1], procedures=renamed, agencies=AGENCIES)
    steps["renamed"] = run_stages(url, data, catalogue)
    steps["renamed_marts"] = read_marts(url)
    steps["url"] = url
    return steps


def test_first_run_builds_every_period(scenario):
    plan = scenario["old"]["plan"]
    assert plan["all"] and plan["reason"] == "no published marts"
    assert scenario["old"]["published"]["full_rebuild"]


def test_killed_between_load_and_publish_keeps_previous_marts(scenario):
    assert_same_marts(scenario["killed_marts"], scenario["old_marts"])
    runs = scenario["killed_runs"]
    assert (runs["status"] == MARTS_STALE).sum() == 1


def test_replay_heals_the_killed_run_and_equals_a_clean_run(scenario, clean_marts):
    replay = scenario["replay"]
    assert replay["staged"]["records_read"] == len(NEW)
    assert not replay["plan"]["all"] and replay["plan"]["stale_runs"]
    assert replay["loaded"]["dossiers_changed"] == 0  # the killed run had loaded them
    assert replay["published"]["healed_runs"] == replay["plan"]["stale_runs"]
    assert_same_marts(scenario["replay_marts"], clean_marts)
    runs = scenario["replay_runs"]
    assert set(runs["status"]) == {"completed", MARTS_HEALED}


def test_rerun_without_changes_rewrites_nothing(scenario, clean_marts):
    rerun = scenario["rerun"]
    assert rerun["loaded"]["dossiers_changed"] == 0
    assert rerun["plan"]["intervals"] == [] and rerun["published"]["periods_rebuilt"] == 0
    # the tampered December 2018 row is still there: publish only replaces the partitions it rebuilds
    assert_same_marts(scenario["rerun_marts"], _with_tamper(clean_marts))


def test_catalogue_change_rebuilds_every_partition(scenario, clean_marts):
    renamed = scenario["renamed"]
    assert renamed["plan"]["all"] and "catalogue" in renamed["plan"]["reason"]
    marts = scenario["renamed_marts"]
    res = marts[RES]
    assert set(res.loc[res["procedure_code"] == P1, "procedure_name"]) == {"Thủ tục đã đổi tên"}
    counts = [c for c in res.columns if c not in ("procedure_name", "field_name")]
    pd.testing.assert_frame_equal(res[counts], clean_marts[RES][counts])  # tampered row restored
    assert_no_duplicates(scenario["url"])


def test_merge_intervals():
    d = dt.date
    assert merge_intervals([(d(2019, 3, 1), d(2019, 3, 5)), (d(2019, 3, 6), d(2019, 3, 9)),
                                   (d(2019, 1, 1), None), (d(2018, 1, 1), d(2018, 2, 1))]) == [
        (d(2018, 1, 1), d(2018, 2, 1)), (d(2019, 1, 1), None)]
    assert merge_intervals([]) == []
    assert merge_intervals([(None, d(2019, 1, 1)), (d(2019, 1, 2), d(2019, 2, 1))]) == [(None, d(2019, 2, 1))]


def test_partition_clause_matches_the_pandas_mask(scenario):
    """The SQL delete and the pandas filter select the same periods."""
    intervals = [(dt.date(2019, 3, 10), dt.date(2019, 3, 20)), (dt.date(2020, 1, 5), None)]
    t = schema.dossier_resolution
    engine = make_engine(scenario["url"])
    with engine.connect() as conn:
        keys = conn.execute(sa.select(t.c.period_type, t.c.period_start)
                            .where(partition_clause(t, intervals)).distinct()).all()
    engine.dispose()
    df = scenario["renamed_marts"][RES]
    picked = df[partition_mask(df, intervals)][["period_type", "period_start"]].drop_duplicates()
    assert {(a, pd.Timestamp(b)) for a, b in keys} == {(a, pd.Timestamp(b)) for a, b in picked.itertuples(index=False)}
    assert {(a, pd.Timestamp(b).strftime("%Y-%m")) for a, b in keys} >= {("month", "2019-03"), ("year", "2019-01"),
                                                                          ("month", "2020-01"), ("year", "2020-01")}
