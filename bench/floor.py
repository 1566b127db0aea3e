"""Run ``bench/floor.sql`` on an export bundle and write its result.

The floor is ``mart.dossier_resolution`` computed straight from the bundle by one
DuckDB script: the fastest honest way to the same numbers, the yardstick for the
pipeline's run time at provincial and national scale.

Usage::

    python bench/floor.py /work/benchdata/b1m --out /work/benchdata/b1m-floor.parquet

``--out`` may end in ``.parquet`` or ``.csv``. The timings of the script's steps go
to stderr; ``--check`` also verifies the report identities on every row.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

SQL_FILE = Path(__file__).with_name("floor.sql")
COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "agency_code",
    "procedure_code",
    "received_total",
    "carried_over",
    "received_new",
    "resolved_total",
    "resolved_on_time",
    "resolved_late",
    "pending_total",
    "pending_not_due",
    "pending_overdue",
    "withdrawn",
    "resolved_early",
]
IDENTITIES = {
    "(4) = (5) + (6)": "received_total <> carried_over + received_new",
    "(7) = (8) + (9)": "resolved_total <> resolved_on_time + resolved_late",
    "(10) = (11) + (12)": "pending_total <> pending_not_due + pending_overdue",
    "(4) = (7) + (10) + withdrawn": "received_total <> resolved_total + pending_total + withdrawn",
    "early <= on time": "resolved_early > resolved_on_time",
    "no negative count": "least(received_total, carried_over, received_new, resolved_total,"
    " resolved_on_time, resolved_late, pending_total, pending_not_due, pending_overdue,"
    " withdrawn, resolved_early) < 0",
}


def _connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection without the progress bar."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


def _statements(sql: str) -> list[str]:
    """The script's statements (split on ``;`` at line ends; comments dropped)."""
    lines = [ln for ln in sql.splitlines() if not ln.lstrip().startswith("--")]
    parts = "\n".join(lines).split(";\n")
    return [p.strip() for p in parts if p.strip()]


def run_floor(
    bundle: Path | str,
    con: duckdb.DuckDBPyConnection | None = None,
    timings: dict[str, float] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Run the floor on ``bundle``; the result is the temp table ``floor_resolution``
    of the returned connection. Per-statement seconds go into ``timings``."""
    bundle = Path(bundle)
    if not (bundle / "dossiers").is_dir():
        raise FileNotFoundError(f"{bundle} has no dossiers/ folder")
    con = con or _connect()
    literal = str(bundle.resolve()).replace("'", "''")
    con.execute(f"SET VARIABLE bundle = '{literal}'")
    for stmt in _statements(SQL_FILE.read_text(encoding="utf-8")):
        t = time.perf_counter()
        con.execute(stmt)
        if timings is not None:
            head = " ".join(stmt.split()[:6])
            timings[head] = timings.get(head, 0.0) + time.perf_counter() - t
    return con


def floor_frame(bundle: Path | str) -> pd.DataFrame:
    """The floor's result as a DataFrame (for tests and small bundles)."""
    con = run_floor(bundle)
    try:
        return con.sql("SELECT * FROM floor_resolution").df()
    finally:
        con.close()


def identity_violations(
    con: duckdb.DuckDBPyConnection, table: str = "floor_resolution"
) -> dict[str, int]:
    """Rows of ``table`` breaking each report identity (all zero when it is sound)."""
    return {
        name: con.execute(f"SELECT count(*) FROM {table} WHERE {cond}").fetchone()[0]
        for name, cond in IDENTITIES.items()
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--out", type=Path, help="result file (.parquet or .csv)")
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 4GB")
    ap.add_argument("--temp-dir", help="DuckDB spill folder")
    ap.add_argument("--check", action="store_true", help="verify the report identities")
    a = ap.parse_args(argv)
    con = _connect()
    if a.threads:
        con.execute(f"SET threads = {int(a.threads)}")
    if a.memory_limit:
        con.execute(f"SET memory_limit = '{a.memory_limit}'")
    if a.temp_dir:
        con.execute(f"SET temp_directory = '{a.temp_dir}'")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    run_floor(a.bundle, con, timings)
    total = time.perf_counter() - t0
    for head, sec in timings.items():
        if sec >= 0.05:
            print(f"{sec:8.2f}s  {head}", file=sys.stderr)
    rows, dossiers = con.execute(
        "SELECT (SELECT count(*) FROM floor_resolution), (SELECT count(*) FROM floor_dossier)"
    ).fetchone()
    print(f"floor: {dossiers} received dossiers, {rows} rows in {total:.2f}s", file=sys.stderr)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        fmt = "FORMAT CSV, HEADER" if a.out.suffix == ".csv" else "FORMAT PARQUET"
        target = str(a.out).replace("'", "''")
        con.execute(
            f"COPY (SELECT {', '.join(COLUMNS)} FROM floor_resolution) TO '{target}' ({fmt})"
        )
    status = 0
    if a.check:
        bad = identity_violations(con)
        for name, n in bad.items():
            print(f"identity {name}: {'ok' if n == 0 else f'{n} rows broken'}", file=sys.stderr)
        status = int(any(bad.values()))
    con.close()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
