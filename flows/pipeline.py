"""The main flow: extract -> stage & validate -> load core -> build & audit marts -> publish."""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows import stages, tasks
from motcua.settings import Settings


@flow(name="motcua-run", log_prints=False)
def motcua_run(source: str, warehouse: str | None = None, data_dir: str | None = None,
               incremental: bool = False, quarantine_threshold: float | None = None) -> dict:
    """Load a source into the warehouse and publish the marts.

    Args:
        source: export bundle folder, http(s):// API base, database URL or spreadsheet.
        warehouse: SQLAlchemy URL of the warehouse (default: MOTCUA_WAREHOUSE_URL or DuckDB).
        data_dir: folder for the raw zone and run files (default: MOTCUA_DATA_DIR or ./var).
        incremental: only read what changed since the source's watermark.
        quarantine_threshold: fail when a larger share of records is quarantined.
    """
    logger = get_run_logger()
    settings = Settings.from_env(warehouse_url=warehouse, data_dir=data_dir,
                                 quarantine_threshold=quarantine_threshold)
    run = stages.new_run(settings, source)
    since = stages.read_watermark(settings, source) if incremental else None
    extracted = tasks.extract(run, settings, since)
    logger.info("extracted %s records", extracted["records_read"])
    staged = tasks.stage(run, settings, extracted)
    logger.info("records: %s read, %s loaded, %s quarantined", staged["records_read"],
                staged["records_loaded"], staged["records_quarantined"])
    loaded = tasks.load_core(run, settings, extracted, staged)
    built = tasks.build_marts(run, settings)
    tasks.publish(run, settings, built)
    return {"run": run.as_dict(), "staged": staged, "loaded": loaded, "marts": built["rows"]}
