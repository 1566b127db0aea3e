"""Fixtures shared by the flow tests: the two generations of export bundles, the marts
of one clean run over both, the session's Prefect test server prepared for motcua (the
write limit created, as ``motcua setup-prefect`` does), and the end-to-end run on a real
Prefect server (``e2e_driver.py``), started in the background as soon as the tests are
collected so that it overlaps the others."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # flow_cases, the shared cases of these tests

from flow_cases import NEW, OLD, read_marts, run_stages, write  # noqa: E402

_E2E: dict = {}


@pytest.fixture(scope="session")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``old``, ``new`` and ``all`` (both generations, in two files) export bundles."""
    tmp = tmp_path_factory.mktemp("flow-bundles")
    return {"old": write(tmp / "old", OLD), "new": write(tmp / "new", NEW), "all": write(tmp / "all", OLD + NEW, files=2)}


@pytest.fixture(scope="session")
def clean_marts(bundles: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The marts of one run over both generations at once: what every other order of
    runs, interruptions and reruns must end with. (The cases pass every expectation
    suite, so the flows' validated runs must give these marts too.)"""
    tmp = tmp_path_factory.mktemp("flow-clean")
    url = f"duckdb:///{tmp / 'clean.duckdb'}"
    run_stages(url, tmp / "var", bundles["all"])
    return read_marts(url)


@pytest.fixture(scope="session")
def prefect_api(prefect_harness: str) -> str:
    """The session's Prefect test server with motcua's write limit created."""
    from motcua.commands.setup_prefect import ensure_prefect_setup

    ensure_prefect_setup(pool=None)
    return prefect_harness


# --------------------------------------------------------------------------- the real-server run
def _start_e2e() -> dict:
    if _E2E:
        return _E2E
    workdir = Path(tempfile.mkdtemp(prefix="motcua-e2e-"))
    bundle = write(workdir / "bundle", OLD + NEW, files=2)
    url = f"duckdb:///{workdir / 'wh.duckdb'}"
    env = {**os.environ, "MOTCUA_WAREHOUSE_URL": url, "MOTCUA_DATA_DIR": str(workdir / "var")}
    log = open(workdir / "driver.log", "w")  # noqa: SIM115 - closed at the session's end
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("e2e_driver.py")), str(workdir),
                             str(bundle), str(workdir / "result.json")],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    _E2E.update(proc=proc, log=log, workdir=workdir, url=url, result=workdir / "result.json")
    return _E2E


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(item.get_closest_marker("prefect_server") for item in session.items):
        _start_e2e()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _E2E:
        return
    proc = _E2E["proc"]
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the driver stops its server and worker
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    _E2E["log"].close()
    shutil.rmtree(_E2E["workdir"], ignore_errors=True)


@pytest.fixture
def e2e_run() -> dict:
    """Wait for the real-server run (started at collection) and return what it saw,
    with the warehouse URL it loaded."""
    e2e = _start_e2e()
    try:
        e2e["proc"].wait(timeout=600)
    except subprocess.TimeoutExpired:
        pytest.fail("the real-server run did not finish in 10 minutes")
    if not e2e["result"].exists():
        pytest.fail("the real-server driver wrote no result:\n"
                    + (e2e["workdir"] / "driver.log").read_text(errors="replace")[-4000:])
    return {**json.loads(e2e["result"].read_text(encoding="utf-8")), "url": e2e["url"]}
