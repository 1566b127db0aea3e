"""Generate large synthetic export bundles for benchmarks (domain.md section 2 layout).

A bundle is ``procedures.csv``, ``agencies.csv`` and ``dossiers/part-XXXX.jsonl.gz``:
one full snapshot line per status change of every dossier (received -> in processing
-> sometimes a supplement round -> resolved -> returned; online submissions start at
status 1; a few are refused (3), withdrawn (7), stopped (8) or stuck open).

Everything about dossier ``i`` is a pure function of ``(seed, i)`` (DuckDB ``hash``),
so the generator is vectorised, runs in slices of bounded memory, and can later
recompute any dossier of a base bundle without reading it back. That is how the
incremental mode works: ``--changed-fraction F --base-dir DIR0`` writes, for a
fraction ``F`` of the base bundle's dossiers, one newer snapshot (the next step of
an open dossier moved into the day after the base export, or a re-sent closed
dossier with a rating), plus a few brand-new dossiers, all with ``NgayCapNhat``
after the base export's cut-off.

Usage::

    python bench/gen_bundle.py --dossiers 1000000 --out /work/benchdata/b1m
    python bench/gen_bundle.py --changed-fraction 0.003 --base-dir /work/benchdata/b1m \\
        --out /work/benchdata/b1m-inc

Timestamps are ``yyyyMMddHHmmss`` local time spread over two years from
2023-01-01; the base export's cut-off is 2025-01-01 00:00:00. ``NgayHenTra`` is
always present once a dossier is received: intake date plus the procedure's
processing time with weekends added, roughly (no holiday calendar), moved by the
length of any supplement pause.

This module plans a run, writes the files and holds the command line; the catalogue
(agencies, procedures) is made in ``gen_catalogue.py`` and the dossiers' lives and
snapshot lines are DuckDB SQL from ``gen_dossiers.py``, both beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import shutil
import sys
import time
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# its parts lie beside it (bench/ is not a package): the catalogue and the dossiers' SQL;
# run as a script, bench/ is already on the path; imported from its file (the tests), it
# is added last, so that it shadows nothing
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.append(_HERE)

from gen_catalogue import (  # noqa: E402
    AGENCY_COLUMNS,
    PROCEDURE_COLUMNS,
    make_agencies,
    make_procedures,
    write_csv,
)
from gen_dossiers import (  # noqa: E402
    DAY,
    INCREMENT_SECONDS,
    START,
    WINDOW_DAYS,
    changed_sql,
    life_sql,
    lines_sql,
    setup,
)

META_FILE = "_bench_meta.json"
DEFAULT_SLICE = 1_000_000
LINES_PER_FILE = 1_000_000  # default --files: about this many snapshot lines a file
BATCH_ROWS = 50_000  # lines per Arrow batch (and per gzip member, ~60 MB of text)


@dataclass(frozen=True)
class Plan:
    """What one generation run writes."""

    out: Path
    seed: int
    dossiers: int  # base: dossiers 0..dossiers-1; incremental: the base bundle's count
    files: int
    slice_size: int
    procedures: int
    incremental: bool = False
    changed_fraction: float = 0.0
    new_dossiers: int = 0
    base_dir: Path | None = None
    gzip_level: int = 1
    threads: int = 2
    memory_limit: str | None = None

    @property
    def cutoff(self) -> int:
        """Export time of this bundle, seconds after ``START``."""
        base = WINDOW_DAYS * DAY
        return base + INCREMENT_SECONDS if self.incremental else base


def _connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection without the progress bar."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


def _as_bytes(arr: pa.Array) -> memoryview:
    """The concatenated text of a string array (its data buffer between the first
    and last offsets), without copying."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.large_string())
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=width)
    start, end = int(offsets[arr.offset]), int(offsets[arr.offset + len(arr)])
    return memoryview(arr.buffers()[2])[start:end]


