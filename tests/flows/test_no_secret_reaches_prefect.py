"""No password reaches Prefect or the warehouse's audit tables: the real flows, on the
session's Prefect test server (a real server process), with a PostgreSQL warehouse URL
and a MariaDB source URL that both carry a distinctive password (PostgreSQL's trust
authentication ignores the warehouse's; the source's is a real MariaDB user's).

`motcua run` (shards staged on a Dask LocalCluster, so Run and Settings objects become
the parameters of the ``motcua-stage-shards`` subflow), `motcua nightly`, a `motcua run`
that fails on a wrong source password, and the ``annual_report`` flow called with the
redacted URL (its password from this process, then from a Prefect Secret block). Then
everything read back through the API — flow-run parameters, states and results, task
runs and their inputs, logs, artifacts — the audit tables, the run folders, and what the
commands printed, must not hold any of the passwords; the flow-run parameters hold the
redacted URLs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_plus

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flow_cases import NEW, OLD, write
from helpers.warehouses import fresh_postgres_database
from servers import require_server

from motcua import redact
from motcua.cli import main

pytestmark = pytest.mark.postgres


@pytest.fixture
def warehouse_with_password() -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL database: (its URL with a distinctive password, the password)."""
    password = f"s3cret-pw-{uuid.uuid4().hex[:12]}"
    with fresh_postgres_database("motcua_secrets") as url:
        yield sa.engine.make_url(url).set(password=password).render_as_string(hide_password=False), password


@pytest.fixture
def source_with_password(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A fresh MariaDB database loaded with the flow cases, readable by a user of its own
    with a password: (source URL, the password, the same URL with a wrong password)."""
    require_server("127.0.0.1", 3306, "MariaDB")
    from motcua.dev.database_loader import load_bundle_into_database

    tag = uuid.uuid4().hex[:8]
    name, user, password = f"motcua_secrets_{tag}", f"motcua_u_{tag}", f"s3cret-src-{uuid.uuid4().hex[:12]}"
    hosts = ("localhost", "127.0.0.1", "%%")  # "%%": exec_driver_sql formats with pymysql's paramstyle
    admin = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/test")
    url = f"mysql+pymysql://{user}:{password}@127.0.0.1:3306/{name}?charset=utf8mb4"
    try:
        with admin.begin() as c:
            c.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
            for host in hosts:
                c.exec_driver_sql(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY '{password}'")
                c.exec_driver_sql(f"GRANT ALL PRIVILEGES ON {name}.* TO '{user}'@'{host}'")
        load_bundle_into_database(write(tmp_path / "bundle", OLD + NEW), url, replace=True)
        wrong = f"s3cret-wrong-{uuid.uuid4().hex[:12]}"
        yield url, password, url.replace(f":{password}@", f":{wrong}@")
    finally:
        with admin.begin() as c:
            for host in hosts:
                c.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'{host}'")
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


@pytest.fixture
def info_logs_to_api() -> Iterator[None]:
    """The flows' INFO lines sent to the API (the test session logs WARNING and up only),
    and motcua's own logger too, as a deployment with PREFECT_LOGGING_EXTRA_LOGGERS=motcua."""
    from prefect.logging.handlers import APILogHandler

    prefect_logger, motcua_logger = logging.getLogger("prefect"), logging.getLogger("motcua")
    api = [h for h in logging.getLogger("prefect.flow_runs").handlers if isinstance(h, APILogHandler)]
    levels = prefect_logger.level, motcua_logger.level
    prefect_logger.setLevel(logging.INFO)
    motcua_logger.setLevel(logging.INFO)
    for h in api:
        motcua_logger.addHandler(h)
    try:
        yield
    finally:
        for h in api:
            motcua_logger.removeHandler(h)
        prefect_logger.setLevel(levels[0])
        motcua_logger.setLevel(levels[1])


def _flow_run_ids(since: dt.datetime) -> set:
    """The ids of the flow runs expected to start since ``since``."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterExpectedStartTime

    with get_client(sync_client=True) as client:
        return {fr.id for fr in client.read_flow_runs(
            flow_run_filter=FlowRunFilter(expected_start_time=FlowRunFilterExpectedStartTime(after_=since)),
            limit=200)}


def _prefect_records(since: dt.datetime, before: set) -> dict[str, list]:
    """Every flow run scheduled since ``since`` (subflows included) but not in
    ``before`` (the earlier tests' runs of the session's server, which may end within
    the margin of ``since``), their task runs, logs and artifacts, as the API returns
    them (JSON-ready)."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        LogFilter,
        LogFilterFlowRunId,
        TaskRunFilter,
        TaskRunFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # the logs still queued in this process

    def pages(read, **kw) -> list:  # noqa: ANN001
        out: list = []
        while True:
            page = read(**kw, limit=200, offset=len(out))
            out += page
            if len(page) < 200:
                return out

    with get_client(sync_client=True) as client:
        flow_runs = pages(client.read_flow_runs, flow_run_filter=FlowRunFilter(
            expected_start_time=FlowRunFilterExpectedStartTime(after_=since)))
        flow_runs = [fr for fr in flow_runs if fr.id not in before]
        ids = [fr.id for fr in flow_runs]
        task_runs = pages(client.read_task_runs, task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=ids)))
        logs = pages(client.read_logs, log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)))
        artifacts = pages(client.read_artifacts,
                          artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids)))
        flows = {fr.flow_id: client.read_flow(fr.flow_id).name for fr in flow_runs}
    return {"flow_runs": [{**fr.model_dump(mode="json"), "flow_name": flows[fr.flow_id]} for fr in flow_runs],
            "task_runs": [tr.model_dump(mode="json") for tr in task_runs],
            "logs": [log.model_dump(mode="json") for log in logs],
            "artifacts": [a.model_dump(mode="json") for a in artifacts]}


