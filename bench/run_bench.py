"""Measure motcua on a bundle: wall and CPU time per stage, peak RSS, rows; and the
DuckDB floor (bench/floor.py) on the same bundle in the same run, as a ratio.

Usage::

    python bench/run_bench.py /work/benchdata/b100k [--no-floor] [--no-validate] [--json out.json]
        [--incremental /work/benchdata/b1m-inc] [--dask local:2] [--workdir /work/benchwork]

Each stage is timed in-process (the same stage functions the Prefect flow's tasks call;
the flow's own overhead — a temporary Prefect server, ~8 ms a task — is left out). The
warehouse is a fresh DuckDB file in a temporary folder. Peak RSS is the process's
``ru_maxrss``; the floor runs in a subprocess so its memory is measured on its own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _cpu(children: bool = True) -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    cpu = r.ru_utime + r.ru_stime
    if children:  # Dask worker processes (the floor runs before motcua and is measured apart)
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += c.ru_utime + c.ru_stime
    return cpu


def _rss_mb() -> dict:
    return {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "peak_rss_children_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def run_motcua(bundle: Path, work: Path, validate: bool, dask: str | None = None, label: str = "full") -> dict:
    """One run of the pipeline's stages, in the order the flow calls them."""
    from flows.stages import extract as extracting
    from flows.stages import publish as publishing
    from flows.stages import stage as staging
    from flows.stages.load_core import load_core
    from flows.stages.marts import build_marts
    from flows.stages.runs import new_run
    from motcua.settings import Settings

    os.environ.setdefault("MOTCUA_PSEUDONYM_KEY", "benchmark-key")
    s = Settings.from_env(warehouse_url=f"duckdb:///{work / 'wh.duckdb'}", data_dir=work / "var",
                          quarantine_threshold=1.0)
    run = new_run(s, str(bundle))
    times: dict[str, dict[str, float]] = {}
    t_all, c_all = time.perf_counter(), _cpu()
    print(f"motcua ({label}) on {bundle}:", file=sys.stderr, flush=True)

    def timed(name, fn, *args, **kwargs):
        t, c = time.perf_counter(), _cpu()
        out = fn(*args, **kwargs)
        times[name] = {"wall_s": round(time.perf_counter() - t, 2), "cpu_s": round(_cpu() - c, 2)}
        print(f"  {name}: {times[name]['wall_s']} s wall, {times[name]['cpu_s']} s CPU, "
              f"peak RSS so far {_rss_mb()['peak_rss_mb']} MB", file=sys.stderr, flush=True)
        return out

    mapper = None
    if dask:
        from flows.parallel import shard_mapper

        mapper = shard_mapper(dask)
    extracted = timed("extract", extracting.extract, run, s)
    times["extract"]["cpu_s"] = round(times["extract"]["cpu_s"] + extracted.get("workers_cpu_s", 0.0), 2)
    if extracted.get("worker_peak_rss_mb"):
        print(f"  (extract CPU with its worker processes: {times['extract']['cpu_s']} s; their peak RSS "
              f"{extracted['worker_peak_rss_mb']} MB)", file=sys.stderr, flush=True)
    staged = timed("stage+validate", staging.stage, run, s, extracted, validate=validate, mapper=mapper)
    # shards staged in worker processes forked by a forkserver are not this process's
    # children: their CPU time is what the shards report
    in_workers = os.getpid() not in staged["shard_pids"] and not dask
    extra_cpu = staged["shards_cpu_s"] if in_workers else 0.0
    times["stage+validate"]["cpu_s"] = round(times["stage+validate"]["cpu_s"] + extra_cpu, 2)
    print(f"  (stage+validate CPU with its {staged['workers']} worker process(es): "
          f"{times['stage+validate']['cpu_s']} s; their peak RSS {staged['worker_peak_rss_mb']} MB)",
          file=sys.stderr, flush=True)
    timed("mark stale", publishing.mark_marts_stale, run, s, staged)
    loaded = timed("load", load_core, run, s, extracted, staged)
    plan = timed("plan", publishing.plan_rebuild, run, s)
    built = timed("marts+validate", build_marts, run, s, validate=validate, plan=plan)
    timed("publish", publishing.publish, run, s, built, plan)
    return {
        "stages": times,
        "wall_s": round(time.perf_counter() - t_all, 2),
        "cpu_s": round(_cpu() - c_all + extra_cpu + extracted.get("workers_cpu_s", 0.0), 2),
        "peak_rss_mb": _rss_mb()["peak_rss_mb"],
        # the largest child process (a Dask worker; without --dask, the floor's subprocess)
        **({"peak_rss_worker_mb": _rss_mb()["peak_rss_children_mb"]} if dask else {}),
        "records_read": staged["records_read"],
        "records_quarantined": staged["records_quarantined"],
        "shards": staged["shards"],
        # staging's worker processes (one per core by default): each one's peak, and how many
        "staging_workers": staged.get("workers"),
        "staging_worker_peak_rss_mb": staged.get("worker_peak_rss_mb"),
        "extract_worker_peak_rss_mb": extracted.get("worker_peak_rss_mb"),
        "buckets": staged["buckets"],
        "dossiers_changed": loaded.get("dossiers_changed"),
        "plan": {"all": plan["all"], "intervals": plan["intervals"]},
        "mart_rows": built["rows"],
    }


