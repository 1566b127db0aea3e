"""Source faults are kept, counted, named and reported: a ``.jsonl.gz`` cut off
mid-stream and a dossier file that vanished mid-run. The records read before the fault
are loaded (read = loaded + quarantined still holds), ``audit.run`` names the fault,
``motcua run`` exits 3 (0 with ``--allow-source-faults`` or
``MOTCUA_ALLOW_SOURCE_FAULTS=true``) and ``motcua status`` reports it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from helpers.bundle import dossier, read_table, write_bundle

from motcua.cli import main
from motcua.sources.bundle import BundleSource
from warehouse.audit import run_message

N = 400


def _snapshots(prefix: str = "D", n: int = N) -> list[dict]:
    return [dossier(f"{prefix}{i:04d}", 9, "20190308100000", intake="20190304090000", due="20190311170000",
                    resolved="20190308100000") for i in range(n)]


def _cut_bundle(tmp_path, keep: float = 0.5):  # noqa: ANN001, ANN202
    """A one-file gzip bundle of N dossiers, its file cut to ``keep`` of its bytes."""
    bundle = write_bundle(tmp_path / "bundle", _snapshots(), gz=True)
    [part] = (bundle / "dossiers").glob("*.jsonl.gz")
    data = part.read_bytes()
    part.write_bytes(data[: int(len(data) * keep)])
    return bundle, part


def test_a_cut_off_gzip_keeps_its_prefix_and_says_where_it_stopped(tmp_path):
    bundle, part = _cut_bundle(tmp_path)
    src = BundleSource(bundle)
    records = [r for batch in src.iter_records() for r in batch.column("record").to_pylist()]
    assert 0 < len(records) < N
    originals = [json.dumps(s, ensure_ascii=False) for s in _snapshots()]
    # every record but the last (possibly cut mid-line) is the file's line, in order
    assert records[:-1] == originals[: len(records) - 1]
    assert originals[len(records) - 1].startswith(records[-1])
    [fault] = src.faults
    assert fault["kind"] == "cut off" and part.name in fault["where"]
    assert fault["read_before"] == len(records) and fault["unit"] == "lines"
    # the whole file is read without a fault
    whole = write_bundle(tmp_path / "whole", _snapshots(), gz=True)
    src = BundleSource(whole)
    assert sum(b.num_rows for b in src.iter_records()) == N and src.faults == []


def test_a_file_that_vanished_mid_run_is_a_fault_and_the_others_are_read(tmp_path):
    bundle = write_bundle(tmp_path / "bundle", _snapshots(), files=2)
    first, second = sorted((bundle / "dossiers").glob("*.jsonl"))
    src = BundleSource(bundle)
    batches = src.iter_records()
    head = next(batches)  # the first file is being read: the file list is taken
    second.unlink()
    rest = list(batches)
    assert head.num_rows + sum(b.num_rows for b in rest) == N // 2
    [fault] = src.faults
    assert (fault["kind"], fault["read_before"]) == ("unreadable", 0) and second.name in fault["where"]
    assert "cannot open" in fault["detail"]


def _run(bundle, url, data_dir, *extra):  # noqa: ANN001, ANN002, ANN202
    return CliRunner().invoke(main, ["run", "--source", str(bundle), "--warehouse", url, "--data-dir", str(data_dir),
                                     "--quiet", *extra])


@pytest.fixture(autouse=True)
def _database_lock_only(monkeypatch):
    monkeypatch.setenv("MOTCUA_WRITE_LIMIT", "off")


def test_motcua_run_exits_3_names_the_fault_and_loads_what_was_read(tmp_path, prefect_harness):
    bundle, part = _cut_bundle(tmp_path)
    read = sum(b.num_rows for b in BundleSource(bundle).iter_records())
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    result = _run(bundle, url, tmp_path / "var")
    assert result.exit_code == 3, result.output
    assert f"{read} records read" in result.output
    assert "source fault:" in result.output and part.name in result.output and "cut off" in result.output
    [row] = read_table(url, "audit.run").to_dict("records")
    assert row["status"] == "completed"
    assert row["records_read"] == read == row["records_loaded"] + row["records_quarantined"]
    [fault] = run_message(row["message"])["source_faults"]
    assert fault["kind"] == "cut off" and fault["read_before"] == read
    # what was read is in the core: every complete line loaded (the cut one, partial JSON, quarantined)
    assert len(read_table(url, "core.fct_dossier")) == row["records_loaded"] >= read - 1
    status = CliRunner().invoke(main, ["status", "--warehouse", url])
    assert status.exit_code == 2 and "source fault" in status.output and "cut off" in status.output


def test_source_faults_accepted_by_option_or_environment(tmp_path, monkeypatch, prefect_harness):
    bundle, part = _cut_bundle(tmp_path)
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    accepted = _run(bundle, url, tmp_path / "var", "--allow-source-faults")
    assert accepted.exit_code == 0, accepted.output
    monkeypatch.setenv("MOTCUA_ALLOW_SOURCE_FAULTS", "true")
    again = _run(bundle, url, tmp_path / "var")
    assert again.exit_code == 0, again.output
    # accepted, still recorded: both runs name the fault
    messages = [run_message(m) for m in read_table(url, "audit.run")["message"]]
    assert [m["source_faults"][0]["kind"] for m in messages] == ["cut off", "cut off"]


def test_a_bi_snapshot_that_cannot_be_written_fails_the_run(tmp_path, monkeypatch, prefect_harness):
    """The data folder given through the environment (MOTCUA_DATA_DIR), its bi/ a file:
    the snapshot cannot be written, so the run fails (exit 1) and audit.run names the
    step; the marts themselves are published."""
    bundle = write_bundle(tmp_path / "bundle", _snapshots(n=3))
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "bi").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("MOTCUA_DATA_DIR", str(tmp_path / "var"))
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    result = CliRunner().invoke(main, ["run", "--source", str(bundle), "--warehouse", url, "--quiet"])
    assert result.exit_code == 8, result.output  # published, but a step after the publish failed
    assert "BI snapshot not published" in result.output
    [row] = read_table(url, "audit.run").to_dict("records")
    [step] = run_message(row["message"])["failed_steps"]
    assert step["step"] == "bi_snapshot"
    assert len(read_table(url, "mart.dossier_resolution")) > 0
    status = CliRunner().invoke(main, ["status", "--warehouse", url])
    assert status.exit_code == 2 and "failed step: BI snapshot not published" in status.output
