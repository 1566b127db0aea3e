"""Partitioned work: the run split into staging shards and load buckets gives the same
warehouse as the run in one piece, whether the shards are staged in the run's process,
on a pool of two worker processes (the default on a machine with two cores) or on a
Dask ``LocalCluster`` of two worker processes (Prefect's Dask task runner)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from helpers.bundle import read_table, run_pipeline

from motcua.dev.sample.bundle import write_sample

MARTS = ("mart.dossier_resolution", "mart.dossier_intake", "mart.indicator")
CORE = ("core.fct_dossier", "core.fct_dossier_event", "audit.quarantine")
# the sample's 6 dossier files hold 1,091, 1,022, 746, 694, 694 and 320 records (4,567):
# shards of at most 1,500 records (whole files) are {1091}, {1022}, {746, 694}, {694, 320};
# 700-record buckets: ceil(4567 / 700) = 7 load buckets
SMALL = {"shard_records": 1500, "bucket_records": 700, "workers": 1}


def _sorted(df: pd.DataFrame, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    df = df.drop(columns=[c for c in drop if c in df.columns])
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def _same_warehouse(url: str, one: str) -> None:
    """The same marts, and the same facts, events and quarantine (run ids and load times differ)."""
    for t in MARTS:
        pd.testing.assert_frame_equal(_sorted(read_table(url, t)), _sorted(read_table(one, t)), obj=t)
    drop = ("run_id", "quarantined_at", "resolved_run_id")
    for t in CORE:
        pd.testing.assert_frame_equal(_sorted(read_table(url, t), drop), _sorted(read_table(one, t), drop), obj=t)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dask")
    write_sample(tmp / "bundle")
    url = f"duckdb:///{tmp / 'one.duckdb'}"
    result = run_pipeline(tmp / "bundle", url, tmp / "var-one")
    assert result["staged"]["shards"] == 1 and result["staged"]["buckets"] == 1
    return tmp, url


def test_shards_and_buckets_give_the_same_warehouse(sample, tmp_path):
    tmp, one = sample
    url = f"duckdb:///{tmp_path / 'split.duckdb'}"
    result = run_pipeline(tmp / "bundle", url, tmp_path / "var", **SMALL)
    assert result["staged"]["shards"] == 4
    assert result["staged"]["buckets"] == 7
    assert result["loaded"]["buckets"] == 7
    _same_warehouse(url, one)


def test_shard_count_fills_every_round_of_workers():
    from flows.stages.stage import shard_count

    assert shard_count(4567, 1500, 1) is None  # one process: cut by size alone
    assert shard_count(4567, 1500, 2) == 4  # ceil(4567 / 1500) = 4: already 2 rounds of 2
    assert shard_count(4567, 1500, 3) == 6  # 4 -> 6: 2 rounds of 3
    assert shard_count(4_437_974, 1_000_000, 2) == 6  # 5 -> 6: 3 rounds, none with a worker idle
    assert shard_count(443_747, 1_000_000, 2) == 2  # under one shard, but two of 200,000 or more
    assert shard_count(443_747, 1_000_000, 4) == 2  # (at most 443,747 // 200,000 = 2)
    assert shard_count(150_000, 1_000_000, 2) is None  # too small to share


def test_plan_shards_into_a_count_of_equal_shards(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from flows.stages.stage import plan_shards

    files = []
    for i, n in enumerate([1091, 1022, 746, 694, 694, 320]):  # the sample's files
        files.append(str(tmp_path / f"f{i}.parquet"))
        pq.write_table(pa.table({"x": list(range(n))}), files[-1])
    by_size = plan_shards(files, 1500)
    assert [s["records"] for s in by_size] == [1091, 1022, 746 + 694, 694 + 320]
    # 4 shards by the middle record of each file: 545/4567*4 = 0.5 -> 0, 1602 -> 1.4 -> 1,
    # 2486 -> 2.2 -> 2, 3206 -> 2.8 -> 2, 3900 -> 3.4 -> 3, 4407 -> 3.9 -> 3
    assert [s["records"] for s in plan_shards(files, 1500, 4)] == [1091, 1022, 1440, 1014]
    # 3 shards: 0.36 -> 0, 1.05 -> 1, 1.63 -> 1, 2.1 -> 2, 2.56 -> 2, 2.89 -> 2
    three = plan_shards(files, 1500, 3)
    assert [s["records"] for s in three] == [1091, 1768, 1708]
    assert [item[1] for s in three for item in s["files"]] == [0, 1091, 2113, 2859, 3553, 4247]  # first ids


def test_worker_processes_give_the_same_warehouse(sample, tmp_path):
    tmp, one = sample
    url = f"duckdb:///{tmp_path / 'pool.duckdb'}"
    result = run_pipeline(tmp / "bundle", url, tmp_path / "var", **{**SMALL, "workers": 2})
    staged = result["staged"]
    # 4 shards on 2 workers (see test_plan_shards_into_a_count_of_equal_shards)
    assert staged["shards"] == 4
    assert staged["shard_pids"] and os.getpid() not in staged["shard_pids"]
    assert staged["records_loaded"] + staged["records_quarantined"] == staged["records_read"] == 4567
    _same_warehouse(url, one)


def test_dask_local_cluster_with_two_workers_gives_the_same_marts(sample, tmp_path, monkeypatch, prefect_harness):
    from flows.pipeline import motcua_run

    tmp, one = sample
    monkeypatch.setenv("MOTCUA_WRITE_LIMIT", "off")  # the test server has no global concurrency limit
    monkeypatch.setenv("MOTCUA_SHARD_RECORDS", str(SMALL["shard_records"]))
    url = f"duckdb:///{tmp_path / 'dask.duckdb'}"
    result = motcua_run(source=str(tmp / "bundle"), warehouse=url, data_dir=str(tmp_path / "var"), dask="local:2")
    staged = result["staged"]
    assert staged["shards"] == 4
    # the shards ran in the cluster's worker processes, not in this one
    assert staged["shard_pids"] and os.getpid() not in staged["shard_pids"]
    assert staged["records_loaded"] + staged["records_quarantined"] == staged["records_read"] == 4567
    for t in MARTS:
        pd.testing.assert_frame_equal(_sorted(read_table(url, t)), _sorted(read_table(one, t)), obj=t)


def test_a_bundle_extracted_on_workers_lands_the_same_raw_zone(sample, tmp_path, monkeypatch):
    """The bundle's six dossier files extracted on two worker processes land the records
    of the extract in one process, in the same order (the raw files taken in their listed
    order), each file's batches under its own prefix."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from flows.stages import extract as extracting
    from flows.stages.runs import new_run
    from motcua.settings import Settings

    tmp, _ = sample
    monkeypatch.setattr(extracting, "PARALLEL_EXTRACT_BYTES", 0)  # the sample's 6 files are small
    landed = {}
    for workers in (1, 2):
        s = Settings.from_env(warehouse_url=f"duckdb:///{tmp_path / f'w{workers}.duckdb'}",
                              data_dir=tmp_path / f"var{workers}", workers=workers)
        run = new_run(s, str(tmp / "bundle"))
        extracted = extracting.extract(run, s)
        table = pa.concat_tables([pq.read_table(f) for f in extracted["raw_files"]])
        landed[workers] = (extracted, table.drop_columns(["run_id"]))
    one, two = landed[1], landed[2]
    assert one[0]["records_read"] == two[0]["records_read"] == 4567
    assert two[1].equals(one[1])
    names = [Path(f).name.split("-records-")[1] for f in two[0]["raw_files"]]
    assert names[0].startswith("0000-") and names[-1].startswith("0005-") and names == sorted(names)
    assert Path(one[0]["raw_files"][0]).name.endswith("-records-00000.parquet")  # one process: no file prefix
