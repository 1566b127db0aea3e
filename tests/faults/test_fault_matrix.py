"""Cells of the fault matrix (docs/faults.md) no other test covers: a source database
that drops the connection mid-stream, a raw-zone file cut short before a replay, the
disk filling up while the run writes its raw zone. Each: the fault is named (never a
silent short read), the marts published before stay as they were, and the rerun once
the fault is gone gives the marts an undisturbed run gives."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from helpers.bundle import dossier, read_table, run_pipeline, write_bundle
from servers import require_server

from motcua.cli import main
from motcua.dev.database_loader import load_bundle_into_database
from motcua.sources.database import DatabaseSource

MARTS = ("mart.dossier_resolution", "mart.dossier_intake", "mart.indicator")


def _snapshots(n: int, prefix: str = "D") -> list[dict]:
    return [dossier(f"{prefix}{i:05d}", 9, "20190308100000", intake="20190304090000", due="20190311170000",
                    resolved="20190308100000", agency_code="A1") for i in range(n)]


def _marts(url: str) -> dict:
    out = {}
    for t in MARTS:
        df = read_table(url, t)
        out[t] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out


def _same(a: dict, b: dict) -> None:
    import pandas as pd

    for t in MARTS:
        pd.testing.assert_frame_equal(a[t], b[t], check_like=True)


@pytest.fixture(autouse=True)
def _database_lock_only(monkeypatch):
    monkeypatch.setenv("MOTCUA_WRITE_LIMIT", "off")


# --------------------------------------------------------------------------- MariaDB drops the connection
@pytest.fixture
def mariadb_source(tmp_path) -> str:  # noqa: ANN001
    require_server("127.0.0.1", 3306, "MariaDB")
    name = f"motcua_fault_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/test", poolclass=sa.pool.NullPool)
    with admin.begin() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    url = f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    try:
        load_bundle_into_database(write_bundle(tmp_path / "src", _snapshots(300)), url)
        yield url
    finally:
        with admin.begin() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


def test_a_database_dropping_the_connection_mid_stream_is_an_error_not_a_short_read(mariadb_source):
    source = DatabaseSource(mariadb_source, chunk_size=50)
    batches = source.iter_records()
    first = next(batches)
    assert first.num_rows == 50
    admin = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/test", poolclass=sa.pool.NullPool)
    with admin.begin() as c:  # every connection of the source's database, killed as a server restart would
        ids = [r[0] for r in c.exec_driver_sql(
            "SELECT id FROM information_schema.processlist WHERE db = %s", (mariadb_source.split("/")[-1]
                                                                          .split("?")[0],)).all()]
        assert ids
        for i in ids:
            c.exec_driver_sql(f"KILL CONNECTION {int(i)}")
    admin.dispose()
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the driver's own error, whatever its class
        for _ in batches:
            pass
    from motcua.errors import exit_code, explain

    assert exit_code(caught.value) in (1, 7)
    assert "Lost connection" in explain(caught.value) or "gone away" in explain(caught.value), explain(caught.value)
    source.close()


# --------------------------------------------------------------------------- a raw-zone file cut short
def test_a_raw_file_cut_short_stops_the_replay_naming_it_and_keeps_the_marts(tmp_path, prefect_harness):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    bundle = write_bundle(tmp_path / "bundle", _snapshots(50))
    run_pipeline(bundle, url, tmp_path / "var", validate=False)
    before = _marts(url)
    [raw] = sorted((tmp_path / "var" / "raw").rglob("*-records-*.parquet"))
    data = raw.read_bytes()
    raw.write_bytes(data[: len(data) // 2])
    result = CliRunner().invoke(main, ["replay", "--warehouse", url, "--data-dir", str(tmp_path / "var")])
    assert result.exit_code != 0, result.output
    assert raw.name in result.output or "Parquet" in result.output, result.output
    _same(_marts(url), before)  # the published marts as they were


# --------------------------------------------------------------------------- disk full while writing the raw zone
@pytest.fixture
def small_disk(tmp_path) -> Path:  # noqa: ANN001
    """A 128 KiB tmpfs (root only); skipped loudly elsewhere, a failure under CI."""
    where = tmp_path / "small"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(where)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        message = f"DISK-FULL TEST NOT RUN: cannot mount a small tmpfs ({done.stderr.strip()}); needs root"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: a failure)", pytrace=False)
        pytest.skip(message)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_disk_full_while_writing_the_raw_zone(tmp_path, small_disk, monkeypatch, prefect_harness):
    from flows import tasks

    monkeypatch.setattr(tasks, "extract", tasks.extract.with_options(retries=0))  # the test does not wait for them
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    first = write_bundle(tmp_path / "first", _snapshots(5, "P"))
    run_pipeline(first, url, tmp_path / "var-first", validate=False)
    before = _marts(url)
    # text that compresses badly, so the raw zone cannot fit in 128 KiB
    big = [dict(s, GhiChu=os.urandom(1000).hex()) for s in _snapshots(200)]
    bundle = write_bundle(tmp_path / "bundle", _snapshots(5, "P") + big)
    result = CliRunner().invoke(main, ["run", "--source", str(bundle), "--warehouse", url, "--data-dir",
                                       str(small_disk / "var"), "--quiet"])
    assert result.exit_code != 0, result.output
    assert "no space left on the device" in result.output.lower(), result.output
    assert "Traceback" not in result.output
    _same(_marts(url), before)  # nothing of the failed run published
    # space again: the rerun gives the marts of an undisturbed run on a fresh warehouse
    rerun = CliRunner().invoke(main, ["run", "--source", str(bundle), "--warehouse", url, "--data-dir",
                                      str(tmp_path / "var"), "--quiet"])
    assert rerun.exit_code == 0, rerun.output
    clean = f"duckdb:///{tmp_path / 'clean.duckdb'}"
    run_pipeline(bundle, clean, tmp_path / "var-clean", validate=False)
    _same(_marts(url), _marts(clean))
