"""On PostgreSQL the write lock cannot vanish unnoticed (see :mod:`warehouse.locks`).

The run's session advisory lock lives on an idle connection; these tests end that
session with ``pg_terminate_backend`` in the middle of a run and show that the run's
next writing transaction fails with :class:`warehouse.locks.WarehouseLockLost` and writes
nothing (the failure is still recorded), that a transaction open when the session ended
is rolled back at its commit, and that a second run started after the kill writes only
after the first run's last transaction has ended. And that every writing transaction
takes the transaction-level lock :data:`warehouse.locks.WRITE_XACT_KEY`: writers wait for it
and never overlap.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from flow_cases import (
    assert_no_duplicates,
    motcua_command,
    read_marts,
    read_runs,
    run_stages,
    subprocess_env,
)
from helpers.warehouses import admin_engine, comparable, fresh_postgres_database

from flows import tasks
from flows.stages.marts import build_marts
from flows.stages.publish import mark_marts_stale
from flows.stages.runs import Run, new_run, note_failure
from flows.stages.stage import stage
from motcua.settings import Settings
from warehouse import load, locks, schema
from warehouse.audit import MARTS_HEALED, MARTS_STALE, run_message
from warehouse.engine import create_schema, make_engine
from warehouse.errors import PipelineError
from warehouse.locks import WRITE_LOCK_NAME, _advisory_key, warehouse_lock

pytestmark = pytest.mark.postgres

SESSION_KEY = _advisory_key(WRITE_LOCK_NAME)


# --------------------------------------------------------------------------- helpers
def _advisory(url: str, key: int, granted: bool) -> list[int]:
    """The backends of this database holding (``granted``) or waiting for advisory lock ``key``."""
    hi, lo = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted = :granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1"),
                {"granted": granted, "hi": hi, "lo": lo})]
    finally:
        engine.dispose()


def _lock_session(url: str) -> int:
    (pid,) = _advisory(url, SESSION_KEY, granted=True)
    return pid


def _terminate(pid: int) -> None:
    """End a backend, as a server restart or an idle timeout would, and wait until it is gone."""
    admin = admin_engine()
    try:
        with admin.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}).scalar()
    finally:
        admin.dispose()


def _contents(url: str) -> dict[str, pd.DataFrame]:
    """Every table of the core, the marts and the audit, in a stable order (as text)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            out = {}
            for t in (*schema.DIMENSION_TABLES, *schema.FACT_TABLES, *schema.MART_TABLES, *schema.AUDIT_TABLES):
                df = load.read_frame(conn, t).astype(str)
                out[t.fullname] = df.sort_values(list(df.columns)).reset_index(drop=True)
            return out
    finally:
        engine.dispose()


def _assert_same_contents(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> None:
    assert set(got) == set(want)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)


def _assert_clean(url: str, clean_marts: dict) -> None:
    got = read_marts(url)
    for name, want in clean_marts.items():
        pd.testing.assert_frame_equal(comparable(got[name]), comparable(want), obj=name)
    assert_no_duplicates(url)


def _staged(url: str, data: Path, source: Path) -> tuple[Settings, Run, dict, dict]:
    """A run read and staged (nothing written to the warehouse yet)."""
    settings = Settings.from_env(warehouse_url=url, data_dir=data)
    run = new_run(settings, str(source))
    extracted = tasks.extract.fn(run, settings)
    return settings, run, extracted, stage(run, settings, extracted, validate=False)


def _write_section(settings: Settings, run: Run, extracted: dict, staged: dict) -> dict:
    """The write section of a run, as the flows run it (see flow_cases.run_stages)."""
    with warehouse_lock(settings, run.run_id, timeout=120):
        tasks.mark_marts_stale.fn(run, settings, staged, "test", extracted["source_name"])
        tasks.load_core.fn(run, settings, extracted, staged)
        plan = tasks.plan_rebuild.fn(run, settings)
        built = build_marts(run, settings, validate=False, plan=plan)
        return tasks.publish.fn(run, settings, built, plan)


LOST = "the warehouse write lock was lost: its session .* ended"


# --------------------------------------------------------------------------- the lock session ends between transactions
def test_lost_lock_session_fails_the_next_write_and_writes_nothing(bundles, clean_marts, tmp_path):
    with fresh_postgres_database() as url:
        data = tmp_path / "var"
        run_stages(url, data, bundles["old"])  # the previous complete state
        settings, run, extracted, staged = _staged(url, data, bundles["new"])
        with warehouse_lock(settings, run.run_id, timeout=30):  # its release must not raise either
            tasks.mark_marts_stale.fn(run, settings, staged, "test", extracted["source_name"])
            pid = _lock_session(url)
            assert locks.held_session() is not None and locks.held_session().pid == pid
            before = _contents(url)

            _terminate(pid)
            assert _advisory(url, SESSION_KEY, granted=True) == []  # anyone could take it now
            with pytest.raises(locks.WarehouseLockLost, match="load core: " + LOST) as lost:
                tasks.load_core.fn(run, settings, extracted, staged)
            assert isinstance(lost.value, PipelineError)  # the CLI's one-line failure; never retried
            assert "nothing of this transaction was written" in str(lost.value)
            _assert_same_contents(_contents(url), before)

            # recording the failure still works (it only takes the transaction lock)
            note_failure(run, settings, lost.value, "test")
            row = read_runs(url).loc[run.run_id]
            assert row["status"] == MARTS_STALE
            assert "write lock was lost" in run_message(row["message"])["error"]
        assert locks.held_session() is None

        # the next run takes the lock, rebuilds what the failed run left stale, and ends clean
        nxt = run_stages(url, data, bundles["new"])
        assert nxt["published"]["healed_runs"] == [run.run_id]
        _assert_clean(url, clean_marts)


