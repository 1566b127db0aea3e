"""The pipeline's stages as plain functions (the Prefect tasks in :mod:`flows.tasks`
wrap them). Between stages only paths, table names and counts travel; the data lives
in Parquet files under the run's folder and in the warehouse.

extract -> stage (parse, rules, validate: records loaded or quarantined) -> load_core
(quarantine, then fct_dossier and events one committed step a bucket, then dimensions and
watermark) ->
build_marts (+ mart suite: write, audit) -> publish (the mart partitions rebuilt, period x
agency, replaced in one transaction; see :func:`plan_rebuild`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import resource
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from flows import locks
from flows.errors import PipelineError
from flows.locks import (  # noqa: F401 - the write lock, as flows.stages has always named it
    DEFAULT_LOCK_TIMEOUT,
    WRITE_LOCK_NAME,
    WarehouseLockTimeout,
    _advisory_key,
    is_locked_error,
    lock_timeout,
    warehouse_lock,
    with_warehouse_retry,
)
from motcua.redact import conceal, redact_url, reveal, scrub
from motcua.settings import Settings, pseudonym_key
from motcua.sources import open_source
from motcua.sources.limits import Limits
from transforms import (
    dim_agency,
    dim_procedure,
    dim_static,
    fct_dossier,
    fct_dossier_event,
    int_dossier_record,
    mart_dossier_intake,
    mart_dossier_resolution,
    mart_indicator,
    period_counts,
    periods,
    stg_dossier_snapshot,
    watermark,
)
from transforms.workdays import calendars_from_overrides
from warehouse import load, schema
from warehouse.engine import create_schema, duckdb_buffer_share, make_engine
from warehouse.engine import private_dir as _private_dir

log = logging.getLogger("motcua")


@dataclass
class Run:
    """Where one run keeps its files, and what it has counted so far.

    ``source`` and ``warehouse_url`` are held redacted (a password as ``***``, see
    :func:`motcua.redact.conceal`): a Run is passed to Prefect tasks and to the Dask
    subflow (whose parameters Prefect stores), and returned in flow results."""

    run_id: str
    run_dir: Path
    source: str
    warehouse_url: str
    started_at: dt.datetime
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.source = conceal(self.source)  # type: ignore[assignment]
        self.warehouse_url = conceal(self.warehouse_url)  # type: ignore[assignment]

    def as_dict(self) -> dict:
        d = asdict(self)
        d["run_dir"] = str(self.run_dir)
        d["started_at"] = self.started_at.isoformat()
        return d


def _frame_private(df: pd.DataFrame, path: Path) -> None:
    """``df`` written as Parquet to ``path``, owner-only (0600) like everything in a run folder."""
    df.to_parquet(path, index=False)
    os.chmod(path, 0o600)


def _write_private(table: pa.Table, path: Path) -> None:
    _private_dir(path.parent)
    pq.write_table(table, path)
    os.chmod(path, 0o600)


def new_run(settings: Settings, source: str, run_id: str | None = None) -> Run:
    """A new run and its private folder. Fails at once (before any personal data is
    written to disk) when the pseudonymisation key is missing."""
    pseudonym_key()
    now = dt.datetime.now()
    rid = run_id or f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    run_dir = _private_dir(Path(settings.data_dir) / "runs" / rid)
    return Run(rid, run_dir, source, settings.warehouse_url, now)


def source_name(spec: str, legacy: bool = False) -> str:
    """A stable, file-system safe name for a source (used in the raw zone and watermarks):
    a digest of the spec with its password hidden (a secret's digest, even cut short,
    would let anyone who reads the raw zone's folder names or audit.source_state confirm
    a guessed password; and a rotated password is still the same source). ``legacy``:
    the digest of the spec in clear, as earlier releases named sources (a watermark
    stored under that name is still found, see :func:`read_watermark`)."""
    if spec.startswith("raw:"):
        return "replay"
    kind = "http" if spec.startswith(("http://", "https://")) else "db" if "://" in spec else "file"
    if kind == "file":
        kind = "bundle" if Path(spec).is_dir() else "sheet"
        spec = str(Path(spec).resolve())
    else:
        spec = reveal(spec) if legacy else redact_url(spec)
    digest = hashlib.sha256(spec.encode()).hexdigest()[:10]
    return f"{kind}-{digest}"


def _legacy_name(spec: str) -> str | None:
    """:func:`source_name` as earlier releases made it; None when the password is not known here."""
    try:
        return source_name(spec, legacy=True)
    except Exception:  # noqa: BLE001 - a hidden password this process cannot reveal
        return None


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
    _frame_private(procedures.astype("string"), cat_dir / "procedures.parquet")
    _frame_private(agencies.astype("string"), cat_dir / "agencies.parquet")
    raw_dir = Path(settings.data_dir) / "raw" / f"source={name}" / f"extracted={run.started_at:%Y-%m-%d}"
    if name == "replay":  # replaying the raw zone does not land its records in it again
        raw_dir = run.run_dir / "replayed"
    # the raw zone keeps the catalogue read with the records, so it can be replayed alone
    for label, frame in (("procedures", procedures), ("agencies", agencies)):
        _write_private(pa.Table.from_pandas(frame.astype("string"), preserve_index=False),
                       raw_dir / f"{run.run_id}-{label}.parquet")
    if parallel:  # a bundle's files, extracted in parallel (see flows.processes)
        from flows.processes import process_map

        landed = process_map("flows.stages:extract_partition", [
            {"spec": run.source, "settings": settings, "index": k, "raw_dir": str(raw_dir), "run_id": run.run_id,
             "name": name} for k in range(len(parts))], workers)
        files = [f for part in landed for f in part["files"]]
        n = sum(part["records"] for part in landed)
        worker_cpu = round(sum(part["cpu_s"] for part in landed), 2)
        worker_peak = max(part["peak_rss_mb"] for part in landed)
    else:
        files, n = land_batches(src.iter_records(since), raw_dir, run.run_id, name, "")
        worker_cpu, worker_peak = 0.0, None
    run.counts["records_read"] = n
    max_updated = getattr(src, "max_updated", None)
    return {"raw_files": files, "records_read": n, "source_name": name,
            "procedures": str(cat_dir / "procedures.parquet"), "agencies": str(cat_dir / "agencies.parquet"),
            "source_max_updated": max_updated,
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
        _write_private(table, path)
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
    return {"files": files, "records": n, "cpu_s": round(usage.ru_utime + usage.ru_stime - cpu0, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def _catalogue(extracted: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    procedures = pd.read_parquet(extracted["procedures"])
    agencies = pd.read_parquet(extracted["agencies"])
    return dim_procedure.build(procedures), agencies


# --------------------------------------------------------------------------- stage
def bucket_count(records: int, per_bucket: int) -> int:
    """Buckets for a run of ``records`` records, ``per_bucket`` (``MOTCUA_BUCKET_RECORDS``)
    a bucket: load_core merges one bucket at a time, so its memory is bounded by a
    bucket, not by the run (1 bucket for small runs)."""
    return max(1, -(-int(records) // per_bucket))


def bucket_of(codes: pd.Series, buckets: int) -> np.ndarray:
    """The load bucket of each dossier code: a stable hash (the same in every process and
    on every machine), so all records of a dossier meet in one bucket."""
    if buckets <= 1 or len(codes) == 0:
        return np.zeros(len(codes), dtype="int64")
    h = pd.util.hash_pandas_object(codes.astype("string").fillna(""), index=False).to_numpy()
    return (h % np.uint64(buckets)).astype("int64")


MIN_PARALLEL_SHARD = 200_000
"""Records below which a shard is not worth a worker of its own (a worker's start and its
first suite run cost a few seconds)."""


def shard_count(records: int, per_shard: int, workers: int) -> int | None:
    """How many shards a run of ``records`` records is cut into when ``workers``
    processes stage them: enough for at most ``per_shard`` (``MOTCUA_SHARD_RECORDS``)
    records each, rounded up to fill every round of workers (5 shards on 2 workers take
    3 rounds; 6 smaller ones take 3 shorter rounds). None: one worker, or one shard
    (:func:`plan_shards` then cuts by ``per_shard`` alone). A run of fewer than
    ``per_shard`` records is still cut for the workers into shards of at least
    :data:`MIN_PARALLEL_SHARD` records."""
    shards = max(1, -(-int(records) // per_shard))
    if workers <= 1:
        return None
    if shards < workers:  # fewer shards than workers: shared further, down to MIN_PARALLEL_SHARD
        shards = max(shards, min(workers, int(records) // MIN_PARALLEL_SHARD))
        return shards if shards > 1 else None
    return -(-shards // workers) * workers


def plan_shards(files: list[str], per_shard: int, count: int | None = None) -> list[dict]:
    """Group consecutive raw files into shards of about ``per_shard`` records
    (``MOTCUA_SHARD_RECORDS``), or into ``count`` shards of about equal size (a file
    goes to the shard its middle record falls in): the coarse unit of parallel work, a
    Prefect task each (on a Dask cluster a task costs ~250 ms, so a shard must take
    seconds). Record ids are fixed here (the running count of rows before each file), so
    shards can be staged in any order, in any process, and give the same ids."""
    sizes = [pq.ParquetFile(f).metadata.num_rows for f in files]
    total = sum(sizes)
    groups: list[list[list]] = []
    first = size = 0
    current = -1  # the shard (of ``count``) the last group is
    for index, (f, n) in enumerate(zip(files, sizes, strict=True)):
        if count and total:
            target = min(count - 1, int((first + n / 2) * count // total))
            new, current = target > current, max(target, current)
        else:
            new = not groups or size + n > per_shard
        if new:
            groups.append([])
            size = 0
        groups[-1].append([f, first, index])
        size += n
        first += n
    return [{"shard": i, "files": g, "records": sum(sizes[item[2]] for item in g)} for i, g in enumerate(groups)]


_IPC = pa.ipc.IpcWriteOptions(compression="lz4")


def _write_by_bucket(df: pd.DataFrame, buckets_of_rows: np.ndarray, path: Path, buckets: int) -> dict[int, list[int]]:
    """Write ``df`` to one Arrow IPC file (LZ4) with a record batch per non-empty bucket,
    in bucket order; returns {bucket: [batch index]}. (A record batch costs next to
    nothing to write or to find again; a Parquet row group per bucket, at hundreds of
    buckets a batch, cost more than the batch's own work.)"""
    table = pa.Table.from_pandas(df, preserve_index=False)
    order = np.argsort(buckets_of_rows, kind="stable")
    table = table.take(pa.array(order))
    sorted_b = buckets_of_rows[order]
    groups: dict[int, list[int]] = {}
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=_IPC) as w:
        bounds = np.searchsorted(sorted_b, np.arange(buckets + 1), side="left")
        for b in range(buckets):
            lo, hi = int(bounds[b]), int(bounds[b + 1])
            if hi > lo:
                groups[b] = [len(groups)]
                w.write_batch(_one_batch(table.slice(lo, hi - lo)))
    os.chmod(path, 0o600)
    return groups


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    """A (non-empty) table as one record batch (a table's chunks would be batches each)."""
    batches = table.combine_chunks().to_batches()
    assert len(batches) == 1, "one record batch a bucket"
    return batches[0]


