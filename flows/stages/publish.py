"""Publish: the marts' partitions (period x agency) this run touched replaced in one
transaction (:mod:`warehouse.marts`), the run recorded ``completed``; and the
bookkeeping of stale marts (:mod:`warehouse.audit`) that decides which partitions a run
rebuilds (:func:`transforms.partitions.rebuild_intervals`)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from flows.stages.marts import DELTA_MAX_DOSSIERS, save_state
from flows.stages.runs import Run, frame_private, pause_for_test, source_name
from flows.stages.stage import part_codes
from motcua.settings import Settings
from transforms.partitions import (
    Interval,
    dossier_spans,
    intervals_from_json,
    intervals_to_json,
    merge_intervals,
    partition_mask,
    rebuild_intervals,
    rebuild_reason,
)
from warehouse import audit
from warehouse.engine import Connection, connected
from warehouse.engine import private_dir as _private_dir
from warehouse.errors import PipelineError
from warehouse.locks import writing
from warehouse.marts import MART_TABLES_BY_NAME, replace_partitions
from warehouse.reads import (
    MART_FCT_COLUMNS,
    count_fct_of_run,
    fct_is_empty,
    fct_rows_for_codes,
    marts_empty,
    marts_fingerprint,
    span_pairs_of_runs,
)


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
    with writing(settings.warehouse_url, "publish") as conn:
        fingerprint = plan["fingerprint"] if plan and plan.get("fingerprint") else marts_fingerprint(conn)
        for name, df in frames.items():
            rows = df[partition_mask(df, intervals)]
            written[name] = replace_partitions(conn, name, rows, intervals)
            periods.update(zip(rows["period_type"].astype(str),
                               pd.to_datetime(rows["period_start"]).dt.strftime("%Y-%m-%d"), strict=True))
        pause_for_test("publish")
        healed = _complete_run(conn, run, plan, {
            "marts_fingerprint": fingerprint, "full_rebuild": full, "periods_rebuilt": len(periods),
            "intervals": intervals_to_json(intervals), "rows_written": written})
    save_state(settings, run, built, fingerprint)
    return {"published": list(frames), "full_rebuild": full, "periods_rebuilt": len(periods),
            "rows_written": written, "intervals": intervals_to_json(intervals), "healed_runs": healed}


def mark_marts_stale(run: Run, settings: Settings, staged: dict, flow: str = "run",
                     source: str | None = None, source_faults: list[dict] | None = None) -> dict:
    """Before the core changes, record in audit.run that this run's marts are not
    published yet (status ``marts_stale``), with the date spans its dossiers covered
    before the load. If the run dies between :func:`load_core` and :func:`publish`, the
    row stays and the next run rebuilds those periods as well as the new ones. The
    ``source_faults`` (what the source could not read) go in the message and stay there."""
    n_codes = 0
    with writing(settings.warehouse_url, "mark marts stale", migrate=True) as conn:
        spans: list[Interval] = []
        fct_empty = fct_is_empty(conn)
        before: list[pd.DataFrame] = []
        # one part at a time: memory stays flat (an empty warehouse has nothing to look up)
        for part in ([] if fct_empty else staged.get("record_parts", [])):
            codes = part_codes(part)
            n_codes += len(codes)
            if not fct_empty and codes:
                rows = fct_rows_for_codes(conn, [str(c) for c in codes])
                spans = merge_intervals(spans + dossier_spans(rows))
                if before is not None:
                    before.append(rows)
                    if sum(len(b) for b in before) > DELTA_MAX_DOSSIERS:
                        before = None  # too many for a delta: the marts will be recounted
        if before is not None:  # the facts as they were, for the marts' delta (see build_marts)
            old = (pd.concat(before, ignore_index=True).drop_duplicates("dossier_code") if before
                   else pd.DataFrame(columns=MART_FCT_COLUMNS))
            frame_private(old, _private_dir(run.run_dir / "marts") / "before.parquet")
        audit.write_run_row(conn, run, flow=flow, source=source or source_name(run.source), status=audit.MARTS_STALE,
                            message={"old_spans": intervals_to_json(spans),
                                     "locked_at": dt.datetime.now().isoformat(timespec="milliseconds"),
                                     **({"source_faults": source_faults} if source_faults else {})},
                            counts=staged)
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
    with connected(settings.warehouse_url) as conn:
        stale = audit.stale_runs(conn)
        ids = sorted({run_id for run_id, _ in stale} | {run.run_id})
        changed = count_fct_of_run(conn, run.run_id)
        touched = span_pairs_of_runs(conn, ids)
        # the old spans (before their load) each stale run recorded, this run's included
        stale_spans = [(run_id, intervals_from_json(audit.run_message(message).get("old_spans", [])))
                       for run_id, message in stale]
        fingerprint = marts_fingerprint(conn)
        published = audit.run_message(audit.last_completed_message(conn)).get("marts_fingerprint")
        empty = marts_empty(conn)
    intervals = rebuild_intervals(run.run_id, changed, touched, stale_spans, ranges)
    reason = rebuild_reason(rebuild_all=rebuild_all, marts_empty=empty, published=published, fingerprint=fingerprint)
    merged = [(None, None)] if reason else intervals
    return {"all": reason is not None, "reason": reason or "periods touched", "intervals": intervals_to_json(merged),
            "fingerprint": fingerprint, "stale_runs": [i for i in ids if i != run.run_id],
            "dossiers_changed": changed}


def _complete_run(conn: Connection, run: Run, plan: dict | None, message: dict) -> list[str]:
    """Mark the run completed and the stale runs it covered healed (the plan's, or every
    one for a full rebuild); returns those."""
    return audit.complete_run(
        conn, run, source=source_name(run.source), message=message,
        dossiers_changed=plan.get("dossiers_changed") if plan else run.counts.get("dossiers_changed"),
        covered=(plan.get("stale_runs") or []) if plan is not None and not plan.get("all") else None)
