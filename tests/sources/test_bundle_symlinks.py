"""Trust boundary: a symbolic link inside an export bundle is refused. A bundle whose
``dossiers/a.jsonl`` points at ``~/.env`` would otherwise copy that file's lines (a key,
a password) into the raw zone and ``audit.quarantine``. The run stops with a one-line
reason naming the link, and the secret lands nowhere under the data dir nor in the
warehouse."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.bundle import dossier, read_table, run_pipeline, write_bundle

SECRET_KEY = "MOTCUA_PSEUDONYM_KEY=s3cr3t-key-7f2c9a41"
SECRET_PASSWORD = "DB_PASSWORD=hunter2-p4ssw0rd-e81d"
SNAPSHOTS = [dossier("S1", 9, "20190308100000", intake="20190304090000", due="20190311170000",
                     resolved="20190308100000", history=[(2, "20190304090000"), (9, "20190308100000")])]


def _secret_file(tmp_path: Path) -> Path:
    outside = tmp_path / "home"
    outside.mkdir()
    env = outside / ".env"
    env.write_text(f"{SECRET_KEY}\n{SECRET_PASSWORD}\n", encoding="utf-8")
    return env


def _link_dossier_file(bundle: Path, target: Path) -> str:
    os.symlink(target, bundle / "dossiers" / "a.jsonl")
    return "dossiers/a.jsonl"


def _link_dossier_folder(bundle: Path, target: Path) -> str:
    elsewhere = target.parent / "dossiers"
    elsewhere.mkdir()
    os.symlink(target, elsewhere / "a.jsonl")  # a folder of links, itself linked in
    for old in (bundle / "dossiers").iterdir():
        old.unlink()
    (bundle / "dossiers").rmdir()
    os.symlink(elsewhere, bundle / "dossiers", target_is_directory=True)
    return "dossiers"


def _link_procedures(bundle: Path, target: Path) -> str:
    (bundle / "procedures.csv").unlink()
    os.symlink(target, bundle / "procedures.csv")
    return "procedures.csv"


@pytest.mark.parametrize("plant", [_link_dossier_file, _link_dossier_folder, _link_procedures],
                         ids=["dossier-file", "dossiers-folder", "procedures-csv"])
def test_a_symlink_in_the_bundle_stops_the_run_and_leaks_nothing(tmp_path: Path, plant) -> None:
    secret = _secret_file(tmp_path)
    bundle = write_bundle(tmp_path / "bundle", SNAPSHOTS)
    link = plant(bundle, secret)
    data_dir = tmp_path / "data"
    warehouse = data_dir / "warehouse.duckdb"

    with pytest.raises(FileNotFoundError) as caught:
        run_pipeline(bundle, f"duckdb:///{warehouse}", data_dir, validate=False)

    message = str(caught.value)
    assert "\n" not in message
    assert f"{link} is a symbolic link" in message
    assert "s3cr3t" not in message and "hunter2" not in message
    # nothing under the data dir (raw zone, run folders, warehouse file, its WAL) holds the secret
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    for p in files:
        data = p.read_bytes()
        for needle in (b"s3cr3t-key-7f2c9a41", b"hunter2-p4ssw0rd-e81d"):
            assert needle not in data, f"{p} holds the secret"
    assert not list(data_dir.glob("raw/**/*records*.parquet")), "records were landed before the link was refused"
    if warehouse.exists():  # DuckDB may compress strings: read the quarantine, not just the bytes
        quarantine = read_table(f"duckdb:///{warehouse}", "audit.quarantine")
        assert not quarantine.astype(str).apply(lambda c: c.str.contains("s3cr3t|hunter2")).any().any()


def test_a_bundle_without_links_still_runs(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "bundle", SNAPSHOTS)
    data_dir = tmp_path / "data"
    result = run_pipeline(bundle, f"duckdb:///{data_dir / 'warehouse.duckdb'}", data_dir, validate=False)
    assert result["staged"]["records_loaded"] == 1