def run_floor(bundle: Path, work: Path) -> dict:
    t = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%e %U %S %M", sys.executable, str(ROOT / "bench" / "floor.py"), str(bundle),
         "--out", str(work / "floor.parquet")],
        capture_output=True, text=True, check=True)
    wall, user, system, rss_kb = proc.stderr.strip().splitlines()[-1].split()
    return {"wall_s": round(float(wall), 2), "cpu_s": round(float(user) + float(system), 2),
            "peak_rss_mb": round(int(rss_kb) / 1024, 1), "elapsed_s": round(time.perf_counter() - t, 2)}


def run_report(work: Path, year: int | None) -> dict:
    """``motcua report --year Y`` on the bench's warehouse, in a subprocess (its own
    wall, CPU and peak RSS): tables, XLSX, HTML, the explain files and the figures."""
    from warehouse.report_scan import latest_year

    url = f"duckdb:///{work / 'wh.duckdb'}"
    year = year or latest_year(url)
    motcua = Path(sys.executable).with_name("motcua")
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%e %U %S %M", str(motcua), "report", "--year", str(year), "--warehouse", url,
         "--out", str(work / "report")],
        capture_output=True, text=True, env={**os.environ, "MOTCUA_DATA_DIR": str(work / "var")})
    wall, user, system, rss_kb = proc.stderr.strip().splitlines()[-1].split()
    explained = sum(1 for _ in (work / "report" / "explain").glob("*.csv"))
    out = {"year": year, "wall_s": round(float(wall), 2), "cpu_s": round(float(user) + float(system), 2),
           "peak_rss_mb": round(int(rss_kb) / 1024, 1), "explain_files": explained}
    if proc.returncode != 0:  # measured and said, and the bench goes on (the increment still runs)
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        out["failed"] = next((ln for ln in lines if "Error" in ln or "failed" in ln), lines[-2] if len(lines) > 1 else "")[:500]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--no-floor", action="store_true")
    ap.add_argument("--no-validate", action="store_true", help="skip the expectation suites (to measure their share)")
    ap.add_argument("--incremental", type=Path, default=None, metavar="BUNDLE",
                    help="after the full run, run this (incremental) bundle on the same warehouse")
    ap.add_argument("--dask", default=None, help="stage the shards on Dask (local:N or a scheduler address)")
    ap.add_argument("--workdir", type=Path, default=None, help="where the warehouse and run files go (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the warehouse and run files (printed at the end)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--report", action="store_true",
                    help="after the full run, time `motcua report` for the latest year (a subprocess)")
    args = ap.parse_args()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    tmp_dir = (contextlib.nullcontext(tempfile.mkdtemp(prefix="motcua-bench-", dir=args.workdir)) if args.keep
               else tempfile.TemporaryDirectory(prefix="motcua-bench-", dir=args.workdir))
    with tmp_dir as tmp:
        work = Path(tmp)
        result = {"bundle": str(args.bundle), "validate": not args.no_validate}
        if not args.no_floor:
            result["floor"] = run_floor(args.bundle, work)
            print(f"floor: {result['floor']}", file=sys.stderr, flush=True)
        result["motcua"] = run_motcua(args.bundle, work, not args.no_validate, args.dask)
        if "floor" in result:
            result["ratio_wall"] = round(result["motcua"]["wall_s"] / result["floor"]["wall_s"], 2)
            result["ratio_cpu"] = round(result["motcua"]["cpu_s"] / result["floor"]["cpu_s"], 2)
        if args.report:
            result["report"] = run_report(work, None)
            print(f"report: {result['report']}", file=sys.stderr, flush=True)
        if args.incremental:
            inc = run_motcua(args.incremental, work, not args.no_validate, args.dask, label="incremental")
            result["incremental"] = inc
            result["incremental_share_wall"] = round(inc["wall_s"] / result["motcua"]["wall_s"], 4)
            result["incremental_share_cpu"] = round(inc["cpu_s"] / result["motcua"]["cpu_s"], 4)
        if args.keep:
            result["kept"] = tmp
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