def _write_lines(
    con: duckdb.DuckDBPyConnection,
    query: str,
    out_dir: Path,
    file_lo: int,
    n_files: int,
    level: int,
    pool: ThreadPoolExecutor,
    max_inflight: int,
) -> int:
    """Stream ``(part, line)`` rows into ``part-XXXX.jsonl.gz`` files: every batch of
    a file becomes one gzip member, compressed on ``pool`` (zlib frees the GIL), written
    in order. Returns the number of lines."""
    handles = {
        p: (out_dir / f"part-{p + 1:04d}.jsonl.gz").open("ab")
        for p in range(file_lo, file_lo + n_files)
    }
    inflight: deque[tuple[int, Future[bytes]]] = deque()
    lines = 0
    try:
        reader = con.sql(query).to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            lines += batch.num_rows
            text = batch.column("line")
            parts = batch.column("part")
            for p in range(file_lo, file_lo + n_files):
                sub = text if n_files == 1 else pc.filter(text, pc.equal(parts, p))
                if len(sub):
                    inflight.append((p, pool.submit(zlib.compress, _as_bytes(sub), level, 31)))
            while len(inflight) > max_inflight:
                p, fut = inflight.popleft()
                handles[p].write(fut.result())
        while inflight:
            p, fut = inflight.popleft()
            handles[p].write(fut.result())
    finally:
        for h in handles.values():
            h.close()
    return lines


def _slices(total: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(total, lo + size)) for lo in range(0, total, size)] or [(0, 0)]


def _file_range(s: int, n_slices: int, n_files: int) -> tuple[int, int]:
    """Files ``[lo, lo + n)`` written by slice ``s`` (files are split among slices;
    ``n_files >= n_slices``)."""
    lo = s * n_files // n_slices
    hi = (s + 1) * n_files // n_slices
    return lo, hi - lo


