"""The ``backfill`` flow: load a date range again, from the source or from the raw
zone, and rebuild the affected mart periods (deployment ``backfill/backfill``, run on
demand; see prefect.yaml)."""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger

from flows import outcome, pipeline, tasks
from flows.stages.runs import new_run, note_failure


@flow(name="backfill", log_prints=False,  # BACKFILL_TIMEOUT_SECONDS, 24 h: years of dossiers read again from
      # a slow source take hours; a backfill still running after a day is stuck, not working
      timeout_seconds=(BACKFILL_TIMEOUT_SECONDS := 24 * 3600))
def backfill(date_from: dt.date, date_to: dt.date, source: str | None = None, replay: bool = False,
             rebuild_all: bool = False, warehouse: str | None = None, data_dir: str | None = None,
             quarantine_threshold: float | None = None, allow_source_faults: bool | None = None,
             dry_run: bool = False) -> dict:
    """Re-read the dossier changes of [date_from, date_to] and rebuild the affected periods.

    Args:
        date_from: first day of the range (local date, included).
        date_to: last day of the range (local date, included).
        source: export bundle folder, http(s):// API base, database URL or spreadsheet;
            with ``replay``, also its raw-zone name (``bundle-…``). Default: MOTCUA_SOURCE.
            A URL without a password in clear (Prefect stores parameters): redacted (``user:***@``) or none; see
            :mod:`flows.pipeline`.
        replay: process again the raw-zone files extracted in the range
            (``raw/source=…/extracted=YYYY-MM-DD``) instead of reading the source; without
            it the source is read again for every change since ``date_from``.
        rebuild_all: rebuild every mart period, not only those the range and the changes touch.
        warehouse: SQLAlchemy URL of the warehouse (default: MOTCUA_WAREHOUSE_URL),
            without a password in clear (Prefect stores parameters): redacted (``user:***@``) or none; see
            :mod:`flows.pipeline`.
        data_dir: raw zone and run folders (default: MOTCUA_DATA_DIR or ./var).
        quarantine_threshold: fail when a larger share of records is quarantined.
        allow_source_faults: complete (not fail) when part of the source could not be read
            (default: MOTCUA_ALLOW_SOURCE_FAULTS, false; see flows.outcome).
        dry_run: return what the run would read and rebuild (flows.preview), writing nothing.
    """
    if date_to < date_from:
        raise ValueError(f"backfill: date_to {date_to} is before date_from {date_from}")
    logger = get_run_logger()
    settings = pipeline.settings_for(warehouse, data_dir, quarantine_threshold,
                                     allow_source_faults=allow_source_faults)
    spec = pipeline.resolve_source(source)
    if dry_run:
        from flows.preview import preview

        return {"dry_run": preview(settings, spec, flow="backfill", date_from=date_from, date_to=date_to,
                                   replay=replay, rebuild_all=rebuild_all)}
    run = new_run(settings, spec)
    logger.info("backfill run %s: %s to %s (%s)", run.run_id, date_from, date_to, "replay" if replay else "re-extract")
    try:
        if replay:
            pipeline.progress("replay raw zone", f"{date_from} → {date_to}")
            extracted = tasks.replay_raw(run, settings, spec, date_from, date_to)
            logger.info("replaying %s records from %s", extracted["records_read"], extracted["replayed_partitions"])
            staged = pipeline.stage(run, settings, extracted)
        else:
            extracted, staged = pipeline.ingest(run, settings, f"{date_from:%Y%m%d}000000")
    except BaseException as exc:
        note_failure(run, settings, exc, "backfill")
        raise
    result = pipeline.load_and_publish(run, settings, extracted, staged, flow_name="backfill",
                                       ranges=[(date_from, date_to)], rebuild_all=rebuild_all)
    summary = pipeline.run_summary(run, extracted, staged, result)
    failed = pipeline.publish_artifacts("backfill", [summary], result["headline"],
                                        note=f"Range {date_from} → {date_to} ({'replayed from the raw zone' if replay else 're-extracted'}).")
    outcome.finish(run, settings, summary, [*result["failed_steps"], failed])
    return {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "replay": replay,
            "replayed_partitions": extracted.get("replayed_partitions"), **summary}