def _read_groups(path: str, groups: list[int], columns: list[str] | None = None) -> pa.Table:
    """The given record batches of a staged file (Arrow IPC; Parquet row groups for the
    files of runs staged by earlier releases)."""
    if path.endswith(".parquet"):
        with pq.ParquetFile(path) as f:
            return f.read_row_groups(groups, columns=columns)
    with pa.memory_map(path) as source:
        reader = pa.ipc.open_file(source)
        table = pa.Table.from_batches([reader.get_batch(i) for i in groups], schema=reader.schema)
    return table.select(columns) if columns else table


def part_codes(path: str) -> list:
    """The distinct dossier codes of a staged records file."""
    if path.endswith(".parquet"):
        codes = pq.read_table(path, columns=["dossier_code"]).column("dossier_code")
    else:
        with pa.memory_map(path) as source:
            codes = pa.ipc.open_file(source).read_all().column("dossier_code")
    return pc.unique(codes.combine_chunks()).drop_null().to_pylist()


def stage_shard(run: Run, settings: Settings, extracted: dict, shard: dict, buckets: int,
                validate: bool = True) -> dict:
    """Stage one shard of raw files: parse, apply the rules and validate every record;
    write the records that load (and their history) to the run folder split into load
    buckets, and those quarantined with their reasons.

    The record suites (``raw_snapshot``, ``int_dossier_record``) run on the raw batches
    as they come, small consecutive batches taken together up to
    ``settings.batch_records`` records (a suite run has a fixed cost; memory stays
    bounded by one batch). Pure function of its inputs: it writes only files named by
    the shard, so shards may run in parallel, in other processes."""
    from expectations import gate

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = usage.ru_utime + usage.ru_stime
    dim_proc, agencies = _catalogue(extracted)
    agency_codes = set(agencies["MaDonVi"].dropna())
    overrides = None
    if settings.calendar_overrides:
        overrides = pd.read_csv(settings.calendar_overrides, dtype=str, keep_default_na=False)
    cal, per_agency = calendars_from_overrides(overrides)
    out_dir = _private_dir(run.run_dir / "records")
    parts: list[dict] = []
    q_parts: list[str] = []
    counts = {"loaded": 0, "quarantined": 0, "flagged": 0}
    pending: list[tuple[int, pa.Table, pd.DataFrame, pd.DataFrame]] = []
    tag = f"{shard['shard']:04d}"

    def write(i: int, raw: pa.Table, records: pd.DataFrame, history: pd.DataFrame) -> None:
        bad = records["quarantine_reason"].notna()
        q = records.loc[bad, ["record_id", "locator", "dossier_code", "quarantine_reason"]].copy()
        # the quarantined records' text, read again from the raw file (batches do not hold it)
        q["record"] = (pq.read_table(files[i], columns=["record"]).column("record").filter(pa.array(bad.to_numpy()))
                       .to_pandas().to_numpy()) if bad.any() else pa.chunked_array([], pa.string()).to_pandas().to_numpy()
        q["source"] = raw.column("source")[0].as_py() if raw.num_rows else extracted["source_name"]
        good = records[~bad].reset_index(drop=True)
        good_path = out_dir / f"records-{tag}-{i:05d}.arrow"
        hist_path = out_dir / f"history-{tag}-{i:05d}.arrow"
        q_path = out_dir / f"quarantine-{tag}-{i:05d}.parquet"
        b_good = bucket_of(good["dossier_code"], buckets)
        hist = history[history["record_id"].isin(good["record_id"])].reset_index(drop=True)
        b_of_record = pd.Series(b_good, index=good["record_id"].to_numpy())
        b_hist = b_of_record.reindex(hist["record_id"].to_numpy()).to_numpy().astype("int64") \
            if len(hist) else np.zeros(0, dtype="int64")
        parts.append({"records": str(good_path), "records_groups": _write_by_bucket(good, b_good, good_path, buckets),
                      "history": str(hist_path), "history_groups": _write_by_bucket(hist, b_hist, hist_path, buckets)})
        q.to_parquet(q_path, index=False)
        os.chmod(q_path, 0o600)
        q_parts.append(str(q_path))
        counts["loaded"] += len(good)
        counts["quarantined"] += int(bad.sum())

    def flush() -> None:
        if not pending:
            return
        if validate:
            # raw_snapshot on the raw records, then int_dossier_record on what the rules left
            raw_all = (pa.concat_tables([p[1] for p in pending], promote_options="default")
                       if len(pending) > 1 else pending[0][1])
            rec_all = pd.concat([p[2] for p in pending], ignore_index=True) if len(pending) > 1 else pending[0][2]
            checked, flagged, table_errors = gate.check_batch(
                raw_all, rec_all, run.started_at, results_dir=run.run_dir / gate.RESULTS_DIR)
            if table_errors:
                raise PipelineError(f"record suites could not run: {table_errors}")
            counts["flagged"] += flagged
            start = 0
            for n, (i, raw, records, history) in enumerate(pending):
                pending[n] = (i, raw, checked.iloc[start:start + len(records)].reset_index(drop=True), history)
                start += len(records)
        for i, raw, records, history in pending:
            write(i, raw, records, history)
        pending.clear()

    files = {i: f for f, _, i in shard["files"]}
    for f, first_id, i in shard["files"]:
        raw = pq.read_table(f)
        staged, history = stg_dossier_snapshot.build(raw, first_record_id=int(first_id))
        records = int_dossier_record.build(staged, history, dim_proc, agency_codes, cal, per_agency)
        del staged
        # the batch keeps each record's length, not its text (the suites read no more)
        raw = raw.drop_columns(["record"]).append_column("record_chars", pc.utf8_length(raw.column("record")))
        if pending and sum(len(p[2]) for p in pending) + len(records) > settings.batch_records:
            flush()
        pending.append((i, raw, records, history))
    flush()
    if buckets > 1:
        parts = _regroup(parts, buckets, out_dir, tag)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"shard": shard["shard"], "pid": os.getpid(),
            # this process's peak so far, and the CPU time the shard took
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime - cpu0, 2),
            "parts": parts, "quarantine_parts": q_parts,
            "records_read": shard["records"],
            "records_loaded": counts["loaded"], "records_quarantined": counts["quarantined"],
            "records_flagged": counts["flagged"]}


