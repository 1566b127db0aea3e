"""Extract: the source read into the raw zone (Parquet, one file per batch), in parallel
for a large bundle; and the replay of raw-zone files as a source."""

from __future__ import annotations

import datetime as dt
import resource
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from flows.stages.runs import Run, frame_private, log, source_name, write_private
from motcua.settings import Settings
from motcua.sources import open_source
from motcua.sources.limits import Limits, describe_fault
from transforms import (
    dim_procedure,
)
from warehouse.engine import private_dir as _private_dir
from warehouse.errors import PipelineError

# --------------------------------------------------------------------------- extract
PARALLEL_EXTRACT_BYTES = 32 << 20
"""A bundle's dossier files (as stored, compressed or not) are extracted on the worker
processes from this size on; smaller ones in the run's process."""


def extract(run: Run, settings: Settings, since: str | None = None) -> dict:
    """Read every record of the source into the raw landing zone, as read (within the
    settings' source limits: :mod:`motcua.sources.limits`). A bundle of
    :data:`PARALLEL_EXTRACT_BYTES` or more is extracted on the worker processes, a file
    a call (their preloading server started first)."""
    from flows.processes import default_workers, warm_up

    src = open_source(run.source, limits=Limits.from_settings(settings))
    workers = settings.workers or default_workers()
    parts = src.partitions() if hasattr(src, "partitions") else []
    # worth worker processes: a bundle of some size (a worker's start costs seconds)
    parallel = workers > 1 and len(parts) > 1 and sum(p.stat().st_size for p in parts) >= PARALLEL_EXTRACT_BYTES
    if parallel:
        warm_up()
    name = source_name(run.source)
    cat_dir = _private_dir(run.run_dir / "catalogue")
    procedures = src.read_procedures()
    agencies = src.read_agencies()
    frame_private(procedures.astype("string"), cat_dir / "procedures.parquet")
    frame_private(agencies.astype("string"), cat_dir / "agencies.parquet")
    raw_dir = Path(settings.data_dir) / "raw" / f"source={name}" / f"extracted={run.started_at:%Y-%m-%d}"
    if name == "replay":  # replaying the raw zone does not land its records in it again
        raw_dir = run.run_dir / "replayed"
    # the raw zone keeps the catalogue read with the records, so it can be replayed alone
    for label, frame in (("procedures", procedures), ("agencies", agencies)):
        write_private(pa.Table.from_pandas(frame.astype("string"), preserve_index=False),
                       raw_dir / f"{run.run_id}-{label}.parquet")
    if parallel:  # a bundle's files, extracted in parallel (see flows.processes)
        from flows.processes import process_map

        landed = process_map("flows.stages.extract:extract_partition", [
            {"spec": run.source, "settings": settings, "index": k, "raw_dir": str(raw_dir), "run_id": run.run_id,
             "name": name} for k in range(len(parts))], workers)
        files = [f for part in landed for f in part["files"]]
        n = sum(part["records"] for part in landed)
        worker_cpu = round(sum(part["cpu_s"] for part in landed), 2)
        worker_peak = max(part["peak_rss_mb"] for part in landed)
        faults = [fault for part in landed for fault in part["faults"]]
    else:
        files, n = land_batches(src.iter_records(since), raw_dir, run.run_id, name, "")
        worker_cpu, worker_peak = 0.0, None
        faults = list(getattr(src, "faults", []))
    for fault in faults:
        log.warning("source fault: %s", describe_fault(fault))
    run.counts["records_read"] = n
    max_updated = getattr(src, "max_updated", None)
    return {"raw_files": files, "records_read": n, "source_name": name,
            "procedures": str(cat_dir / "procedures.parquet"), "agencies": str(cat_dir / "agencies.parquet"),
            "source_max_updated": max_updated,
            # what the source could not read (motcua.sources.limits.source_fault): recorded, reported
            "source_faults": faults,
            # the worker processes' CPU time and largest peak RSS (0 and None: none used)
            "workers_cpu_s": worker_cpu, "worker_peak_rss_mb": worker_peak}


