"""A nightly run builds its marts from the additive state kept by the last publish, by a
delta over its own dossiers (minus the facts as they were, plus the facts as they are),
and gets exactly what recounting every fact gives; when the state cannot be trusted (lost,
coverage grown backwards, a run left the core unpublished) it recounts.

Night 1 (March–April 2019): D1 resolved on time, D2 open, D3 resolved late.
Night 2: D2 resolved in May (a change), D4 received in June (coverage grows forward).
"""

from __future__ import annotations

import shutil

import pandas as pd
from flow_cases import assert_same_marts, read_marts
from helpers.bundle import dossier, run_pipeline, write_bundle

from flows.stages.extract import extract
from flows.stages.load_core import load_core
from flows.stages.marts import state_dir
from flows.stages.publish import mark_marts_stale
from flows.stages.runs import new_run
from flows.stages.stage import stage
from motcua.settings import Settings

D1 = dossier("D1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000")
D2_OPEN = dossier("D2", 4, "20190405100000", intake="20190405090000", due="20190412170000")
D3 = dossier("D3", 9, "20190420100000", intake="20190401090000", due="20190405170000", resolved="20190419100000")
D2_DONE = dossier("D2", 9, "20190510100000", intake="20190405090000", due="20190412170000", resolved="20190510100000")
D4 = dossier("D4", 4, "20190603100000", intake="20190603090000", due="20190610170000")
D0_EARLY = dossier("D0", 9, "20190615100000", intake="20190110090000", due="20190117170000",
                   resolved="20190115100000")


def _full(tmp_path, name: str, snaps: list[dict]) -> dict:
    url = f"duckdb:///{tmp_path / f'{name}.duckdb'}"
    run_pipeline(write_bundle(tmp_path / f"{name}-bundle", snaps), url, tmp_path / f"{name}-var")
    return read_marts(url)


def test_delta_equals_recount_as_coverage_grows_forward(tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    first = run_pipeline(write_bundle(tmp_path / "n1", [D1, D2_OPEN, D3]), url, tmp_path / "var")
    assert first["method"] == "recount"  # nothing kept yet
    second = run_pipeline(write_bundle(tmp_path / "n2", [D2_DONE, D4]), url, tmp_path / "var")
    assert second["method"] == "delta" and not second["plan"]["all"]
    assert_same_marts(read_marts(url), _full(tmp_path, "ref", [D1, D2_DONE, D3, D4]))
    # the delta did move D2: April pending 1 -> 0 not due; May resolved 1
    res = read_marts(url)["dossier_resolution_v1"]
    may = res[(res["period_type"] == "month") & (pd.to_datetime(res["period_start"]) == "2019-05-01")]
    assert may["resolved_total"].sum() == 1


def test_lost_state_and_backward_growth_recount(tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    run_pipeline(write_bundle(tmp_path / "n1", [D1, D2_OPEN, D3]), url, tmp_path / "var")
    settings = Settings.from_env(warehouse_url=url, data_dir=tmp_path / "var")
    shutil.rmtree(state_dir(settings))
    second = run_pipeline(write_bundle(tmp_path / "n2", [D2_DONE]), url, tmp_path / "var")
    assert second["method"] == "recount"
    # a dossier received before the coverage began: every period's carried-over may change
    third = run_pipeline(write_bundle(tmp_path / "n3", [D0_EARLY]), url, tmp_path / "var")
    assert third["method"] == "recount"
    fourth = run_pipeline(write_bundle(tmp_path / "n4", [D4]), url, tmp_path / "var")
    assert fourth["method"] == "delta"
    assert_same_marts(read_marts(url), _full(tmp_path, "ref", [D0_EARLY, D1, D2_DONE, D3, D4]))


def test_a_run_left_unpublished_makes_the_next_one_recount(tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    data = tmp_path / "var"
    run_pipeline(write_bundle(tmp_path / "n1", [D1, D2_OPEN, D3]), url, data)
    # a run that loads the core and dies before publishing (left marts_stale)
    s = Settings.from_env(warehouse_url=url, data_dir=data)
    run = new_run(s, str(write_bundle(tmp_path / "n2", [D2_DONE])))
    extracted = extract(run, s)
    staged = stage(run, s, extracted)
    mark_marts_stale(run, s, staged)
    load_core(run, s, extracted, staged)
    nxt = run_pipeline(write_bundle(tmp_path / "n3", [D4]), url, data)
    assert nxt["plan"]["stale_runs"] and nxt["method"] == "recount"
    assert_same_marts(read_marts(url), _full(tmp_path, "ref", [D1, D2_DONE, D3, D4]))