def generate(plan: Plan, log: bool = True) -> dict[str, object]:
    """Write the bundle ``plan`` describes; return its metadata (also written to
    ``_bench_meta.json`` in the bundle)."""
    t0 = time.perf_counter()
    out = plan.out
    dossier_dir = out / "dossiers"
    if dossier_dir.exists():
        shutil.rmtree(dossier_dir)
    dossier_dir.mkdir(parents=True)
    agencies = make_agencies()
    procedures = make_procedures(plan.procedures, agencies, plan.seed)
    write_csv(out / "procedures.csv", PROCEDURE_COLUMNS, procedures)
    write_csv(out / "agencies.csv", AGENCY_COLUMNS, agencies)
    n_proc = len({r["MaTTHC"] for r in procedures})

    con = _connect()
    if plan.memory_limit:
        con.execute(f"SET memory_limit = '{plan.memory_limit}'")
    setup(con, plan.seed, procedures)
    cut = plan.cutoff
    base_cut = WINDOW_DAYS * DAY
    spread = f"floor(rnd(i, 3) * {WINDOW_DAYS})"
    jobs: list[tuple[str, bool, int | None, int, int]] = []  # (source, changed, lo_t, lo, hi)
    if not plan.incremental:
        for lo, hi in _slices(plan.dossiers, plan.slice_size):
            jobs.append((life_sql(lo, hi, n_proc, spread), False, None, lo, hi))
    else:
        frac = repr(plan.changed_fraction)
        for lo, hi in _slices(plan.dossiers, plan.slice_size):
            life = life_sql(lo, hi, n_proc, spread, where=f"rnd(i, 99) < {frac}")
            jobs.append((changed_sql(life, base_cut), True, None, lo, hi))
        lo, hi = plan.dossiers, plan.dossiers + plan.new_dossiers
        jobs.append((life_sql(lo, hi, n_proc, str(WINDOW_DAYS)), False, base_cut, lo, hi))
    n_files = max(plan.files, len(jobs))
    lines = 0
    with ThreadPoolExecutor(max_workers=plan.threads) as pool:
        for s, (src, changed, lo_t, lo, hi) in enumerate(jobs):
            f_lo, f_n = _file_range(s, len(jobs), n_files)
            query = lines_sql(
                src, changed=changed, lo_t=lo_t, hi_t=cut, seed=plan.seed, file_lo=f_lo, n_files=f_n
            )
            t = time.perf_counter()
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE ids AS SELECT range AS i FROM range({lo}, {hi})"
            )
            n = _write_lines(
                con, query, dossier_dir, f_lo, f_n, plan.gzip_level, pool, plan.threads + 1
            )
            lines += n
            if log:
                print(
                    f"slice {s + 1}/{len(jobs)}: dossiers [{lo}, {hi}), {n} lines, "
                    f"{time.perf_counter() - t:.1f}s",
                    file=sys.stderr,
                )
    con.close()
    files = sorted(dossier_dir.glob("*.jsonl.gz"))
    for f in files:  # a part that got no line at all is still a valid (empty) gzip file
        if f.stat().st_size == 0:
            f.write_bytes(zlib.compress(b"", plan.gzip_level, wbits=31))
    meta: dict[str, object] = {
        "kind": "incremental" if plan.incremental else "full",
        "seed": plan.seed,
        "dossiers": plan.dossiers,
        "new_dossiers": plan.new_dossiers,
        "changed_fraction": plan.changed_fraction,
        "procedures": plan.procedures,
        "files": len(files),
        "start": START.strftime("%Y%m%d%H%M%S"),
        "cutoff": (START + dt.timedelta(seconds=cut)).strftime("%Y%m%d%H%M%S"),
        "base_dir": str(plan.base_dir) if plan.base_dir else None,
        "snapshot_lines": lines,
        "dossier_bytes": sum(f.stat().st_size for f in files),
        "gzip_level": plan.gzip_level,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def plan_from_args(argv: list[str] | None = None) -> Plan:
    """Parse the command line into a :class:`Plan`."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dossiers", type=int, help="dossiers in a full bundle")
    ap.add_argument(
        "--out", type=Path, required=True, help="bundle folder to write (dossiers/ is replaced)"
    )
    ap.add_argument("--seed", type=int, default=20190101, help="(incremental: the base's)")
    ap.add_argument(
        "--files", type=int, help="dossier files (default: ~1M lines a file, at least 2)"
    )
    ap.add_argument("--procedures", type=int, default=300)
    ap.add_argument("--slice", type=int, default=DEFAULT_SLICE, help="dossiers per slice")
    ap.add_argument("--changed-fraction", type=float, help="incremental: share of base changed")
    ap.add_argument("--base-dir", type=Path, help="incremental: the full bundle it follows")
    ap.add_argument(
        "--new-dossiers",
        type=int,
        help="incremental: brand-new dossiers (default: a tenth of the changed)",
    )
    ap.add_argument(
        "--gzip-level",
        type=int,
        default=1,
        choices=range(1, 10),
        metavar="1-9",
        help="zlib level (default 1: fastest; 6 is gzip's default, ~1.6x smaller)",
    )
    ap.add_argument("--threads", type=int, default=2, help="compression threads")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 4GB")
    a = ap.parse_args(argv)
    common = dict(gzip_level=a.gzip_level, threads=a.threads, memory_limit=a.memory_limit)
    if (a.changed_fraction is None) != (a.base_dir is None):
        ap.error("--changed-fraction and --base-dir go together")
    if a.base_dir is not None:
        meta = json.loads((a.base_dir / META_FILE).read_text(encoding="utf-8"))
        if meta.get("kind") != "full":
            ap.error(f"{a.base_dir} is not a full bundle written by this generator")
        if a.out.resolve() == a.base_dir.resolve():
            ap.error("--out must not be the base bundle")
        if not 0 < a.changed_fraction <= 1:
            ap.error("--changed-fraction must be in (0, 1]")
        n0 = int(meta["dossiers"])
        new = (
            a.new_dossiers
            if a.new_dossiers is not None
            else max(1, round(n0 * a.changed_fraction / 10))
        )
        return Plan(
            out=a.out,
            seed=int(meta["seed"]),
            dossiers=n0,
            files=a.files or 1,
            slice_size=a.slice,
            procedures=int(meta["procedures"]),
            incremental=True,
            changed_fraction=a.changed_fraction,
            new_dossiers=new,
            base_dir=a.base_dir,
            **common,
        )
    if not a.dossiers or a.dossiers < 1:
        ap.error("--dossiers N is required for a full bundle")
    files = a.files or max(2, math.ceil(a.dossiers * 4.5 / LINES_PER_FILE))
    return Plan(
        out=a.out,
        seed=a.seed,
        dossiers=a.dossiers,
        files=files,
        slice_size=a.slice,
        procedures=a.procedures,
        **common,
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    plan = plan_from_args(argv)
    meta = generate(plan)
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
