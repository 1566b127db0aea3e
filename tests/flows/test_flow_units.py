"""Small checks of the flows' pieces: dates in Asia/Ho_Chi_Minh, the write limit and the
database lock, prefect.yaml, the commands' help."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from flows import pipeline
from flows.annual_report import default_report_year
from flows.stages.runs import new_run, pause_for_test
from motcua.settings import Settings, SettingsError
from warehouse.errors import PipelineError
from warehouse.locks import WarehouseLockTimeout, warehouse_lock

REPO = Path(__file__).resolve().parents[2]
UTC = dt.UTC


# --------------------------------------------------------------------------- dates
@pytest.mark.parametrize("scheduled,expected", [
    # the nightly cron fires at 01:30 in Ho Chi Minh City = 18:30 UTC the day before
    (dt.datetime(2024, 3, 1, 18, 30, tzinfo=UTC), dt.date(2024, 3, 1)),
    # a naive time is UTC; 23:59 local on 1 March is still 1 March: yesterday is 29 February
    (dt.datetime(2024, 3, 1, 16, 59), dt.date(2024, 2, 29)),
    (dt.datetime(2019, 12, 31, 17, 0, tzinfo=UTC), dt.date(2019, 12, 31)),
])
def test_business_yesterday_is_local(scheduled, expected):
    assert pipeline.business_yesterday(scheduled) == expected


@pytest.mark.parametrize("today,convention,year", [
    (dt.date(2025, 12, 16), "decree09", 2025),  # the scheduled run, after the 14 December cut-off
    (dt.date(2025, 12, 14), "decree09", 2024),
    (dt.date(2025, 12, 16), "calendar", 2024),
    (dt.date(2026, 1, 1), "calendar", 2025),
])
def test_default_report_year(today, convention, year):
    assert default_report_year(today, convention) == year


# --------------------------------------------------------------------------- the write limit
def test_write_limit_mode(monkeypatch):
    monkeypatch.setenv("MOTCUA_WRITE_LIMIT", "sometimes")
    with pytest.raises(SettingsError):
        pipeline.write_limit_mode()
    monkeypatch.setenv("MOTCUA_WRITE_LIMIT", "OFF")
    assert pipeline.write_limit_mode() == "off"


def test_missing_write_limit_is_an_error(prefect_api, monkeypatch):
    """strict=True: without the limit on the server the run stops, it does not write unguarded."""
    monkeypatch.setattr(pipeline, "WRITE_LIMIT", "motcua-limit-that-does-not-exist")
    with pytest.raises(PipelineError, match="setup-prefect"), pipeline._prefect_limit():
        pytest.fail("entered without the limit")


def test_write_limit_admits_one_run_at_a_time(prefect_api, monkeypatch, tmp_path):
    monkeypatch.setenv("MOTCUA_LOCK_TIMEOUT_SECONDS", "2")
    settings = Settings.from_env(warehouse_url=f"duckdb:///{tmp_path / 'wh.duckdb'}", data_dir=tmp_path)
    run = new_run(settings, str(tmp_path))
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with pipeline._prefect_limit():
                errors.append(AssertionError("two holders at once"))
        except BaseException as exc:  # noqa: BLE001 - what the second one got is the point
            errors.append(exc)

    with pipeline.write_slot(settings, run) as taken:
        assert taken == {"prefect_limit": pipeline.WRITE_LIMIT, "database_lock": "duckdb-file"}
        t = threading.Thread(target=second)
        t.start()
        t.join(timeout=60)
    assert len(errors) == 1 and isinstance(errors[0], TimeoutError), errors
    with pipeline._prefect_limit():  # released
        pass


# --------------------------------------------------------------------------- the database lock
def test_database_lock_serialises_threads(tmp_path):
    settings = Settings.from_env(warehouse_url=f"duckdb:///{tmp_path / 'wh.duckdb'}", data_dir=tmp_path)
    spans: list[tuple[float, float]] = []

    def hold(name: str) -> None:
        with warehouse_lock(settings, name, timeout=30):
            start = time.monotonic()
            time.sleep(0.3)
            spans.append((start, time.monotonic()))

    threads = [threading.Thread(target=hold, args=(f"t{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans.sort()
    assert len(spans) == 3 and all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def _hold_file(path: Path, seconds: float) -> subprocess.Popen:
    code = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "time.sleep(float(sys.argv[2]))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_database_lock_waits_for_another_process(tmp_path):
    db = tmp_path / "wh.duckdb"
    settings = Settings.from_env(warehouse_url=f"duckdb:///{db}", data_dir=tmp_path)
    proc = _hold_file(db, 1.5)
    try:
        start = time.monotonic()
        with warehouse_lock(settings, "waiter", timeout=60) as kind:
            waited = time.monotonic() - start
            assert kind == "duckdb-file"
            assert proc.wait(timeout=10) == 0  # we only got in as the other process let go
        assert waited > 0.5
    finally:
        proc.kill()
        proc.wait()


def test_database_lock_times_out(tmp_path):
    db = tmp_path / "wh.duckdb"
    settings = Settings.from_env(warehouse_url=f"duckdb:///{db}", data_dir=tmp_path)
    proc = _hold_file(db, 30)
    try:
        with pytest.raises(WarehouseLockTimeout), warehouse_lock(settings, "impatient", timeout=0.5):
            pytest.fail("entered a locked warehouse")
    finally:
        proc.kill()
        proc.wait()


def test_pause_hook_is_inert_unless_asked(monkeypatch, tmp_path):
    monkeypatch.delenv("MOTCUA_TEST_PAUSE_AT", raising=False)
    start = time.monotonic()
    pause_for_test("publish")
    assert time.monotonic() - start < 0.1
    monkeypatch.setenv("MOTCUA_TEST_PAUSE_AT", "publish")
    monkeypatch.setenv("MOTCUA_TEST_PAUSE_FILE", str(tmp_path / "p"))
    monkeypatch.setenv("MOTCUA_TEST_PAUSE_SECONDS", "0")
    pause_for_test("publish")
    assert (tmp_path / "p").read_text() == "publish"


# --------------------------------------------------------------------------- prefect.yaml
@pytest.fixture(scope="module")
def deployments() -> dict[str, dict]:
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    return {d["name"]: d for d in spec["deployments"]}


def test_prefect_yaml_entrypoints_import(deployments):
    from prefect.flows import load_flow_from_entrypoint

    assert set(deployments) == {"nightly", "backfill", "annual_report"}
    for name, d in deployments.items():
        flow = load_flow_from_entrypoint(str(REPO / d["entrypoint"]))
        assert flow.name == name
        assert d["work_pool"]["name"] == "motcua-pool"


def test_prefect_yaml_schedules(deployments):
    nightly = deployments["nightly"]["schedules"]
    assert [(s["cron"], s["timezone"]) for s in nightly] == [("30 1 * * *", "Asia/Ho_Chi_Minh")]
    assert deployments["backfill"]["schedules"] == []
    annual = deployments["annual_report"]["schedules"]
    assert [(s["cron"], s["timezone"], s["parameters"]) for s in annual] == [
        ("0 6 16 12 *", "Asia/Ho_Chi_Minh", {"convention": "decree09"})]


def test_backfill_parameters_are_typed():
    from prefect.utilities.callables import parameter_schema

    from flows.backfill import backfill

    props = parameter_schema(backfill).model_dump()["properties"]
    assert props["date_from"]["format"] == "date" and props["date_to"]["format"] == "date"
    assert props["replay"]["type"] == "boolean"
    assert {"source", "rebuild_all"} <= set(props)


def test_prefect_yaml_holds_no_secrets():
    text = (REPO / "prefect.yaml").read_text(encoding="utf-8")
    assert "://" not in text and "{{ $" not in text
    for word in ("password", "token:", "secret:", "MOTCUA_PSEUDONYM_KEY:", "MOTCUA_WAREHOUSE_URL:"):
        assert word.lower() not in text.lower()


# --------------------------------------------------------------------------- commands
@pytest.mark.parametrize("module,command,words", [
    ("nightly", "nightly", ["--source", "--as-of", "--warehouse", "--progress"]),
    ("backfill", "backfill", ["--from", "--to", "--source", "--replay", "--rebuild-all"]),
    ("setup_prefect", "setup_prefect", ["--limit-name", "--pool"]),
])
def test_command_help(module, command, words):
    import importlib

    cmd = getattr(importlib.import_module(f"motcua.commands.{module}"), command)
    result = CliRunner().invoke(cmd, ["--help"])
    assert result.exit_code == 0, result.output
    for w in words:
        assert w in result.output


def test_commands_registered():
    from motcua.cli import COMMANDS

    assert COMMANDS["nightly"] == "motcua.commands.nightly:nightly"
    assert COMMANDS["backfill"] == "motcua.commands.backfill:backfill"
    assert COMMANDS["setup-prefect"] == "motcua.commands.setup_prefect:setup_prefect"


def test_setup_prefect_is_idempotent(prefect_api):
    from motcua.commands.setup_prefect import ensure_prefect_setup

    first = ensure_prefect_setup()
    again = ensure_prefect_setup()
    assert any("already there" in line for line in first)  # the limit: made by the prefect_api fixture
    assert all("already there" in line for line in again)


def test_source_tasks_retry_only_what_may_pass():
    from prefect.states import Failed

    from flows import tasks

    assert tasks.extract.retries == 3 and tasks.read_watermark.retries and tasks.replay_raw.retries
    assert not (tasks.load_core.retries or tasks.publish.retries or tasks.mark_marts_stale.retries)
    assert tasks.worth_retrying(None, None, Failed(data=ConnectionError("503 from the one-stop API")))
    assert not tasks.worth_retrying(None, None, Failed(data=PipelineError("no raw zone")))
    assert not tasks.worth_retrying(None, None, Failed(data=ValueError("cannot open source")))