def _regroup(parts: list[dict], buckets: int, out_dir: Path, tag: str) -> list[dict]:
    """One records file and one history file for the shard, with one record batch per
    bucket (its batches' rows of that bucket put together), so the load opens a file a
    shard for each bucket, not a file a batch; the batch files are removed."""
    entry: dict = {}
    for kind in ("records", "history"):
        readers = [(p, pa.ipc.open_file(pa.memory_map(p[kind]))) for p in parts]
        schema = pa.unify_schemas([r.schema for _, r in readers], promote_options="permissive")
        schema = schema.with_metadata(readers[0][1].schema.metadata)
        path = out_dir / f"{kind}-{tag}.arrow"
        groups: dict[int, list[int]] = {}
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema, options=_IPC) as w:
            for b in range(buckets):
                tables = [pa.Table.from_batches([r.get_batch(i) for i in p[f"{kind}_groups"][b]], schema=r.schema)
                          for p, r in readers if p[f"{kind}_groups"].get(b)]
                if tables:
                    table = pa.concat_tables(tables, promote_options="permissive").cast(schema)
                    groups[b] = [len(groups)]
                    w.write_batch(_one_batch(table))
        os.chmod(path, 0o600)
        entry[kind], entry[f"{kind}_groups"] = str(path), groups
    for p in parts:
        for k in ("records", "history"):
            Path(p[k]).unlink(missing_ok=True)
    return [entry] if entry["records_groups"] else []


Mapper = Callable[[list[dict]], list[dict]]
"""Runs :func:`stage_shard` over a list of keyword-argument dicts and returns the results
in order (sequentially by default; the flow passes one that submits Prefect tasks)."""


def sequential(calls: list[dict]) -> list[dict]:
    return [stage_shard(**kw) for kw in calls]


def stage(run: Run, settings: Settings, extracted: dict, validate: bool = True,
          mapper: Mapper | None = None) -> dict:
    """Stage every raw record, shard by shard (see :func:`stage_shard`); check that every
    record read is loaded or quarantined. Without a ``mapper``, shards run on
    ``settings.workers`` processes (one per core by default; see :mod:`flows.processes`)
    when there are several, else in this process."""
    from flows.processes import default_workers, process_mapper

    workers = settings.workers or default_workers()
    shards = plan_shards(extracted["raw_files"], settings.shard_records,
                         shard_count(extracted["records_read"], settings.shard_records, 1 if mapper else workers))
    buckets = bucket_count(extracted["records_read"], settings.bucket_records)
    calls = [{"run": run, "settings": settings, "extracted": extracted, "shard": s, "buckets": buckets,
              "validate": validate} for s in shards]
    if mapper is None:
        mapper = process_mapper(workers) if workers > 1 and len(calls) > 1 else sequential
    results = mapper(calls)
    results = sorted(results, key=lambda r: r["shard"])
    loaded = sum(r["records_loaded"] for r in results)
    quarantined = sum(r["records_quarantined"] for r in results)
    warnings = sum(r["records_flagged"] for r in results)
    read = extracted["records_read"]
    if loaded + quarantined != read:
        raise PipelineError(f"record accounting broken: read {read}, loaded {loaded} + quarantined {quarantined}")
    parts = [p for r in results for p in r["parts"]]
    run.counts.update(records_loaded=loaded, records_quarantined=quarantined, records_flagged=warnings)
    return {"parts": parts, "buckets": buckets, "shards": len(shards), "shard_pids": sorted({r["pid"] for r in results}),
            "workers": len({r["pid"] for r in results}),
            "worker_peak_rss_mb": max((r.get("peak_rss_mb", 0.0) for r in results), default=0.0),
            "shards_cpu_s": round(sum(r.get("cpu_s", 0.0) for r in results), 2),
            "record_parts": [p["records"] for p in parts],
            "history_parts": [p["history"] for p in parts if p["history"]],
            "quarantine_parts": [q for r in results for q in r["quarantine_parts"]],
            "records_read": read, "records_loaded": loaded, "records_quarantined": quarantined,
            "records_flagged": warnings}


def read_bucket(parts: list[dict], kind: str, bucket: int, columns: list[str] | None = None) -> pd.DataFrame | None:
    """The rows of one load bucket (``kind`` = "records" or "history") across the parts."""
    tables = []
    for p in parts:
        groups = p[f"{kind}_groups"].get(bucket, p[f"{kind}_groups"].get(str(bucket)))
        if groups and p[kind]:
            tables.append(_read_groups(p[kind], groups, columns))
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="default").to_pandas()


# --------------------------------------------------------------------------- load core
def _existing_fct(conn: sa.Connection, codes: list[str]) -> pd.DataFrame:
    t = schema.fct_dossier
    parts = []
    for start in range(0, len(codes), 5000):
        q = sa.select(t.c.dossier_code, t.c.updated_at, t.c.record_hash).where(t.c.dossier_code.in_(codes[start:start + 5000]))
        parts.append(load.read_frame(conn, q))
    if not parts:
        return pd.DataFrame(columns=["dossier_code", "updated_at", "record_hash"])
    out = pd.concat(parts, ignore_index=True)
    out["updated_at"] = pd.to_datetime(out["updated_at"]).astype("datetime64[us]")
    return out


def _quarantine_rows(run: Run, q_parts: list[str]) -> pd.DataFrame:
    frames = [pd.read_parquet(p) for p in q_parts]
    q = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["record_id", "locator", "dossier_code", "quarantine_reason", "record", "source"])
    ids = [hashlib.sha256(f"{s}\x00{lc}\x00{r}".encode("utf-8", "surrogatepass")).hexdigest()
           for s, lc, r in zip(q["source"], q["locator"], q["record"], strict=True)]
    return pd.DataFrame({
        "quarantine_id": ids, "run_id": run.run_id, "source": q["source"], "locator": q["locator"],
        "dossier_code": q["dossier_code"], "reason": q["quarantine_reason"], "record": q["record"],
        "quarantined_at": pd.Timestamp(run.started_at).as_unit("us"), "resolved_run_id": None,
    }).drop_duplicates("quarantine_id")


def _insert_quarantine(conn: sa.Connection, quarantine: pd.DataFrame) -> None:
    """Add this run's quarantined records (a record already there keeps its row, so a
    resolved one stays resolved)."""
    t = schema.quarantine
    known = set()
    ids = quarantine["quarantine_id"].tolist()
    for start in range(0, len(ids), 5000):
        rows = conn.execute(sa.select(t.c.quarantine_id).where(t.c.quarantine_id.in_(ids[start:start + 5000])))
        known.update(r[0] for r in rows)
    load.insert(conn, t, quarantine[~quarantine["quarantine_id"].isin(known)])


def _open_quarantine(conn: sa.Connection, source: str) -> dict[tuple[str, str], list[str]]:
    """The open quarantine rows of ``source`` by (locator, hash of the record text)."""
    t = schema.quarantine
    rows = load.read_frame(conn, sa.select(t.c.quarantine_id, t.c.locator, t.c.record).where(
        t.c.source == source, t.c.resolved_run_id.is_(None)))
    out: dict[tuple[str, str], list[str]] = {}
    for qid, loc, rec in zip(rows["quarantine_id"], rows["locator"], rows["record"], strict=True):
        out.setdefault((str(loc), stg_dossier_snapshot.record_hash(str(rec))), []).append(qid)
    return out


def _resolve_quarantine(conn: sa.Connection, run: Run, fixed: list[str]) -> None:
    """Resolve the open rows whose record loaded in this run (the same text at the same
    place, now accepted)."""
    t = schema.quarantine
    for start in range(0, len(fixed), 5000):
        conn.execute(t.update().where(t.c.quarantine_id.in_(fixed[start:start + 5000])).values(
            resolved_run_id=run.run_id))


def check_quarantine_share(staged: dict, threshold: float) -> str | None:
    read = staged["records_read"]
    if read and staged["records_quarantined"] / read > threshold:
        return (f"{staged['records_quarantined']} of {read} records quarantined "
                f"({staged['records_quarantined'] / read:.1%}), above the threshold {threshold:.1%}")
    return None


def _fct_is_empty(conn: sa.Connection) -> bool:
    return not conn.execute(sa.select(schema.fct_dossier.c.dossier_code).limit(1)).all()


def _staged_parts(staged: dict) -> tuple[list[dict], int]:
    """The staged parts and bucket count (runs staged before buckets: one bucket)."""
    if "parts" in staged:
        return staged["parts"], int(staged.get("buckets", 1))
    parts = [{"records": r, "records_groups": {0: list(range(pq.ParquetFile(r).num_row_groups))},
              "history": h, "history_groups": {0: list(range(pq.ParquetFile(h).num_row_groups))}}
             for r, h in zip(staged["record_parts"], staged["history_parts"], strict=True)]
    return parts, 1


