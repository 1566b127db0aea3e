"""The core load commits one step per bucket (DuckDB keeps a transaction's inserted rows
in memory until it commits, so one transaction for the whole load grew with the run). A
load that dies after some buckets committed leaves those facts in the core, the
watermark where it was and the marts untouched; the next run ends with the marts of a
clean run, without duplicated facts or quarantine rows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flow_cases import (
    NEW,
    assert_no_duplicates,
    assert_same_marts,
    read_marts,
    read_runs,
    run_stages,
    write,
)
from helpers.warehouses import ENGINES, make_warehouse

from flows import tasks
from flows.stages.load_core import load_core
from flows.stages.runs import new_run
from flows.stages.stage import stage
from motcua.settings import Settings
from warehouse import load, schema
from warehouse.audit import MARTS_STALE
from warehouse.engine import make_engine
from warehouse.locks import warehouse_lock


class LoadDied(Exception):
    """Stands for the process dying after a bucket's commit."""


def _facts_and_marks(url: str) -> tuple[dict[str, str], list]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            fct = load.read_frame(conn, sa.select(schema.fct_dossier.c.dossier_code, schema.fct_dossier.c.run_id))
            marks = conn.execute(sa.select(schema.source_state.c.watermark)).scalars().all()
    finally:
        engine.dispose()
    return dict(zip(fct["dossier_code"], fct["run_id"], strict=True)), marks


def _quarantine_ids(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(schema.quarantine.c.quarantine_id)).scalars().all()
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ENGINES)
def test_a_load_dead_after_its_first_bucket_then_the_next_run_heals(kind, bundles, clean_marts, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv("MOTCUA_QUARANTINE_THRESHOLD", "1")  # the new export's one bad line is no reason to stop
    new = write(tmp_path / "new", [*NEW, "{not json"])  # with a line the quarantine keeps
    with make_warehouse(kind, tmp_path) as url:
        data = tmp_path / "var"
        run_stages(url, data, bundles["old"])  # the previous complete state
        before_marts = read_marts(url)
        before_facts, before_marks = _facts_and_marks(url)
        assert _quarantine_ids(url) == []

        # the new export, two records a bucket: several buckets, so several commits
        settings = Settings.from_env(warehouse_url=url, data_dir=data, bucket_records=2)
        run = new_run(settings, str(new))
        extracted = tasks.extract.fn(run, settings)
        staged = stage(run, settings, extracted, validate=False)
        assert staged["buckets"] >= 3 and staged["records_quarantined"] == 1
        done: list[tuple[int, int]] = []

        def die_after_first(done_buckets: int, total: int, changed: int) -> None:
            done.append((done_buckets, changed))
            raise LoadDied

        with warehouse_lock(settings, run.run_id), pytest.raises(LoadDied):
            tasks.mark_marts_stale.fn(run, settings, staged, "test", extracted["source_name"])
            load_core(run, settings, extracted, staged, on_bucket=die_after_first)

        # the first bucket with records was committed, the rest never ran
        ((_, changed),) = done
        facts, marks = _facts_and_marks(url)
        written = sorted(code for code, rid in facts.items() if rid == run.run_id)
        assert changed >= 1 and len(written) == changed
        assert len(written) < len({s["MaHoSo"] for s in NEW})
        assert marks == before_marks  # the watermark waits for the whole load
        assert {c: r for c, r in facts.items() if c not in written} == {
            c: r for c, r in before_facts.items() if c not in written}
        assert_same_marts(read_marts(url), before_marts)  # BI still reads the previous state
        assert read_runs(url).loc[run.run_id, "status"] == MARTS_STALE
        quarantined = _quarantine_ids(url)
        assert len(quarantined) == 1  # committed with the load's first step

        # the next run reads the same export again: the clean marts, nothing twice
        nxt = run_stages(url, data, new)
        assert nxt["published"]["healed_runs"] == [run.run_id]
        assert_same_marts(read_marts(url), clean_marts)
        assert_no_duplicates(url)
        assert _quarantine_ids(url) == quarantined  # the same record, once
        assert _facts_and_marks(url)[1] != before_marks
