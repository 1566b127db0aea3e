"""Load the core: quarantine first, then ``core.fct_dossier`` and its events one committed
step a bucket, then the dimensions and the source's watermark."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy as sa

from flows.stages.extract import read_catalogue
from flows.stages.runs import Run, legacy_name, log, record_run, source_name
from flows.stages.stage import read_bucket
from motcua.settings import Settings, pseudonym_key
from transforms import (
    dim_agency,
    dim_static,
    fct_dossier,
    fct_dossier_event,
    stg_dossier_snapshot,
    watermark,
)
from warehouse import load, locks, schema
from warehouse.engine import create_schema, make_engine
from warehouse.errors import PipelineError


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


def fct_is_empty(conn: sa.Connection) -> bool:
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
    dim_proc, agencies = read_catalogue(extracted)
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
                    record_run(conn, run, "failed", share_problem)
                fct_empty = fct_is_empty(conn)
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
            if mark is None and legacy_name(source) not in (None, source_name(source)):
                # stored by a release that named the source by a digest of its password too
                mark = conn.execute(sa.select(t.c.watermark).where(t.c.source == legacy_name(source))).scalar()
    finally:
        engine.dispose()
    if mark is None:
        return None
    held, was_capped = watermark.capped(mark, watermark.run_clock_stamp(dt.datetime.now()))
    if was_capped:
        log.warning("the stored watermark %s lies after this machine's clock: reading from %s instead", mark, held)
    return held