def load_core(run: Run, settings: Settings, extracted: dict, staged: dict,
              on_bucket: Callable[[int, int, int], None] | None = None) -> dict:
    """Load the quarantine, the dossier facts that changed and their events, then the
    dimensions and the watermark, committing one step per bucket.

    The records are merged bucket by bucket (a bucket holds every record of its dossiers,
    see :func:`bucket_of`): the newest record per dossier, against the warehouse's row,
    then the facts and events of the dossiers that changed, committed with the bucket.
    Memory is bounded by one bucket whatever the size of the run, on the Python side and
    in DuckDB, which keeps a transaction's inserted rows in memory until it commits (one
    transaction for the whole load grew with the run: see BENCHMARKS.md).

    A load that dies half-way leaves some buckets committed and the watermark where it
    was: the run row :func:`mark_marts_stale` wrote stays ``marts_stale``, so the next
    run re-reads the same records (already loaded facts compare unchanged; quarantine
    rows are keyed by their content) and rebuilds every period the dead run touched.
    BI tools read the marts, which change only at :func:`publish`.
    ``on_bucket(done, total, changed)`` reports progress."""
    key = pseudonym_key()
    engine = make_engine(settings.warehouse_url)
    create_schema(engine)
    dim_proc, agencies = _catalogue(extracted)
    parts, buckets = _staged_parts(staged)
    source = extracted["source_name"]
    quarantine = _quarantine_rows(run, staged["quarantine_parts"])
    share_problem = check_quarantine_share(staged, settings.quarantine_threshold)
    n_changed = 0
    try:
        with engine.connect() as conn:
            with locks.write_step(conn, "load core"):
                _insert_quarantine(conn, quarantine)
                open_q = _open_quarantine(conn, source)
                if share_problem:
                    _record_run(conn, run, "failed", share_problem)
                fct_empty = _fct_is_empty(conn)
            if share_problem:
                raise PipelineError(share_problem)
            seen_agencies: set[str] = set()
            fixed: list[str] = []
            mark: pd.Timestamp | None = None
            for b in range(buckets):
                with locks.write_step(conn, f"load core, bucket {b + 1} of {buckets}"):
                    records = read_bucket(parts, "records", b)
                    if records is None or records.empty:
                        continue
                    if open_q:
                        for k in zip(records["locator"].astype(str), records["record_hash"].astype(str), strict=True):
                            fixed += open_q.pop(k, [])
                    newest = records["updated_at"].max()
                    if pd.notna(newest) and (mark is None or newest > mark):
                        mark = newest
                    best = fct_dossier.newest_per_dossier(records)
                    candidates = fct_dossier.from_records(best, key, source, run.run_id)
                    candidates["_record_id"] = best["record_id"].to_numpy()
                    codes_in = candidates["dossier_code"].dropna().unique().tolist()
                    existing = None if fct_empty else _existing_fct(conn, codes_in)
                    changed = fct_dossier.build(candidates, existing)
                    del records, best, candidates
                    winners = changed[["_record_id", "dossier_code"]].rename(columns={"_record_id": "record_id"})
                    history = read_bucket(parts, "history", b)
                    if history is None:
                        history = pd.DataFrame(columns=stg_dossier_snapshot.HISTORY_COLUMNS)
                    events = fct_dossier_event.build(history, winners)
                    codes = changed["dossier_code"].tolist()
                    if existing is not None and not existing.empty:
                        load.delete_keys(conn, schema.fct_dossier, "dossier_code", codes)
                        load.delete_keys(conn, schema.fct_dossier_event, "dossier_code", codes)
                    load.insert(conn, schema.fct_dossier, changed.drop(columns="_record_id"))
                    load.insert(conn, schema.fct_dossier_event, events)
                    seen_agencies.update(changed["agency_code"].dropna())
                    n_changed += len(changed)
                if on_bucket:
                    on_bucket(b + 1, buckets, n_changed)
            with locks.write_step(conn, "load core, dimensions and watermark"):
                seen_agencies |= set(load.read_frame(
                    conn, sa.select(schema.fct_dossier.c.agency_code).distinct())["agency_code"].dropna())
                dim_ag = dim_agency.build(agencies, seen_agencies - {""})
                load.replace_all(conn, schema.dim_procedure, dim_proc)
                load.replace_all(conn, schema.dim_agency, dim_ag)
                load.replace_all(conn, schema.dim_field, dim_static.dim_field(dim_proc))
                load.replace_all(conn, schema.dim_channel, dim_static.CHANNELS)
                load.replace_all(conn, schema.dim_status, dim_static.STATUSES)
                _resolve_quarantine(conn, run, fixed)
                _advance_watermark(conn, run, extracted, mark)
            run.counts["dossiers_changed"] = n_changed
    finally:
        engine.dispose()
    return {"dossiers_changed": int(n_changed), "quarantine_rows": int(len(quarantine)), "buckets": buckets}


def _advance_watermark(conn: sa.Connection, run: Run, extracted: dict, newest: pd.Timestamp | None) -> None:
    mark = extracted.get("source_max_updated")
    if not mark and newest is not None and pd.notna(newest):
        mark = newest.strftime("%Y%m%d%H%M%S")
    if not mark:
        return
    ceiling = watermark.run_clock_stamp(run.started_at)
    mark, was_capped = watermark.capped(mark, ceiling)
    if was_capped:
        run.counts["watermark_capped"] = 1
        log.warning("source stamps run ahead of this run's clock (newest NgayCapNhat %s): watermark held at %s, "
                    "so the next run reads from here again", extracted.get("source_max_updated") or newest, mark)
    t = schema.source_state
    name = extracted["source_name"]
    old = conn.execute(sa.select(t.c.watermark).where(t.c.source == name)).scalar()
    if old and mark <= old <= ceiling:  # a stored mark past the clock (written before the cap) is healed
        return
    conn.execute(t.delete().where(t.c.source == name))
    conn.execute(t.insert().values(source=name, watermark=mark, updated_at=dt.datetime.now(), run_id=run.run_id))


def read_watermark(settings: Settings, source: str) -> str | None:
    """The source's watermark, never later than this machine's clock (see
    :mod:`transforms.watermark`)."""
    engine = make_engine(settings.warehouse_url)
    try:
        create_schema(engine)
        with engine.connect() as conn:
            t = schema.source_state
            mark = conn.execute(sa.select(t.c.watermark).where(t.c.source == source_name(source))).scalar()
            if mark is None and _legacy_name(source) not in (None, source_name(source)):
                # stored by a release that named the source by a digest of its password too
                mark = conn.execute(sa.select(t.c.watermark).where(t.c.source == _legacy_name(source))).scalar()
    finally:
        engine.dispose()
    if mark is None:
        return None
    held, was_capped = watermark.capped(mark, watermark.run_clock_stamp(dt.datetime.now()))
    if was_capped:
        log.warning("the stored watermark %s lies after this machine's clock: reading from %s instead", mark, held)
    return held


def _record_run(conn: sa.Connection, run: Run, status: str, message: str | None = None) -> None:
    t = schema.run
    conn.execute(t.delete().where(t.c.run_id == run.run_id))
    conn.execute(t.insert().values(
        run_id=run.run_id, flow="run", source=source_name(run.source), started_at=run.started_at,
        finished_at=dt.datetime.now(), status=status, records_read=run.counts.get("records_read"),
        records_loaded=run.counts.get("records_loaded"), records_quarantined=run.counts.get("records_quarantined"),
        dossiers_changed=run.counts.get("dossiers_changed"), message=message))


# --------------------------------------------------------------------------- marts
FCT_CHUNK = 125_000
"""Dossier facts read at a time when validating the core and building the marts."""
MART_FCT_COLUMNS = [
    "dossier_code", "agency_code", "procedure_code", "is_received", "intake_at", "ended_at", "due_date",
    "resolved_at", "withdrawn_at", "resolution_class", "channel_code", "rating", "paid_online", "digitised",
    "processing_working_days",
]
"""The fct_dossier columns the marts are computed from."""
_FCT_DATES = ("submitted_at", "intake_at", "ended_at", "due_date", "resolved_at", "withdrawn_at", "updated_at",
              "returned_at", "refused_at")


def _typed_fct(fct: pd.DataFrame) -> pd.DataFrame:
    for c in _FCT_DATES:
        if c in fct:
            fct[c] = pd.to_datetime(fct[c]).astype("datetime64[us]")
    if "resolved_at" in fct and "withdrawn_at" in fct:
        kind = np.where(fct["resolved_at"].notna(), "resolved",
                        np.where(fct["withdrawn_at"].notna(), "withdrawn", None))
        fct["end_kind"] = pd.Series(kind, index=fct.index, dtype="object")
    return fct


