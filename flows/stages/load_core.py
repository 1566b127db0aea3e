"""Load the core, written, audited, then published: the changed facts and events spooled
and checked by the core suites before anything is written; then the quarantine,
``core.fct_dossier`` and its events one committed step a bucket, the dimensions and the
source's watermark."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import pyarrow.parquet as pq

from flows.stages.extract import read_catalogue
from flows.stages.runs import Run, frame_private, legacy_name, log, source_name
from flows.stages.stage import read_bucket
from motcua.settings import Settings, pseudonym_key
from transforms import (
    dim_agency,
    dim_indicator,
    dim_static,
    fct_dossier,
    fct_dossier_event,
    stg_dossier_snapshot,
    watermark,
)
from warehouse import audit
from warehouse.core import replace_dimensions, replace_dossiers
from warehouse.engine import Connection, connected, private_dir
from warehouse.errors import QuarantineThresholdExceeded, ValidationFailed
from warehouse.locks import write_step
from warehouse.reads import empty_fct, existing_fct, fct_agency_codes, fct_is_empty, typed_fct


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
    """Write, audit, then load the core: the dossier facts that changed and their events
    are computed and spooled to the run folder, the core suites run on them, and only
    when every critical expectation holds is anything written: the quarantine, then the
    facts and events one committed step a bucket, then the dimensions and the watermark.
    A failing critical expectation raises :class:`PipelineError` with the core as it was.

    The records are merged bucket by bucket (a bucket holds every record of its dossiers,
    see :func:`bucket_of`): the newest record per dossier, against the warehouse's row,
    gives the facts and events of the dossiers that changed. Memory is bounded by one
    bucket whatever the size of the run, on the Python side and in DuckDB, which keeps a
    transaction's inserted rows in memory until it commits (one transaction for the
    whole load grew with the run: see BENCHMARKS.md).

    A load that dies half-way leaves some buckets committed and the watermark where it
    was: the run row :func:`mark_marts_stale` wrote stays ``marts_stale``, so the next
    run re-reads the same records (already loaded facts compare unchanged; quarantine
    rows are keyed by their content) and rebuilds every period the dead run touched.
    BI tools read the marts, which change only at :func:`publish`.
    ``on_bucket(done, total, changed)`` reports progress."""
    validate = bool(staged.get("validated", True))
    with connected(settings.warehouse_url, migrate=True) as conn:
        dim_proc, agencies = read_catalogue(extracted)
        source = extracted["source_name"]
        quarantine = _quarantine_rows(run, staged["quarantine_parts"])
        share_problem = check_quarantine_share(staged, settings.quarantine_threshold)
        if share_problem:
            conn.rollback()
            with write_step(conn, "load core"):
                audit.insert_quarantine(conn, quarantine)
                audit.record_run(conn, run, source=source_name(run.source), status="failed", message=share_problem)
            raise QuarantineThresholdExceeded(share_problem)
        corrections = pd.read_parquet(extracted["corrections"]) if extracted.get("corrections") else None
        open_q = _corrected(audit.open_quarantine(conn, source), corrections)
        spool = _spool_changes(run, conn, staged, source, open_q)
        if validate:
            dim_ag = dim_agency.build(agencies, (fct_agency_codes(conn) | spool["agencies"]) - {""})
            spool["validation"] = _audit_changes(run, conn, spool["buckets"], dim_proc, dim_ag)
        conn.rollback()  # end the reads' transaction: the writes below commit step by step
        n_changed = 0
        with write_step(conn, "load core"):
            if corrections is not None and not corrections.empty:  # a quarantine retry's corrected lines
                audit.correct_quarantine(conn, corrections)
            audit.insert_quarantine(conn, quarantine)
        total = len(spool["buckets"])
        for b, bucket in enumerate(spool["buckets"]):
            if bucket is not None:
                with write_step(conn, f"load core, bucket {b + 1} of {total}"):
                    facts = pd.read_parquet(bucket["facts"])
                    replace_dossiers(conn, facts, pd.read_parquet(bucket["events"]), delete_first=bucket["delete_first"])
                    n_changed += len(facts)
                    del facts
            if on_bucket:
                on_bucket(b + 1, total, n_changed)
        with write_step(conn, "load core, dimensions and watermark"):
            dim_ag = dim_agency.build(agencies, (fct_agency_codes(conn) | spool["agencies"]) - {""})
            replace_dimensions(conn, procedures=dim_proc, agencies=dim_ag, fields=dim_static.dim_field(dim_proc),
                               channels=dim_static.CHANNELS, statuses=dim_static.STATUSES,
                               indicators=dim_indicator.build())
            audit.resolve_quarantine(conn, run.run_id, spool["fixed"])
            if extracted.get("advance_watermark", True):  # a quarantine retry reads no source
                _advance_watermark(conn, run, extracted, spool["mark"])
        run.counts["dossiers_changed"] = n_changed
    return {"dossiers_changed": int(n_changed), "quarantine_rows": int(len(quarantine)), "buckets": total,
            "validation": spool.get("validation")}


def _corrected(open_q: dict[tuple[str, str], list[str]],
               corrections: pd.DataFrame | None) -> dict[tuple[str, str], list[str]]:
    """The open rows by (locator, hash of the record text) once a retry's corrections are
    applied: a corrected row is found by its corrected text, under its new id."""
    if corrections is None or corrections.empty:
        return open_q
    new = {str(q): (str(n), str(r)) for q, n, r in
           zip(corrections["quarantine_id"], corrections["new_id"], corrections["record"], strict=True)}
    out: dict[tuple[str, str], list[str]] = {}
    for (locator, digest), ids in open_q.items():
        for qid in ids:
            if qid in new:
                out.setdefault((locator, stg_dossier_snapshot.record_hash(new[qid][1])), []).append(new[qid][0])
            else:
                out.setdefault((locator, digest), []).append(qid)
    return out


def _spool_changes(run: Run, conn: Connection, staged: dict, source: str,
                   open_q: dict[tuple[str, str], list[str]]) -> dict:
    """Merge each bucket's records with the warehouse's rows (read only) and spool the
    facts and events of the dossiers that changed to ``<run_dir>/core`` (owner-only), a
    pair of Parquet files a bucket (None: nothing changed). Also: the open quarantine
    rows whose record is among them (``fixed``), the agencies they name and the newest
    update loaded (``mark``, for the watermark)."""
    key = pseudonym_key()
    parts, buckets = _staged_parts(staged)
    out_dir = run.run_dir / "core"
    fct_empty = fct_is_empty(conn)
    spooled: list[dict | None] = []
    fixed: list[str] = []
    seen: set[str] = set()
    mark: pd.Timestamp | None = None
    for b in range(buckets):
        records = read_bucket(parts, "records", b)
        if records is None or records.empty:
            spooled.append(None)
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
        if changed.empty:
            spooled.append(None)
            continue
        winners = changed[["_record_id", "dossier_code"]].rename(columns={"_record_id": "record_id"})
        history = read_bucket(parts, "history", b)
        if history is None:
            history = pd.DataFrame(columns=stg_dossier_snapshot.HISTORY_COLUMNS)
        events = fct_dossier_event.build(history, winners)
        paths = {"facts": out_dir / f"facts-{b:05d}.parquet", "events": out_dir / f"events-{b:05d}.parquet"}
        private_dir(out_dir)
        frame_private(changed.drop(columns="_record_id"), paths["facts"])
        frame_private(events, paths["events"])
        seen.update(changed["agency_code"].dropna())
        spooled.append({**{k: str(v) for k, v in paths.items()},
                        "delete_first": existing is not None and not existing.empty})
    return {"buckets": spooled, "fixed": fixed, "agencies": seen, "mark": mark}


def _audit_changes(run: Run, conn: Connection, buckets: list[dict | None], dim_proc: pd.DataFrame,
                   dim_ag: pd.DataFrame) -> dict:
    """The core suites on what the load is about to write: the dimensions, the spooled
    facts (bucket by bucket; GX sees the first bucket whole and the screened rows of the
    others) and their events (whose dossiers are among the facts by construction). Their
    results are kept for the run's data docs; a critical failure raises
    :class:`PipelineError` before anything is written."""
    from expectations import gate

    written = [b for b in buckets if b is not None]
    groups = [gate.check_facts(typed_fct(pd.read_parquet(b["facts"])), dim_proc, dim_ag, run.started_at,
                               dims=n == 0, screen=n > 0) for n, b in enumerate(written)]
    if not groups:
        groups = [gate.check_facts(empty_fct(conn), dim_proc, dim_ag, run.started_at)]
    frames = (pd.read_parquet(b["events"]).assign(in_fct=True) for b in written)
    groups.append([gate.check_events(frames, run.started_at)])
    outcomes = gate.merge_outcomes(groups)
    problem = gate.failures(outcomes)
    if problem is not None:
        docs = gate.build_docs(run.run_dir, outcomes, run.started_at)
        raise ValidationFailed(f"validation failed, the core is unchanged: {problem} (data docs: {docs})")
    for o in outcomes:
        gate.save_result(run.run_dir / gate.RESULTS_DIR, o)
    return gate.summaries(outcomes)


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