# --------------------------------------------------------------------------- every writing transaction takes the transaction lock
def test_a_writing_transaction_waits_for_the_transaction_lock(tmp_path):
    with fresh_postgres_database() as url:
        settings = Settings.from_env(warehouse_url=url, data_dir=tmp_path)
        engine = make_engine(url)
        create_schema(engine)
        engine.dispose()
        run = new_run(settings, "waiting-writer")
        errors: list[BaseException] = []

        def write() -> None:
            try:
                with warehouse_lock(settings, run.run_id, timeout=30):
                    mark_marts_stale(run, settings, {"records_read": 0}, "test", "waiting-writer")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        blocker = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with blocker.connect() as held:
                held.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": locks.WRITE_XACT_KEY})
                held.commit()
                writer = threading.Thread(target=write)
                writer.start()
                deadline = time.monotonic() + 30
                while not _advisory(url, locks.WRITE_XACT_KEY, granted=False):
                    assert writer.is_alive() and time.monotonic() < deadline, f"the writer did not wait: {errors}"
                    time.sleep(0.05)
                time.sleep(0.5)
                assert writer.is_alive()
                assert run.run_id not in read_runs(url).index  # nothing written while it waits
                held.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": locks.WRITE_XACT_KEY})
                held.commit()
                writer.join(timeout=30)
        finally:
            blocker.dispose()
        assert not errors and not writer.is_alive()
        assert read_runs(url).loc[run.run_id, "status"] == MARTS_STALE
        assert _advisory(url, locks.WRITE_XACT_KEY, granted=True) == []  # released with the commit


def test_writing_transactions_never_overlap(tmp_path):
    with fresh_postgres_database() as url:
        engine = make_engine(url)
        spans: list[tuple[float, float]] = []

        def write(i: int) -> None:
            with locks.write_transaction(engine, f"writer {i}") as conn:
                start = time.monotonic()
                conn.execute(sa.text("SELECT pg_sleep(0.3)"))
                spans.append((start, time.monotonic()))

        try:
            threads = [threading.Thread(target=write, args=(i,)) for i in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
        finally:
            engine.dispose()
        spans.sort()
        assert len(spans) == 3 and all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), spans


# --------------------------------------------------------------------------- the lock session ends inside a transaction, another run starts
PAUSE_SECONDS = 10


@pytest.mark.slow
def test_lock_session_killed_during_publish_then_a_second_run_waits(bundles, clean_marts, prefect_api, tmp_path):
    with fresh_postgres_database() as url:
        data = tmp_path / "var"
        run_stages(url, data, bundles["old"])
        paused = tmp_path / "paused"
        env = subprocess_env(prefect_api, MOTCUA_TEST_PAUSE_AT="publish", MOTCUA_TEST_PAUSE_FILE=str(paused),
                             MOTCUA_TEST_PAUSE_SECONDS=str(PAUSE_SECONDS), MOTCUA_WRITE_LIMIT="off")
        first = subprocess.Popen(
            motcua_command("nightly", "--source", str(bundles["new"]), "--warehouse", url, "--data-dir", str(data),
                           "--no-progress"),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        second: dict = {}
        try:
            # the second run reads and stages meanwhile (no warehouse write)
            settings, run, extracted, staged = _staged(url, data, bundles["new"])
            deadline = time.monotonic() + 240
            while not paused.exists():  # the first run is inside its publish transaction, old partitions deleted
                assert first.poll() is None, f"the first run ended early:\n{first.stdout.read()[-4000:]}"
                assert time.monotonic() < deadline, "the first run never reached publish"
                time.sleep(0.05)
            resumes_at = dt.datetime.fromtimestamp(paused.stat().st_mtime) + dt.timedelta(seconds=PAUSE_SECONDS)
            first_id = next(i for i, r in read_runs(url).iterrows() if r["flow"] == "nightly")

            _terminate(_lock_session(url))

            def write() -> None:
                try:
                    second["published"] = _write_section(settings, run, extracted, staged)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    second["error"] = exc

            writer = threading.Thread(target=write)
            writer.start()
            # the second run takes the free session lock, then waits for the first run's transaction
            while not _advisory(url, locks.WRITE_XACT_KEY, granted=False):
                assert writer.is_alive(), f"the second run did not wait: {second}"
                assert first.poll() is None, "the first run resumed before the second run waited"
                time.sleep(0.05)
            assert _advisory(url, SESSION_KEY, granted=True) != []
            assert run.run_id not in read_runs(url).index

            out = first.communicate(timeout=240)[0]
            writer.join(timeout=240)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
        # the first run failed loudly at its commit: its publish rolled back
        assert first.returncode != 0, out[-4000:]
        assert "publish: the warehouse write lock was lost" in out, out[-4000:]
        assert "nothing of this transaction was written" in out
        assert "error" not in second, second.get("error")
        assert not writer.is_alive()

        runs = read_runs(url)
        first_row = run_message(runs.loc[first_id, "message"])
        assert runs.loc[first_id, "status"] == MARTS_HEALED  # never completed...
        assert "rows_written" not in first_row and first_row["healed_by"] == run.run_id  # ...but healed
        assert second["published"]["healed_runs"] == [first_id]
        # the second run's first write came after the first run's paused transaction ended
        assert dt.datetime.fromisoformat(run_message(runs.loc[run.run_id, "message"])["locked_at"]) >= resumes_at
        assert runs.loc[run.run_id, "status"] == "completed"
        _assert_clean(url, clean_marts)
