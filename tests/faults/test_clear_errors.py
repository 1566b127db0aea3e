"""The failures a user meets end in one or two lines naming the thing and the fix, with
no traceback unless ``motcua --debug``: an unreachable warehouse server, a database
that does not exist, a DuckDB file another process holds, a warehouse that is not
there for a read command (never created), an unreadable source. Run as the user runs
it: the ``motcua`` command in a subprocess."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers.bundle import dossier, run_pipeline, write_bundle
from helpers.holders import holding
from helpers.warehouses import admin_engine

MOTCUA = [sys.executable, "-c", "from motcua.cli import main; main()"]


def _motcua(*args: str, cwd=None) -> subprocess.CompletedProcess:  # noqa: ANN001
    return subprocess.run([*MOTCUA, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def _lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


@pytest.fixture
def bundle(tmp_path):  # noqa: ANN001, ANN201
    return write_bundle(tmp_path / "bundle", [dossier("D1", 9, "20190308100000", intake="20190304090000",
                                                      due="20190311170000", resolved="20190308100000")])


def test_an_unreachable_warehouse_server_is_one_line(tmp_path, bundle):
    # nothing listens on 127.0.0.1:5999
    done = _motcua("run", "--source", str(bundle), "--warehouse", "postgresql+psycopg://nobody:s3cret@127.0.0.1:5999/x",
                   "--data-dir", str(tmp_path / "var"), "--quiet")
    assert done.returncode == 7  # the README's exit codes: unreachable
    lines = _lines(done.stderr)
    assert len(lines) == 1, done.stderr
    assert "127.0.0.1:5999/x" in lines[0] and "nobody" in lines[0] and "--warehouse" in lines[0]
    assert "Traceback" not in done.stderr + done.stdout and "s3cret" not in done.stderr


def test_a_database_that_does_not_exist_is_named(tmp_path, bundle):
    admin_engine().dispose()  # skips (fails under CI) without the PostgreSQL server
    done = _motcua("run", "--source", str(bundle), "--warehouse",
                   "postgresql+psycopg://postgres@127.0.0.1:5432/motcua_no_such_database",
                   "--data-dir", str(tmp_path / "var"), "--quiet")
    assert done.returncode == 7
    [line] = _lines(done.stderr)
    assert "motcua_no_such_database" in line and "does not exist" in line


def test_read_commands_never_create_a_warehouse(tmp_path):
    wh = tmp_path / "nowhere" / "wh.duckdb"
    for args in (["report", "--year", "2019"], ["explain", "--year", "2019", "--column", "4"],
                 ["quarantine", "list"], ["check-report", "--year", "2019", str(tmp_path / "r.txt")]):
        (tmp_path / "r.txt").write_text("x", encoding="utf-8")
        done = _motcua(*args, "--warehouse", f"duckdb:///{wh}")
        assert done.returncode in (1, 2), (args, done.stderr)
        [line] = _lines(done.stderr)
        assert f"no warehouse at {wh}" in line, (args, line)
        assert not wh.exists() and not wh.parent.exists(), args


def test_a_duckdb_file_held_by_another_process(tmp_path, bundle):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    run_pipeline(bundle, url, tmp_path / "var", validate=False)
    with holding(tmp_path / "wh.duckdb"):
        done = _motcua("quarantine", "list", "--warehouse", url)
        assert done.returncode == 6  # locked by another process
        [line] = _lines(done.stderr)
        assert "open in another process" in line and "Traceback" not in done.stderr
        debug = _motcua("--debug", "quarantine", "list", "--warehouse", url)
        assert debug.returncode == 1 and "Traceback" in debug.stderr  # --debug: the traceback


def test_a_source_that_is_not_there(tmp_path):
    done = _motcua("run", "--source", str(tmp_path / "missing"), "--warehouse", f"duckdb:///{tmp_path / 'wh.duckdb'}",
                   "--data-dir", str(tmp_path / "var"), "--quiet")
    assert done.returncode == 7
    assert "Traceback" not in done.stderr
    assert len(_lines(done.stderr)) <= 2 and "missing" in done.stderr