def iter_fct(conn: sa.Connection, columns: list[str] | None = None, where: sa.ColumnElement[bool] | None = None,
             chunk: int = FCT_CHUNK) -> Iterator[pd.DataFrame]:
    """core.fct_dossier in chunks of at most ``chunk`` rows, memory bounded by a chunk, in
    no promised order (every reader adds up or checks chunks independently). On DuckDB,
    whose facts carry no key index, one streamed query without a sort; elsewhere keyset
    pagination over the primary key."""
    t = schema.fct_dossier
    cols = [t.c[c] for c in (columns or [c.name for c in t.columns])]
    if conn.dialect.name == "duckdb":
        q = sa.select(*cols)
        if where is not None:
            q = q.where(where)
        for df in load.iter_frames_duckdb(conn, q, chunk):
            yield _typed_fct(df)
        return
    last = None
    while True:
        q = sa.select(*cols).order_by(t.c.dossier_code).limit(chunk)
        if where is not None:
            q = q.where(where)
        if last is not None:
            q = q.where(t.c.dossier_code > last)
        df = load.read_frame(conn, q)
        if df.empty:
            return
        last = df["dossier_code"].iloc[-1]
        yield _typed_fct(df)
        if len(df) < chunk:
            return


def read_core(conn: sa.Connection) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The whole dossier fact and the two dimensions (small warehouses, reports, tests)."""
    fct = _typed_fct(load.read_frame(conn, schema.fct_dossier))
    return fct, *read_dims(conn)


def read_dims(conn: sa.Connection) -> tuple[pd.DataFrame, pd.DataFrame]:
    dim_proc = load.read_frame(conn, schema.dim_procedure)
    dim_ag = load.read_frame(conn, schema.dim_agency)
    for d in (dim_proc, dim_ag):
        for c in ("valid_from", "valid_to"):
            d[c] = pd.to_datetime(d[c]).astype("datetime64[us]")
    return dim_proc, dim_ag


def _coverage(conn: sa.Connection) -> tuple[dt.date, dt.date] | None:
    """:func:`transforms.mart_dossier_resolution.coverage`, counted by the warehouse."""
    t = schema.fct_dossier
    row = conn.execute(sa.select(sa.func.min(t.c.intake_at), sa.func.max(t.c.intake_at), sa.func.max(t.c.ended_at))
                       .where(t.c.is_received.is_(True))).all()[0]
    if row[0] is None:
        return None
    first, last = pd.Timestamp(row[0]), pd.Timestamp(row[1])
    if row[2] is not None:
        last = max(last, pd.Timestamp(row[2]))
    return first.date(), last.date()


def _period_cover(intervals: list[Interval]) -> list[Interval]:
    """The dates of every mart period (calendar year and month) that intersects
    ``intervals``: whole years, since a year contains its months."""
    out: list[Interval] = []
    for a, b in intervals:
        out.append((None if a is None else dt.date(a.year, 1, 1), None if b is None else dt.date(b.year, 12, 31)))
    return merge_intervals(out)


DELTA_MAX_DOSSIERS = 200_000
"""A run that changes more dossiers than this recounts the marts instead of applying a delta."""


def _state_dir(settings: Settings) -> Path:
    """Where the marts' additive state (counts, processing-day histograms) of a warehouse
    is kept between runs: under the data folder, one folder per warehouse URL."""
    key = hashlib.sha256(settings.warehouse_url.encode()).hexdigest()[:12]
    return Path(settings.data_dir) / "state" / f"marts-{key}"


def _last_completed_run(conn: sa.Connection) -> str | None:
    t = schema.run
    rows = conn.execute(sa.select(t.c.run_id).where(t.c.status == "completed")
                        .order_by(t.c.finished_at.desc()).limit(1)).all()
    return rows[0][0] if rows else None


def _read_state(settings: Settings, conn: sa.Connection, plan: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict] | None:
    """The additive state saved by the last publish, if it is the state of the marts as
    published now (its run is the last completed one, same fingerprint) and no other run
    left the core changed without publishing; else None (recount)."""
    d = _state_dir(settings)
    try:
        meta = json.loads((d / "state.json").read_text(encoding="utf-8"))
        if plan.get("stale_runs") or meta.get("fingerprint") != plan.get("fingerprint"):
            return None
        if meta.get("run_id") != _last_completed_run(conn):
            return None
        counts = pd.read_parquet(d / "counts.parquet")
        days = pd.read_parquet(d / "days.parquet")
    except (OSError, ValueError, KeyError):
        return None
    return counts, days, meta


def _negate(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = df.copy()
    for c in columns:
        out[c] = -out[c]
    return out


def _nonzero(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    if df.empty:
        return df
    return df[(df[columns] != 0).any(axis=1)].reset_index(drop=True)


def _delta_counts(conn: sa.Connection, run: Run, state: tuple[pd.DataFrame, pd.DataFrame, dict],
                  span: tuple[dt.date, dt.date], grid: pd.DataFrame,
                  chunk: int) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The counts and processing-day histograms of every period, from the saved state:
    minus the run's dossiers as they were before the load (saved by
    :func:`mark_marts_stale`), plus the same dossiers as they are now; periods new since
    the state (the coverage grew) are counted afresh over the dossiers that reach them.
    None when a delta cannot be used (the coverage shrank, the facts before were not saved)."""
    counts0, days0, meta = state
    keys = mart_dossier_resolution.KEYS
    measures = list(period_counts.MEASURES)
    before_path = run.run_dir / "marts" / "before.parquet"
    if not before_path.exists():
        return None
    old_first, old_last = (dt.date.fromisoformat(x) for x in meta["span"])
    if span[0] < old_first:  # the grid grows backwards: every period's "carried over" may change
        return None
    if span[0] > old_first or span[1] < old_last:  # it shrank: periods would disappear
        return None
    before = _typed_fct(pd.read_parquet(before_path))
    t = schema.fct_dossier
    now = pd.concat(list(iter_fct(conn, MART_FCT_COLUMNS, where=t.c.run_id == run.run_id, chunk=chunk)) or
                    [_typed_fct(pd.DataFrame(columns=MART_FCT_COLUMNS))], ignore_index=True)
    before = before[before["dossier_code"].isin(now["dossier_code"])]
    new_grid = grid[grid["period_start"] > pd.Timestamp(old_last)]
    # periods of the old grid: state - before + now
    c_old = mart_dossier_resolution.counts_all_periods(before, keys, span=span)
    c_now = mart_dossier_resolution.counts_all_periods(now, keys, span=span)
    h_old = mart_indicator.processing_days_histogram(before, grid)
    h_now = mart_indicator.processing_days_histogram(now, grid)
    counts = mart_dossier_resolution.add_counts([counts0, _negate(c_old, measures), c_now], keys)
    days = mart_indicator.add_histograms([days0, _negate(h_old, ["n"]), h_now])
    in_old = pd.to_datetime(counts["period_start"]) <= pd.Timestamp(old_last)
    counts = counts[in_old]
    if days is not None:
        days = days[pd.to_datetime(days["period_start"]) <= pd.Timestamp(old_last)]
    # periods after the old coverage: every dossier open at or received after their start
    if not new_grid.empty:
        start = dt.datetime.combine(new_grid["period_start"].min().date(), dt.time())
        reach = sa.or_(t.c.ended_at.is_(None), t.c.ended_at >= start)
        fresh_c, fresh_h = [], []
        for fct in iter_fct(conn, MART_FCT_COLUMNS, where=reach, chunk=chunk):
            c = mart_dossier_resolution.counts_all_periods(fct, keys, span=span)
            fresh_c.append(c[pd.to_datetime(c["period_start"]) > pd.Timestamp(old_last)])
            fresh_h.append(mart_indicator.processing_days_histogram(fct, new_grid))
        counts = mart_dossier_resolution.add_counts([counts, *fresh_c], keys)
        days = mart_indicator.add_histograms([days, *fresh_h])
    counts = _nonzero(counts.reset_index(drop=True), measures)
    if days is not None:
        days = days[days["n"] != 0].reset_index(drop=True)
    return counts, days


