"""Names from the source can neither break the terminal output nor become formulas in
the CSV files officials open in Excel: rich markup in a procedure name is printed as
it is by ``motcua run`` (the real command, in a subprocess, with its temporary Prefect
server), and every CSV that ``motcua run``, ``motcua report`` and ``motcua explain
--csv`` write holds the name as text (a leading ``'``), never as ``=…``/``+…``/``-…``/``@…``."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from helpers.bundle import agency, dossier, procedure, write_bundle

from motcua.report.exports import csv_safe_arrow, csv_safe_cell, write_csv_arrow

PROC_1 = '[/bold]=HYPERLINK("http://x")'  # rich markup first (a closing tag: rich raises on it)
PROC_2 = '=HYPERLINK("http://x","[red]bấm[/red]")'  # a formula first
PROC_3 = "+cmd|' /C calc'!A0 [/]"
FIELD = "@SUM(1+1) [bold]Lĩnh vực"
AGENCY = "-2+3 [/red]Sở"
DOSSIER = "=D2+1"  # a dossier code (the explain files list them)
PROCS = (PROC_1, PROC_2, PROC_3)
FORMULAS = (PROC_2, PROC_3, FIELD, DOSSIER)  # written with a leading ' in every CSV
LEADS = ("=", "+", "-", "@", "\t", "\r")


def _motcua(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("motcua")), *args]


def _bundle(path: Path) -> Path:
    procs = [procedure(f"1.00000{i}", name=n, agency="A1") for i, n in enumerate(PROCS, 1)]
    for p in procs:
        p["TenLinhVuc"] = FIELD
    lines = [
        dossier("D1", 9, "20190308100000", "1.000001", intake="20190304090000", due="20190311170000",
                resolved="20190308100000"),
        dossier(DOSSIER, 4, "20190310100000", "1.000002", intake="20190305090000", due="20190312170000"),
        dossier("D3", 9, "20190320100000", "1.000003", channel=2, intake="20190306090000", due="20190313170000",
                resolved="20190320100000"),
    ]
    return write_bundle(path, lines, procs, [agency("A1", name=AGENCY)])


def _cells(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def _check_csv(cells: list[str], where: str) -> None:
    leading = [c for c in cells if c.startswith(LEADS)]
    assert not leading, f"{where}: cells a spreadsheet would read as formulas: {leading}"


@pytest.mark.parametrize(("value", "want"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Thủ tục", "Thủ tục"), ("", ""), (5, 5), (None, None),
])
def test_csv_safe_cell(value, want):
    assert csv_safe_cell(value) == want


def test_csv_safe_arrow_agrees_with_the_cell_rule(tmp_path):
    """The explain files' writer (Arrow kernels) makes the same cells safe as the cell
    rule, on both Arrow string types; numbers and missing values untouched; and the file
    it writes reads back as those cells."""
    texts = ["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "Thủ tục", "", None, "a=b", "'=x", " =x"]
    for kind in (pa.string(), pa.large_string()):
        table = pa.table({"t": pa.array(texts, kind), "n": pa.array([-1] * len(texts), pa.int64())})
        safe = csv_safe_arrow(table)
        assert safe.column("t").to_pylist() == [csv_safe_cell(v) for v in texts]
        assert safe.column("n").to_pylist() == [-1] * len(texts)
        path = tmp_path / f"{kind}.csv"
        write_csv_arrow(safe, path)
        assert path.read_bytes().startswith("\ufeff".encode())
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == ["t", "n"]
        assert [r[0] for r in rows[1:]] == ["" if v is None else csv_safe_cell(v) for v in texts]


def test_hostile_names_reach_terminal_and_csv_as_text(tmp_path):
    bundle = _bundle(tmp_path / "bundle")
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    data = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "MOTCUA_TEST_PAUSE_AT")}
    env["COLUMNS"] = "200"
    run = subprocess.run(
        _motcua("run", "--source", str(bundle), "--warehouse", url, "--data-dir", str(data), "--year", "2019"),
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # printed literally, markup and all
    for name in (*PROCS, FIELD):
        assert name in run.stdout, run.stdout
    written = sorted((data / "reports" / "2019").glob("*.csv"))
    assert [p.name for p in written] == ["bieu1-2019.csv", "bieu2-2019.csv"]
    for p in written:
        cells = _cells(p)
        _check_csv(cells, p.name)
        assert PROC_1 in cells and "'" + PROC_2 in cells and "'" + PROC_3 in cells

    out = tmp_path / "report"
    report = subprocess.run(
        _motcua("report", "--year", "2019", "--warehouse", url, "--out", str(out)),
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert report.returncode == 0, report.stdout[-3000:] + report.stderr[-3000:]
    files = sorted(out.rglob("*.csv"))
    assert any(p.parent.name == "explain" for p in files) and any(p.parent == out for p in files)
    everything: list[str] = []
    for p in files:
        cells = _cells(p)
        _check_csv(cells, str(p.relative_to(out)))
        everything += cells
    assert PROC_1 in everything
    for name in FORMULAS:
        assert "'" + name in everything, f"{name!r} should be in the exports, as text"

    explain = subprocess.run(
        _motcua("explain", "--year", "2019", "--column", "received_total", "--warehouse", url, "--csv"),
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert explain.returncode == 0, explain.stderr[-3000:]
    cells = [c for row in csv.reader(io.StringIO(explain.stdout)) for c in row]
    _check_csv(cells, "motcua explain --csv")
    assert "'" + DOSSIER in cells

    # the heading of an agency's tables names the agency: printed as it is too
    from rich.console import Console

    from motcua import reporting
    from motcua.report import print_tables

    console = Console(file=io.StringIO(), width=200)
    print_tables(reporting.build_report(url, 2019, agency="A1"), console)
    assert AGENCY in console.file.getvalue()
