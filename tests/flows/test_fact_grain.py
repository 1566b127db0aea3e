"""The facts' grain is checked over the whole tables before the marts are published:
on DuckDB no primary key enforces it (migration 0004), and the suites see one chunk of
facts at a time, so a duplicate written by anything but the merge must stop the run."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flow_cases import read_marts
from helpers.bundle import dossier, run_pipeline, write_bundle
from helpers.warehouses import ENGINES, make_warehouse

from expectations import gate
from flows.stages.marts import build_marts
from flows.stages.runs import new_run
from motcua.settings import Settings
from warehouse.engine import make_engine
from warehouse.errors import PipelineError
from warehouse.reads import grain_problem

D1 = dossier("D1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000",
             history=[(2, "20190304090000"), (9, "20190308100000")])
D2 = dossier("D2", 4, "20190405100000", intake="20190405090000", due="20190412170000")


def test_a_duplicated_fact_stops_publication(tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    run_pipeline(write_bundle(tmp_path / "n1", [D1]), url, tmp_path / "var")
    published = read_marts(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:  # a row added behind the merge's back
            conn.exec_driver_sql("INSERT INTO core.fct_dossier SELECT * FROM core.fct_dossier")
            conn.exec_driver_sql("INSERT INTO core.fct_dossier_event SELECT * FROM core.fct_dossier_event WHERE seq = 1")
        with engine.connect() as conn:
            problem = grain_problem(conn)
    finally:
        engine.dispose()
    assert problem is not None
    assert "core.fct_dossier: 1 keys (dossier_code) on more than one row, e.g. D1" in problem
    assert "core.fct_dossier_event: 1 keys (dossier_code, seq) on more than one row, e.g. D1, 1" in problem
    with pytest.raises(PipelineError, match="validation failed, nothing published: core.fct_dossier"):
        run_pipeline(write_bundle(tmp_path / "n2", [D2]), url, tmp_path / "var")
    for name, df in read_marts(url).items():  # the published marts are untouched
        assert df.equals(published[name]), name


def test_the_merge_keeps_the_grain(tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    run_pipeline(write_bundle(tmp_path / "n1", [D1, D2]), url, tmp_path / "var")
    run_pipeline(write_bundle(tmp_path / "n2", [D1 | {"NgayCapNhat": "20190309100000"}, D2]), url, tmp_path / "var")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert grain_problem(conn) is None
            assert conn.execute(sa.text("SELECT count(*) FROM core.fct_dossier")).scalar() == 2
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ENGINES)
def test_an_event_of_a_dossier_missing_from_the_facts_stops_publication(kind, tmp_path, monkeypatch):
    """The full run's event suite reads every event with the warehouse's answer to "is its
    dossier in the facts?" (a join), so an event without its fact is found; in pages of
    two events here, so that PostgreSQL's keyset paging over (dossier_code, seq) runs."""
    monkeypatch.setattr(gate, "EVENT_CHUNK_ROWS", 2)
    with make_warehouse(kind, tmp_path) as url:
        _missing_fact_found(url, tmp_path)


def _missing_fact_found(url: str, tmp_path) -> None:  # noqa: ANN001 - a pytest path
    done = run_pipeline(write_bundle(tmp_path / "n1", [D1, D2]), url, tmp_path / "var")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:  # an event whose dossier is not in core.fct_dossier
            conn.exec_driver_sql("INSERT INTO core.fct_dossier_event SELECT 'GHOST', seq, status_code, event_at,"
                                 " agency_code, office FROM core.fct_dossier_event WHERE dossier_code = 'D1' AND seq = 1")
    finally:
        engine.dispose()
    settings = Settings.from_env(warehouse_url=url, data_dir=tmp_path / "var")
    run = new_run(settings, "again", run_id=done["run_id"])  # its run wrote every fact: every event is read
    with pytest.raises(PipelineError, match="fct_dossier_event.*GHOST"):
        build_marts(run, settings, validate=True)
