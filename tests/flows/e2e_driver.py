"""Drive motcua's deployments on a real Prefect server, for test_prefect_server_e2e.

Run as ``python e2e_driver.py WORKDIR SOURCE OUT_JSON`` with MOTCUA_WAREHOUSE_URL and
MOTCUA_DATA_DIR set. In its own process (its own PREFECT_HOME, analytics off), it:
starts ``prefect server start`` on a free port of 127.0.0.1; runs ``motcua
setup-prefect``; starts a process worker on the pool while ``prefect --no-prompt deploy
--all`` deploys prefect.yaml; triggers ``backfill`` with parameters through the API
(``run_deployment``) and waits for it; reads the deployments' schedules and the
nightly's next scheduled run and the backfill's logs back through the API; writes what it saw to OUT_JSON;
stops the worker and the server, whatever happens.

The test starts it as soon as the session's tests are collected, so that the server's
start-up and the worker's flow run overlap the other tests; the test then waits for it
and checks the warehouse.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BACKFILL = {"date_from": "2019-01-01", "date_to": "2019-12-31", "replay": False}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen | None) -> None:
    """Stop a process started in its own session, and whatever it started."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def wait_healthy(api: str, proc: subprocess.Popen, timeout: float) -> bool:
    """True once the Prefect server at ``api`` answers its health check; False when
    ``proc`` (the server) ended or ``timeout`` seconds passed first."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.5)


def tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def main(workdir: Path, source: str, out: Path) -> int:
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    for key in [k for k in os.environ if k.startswith("PREFECT_") or k.startswith("MOTCUA_TEST_")]:
        del os.environ[key]
    os.environ.update({
        "PREFECT_HOME": str(workdir / "prefect-home"), "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "5",
    })
    result: dict = {"api": api, "steps": {}}
    logs = {name: workdir / f"{name}.log" for name in ("server", "worker", "deploy")}
    server = worker = None
    t0 = time.monotonic()

    def step(name: str) -> None:
        result["steps"][name] = round(time.monotonic() - t0, 1)

    try:
        with open(logs["server"], "w") as fh:
            server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                                       "--port", str(port)], cwd=workdir, stdout=fh, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        if not wait_healthy(api, server, 240):
            raise RuntimeError(f"the Prefect server did not start:\n{tail(logs['server'])}")
        step("server up")

        from click.testing import CliRunner

        from motcua.commands.setup_prefect import setup_prefect

        setup = CliRunner().invoke(setup_prefect, [])
        result["setup_prefect"] = {"exit_code": setup.exit_code, "output": setup.output}
        if setup.exit_code:
            raise RuntimeError(f"motcua setup-prefect failed: {setup.output}")
        step("setup-prefect")

        with open(logs["worker"], "w") as fh:
            worker = subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", "motcua-pool",
                                       "--type", "process"], cwd=workdir, stdout=fh, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        with open(logs["deploy"], "w") as fh:
            deploy = subprocess.run([str(BIN / "prefect"), "--no-prompt", "deploy", "--all"], cwd=REPO, stdout=fh,
                                    stderr=subprocess.STDOUT, timeout=300)
        if deploy.returncode:
            raise RuntimeError(f"prefect deploy failed:\n{tail(logs['deploy'])}")
        step("deployed")

        from prefect import get_client
        from prefect.client.schemas.filters import (
            FlowRunFilter,
            FlowRunFilterDeploymentId,
            FlowRunFilterState,
            FlowRunFilterStateType,
        )
        from prefect.client.schemas.objects import StateType
        from prefect.client.schemas.sorting import FlowRunSort
        from prefect.deployments import run_deployment

        flow_run = run_deployment("backfill/backfill", parameters={**BACKFILL, "source": source}, timeout=400,
                                  poll_interval=1)
        result["backfill"] = {"state": flow_run.state.type.value if flow_run.state else None,
                              "message": flow_run.state.message if flow_run.state else None,
                              "parameters": flow_run.parameters}
        step("backfill finished")

        with get_client(sync_client=True) as client:
            deployments = {}
            for name in ("nightly/nightly", "backfill/backfill", "annual_report/annual_report"):
                d = client.read_deployment_by_name(name)
                deployments[name] = {
                    "work_pool": d.work_pool_name,
                    "schedules": [{"cron": s.schedule.cron, "timezone": s.schedule.timezone, "active": s.active,
                                   "parameters": s.parameters} for s in d.schedules],
                    "parameters": sorted(d.parameter_openapi_schema.get("properties", {})),
                    "id": str(d.id)}
            nightly = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    deployment_id=FlowRunFilterDeploymentId(any_=[deployments["nightly/nightly"]["id"]]),
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))),
                sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=1)
            artifacts = sorted({a.key for a in client.read_artifacts() if a.key})
            from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

            # the worker's flow-run process ships its logs in batches, after the state may read
            # COMPLETED: wait (at most 60 s) until motcua's own lines have arrived
            deadline = time.monotonic() + 60
            while True:
                run_logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id])),
                                            limit=200)
                if any(lg.name.startswith("motcua") for lg in run_logs) or time.monotonic() > deadline:
                    break
                time.sleep(2)
        result.update(deployments=deployments, artifacts=artifacts,
                      backfill_logs=[{"name": lg.name, "level": lg.level, "message": lg.message} for lg in run_logs],
                      nightly_next=nightly[0].expected_start_time.isoformat() if nightly else None)
        result["ok"] = True
    except Exception:  # noqa: BLE001 - reported to the test
        result["ok"] = False
        result["error"] = traceback.format_exc()
        result["logs"] = {name: tail(path) for name, path in logs.items()}
    finally:
        stop(worker)
        stop(server)
        step("stopped")
        out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    # stopped by the test session (SIGTERM): still stop the server and the worker
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])))
