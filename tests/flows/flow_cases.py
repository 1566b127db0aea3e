"""Shared cases for the flow tests: two generations of snapshots over overlapping
periods (an older export replayed by a backfill, a newer one loaded by a nightly run),
the marts read back in a stable order, and the stages run in-process through the
Prefect tasks' ``.fn`` (no Prefect server needed).

The catalogue: two procedures (5 and 10 working days), agencies A1 and its child A2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from helpers.bundle import agency, dossier, procedure, write_bundle

from warehouse import load, schema
from warehouse.engine import make_engine

P1, P2 = "1.000001", "2.000002"
PROCEDURES = [procedure(P1, days=5), procedure(P2, days=10, field="F2", level="4")]
AGENCIES = [agency("A1"), agency("A2", parent="A1")]

OLD = [
    # E1 received 4/3/2019, still open in the old export
    dossier("E1", 4, "20190304090000", intake="20190304090000", due="20190311170000"),
    # E2: the old export already has its final state (resolved 8/3, early)...
    dossier("E2", 9, "20190308100000", intake="20190305090000", due="20190312170000", resolved="20190308100000"),
    # E3 received 3/6/2019, open
    dossier("E3", 4, "20190603090000", procedure_code=P2, intake="20190603090000", due="20190617170000"),
    # E4 received 4/11/2019 at A2, open (overdue at the end of 2019)
    dossier("E4", 4, "20191104090000", agency_code="A2", intake="20191104090000", due="20191111170000"),
    # E5 received 20/12/2018, resolved 9/1/2019
    dossier("E5", 9, "20190109100000", intake="20181220090000", due="20190110170000", resolved="20190109100000"),
]
NEW = [
    # E1 resolved 15/3/2019: late
    dossier("E1", 9, "20190315090000", intake="20190304090000", due="20190311170000", resolved="20190315090000"),
    # ...the new export has an older snapshot of E2, which must never win
    dossier("E2", 4, "20190305090000", intake="20190305090000", due="20190312170000"),
    # E3 withdrawn 20/6/2019
    dossier("E3", 7, "20190620090000", procedure_code=P2, intake="20190603090000", due="20190617170000",
            history=[(2, "20190603090000"), (7, "20190620090000")]),
    # E4 resolved 6/1/2020: late; moves the marts' coverage into 2020
    dossier("E4", 9, "20200106090000", agency_code="A2", intake="20191104090000", due="20191111170000",
            resolved="20200106090000"),
    # E6 online, received 2/1/2020, resolved 3/1/2020: early
    dossier("E6", 9, "20200103090000", channel=2, intake="20200102090000", due="20200109170000",
            resolved="20200103090000"),
    # E7 refused at intake: counts nowhere
    dossier("E7", 3, "20190701090000", NgayTuChoi="20190701090000"),
    # E8 at A2, received 20/3/2019, resolved 21/3/2019
    dossier("E8", 9, "20190321090000", procedure_code=P2, agency_code="A2", intake="20190320090000",
            due="20190403170000", resolved="20190321090000"),
]
BACKFILL_RANGE = ("2019-01-01", "2019-12-31")


def write(path: Path, snapshots: list[dict], files: int = 1) -> Path:
    """An export bundle with the shared catalogue."""
    return write_bundle(path, snapshots, procedures=PROCEDURES, agencies=AGENCIES, files=files)


def read_marts(url: str) -> dict[str, pd.DataFrame]:
    """The three marts, sorted by their key, with a fresh index."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            out = {}
            for t in schema.MART_TABLES:
                keys = [c.name for c in t.primary_key.columns]
                out[t.name] = load.read_frame(conn, t).sort_values(keys).reset_index(drop=True)
            return out
    finally:
        engine.dispose()


def read_runs(url: str) -> pd.DataFrame:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return load.read_frame(conn, sa.select(schema.run)).set_index("run_id")
    finally:
        engine.dispose()


def assert_same_marts(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> None:
    assert set(got) == set(want)
    for name in want:
        assert len(want[name]), f"{name}: the expected marts are empty"
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)


def assert_no_duplicates(url: str) -> None:
    """Every mart's key and every dossier code appear once."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            for t in (*schema.MART_TABLES, schema.fct_dossier):
                keys = [c.name for c in t.primary_key.columns]
                df = load.read_frame(conn, t)
                assert not df.duplicated(keys).any(), f"{t.fullname}: duplicate keys"
    finally:
        engine.dispose()


def run_stages(url: str, data_dir: Path, source: Path | str, *, flow: str = "test", stop_after_load: bool = False,
               ranges: list | None = None, replay: tuple | None = None, validate: bool = False) -> dict | None:
    """The nightly/backfill write sequence in-process (as the flows run it, minus Prefect):
    extract (or replay the raw zone), stage, then under the write lock mark the marts
    stale, load the core, plan, build and publish — the tasks this work adds through
    their ``.fn``. ``stop_after_load`` stops where a run killed between the core load and
    the publish would. The expectation suites (slow, tested elsewhere) only run with
    ``validate``."""
    from flows import tasks
    from flows.stages import stage as staging
    from flows.stages.marts import build_marts
    from flows.stages.runs import new_run
    from motcua.settings import Settings
    from warehouse.locks import warehouse_lock

    settings = Settings.from_env(warehouse_url=url, data_dir=data_dir)
    run = new_run(settings, str(source))
    if replay:
        extracted = tasks.replay_raw.fn(run, settings, str(source), *replay)
    else:
        extracted = tasks.extract.fn(run, settings)
    staged = staging.stage(run, settings, extracted, validate=validate)
    with warehouse_lock(settings, run.run_id):
        tasks.mark_marts_stale.fn(run, settings, staged, flow, extracted["source_name"])
        loaded = tasks.load_core.fn(run, settings, extracted, staged)
        if stop_after_load:
            return None
        plan = tasks.plan_rebuild.fn(run, settings, ranges)
        built = build_marts(run, settings, validate=validate, plan=plan)
        published = tasks.publish.fn(run, settings, built, plan)
    return {"run_id": run.run_id, "staged": staged, "loaded": loaded, "plan": plan, "published": published}


def motcua_command(*args: str) -> list[str]:
    """The ``motcua`` console command of this interpreter's environment."""
    return [str(Path(sys.executable).with_name("motcua")), *args]


def subprocess_env(prefect_api: str | None, **extra: str) -> dict[str, str]:
    """The environment for a ``motcua`` subprocess: this one (PREFECT_HOME, analytics off,
    the pseudonym key) pointed at ``prefect_api`` (no temporary server to start), importing
    the code this process imports (the console script alone would import the installed
    checkout's, e.g. another worktree's)."""
    import flows

    env = dict(os.environ)
    env.pop("MOTCUA_TEST_PAUSE_AT", None)
    root = str(Path(flows.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    if prefect_api:
        env["PREFECT_API_URL"] = prefect_api
    env.update(extra)
    return env
