"""The ``nightly`` flow: incremental extract -> validate -> transform -> load -> refresh
the marts of the periods touched -> publish (deployment ``nightly/nightly``, 01:30
Asia/Ho_Chi_Minh; see prefect.yaml)."""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger

from flows import outcome, pipeline, tasks
from flows.stages.runs import new_run, note_failure


@flow(name="nightly", log_prints=False,  # NIGHTLY_TIMEOUT_SECONDS, 6 h: a night's changes load in minutes; 6 h
      # ends a hung run (source, warehouse lock) before the working day, and the automation motcua-nightly-failed tells
      timeout_seconds=(NIGHTLY_TIMEOUT_SECONDS := 6 * 3600))
def nightly(source: str | None = None, as_of: dt.date | None = None, warehouse: str | None = None,
            data_dir: str | None = None, quarantine_threshold: float | None = None,
            allow_source_faults: bool | None = None, dry_run: bool = False) -> dict:
    """Load what changed at the source since its watermark and republish the mart
    partitions of the periods those changes touch; then delete the raw zone's partitions
    and the run folders older than ``MOTCUA_RAW_RETENTION_DAYS`` (personal data in clear).

    Args:
        source: export bundle folder, http(s):// API base, database URL or spreadsheet
            (default: the MOTCUA_SOURCE environment variable of the worker); a URL
            without a password in clear (Prefect stores parameters): redacted (``user:***@``) or none; see
            :mod:`flows.pipeline`.
        as_of: the business day this run closes (default: yesterday in Asia/Ho_Chi_Minh,
            from the run's scheduled start time, which Prefect gives in UTC).
        warehouse: SQLAlchemy URL of the warehouse (default: MOTCUA_WAREHOUSE_URL),
            without a password in clear (Prefect stores parameters): redacted (``user:***@``) or none; see
            :mod:`flows.pipeline`.
        data_dir: raw zone and run folders (default: MOTCUA_DATA_DIR or ./var).
        quarantine_threshold: fail when a larger share of records is quarantined.
        allow_source_faults: complete (not fail) when part of the source could not be read
            (default: MOTCUA_ALLOW_SOURCE_FAULTS, false; see flows.outcome).
        dry_run: return what the run would read and rebuild (flows.preview), writing nothing.
    """
    logger = get_run_logger()
    settings = pipeline.settings_for(warehouse, data_dir, quarantine_threshold,
                                     allow_source_faults=allow_source_faults)
    spec = pipeline.resolve_source(source)
    day = as_of or pipeline.business_yesterday(pipeline.scheduled_moment())
    if dry_run:
        from flows.preview import preview

        return {"as_of": day.isoformat(), "dry_run": preview(settings, spec, flow="nightly")}
    run = new_run(settings, spec)
    logger.info("nightly run %s for %s (Asia/Ho_Chi_Minh)", run.run_id, day)
    try:
        pipeline.progress("read watermark")
        since = tasks.read_watermark(settings, spec)
        extracted, staged = pipeline.ingest(run, settings, since)
    except BaseException as exc:
        note_failure(run, settings, exc, "nightly")
        raise
    result = pipeline.load_and_publish(run, settings, extracted, staged, flow_name="nightly")
    summary = pipeline.run_summary(run, extracted, staged, result)
    pipeline.progress("retention", f"raw zone and run folders older than {settings.raw_retention_days} days")
    summary["retention"] = tasks.apply_retention(settings)
    logger.info("retention: %s", summary["retention"])
    failed = pipeline.publish_artifacts("nightly", [summary], result["headline"],
                                        note=f"Business day {day} (Asia/Ho_Chi_Minh); changes since watermark {since}.")
    outcome.finish(run, settings, summary, [*result["failed_steps"], failed])
    return {"as_of": day.isoformat(), "since": since, **summary}