def build_marts(run: Run, settings: Settings, validate: bool = True, plan: dict | None = None,
                chunk: int = FCT_CHUNK) -> dict:
    """Validate the core this run changed (dimensions; the dossier facts and events it
    wrote), compute the marts and validate them; a critical failure stops the run here,
    before anything is written, audited or published. Data docs of what was validated
    go to ``<run_dir>/data_docs``.

    The facts are read ``chunk`` rows at a time and the marts added up from the chunks
    (counts and processing-day histograms are additive), so memory does not grow with
    the warehouse. With a partial ``plan`` (see :func:`plan_rebuild`) only the periods to
    publish are built, and when the additive state kept by the last publish is still the
    published one, they come from it by a delta over this run's dossiers alone
    (:func:`_delta_counts`: a nightly run reads thousands of facts, not millions); else
    every fact is read again."""
    from expectations import gate

    outcomes: list = []
    partial = plan is not None and not plan.get("all")
    intervals = intervals_from_json(plan["intervals"]) if partial else [(None, None)]
    engine = make_engine(settings.warehouse_url)
    keys = mart_dossier_resolution.KEYS
    try:
        with engine.connect() as conn, duckdb_buffer_share(conn):
            dim_proc, dim_ag = read_dims(conn)
            if validate:
                core_outs: list = []
                f = schema.fct_dossier
                # the facts this run wrote, in any order (their grain: grain_problem below)
                for n, fct in enumerate(iter_fct(conn, where=f.c.run_id == run.run_id, chunk=chunk)):
                    core_outs.append(gate.check_facts(fct, dim_proc, dim_ag, run.started_at, dims=n == 0,
                                                      screen=n > 0))
                if not core_outs:
                    core_outs.append(gate.check_facts(_typed_fct(load.read_frame(
                        conn, sa.select(schema.fct_dossier).limit(0))), dim_proc, dim_ag, run.started_at))
                # their events; every event when the run wrote every fact (a first full run),
                # so that events of dossiers missing from the facts are found
                wrote_all = _count_fct(conn, f.c.run_id != run.run_id) == 0
                core_outs.append([gate.check_events(gate.event_frames(conn, None if wrote_all else run.run_id),
                                                    run.started_at)])
                outcomes += gate.merge_outcomes(core_outs)
            problem = gate.failures(outcomes) or (grain_problem(conn) if validate else None)
            span = _coverage(conn)
            count_parts: list[pd.DataFrame] = []
            hist_parts: list[pd.DataFrame] = []
            grid = None
            method = "recount"
            if problem is None and span is not None:
                grid = pd.concat([periods.grid(span[0], span[1], kind).assign(period_type=kind)
                                  for kind in ("year", "month")], ignore_index=True)
                state = _read_state(settings, conn, plan) if partial else None
                delta = _delta_counts(conn, run, state, span, grid, chunk) if state is not None else None
                if delta is not None:
                    method = "delta"
                    count_parts, hist_parts = [delta[0]], [delta[1]]
                else:  # every dossier, every period (the state for the next run's delta)
                    for fct in iter_fct(conn, MART_FCT_COLUMNS, chunk=chunk):
                        count_parts = [mart_dossier_resolution.add_counts(
                            [*count_parts, mart_dossier_resolution.counts_all_periods(fct, keys, span=span)], keys)]
                        hist_parts = [mart_indicator.add_histograms(
                            [*hist_parts, mart_indicator.processing_days_histogram(fct, grid)])]
                t = schema.fct_dossier
                names = load.read_frame(conn, sa.select(
                    t.c.procedure_code, t.c.procedure_name_recorded, sa.func.count().label("n")).group_by(
                    t.c.procedure_code, t.c.procedure_name_recorded))
            else:
                names = pd.DataFrame(columns=["procedure_code", "procedure_name_recorded", "n"])
    finally:
        engine.dispose()
    if problem is None:
        counts = mart_dossier_resolution.add_counts(count_parts, keys)
        hist = mart_indicator.add_histograms(hist_parts)
        resolution = mart_dossier_resolution.build(names, dim_proc, counts=counts)
        intake = mart_dossier_intake.build(names, dim_proc, counts=counts)
        indicators = mart_indicator.build(counts, None, dim_ag, dim_proc, days_histogram=hist)
        if partial:  # whole years (with their months), so the year-vs-months checks hold
            cover = _period_cover(intervals)
            resolution, intake, indicators = (df[_partition_mask(df, cover)].reset_index(drop=True)
                                              for df in (resolution, intake, indicators))
        if validate:
            outcomes += gate.check_marts(resolution, intake, indicators, run.started_at)
            problem = gate.failures(outcomes)
    docs = gate.build_docs(run.run_dir, outcomes, run.started_at) if validate else None
    if problem is not None:
        raise PipelineError(f"validation failed, nothing published: {problem} (data docs: {docs})")
    out_dir = _private_dir(run.run_dir / "marts")
    paths = {}
    for name, df in (("dossier_resolution", resolution), ("dossier_intake", intake), ("indicator", indicators)):
        p = out_dir / f"{name}.parquet"
        _frame_private(df, p)
        paths[name] = str(p)
    state_paths = None
    if span is not None:  # the additive state of every period, kept for the next run's delta
        _frame_private(counts, out_dir / "state-counts.parquet")
        _frame_private(hist if hist is not None else mart_indicator.processing_days_histogram(None, grid),
                       out_dir / "state-days.parquet")
        state_paths = {"counts": str(out_dir / "state-counts.parquet"), "days": str(out_dir / "state-days.parquet"),
                       "span": [span[0].isoformat(), span[1].isoformat()]}
    return {"marts": paths, "rows": {k: int(len(v)) for k, v in
                                      (("dossier_resolution", resolution), ("dossier_intake", intake), ("indicator", indicators))},
            "data_docs": str(docs) if docs else None, "validation": gate.summaries(outcomes),
            "partial": partial, "method": method, "state": state_paths}


