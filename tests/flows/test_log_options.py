"""``motcua --log-format json`` writes every log line on stderr as one JSON object
(motcua's lines and every library's), and ``--log-level WARNING`` drops the INFO lines; run
as a user runs it (a subprocess), against the session's Prefect server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from helpers.bundle import dossier, write_bundle

SNAPS = [dossier("D1", 9, "20190308100000", intake="20190304090000", due="20190311170000",
                 resolved="20190308100000")]


def _run(tmp_path, api: str, *options: str) -> subprocess.CompletedProcess:  # noqa: ANN001
    bundle = write_bundle(tmp_path / "bundle", SNAPS)
    env = {**os.environ, "PREFECT_API_URL": api, "MOTCUA_WRITE_LIMIT": "off"}
    return subprocess.run([sys.executable, "-c", "from motcua.cli import main; main()", *options, "run", "--source",
                           str(bundle), "--warehouse", f"duckdb:///{tmp_path / 'wh.duckdb'}", "--data-dir",
                           str(tmp_path / "var"), "--quiet"], capture_output=True, text=True, env=env, timeout=300)


def test_json_log_lines(tmp_path, prefect_harness):
    done = _run(tmp_path, prefect_harness, "--log-format", "json")
    assert done.returncode == 0, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    records = [json.loads(ln) for ln in lines]  # every line is a JSON object
    assert any(r["name"].startswith("motcua") and r["levelname"] == "INFO" for r in records), records


def test_log_level_warning_drops_info(tmp_path, prefect_harness):
    done = _run(tmp_path, prefect_harness, "--log-level", "WARNING", "--log-format", "json")
    assert done.returncode == 0, done.stderr
    records = [json.loads(ln) for ln in done.stderr.splitlines() if ln.strip()]
    assert not [r for r in records if r["levelname"] in ("INFO", "DEBUG")], records[:3]
