"""Publish: the marts' partitions (period x agency) this run touched replaced in one
transaction, the run recorded ``completed``; and the bookkeeping of stale marts that
decides which partitions a run rebuilds."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import sqlalchemy as sa

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
)
from warehouse import load, locks, schema
from warehouse.audit import MARTS_HEALED, MARTS_STALE, run_message, write_run_row
from warehouse.engine import create_schema, make_engine
from warehouse.engine import private_dir as _private_dir
from warehouse.errors import PipelineError
from warehouse.marts import MART_TABLES_BY_NAME, partition_clause
from warehouse.reads import (
    MART_FCT_COLUMNS,
    count_fct,
    fct_is_empty,
    fct_rows_for_codes,
    marts_fingerprint,
    span_pairs,
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
    engine = make_engine(settings.warehouse_url)
    try:
        with locks.write_transaction(engine, "publish") as conn:
            fingerprint = plan["fingerprint"] if plan and plan.get("fingerprint") else marts_fingerprint(conn)
            for name, df in frames.items():
                table = MART_TABLES_BY_NAME[name]
                conn.execute(table.delete().where(partition_clause(table, intervals)))
                rows = df[partition_mask(df, intervals)]
                written[name] = load.insert(conn, table, rows)
                periods.update(zip(rows["period_type"].astype(str),
                                   pd.to_datetime(rows["period_start"]).dt.strftime("%Y-%m-%d"), strict=True))
            pause_for_test("publish")
            healed = _complete_run(conn, run, plan, {
                "marts_fingerprint": fingerprint, "full_rebuild": full, "periods_rebuilt": len(periods),
                "intervals": intervals_to_json(intervals), "rows_written": written})
    finally:
        engine.dispose()
    save_state(settings, run, built, fingerprint)
    return {"published": list(frames), "full_rebuild": full, "periods_rebuilt": len(periods),
            "rows_written": written, "intervals": intervals_to_json(intervals), "healed_runs": healed}



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
            write_run_row(conn, run, flow=flow, source=source or source_name(run.source), status=MARTS_STALE,
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
            changed = count_fct(conn, schema.fct_dossier.c.run_id == run.run_id)
            intervals: list[Interval] = span_pairs(conn, schema.fct_dossier.c.run_id.in_(ids))
            for r in stale:
                # this run's old spans only matter for the dossiers it changed (if none, none);
                # an earlier stale run's always do (its changes may since carry a later id)
                if r.run_id != run.run_id or changed:
                    intervals += intervals_from_json(run_message(r.message).get("old_spans", []))
            intervals += [(a, b) for a, b in (ranges or [])]
            fingerprint = marts_fingerprint(conn)
            last = conn.execute(sa.select(t.c.run_id, t.c.message).where(t.c.status == "completed")
                                .order_by(t.c.finished_at.desc()).limit(1)).all()
            published = run_message(last[0].message).get("marts_fingerprint") if last else None
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
        write_run_row(conn, run, flow="run", source=source_name(run.source), status="completed", message=message,
                       counts=run.counts)
        conn.execute(t.update().where(t.c.run_id == run.run_id).values(finished_at=now))
    else:
        changed = plan.get("dossiers_changed") if plan else run.counts.get("dossiers_changed")
        conn.execute(t.update().where(t.c.run_id == run.run_id).values(
            status="completed", finished_at=now, dossiers_changed=changed,
            message=json.dumps({**run_message(row.message), **message}, ensure_ascii=False)))
    q = sa.select(t.c.run_id, t.c.message).where(t.c.status == MARTS_STALE, t.c.run_id != run.run_id)
    if plan is not None and not plan.get("all"):
        q = q.where(t.c.run_id.in_(plan.get("stale_runs") or [""]))
    healed = conn.execute(q).all()
    for r in healed:
        conn.execute(t.update().where(t.c.run_id == r.run_id).values(
            status=MARTS_HEALED,
            message=json.dumps({**run_message(r.message), "healed_by": run.run_id}, ensure_ascii=False)))
    return [r.run_id for r in healed]