def _save_state(settings: Settings, run: Run, built: dict, fingerprint: str) -> None:
    """After a publish committed: keep the marts' additive state for the next run (swapped
    in whole; a run that dies before this leaves a state the next run will not trust)."""
    st = built.get("state")
    d = _state_dir(settings)
    if st is None:
        shutil.rmtree(d, ignore_errors=True)
        return
    tmp = d.with_name(d.name + f".{run.run_id}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    _private_dir(tmp)
    shutil.copyfile(st["counts"], tmp / "counts.parquet")
    shutil.copyfile(st["days"], tmp / "days.parquet")
    (tmp / "state.json").write_text(json.dumps({"run_id": run.run_id, "span": st["span"],
                                                "fingerprint": fingerprint}), encoding="utf-8")
    old = d.with_name(d.name + f".{run.run_id}.old")
    if d.exists():
        d.rename(old)
    tmp.rename(d)
    shutil.rmtree(old, ignore_errors=True)


MART_TABLES_BY_NAME: dict[str, sa.Table] = {
    "dossier_resolution": schema.dossier_resolution,
    "dossier_intake": schema.dossier_intake,
    "indicator": schema.indicator,
}
"""The marts ``build_marts`` writes, by the name it gives their Parquet files."""


def publish(run: Run, settings: Settings, built: dict, plan: dict | None = None) -> dict:
    """Replace whole partitions of the marts in one transaction, and record the run.

    A partition is every row of one period and one agency. For each period the plan
    rebuilds (see :func:`plan_rebuild`), all its rows (every agency) are deleted and the
    freshly built rows inserted; periods outside the plan are not touched. Without a plan,
    or with ``plan["all"]``, every partition is replaced. In the same transaction the run
    is recorded ``completed`` (with the marts' input fingerprint) and the earlier runs whose
    marts it covered are marked ``healed``. A rerun gives identical marts; a run killed
    here leaves the previous marts as they were.
    """
    frames = {name: pd.read_parquet(path) for name, path in built["marts"].items()}
    unknown = set(frames) - set(MART_TABLES_BY_NAME)
    if unknown:
        raise PipelineError(f"publish: no mart table for {sorted(unknown)}")
    full = plan is None or bool(plan.get("all"))
    intervals: list[Interval] = [(None, None)] if full else intervals_from_json(plan["intervals"])
    written: dict[str, int] = {}
    periods: set[tuple[str, str]] = set()
    engine = make_engine(settings.warehouse_url)
    try:
        with locks.write_transaction(engine, "publish") as conn:
            fingerprint = plan["fingerprint"] if plan and plan.get("fingerprint") else marts_fingerprint(conn)
            for name, df in frames.items():
                table = MART_TABLES_BY_NAME[name]
                conn.execute(table.delete().where(_partition_clause(table, intervals)))
                rows = df[_partition_mask(df, intervals)]
                written[name] = load.insert(conn, table, rows)
                periods.update(zip(rows["period_type"].astype(str),
                                   pd.to_datetime(rows["period_start"]).dt.strftime("%Y-%m-%d"), strict=True))
            pause_for_test("publish")
            healed = _complete_run(conn, run, plan, {
                "marts_fingerprint": fingerprint, "full_rebuild": full, "periods_rebuilt": len(periods),
                "intervals": intervals_to_json(intervals), "rows_written": written})
    finally:
        engine.dispose()
    _save_state(settings, run, built, fingerprint)
    return {"published": list(frames), "full_rebuild": full, "periods_rebuilt": len(periods),
            "rows_written": written, "intervals": intervals_to_json(intervals), "healed_runs": healed}


# --------------------------------------------------------------------------- partitions & staleness
# Marts are partitioned by period x agency. A run rebuilds every period that intersects
# a date interval touched by a dossier it changed: from the dossier's intake to its end
# (open dossiers: to the last period), before the load (kept in the run's audit row,
# "marts stale since run X") and after it (core.fct_dossier rows carrying the run's id).

Interval = tuple[dt.date | None, dt.date | None]
"""A closed interval of local dates; None = unbounded on that side."""

MARTS_STALE = "marts_stale"
"""audit.run status: the run may have changed the core and its marts are not published yet."""
MARTS_HEALED = "healed"
"""audit.run status: a stale run whose periods a later run rebuilt and published."""
_MAX_INTERVALS = 200


def merge_intervals(intervals: list[Interval]) -> list[Interval]:
    """Merge overlapping or adjacent intervals (sorted by start). Past
    ``_MAX_INTERVALS`` the result collapses to one covering interval (rebuilding more
    periods than needed is always safe)."""
    lo, hi = dt.date.min, dt.date.max
    norm = sorted((a or lo, b or hi) for a, b in intervals)
    out: list[tuple[dt.date, dt.date]] = []
    for a, b in norm:
        if out and (out[-1][1] == hi or a <= out[-1][1] + dt.timedelta(days=1)):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    if len(out) > _MAX_INTERVALS:
        out = [(out[0][0], max(b for _, b in out))]
    return [(None if a == lo else a, None if b == hi else b) for a, b in out]


def intervals_to_json(intervals: list[Interval]) -> list[list[str | None]]:
    return [[a.isoformat() if a else None, b.isoformat() if b else None] for a, b in intervals]


def intervals_from_json(items: list[list[str | None]]) -> list[Interval]:
    return [(dt.date.fromisoformat(a) if a else None, dt.date.fromisoformat(b) if b else None) for a, b in items]


def dossier_spans(fct: pd.DataFrame) -> list[Interval]:
    """The merged [intake, end] date spans of the received dossiers in ``fct`` (columns
    ``is_received, intake_at, ended_at``); an open dossier's span has no end."""
    if fct.empty:
        return []
    f = fct[fct["is_received"].astype("boolean").fillna(False).astype(bool) & fct["intake_at"].notna()]
    if f.empty:
        return []
    starts = pd.to_datetime(f["intake_at"]).dt.date
    ends = pd.to_datetime(f["ended_at"])
    pairs = {(a, (None if pd.isna(b) else b.date())) for a, b in zip(starts, ends, strict=True)}
    return merge_intervals(list(pairs))


def _partition_clause(table: sa.Table, intervals: list[Interval]) -> sa.ColumnElement[bool]:
    """Rows of the periods that intersect any of ``intervals``."""
    parts = []
    for a, b in intervals:
        conds = []
        if a is not None:
            conds.append(table.c.period_end >= a)
        if b is not None:
            conds.append(table.c.period_start <= b)
        if not conds:
            return sa.true()
        parts.append(sa.and_(*conds))
    return sa.or_(*parts) if parts else sa.false()


def _partition_mask(df: pd.DataFrame, intervals: list[Interval]) -> pd.Series:
    """The pandas twin of :func:`_partition_clause`."""
    mask = pd.Series(False, index=df.index)
    if df.empty:
        return mask
    start = pd.to_datetime(df["period_start"])
    end = pd.to_datetime(df["period_end"])
    for a, b in intervals:
        m = pd.Series(True, index=df.index)
        if a is not None:
            m &= end >= pd.Timestamp(a)
        if b is not None:
            m &= start <= pd.Timestamp(b)
        mask |= m
    return mask


def grain_problem(conn: sa.Connection) -> str | None:
    """The facts' grain over the whole tables (the suites see one chunk at a time, and on
    DuckDB no key enforces it): one row per dossier in core.fct_dossier, one per
    (dossier, seq) in core.fct_dossier_event. One aggregate each; None when it holds."""
    problems = []
    for table, keys in ((schema.fct_dossier, ["dossier_code"]), (schema.fct_dossier_event, ["dossier_code", "seq"])):
        cols = [table.c[k] for k in keys]
        dup = sa.select(*cols).group_by(*cols).having(sa.func.count() > 1).subquery()
        n = int(conn.execute(sa.select(sa.func.count()).select_from(dup)).scalar_one())
        if n:
            some = conn.execute(sa.select(*dup.c).limit(3)).all()
            problems.append(f"{table.fullname}: {n} keys ({', '.join(keys)}) on more than one row, e.g. "
                            + "; ".join(", ".join(str(v) for v in r) for r in some))
    return " | ".join(problems) or None


def _count_fct(conn: sa.Connection, where: sa.ColumnElement[bool]) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(schema.fct_dossier).where(where)).all()[0][0])