def land_batches(batches: Iterator[pa.Table], raw_dir: Path, run_id: str, name: str,
                 prefix: str) -> tuple[list[str], int]:
    """Write a source's batches to the raw zone as they come, one Parquet file each
    (``<run_id>-records-<prefix><NNNNN>.parquet``, in the order read), with the run and
    the source; returns the files and the records written."""
    files: list[str] = []
    n = 0
    for i, batch in enumerate(batches):
        if batch.num_rows == 0:
            continue
        table = batch.append_column("run_id", pa.array([run_id] * batch.num_rows, pa.string()))
        table = table.append_column("source", pa.array([name] * batch.num_rows, pa.string()))
        path = raw_dir / f"{run_id}-records-{prefix}{i:05d}.parquet"
        write_private(table, path)
        files.append(str(path))
        n += batch.num_rows
    return files, n


def extract_partition(spec: str, settings: Settings, index: int, raw_dir: str, run_id: str, name: str) -> dict:
    """Extract one partition of a source (a bundle's dossier file) into the raw zone: a
    worker's share of :func:`extract`."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = usage.ru_utime + usage.ru_stime
    src = open_source(spec, limits=Limits.from_settings(settings))
    files, n = land_batches(src.iter_partition(index), Path(raw_dir), run_id, name, f"{index:04d}-")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"files": files, "records": n, "faults": list(getattr(src, "faults", [])), "cpu_s": round(usage.ru_utime + usage.ru_stime - cpu0, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def read_catalogue(extracted: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    procedures = pd.read_parquet(extracted["procedures"])
    agencies = pd.read_parquet(extracted["agencies"])
    return dim_procedure.build(procedures), agencies


# --------------------------------------------------------------------------- replay, headline, test hook
def replay_raw(run: Run, settings: Settings, source: str, date_from: dt.date, date_to: dt.date) -> dict:
    """The raw-zone record files of one source extracted from ``date_from`` to ``date_to``
    (:class:`motcua.sources.replay.ReplaySource` finds them), in the shape :func:`extract`
    returns, for :func:`stage` to process again as they are (their ``source`` column is
    kept, so quarantine rows match the first pass). ``source`` is the source as given to
    extract, or its raw-zone name (``bundle-…``). The catalogue — which replaces the
    dimensions — is the source's current one when it can still be read, else the newest
    the raw zone kept for that source (never the range's own, possibly older, copy)."""
    from motcua.sources.replay import ReplaySource

    root = Path(settings.data_dir) / "raw"
    name = source if (root / f"source={source}").is_dir() else source_name(source)
    if not (root / f"source={name}").is_dir():
        raise PipelineError(f"no raw zone for source {source!r} under {root}")
    files = [str(f) for f in ReplaySource(root, name, date_from, date_to).record_files()]
    partitions = sorted({Path(f).parent.name for f in files})
    records = sum(pq.read_metadata(f).num_rows for f in files)
    cat_dir = _private_dir(run.run_dir / "catalogue")
    try:
        src = open_source(source, limits=Limits.from_settings(settings))
        procedures, agencies = src.read_procedures(), src.read_agencies()
    except Exception as exc:  # noqa: BLE001 - gone or unreachable: fall back on the kept copy
        kept = ReplaySource(root, name)
        procedures, agencies = kept.read_procedures(), kept.read_agencies()
        if procedures.empty:
            raise PipelineError(f"replay of {name}: the source cannot be read ({exc}) and the raw zone kept "
                                "no catalogue") from exc
        log.warning("replay of %s: catalogue from the raw zone (source unreadable: %s)", name, exc)
    frame_private(procedures.astype("string"), cat_dir / "procedures.parquet")
    frame_private(agencies.astype("string"), cat_dir / "agencies.parquet")
    run.counts["records_read"] = records
    return {"raw_files": files, "records_read": records, "source_name": name,
            "procedures": str(cat_dir / "procedures.parquet"), "agencies": str(cat_dir / "agencies.parquet"),
            "source_max_updated": None, "replayed_partitions": partitions}
