"""Load the core: quarantine first, then ``core.fct_dossier`` and its events one committed
step a bucket, then the dimensions and the source's watermark."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import pyarrow.parquet as pq

from flows.stages.extract import read_catalogue
from flows.stages.runs import Run, legacy_name, log, source_name
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
from warehouse import audit
from warehouse.core import replace_dimensions, replace_dossiers
from warehouse.engine import Connection, connected
from warehouse.errors import PipelineError
from warehouse.locks import write_step
from warehouse.reads import existing_fct, fct_agency_codes, fct_is_empty


# --------------------------------------------------------------------------- load core
def _quarantine_rows(run: Run, q_parts: list[str]) -> pd.DataFrame:
    frames = [pd.read_parquet(p) for p in q_parts]
    q = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["record_id", "locator", "dossier_code", "quarantine_reason", "record", "source"])
    ids = [audit.quarantine_id(s, lc, r) for s, lc, r in zip(q["source"], q["locator"], q["record"], strict=True)]
    return pd.DataFrame({
        "quarantine_id": ids, "run_id": run.run_id, "source": q["source"], "locator": q["locator"],
        "dossier_code": q["dossier_code"], "reason": q["quarantine_reason"], "record": q["record"],
        "quarantined_at": pd.Timestamp(run.started_at).as_unit("us"), "resolved_run_id": None,
    }).drop_duplicates("quarantine_id")


def check_quarantine_share(staged: dict, threshold: float) -> str | None:
    read = staged["records_read"]
    if read and staged["records_quarantined"] / read > threshold:
        return (f"{staged['records_quarantined']} of {read} records quarantined "
                f"({staged['records_quarantined'] / read:.1%}), above the threshold {threshold:.1%}")
    return None


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
    with connected(settings.warehouse_url, migrate=True) as conn:
        dim_proc, agencies = read_catalogue(extracted)
        parts, buckets = _staged_parts(staged)
        source = extracted["source_name"]
        quarantine = _quarantine_rows(run, staged["quarantine_parts"])
        share_problem = check_quarantine_share(staged, settings.quarantine_threshold)
        n_changed = 0
        with write_step(conn, "load core"):
            if extracted.get("corrections"):  # a quarantine retry's corrected lines
                audit.correct_quarantine(conn, pd.read_parquet(extracted["corrections"]))
            audit.insert_quarantine(conn, quarantine)
            open_q = audit.open_quarantine(conn, source)
            if share_problem:
                audit.record_run(conn, run, source=source_name(run.source), status="failed", message=share_problem)
            fct_empty = fct_is_empty(conn)
        if share_problem:
            raise PipelineError(share_problem)
        seen_agencies: set[str] = set()
        fixed: list[str] = []
        mark: pd.Timestamp | None = None
        for b in range(buckets):
            with write_step(conn, f"load core, bucket {b + 1} of {buckets}"):
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
                existing = None if fct_empty else existing_fct(conn, codes_in)
                changed = fct_dossier.build(candidates, existing)
                del records, best, candidates
                winners = changed[["_record_id", "dossier_code"]].rename(columns={"_record_id": "record_id"})
                history = read_bucket(parts, "history", b)
                if history is None:
                    history = pd.DataFrame(columns=stg_dossier_snapshot.HISTORY_COLUMNS)
                events = fct_dossier_event.build(history, winners)
                replace_dossiers(conn, changed.drop(columns="_record_id"), events,
                                 delete_first=existing is not None and not existing.empty)
                seen_agencies.update(changed["agency_code"].dropna())
                n_changed += len(changed)
            if on_bucket:
                on_bucket(b + 1, buckets, n_changed)
        with write_step(conn, "load core, dimensions and watermark"):
            seen_agencies |= fct_agency_codes(conn)
            dim_ag = dim_agency.build(agencies, seen_agencies - {""})
            replace_dimensions(conn, procedures=dim_proc, agencies=dim_ag, fields=dim_static.dim_field(dim_proc),
                               channels=dim_static.CHANNELS, statuses=dim_static.STATUSES)
            audit.resolve_quarantine(conn, run.run_id, fixed)
            if extracted.get("advance_watermark", True):  # a quarantine retry reads no source
                _advance_watermark(conn, run, extracted, mark)
        run.counts["dossiers_changed"] = n_changed
    return {"dossiers_changed": int(n_changed), "quarantine_rows": int(len(quarantine)), "buckets": buckets}


def _advance_watermark(conn: Connection, run: Run, extracted: dict, newest: pd.Timestamp | None) -> None:
    """Move the source's watermark to the newest update the source reported (else the
    newest record loaded), held at this run's clock (:mod:`transforms.watermark`)."""
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
    audit.store_watermark(conn, extracted["source_name"], mark, ceiling=ceiling, run_id=run.run_id)


def read_watermark(settings: Settings, source: str) -> str | None:
    """The source's watermark, never later than this machine's clock (see
    :mod:`transforms.watermark`)."""
    with connected(settings.warehouse_url, migrate=True) as conn:
        mark = audit.watermark(conn, source_name(source))
        if mark is None and legacy_name(source) not in (None, source_name(source)):
            # stored by a release that named the source by a digest of its password too
            mark = audit.watermark(conn, legacy_name(source))
    if mark is None:
        return None
    held, was_capped = watermark.capped(mark, watermark.run_clock_stamp(dt.datetime.now()))
    if was_capped:
        log.warning("the stored watermark %s lies after this machine's clock: reading from %s instead", mark, held)
    return held