def _span_pairs(conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[Interval]:
    """:func:`dossier_spans` of the fct rows matching ``where``, with the distinct
    (intake date, end date) pairs counted by the warehouse: a few thousand pairs
    whatever the number of dossiers."""
    t = schema.fct_dossier
    a, b = sa.cast(t.c.intake_at, sa.Date).label("a"), sa.cast(t.c.ended_at, sa.Date).label("b")
    rows = conn.execute(sa.select(a, b).distinct().where(
        where, t.c.is_received.is_(True), t.c.intake_at.is_not(None))).all()
    return merge_intervals([(_as_date(x), None if y is None else _as_date(y)) for x, y in rows])


def _as_date(v: object) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v  # type: ignore[return-value]


def _fct_rows_for_codes(conn: sa.Connection, codes: list[str]) -> pd.DataFrame:
    """The mart columns (:data:`MART_FCT_COLUMNS`) of the facts of ``codes``."""
    t = schema.fct_dossier
    cols = [t.c[c] for c in MART_FCT_COLUMNS]
    parts = [load.read_frame(conn, sa.select(*cols).where(t.c.dossier_code.in_(codes[i:i + 5000])))
             for i in range(0, len(codes), 5000)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=MART_FCT_COLUMNS)


def marts_fingerprint(conn: sa.Connection) -> str:
    """A digest of what the marts are computed from besides the dossier facts: the
    catalogue and agency dimensions (names, roll-ups, catalogue indicators cover every
    period) and the transforms' code. When it differs from the last published run's,
    every partition is rebuilt. A new input of the marts must be added here."""
    h = hashlib.sha256()
    for t in (schema.dim_procedure, schema.dim_agency):
        df = load.read_frame(conn, t)
        keys = [c.name for c in t.primary_key.columns]
        h.update(t.fullname.encode())
        h.update(df.sort_values(keys, kind="mergesort").to_csv(index=False).encode("utf-8", "surrogatepass"))
    for path in sorted(Path(mart_dossier_resolution.__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


def _run_message(value: str | None) -> dict:
    if not value:
        return {}
    try:
        out = json.loads(value)
    except ValueError:
        return {"text": value}
    return out if isinstance(out, dict) else {"text": value}


def _write_run_row(conn: sa.Connection, run: Run, *, flow: str, source: str, status: str,
                   message: dict, counts: dict) -> None:
    t = schema.run
    conn.execute(t.delete().where(t.c.run_id == run.run_id))
    conn.execute(t.insert().values(
        run_id=run.run_id, flow=flow, source=source, started_at=run.started_at, finished_at=None, status=status,
        records_read=counts.get("records_read"), records_loaded=counts.get("records_loaded"),
        records_quarantined=counts.get("records_quarantined"), dossiers_changed=counts.get("dossiers_changed"),
        message=json.dumps(message, ensure_ascii=False)))


def mark_marts_stale(run: Run, settings: Settings, staged: dict, flow: str = "run",
                     source: str | None = None) -> dict:
    """Before the core changes, record in audit.run that this run's marts are not
    published yet (status ``marts_stale``), with the date spans its dossiers covered
    before the load. If the run dies between :func:`load_core` and :func:`publish`, the
    row stays and the next run rebuilds those periods as well as the new ones."""
    engine = make_engine(settings.warehouse_url)
    n_codes = 0
    try:
        create_schema(engine)
        with locks.write_transaction(engine, "mark marts stale") as conn:
            spans: list[Interval] = []
            fct_empty = _fct_is_empty(conn)
            before: list[pd.DataFrame] = []
            # one part at a time: memory stays flat (an empty warehouse has nothing to look up)
            for part in ([] if fct_empty else staged.get("record_parts", [])):
                codes = part_codes(part)
                n_codes += len(codes)
                if not fct_empty and codes:
                    rows = _fct_rows_for_codes(conn, [str(c) for c in codes])
                    spans = merge_intervals(spans + dossier_spans(rows))
                    if before is not None:
                        before.append(rows)
                        if sum(len(b) for b in before) > DELTA_MAX_DOSSIERS:
                            before = None  # too many for a delta: the marts will be recounted
            if before is not None:  # the facts as they were, for the marts' delta (see build_marts)
                old = (pd.concat(before, ignore_index=True).drop_duplicates("dossier_code") if before
                       else pd.DataFrame(columns=MART_FCT_COLUMNS))
                _frame_private(old, _private_dir(run.run_dir / "marts") / "before.parquet")
            _write_run_row(conn, run, flow=flow, source=source or source_name(run.source), status=MARTS_STALE,
                           message={"old_spans": intervals_to_json(spans),
                                    "locked_at": dt.datetime.now().isoformat(timespec="milliseconds")},
                           counts=staged)
    finally:
        engine.dispose()
    return {"stale_since": run.run_id, "old_spans": len(spans), "codes_checked": n_codes}


def plan_rebuild(run: Run, settings: Settings, ranges: list[tuple[dt.date, dt.date]] | None = None,
                 rebuild_all: bool = False) -> dict:
    """Which partitions :func:`publish` replaces (after :func:`load_core`).

    Every period intersecting: the spans, before and after the load, of the dossiers
    changed by this run and by every earlier run left ``marts_stale`` (killed or failed
    between loading the core and publishing); and the given date ``ranges`` (a
    backfill's [from, to]). Every period, when ``rebuild_all``, when the marts are empty,
    or when :func:`marts_fingerprint` differs from the last published run's. JSON-able.
    """
    t = schema.run
    engine = make_engine(settings.warehouse_url)
    try:
        with engine.connect() as conn:
            stale = conn.execute(sa.select(t.c.run_id, t.c.message).where(t.c.status == MARTS_STALE)).all()
            ids = sorted({r.run_id for r in stale} | {run.run_id})
            changed = _count_fct(conn, schema.fct_dossier.c.run_id == run.run_id)
            intervals: list[Interval] = _span_pairs(conn, schema.fct_dossier.c.run_id.in_(ids))
            for r in stale:
                # this run's old spans only matter for the dossiers it changed (if none, none);
                # an earlier stale run's always do (its changes may since carry a later id)
                if r.run_id != run.run_id or changed:
                    intervals += intervals_from_json(_run_message(r.message).get("old_spans", []))
            intervals += [(a, b) for a, b in (ranges or [])]
            fingerprint = marts_fingerprint(conn)
            last = conn.execute(sa.select(t.c.run_id, t.c.message).where(t.c.status == "completed")
                                .order_by(t.c.finished_at.desc()).limit(1)).all()
            published = _run_message(last[0].message).get("marts_fingerprint") if last else None
            empty = conn.execute(sa.select(sa.func.count()).select_from(schema.dossier_resolution)).all()[0][0] == 0
    finally:
        engine.dispose()
    reason = ("asked" if rebuild_all else "no published marts" if empty or not published
              else "catalogue, agencies or transforms changed" if published != fingerprint else None)
    merged = [(None, None)] if reason else merge_intervals(intervals)
    return {"all": reason is not None, "reason": reason or "periods touched", "intervals": intervals_to_json(merged),
            "fingerprint": fingerprint, "stale_runs": [i for i in ids if i != run.run_id],
            "dossiers_changed": changed}


def _complete_run(conn: sa.Connection, run: Run, plan: dict | None, message: dict) -> list[str]:
    """Mark the run completed and the stale runs it covered healed; returns those."""
    t = schema.run
    now = dt.datetime.now()
    found = conn.execute(sa.select(t.c.message).where(t.c.run_id == run.run_id)).all()
    row = found[0] if found else None
    if row is None:
        _write_run_row(conn, run, flow="run", source=source_name(run.source), status="completed", message=message,
                       counts=run.counts)
        conn.execute(t.update().where(t.c.run_id == run.run_id).values(finished_at=now))
    else:
        changed = plan.get("dossiers_changed") if plan else run.counts.get("dossiers_changed")
        conn.execute(t.update().where(t.c.run_id == run.run_id).values(
            status="completed", finished_at=now, dossiers_changed=changed,
            message=json.dumps({**_run_message(row.message), **message}, ensure_ascii=False)))
    q = sa.select(t.c.run_id, t.c.message).where(t.c.status == MARTS_STALE, t.c.run_id != run.run_id)
    if plan is not None and not plan.get("all"):
        q = q.where(t.c.run_id.in_(plan.get("stale_runs") or [""]))
    healed = conn.execute(q).all()
    for r in healed:
        conn.execute(t.update().where(t.c.run_id == r.run_id).values(
            status=MARTS_HEALED,
            message=json.dumps({**_run_message(r.message), "healed_by": run.run_id}, ensure_ascii=False)))
    return [r.run_id for r in healed]


def note_failure(run: Run, settings: Settings, error: BaseException | str, flow: str = "run",
                 source: str | None = None) -> None:
    """Best effort: record why a run failed in audit.run. A run left ``marts_stale``
    keeps that status (its periods are still to rebuild); a run with no row gets a
    ``failed`` one; a row another stage already wrote (e.g. ``failed`` by load_core) stays."""
    t = schema.run
    text = scrub(error)[:2000] or type(error).__name__
    engine = make_engine(settings.warehouse_url)
    try:
        with locks.write_transaction(engine, "record the failure", check=False) as conn:
            found = conn.execute(sa.select(t.c.status, t.c.message).where(t.c.run_id == run.run_id)).all()
            row = found[0] if found else None
            if row is None:
                _write_run_row(conn, run, flow=flow, source=source or source_name(run.source), status="failed",
                               message={"error": text}, counts=run.counts)
                conn.execute(t.update().where(t.c.run_id == run.run_id).values(finished_at=dt.datetime.now()))
            elif row.status == MARTS_STALE:
                conn.execute(t.update().where(t.c.run_id == run.run_id).values(
                    message=json.dumps({**_run_message(row.message), "error": text}, ensure_ascii=False)))
    except Exception as exc:  # noqa: BLE001 - recording the failure must not hide it
        log.warning("could not record the failure of run %s in audit.run: %s", run.run_id, exc)
    finally:
        engine.dispose()


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
    _frame_private(procedures.astype("string"), cat_dir / "procedures.parquet")
    _frame_private(agencies.astype("string"), cat_dir / "agencies.parquet")
    run.counts["records_read"] = records
    return {"raw_files": files, "records_read": records, "source_name": name,
            "procedures": str(cat_dir / "procedures.parquet"), "agencies": str(cat_dir / "agencies.parquet"),
            "source_max_updated": None, "replayed_partitions": partitions}


HEADLINE_INDICATORS = ("on_time_rate", "early_rate", "online_intake_rate", "overdue_open", "satisfaction_rate",
                       "processing_days_median")


def headline_indicators(settings: Settings, year: int | None = None, limit: int = 12) -> dict:
    """The headline indicators of the latest calendar year in the marts (or ``year``),
    for the top-level agencies: aggregates only, no personal data."""
    t = schema.indicator
    engine = make_engine(settings.warehouse_url)
    try:
        with engine.connect() as conn:
            rows = load.read_frame(conn, sa.select(t).where(
                t.c.period_type == "year", t.c.indicator_code.in_(HEADLINE_INDICATORS)))
            ag = load.read_frame(conn, sa.select(schema.dim_agency.c.agency_code, schema.dim_agency.c.parent_code))
    finally:
        engine.dispose()
    starts = pd.to_datetime(rows["period_start"])
    if year is None and rows.empty:
        return {"year": None, "rows": []}
    start = pd.Timestamp(year, 1, 1) if year is not None else starts.max()
    rows = rows[starts == start]
    children = set(ag.loc[ag["parent_code"].fillna("").astype(str) != "", "agency_code"])
    top = rows[~rows["agency_code"].isin(children)] if len(children) else rows
    codes = sorted(top["agency_code"].dropna().unique())[:limit]
    top = top[top["agency_code"].isin(codes)].sort_values(["agency_code", "indicator_code"])
    out = [{"agency_code": r.agency_code, "indicator_code": r.indicator_code,
            "numerator": None if pd.isna(r.numerator) else float(r.numerator),
            "denominator": None if pd.isna(r.denominator) else float(r.denominator),
            "value": None if pd.isna(r.value) else float(r.value)} for r in top.itertuples()]
    return {"year": start.year, "rows": out}


def pause_for_test(stage_name: str) -> None:
    """Test hook, inert in production: when ``MOTCUA_TEST_PAUSE_AT`` names this stage,
    write the stage's name to ``MOTCUA_TEST_PAUSE_FILE`` (if set) and sleep
    ``MOTCUA_TEST_PAUSE_SECONDS`` (default 600) so that a test can kill the run there."""
    if os.environ.get("MOTCUA_TEST_PAUSE_AT") != stage_name:
        return
    marker = os.environ.get("MOTCUA_TEST_PAUSE_FILE")
    if marker:
        Path(marker).write_text(stage_name, encoding="utf-8")
    time.sleep(float(os.environ.get("MOTCUA_TEST_PAUSE_SECONDS", "600")))
