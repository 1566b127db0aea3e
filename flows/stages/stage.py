"""Stage: the raw batches parsed, ruled and validated in shards (set-based, see
:mod:`transforms.stg_dossier_snapshot`), written by bucket of dossier code so that the
load reads one bucket at a time."""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flows.stages.extract import read_catalogue
from flows.stages.runs import Run
from motcua.settings import Settings
from transforms import (
    int_dossier_record,
    stg_dossier_snapshot,
)
from transforms.workdays import calendars_from_overrides
from warehouse.engine import private_dir as _private_dir
from warehouse.errors import PipelineError


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
    dim_proc, agencies = read_catalogue(extracted)
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
            "records_flagged": warnings, "validated": validate}


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