def _audit_rows(url: str) -> str:
    """Every row of every table of the warehouse's ``audit`` schema, as text."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names(schema="audit")
            assert "run" in tables
            return json.dumps({t: [list(r) for r in conn.execute(sa.text(f'SELECT * FROM audit."{t}"'))]
                               for t in tables}, default=str, ensure_ascii=False)
    finally:
        engine.dispose()


def _files_text(folder: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def _assert_nowhere(secrets: list[str], **texts: str | bytes) -> None:
    for secret in secrets:
        for form in {secret, quote_plus(secret)}:
            for where, text in texts.items():
                needle = form.encode() if isinstance(text, bytes) else form
                assert needle not in text, f"a password ({form[:10]}…) reached {where}"


def test_no_password_reaches_prefect_audit_or_output(prefect_api, warehouse_with_password, source_with_password,
                                                     info_logs_to_api, tmp_path, monkeypatch, capfd):
    from prefect.blocks.system import Secret

    from flows import tasks
    from flows.annual_report import annual_report

    for name in ("MOTCUA_WAREHOUSE_URL", "MOTCUA_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    warehouse, wh_password = warehouse_with_password
    source, src_password, wrong_source = source_with_password
    wrong_password = sa.engine.make_url(wrong_source).password
    shown_warehouse, shown_source = redact.redact_url(warehouse), redact.redact_url(source)
    assert wh_password not in shown_warehouse and shown_warehouse.count("***") == 1
    data = tmp_path / "var"
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    before = _flow_run_ids(since)  # an earlier test's runs that started within the margin
    cli = CliRunner()
    outputs = {}

    # a full run, the shards staged on Dask (Run and Settings become subflow parameters)
    res = cli.invoke(main, ["run", "--source", source, "--warehouse", warehouse, "--data-dir", str(data),
                            "--dask", "local:1", "--year", "2019"])
    outputs["motcua run"] = res.output
    assert res.exit_code == 0, res.output
    assert "records read" in res.output
    # the nightly run (nothing new since the watermark)
    res = cli.invoke(main, ["nightly", "--source", source, "--warehouse", warehouse, "--data-dir", str(data),
                            "--no-progress"])
    outputs["motcua nightly"] = res.output
    assert res.exit_code == 0, res.output
    # a run that fails: a wrong source password (no retries, so the test does not wait for them)
    monkeypatch.setattr(tasks, "extract", tasks.extract.with_options(retries=0))
    res = cli.invoke(main, ["run", "--source", wrong_source, "--warehouse", warehouse, "--data-dir", str(data),
                            "--quiet"])
    import traceback

    outputs["failed motcua run"] = res.output + "".join(traceback.format_exception(res.exception))
    # one line naming the refusal, exit 7 (source or warehouse refusing the user or password)
    assert res.exit_code == 7 and "Access denied" in res.output, outputs["failed motcua run"]
    # the annual report flow, called with the redacted URL: the password from this process...
    written = annual_report(year=2019, render="csv", warehouse=shown_warehouse, data_dir=str(data),
                            out_dir=str(tmp_path / "report-1"))
    assert written["rows"]["bieu2"] > 0
    # ...then, unknown to this process, from the Prefect Secret block motcua-warehouse-url
    block_id = Secret(value=warehouse).save("motcua-warehouse-url", overwrite=True)
    try:
        monkeypatch.setattr(redact, "_REAL", {})
        written = annual_report(year=2019, render="csv", warehouse=shown_warehouse, data_dir=str(data),
                                out_dir=str(tmp_path / "report-2"))
        assert written["rows"]["bieu2"] > 0
    finally:
        from prefect import get_client

        with get_client(sync_client=True) as client:
            client.delete_block_document(block_id)

    records = _prefect_records(since, before)
    runs = records["flow_runs"]
    by_flow: dict[str, list[dict]] = {}
    for fr in runs:
        by_flow.setdefault(fr["flow_name"], []).append(fr)
    assert len(by_flow.get("motcua-run", [])) == 2 and by_flow.get("motcua-stage-shards"), sorted(by_flow)
    assert len(by_flow.get("annual_report", [])) == 2 and by_flow.get("nightly")
    states = sorted(fr["state"]["type"] for fr in by_flow["motcua-run"])
    assert states == ["COMPLETED", "FAILED"], states
    # the parameters say which warehouse and source, redacted
    for fr in by_flow["motcua-run"] + by_flow["nightly"]:
        assert fr["parameters"]["warehouse"] == shown_warehouse
        assert fr["parameters"]["source"] in (shown_source, redact.redact_url(wrong_source))
    shards = json.dumps(by_flow["motcua-stage-shards"][0]["parameters"])
    assert shown_warehouse in shards and "motcua_u_" in shards  # the Run and Settings, redacted
    assert records["task_runs"] and records["artifacts"]
    messages = "\n".join(log["message"] for log in records["logs"])
    assert "extracted" in messages and "warehouse write slot" in messages  # the INFO lines are there

    audit = _audit_rows(warehouse)
    assert '"failed"' in audit and '"completed"' in audit
    capture = capfd.readouterr()
    _assert_nowhere([wh_password, src_password, wrong_password],
                    prefect_api=json.dumps(records, ensure_ascii=False), audit_tables=audit,
                    data_dir=_files_text(data), command_output="\n".join(outputs.values()),
                    stdout=capture.out, stderr=capture.err)
