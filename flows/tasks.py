"""Prefect tasks: thin wrappers over :mod:`flows.stages`.

Retries (Prefect's own, with back-off and jitter) only on the tasks that read: the
source (extract, the raw-zone replay) and the watermark; reading twice is harmless.
The tasks that write to the warehouse (mark-stale, load-core, publish) never retry, so a
retry can never double-write: a failed run is healed by the next one instead. No task
takes an Engine or a DataFrame: they pass paths, names and counts (``NO_CACHE``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.states import State
from prefect.tasks import exponential_backoff

from flows.stages import extract as extracting
from flows.stages import load_core as loading
from flows.stages import marts
from flows.stages import publish as publishing
from flows.stages import report as reporting
from flows.stages import stage as staging
from flows.stages.runs import Run, pause_for_test
from motcua.settings import Settings, SettingsError
from warehouse.errors import PipelineError
from warehouse.locks import with_warehouse_retry

SOURCE_RETRY_DELAYS = [5, 30, 120]
"""Seconds between attempts at reading the source (then jitter, see below)."""


def worth_retrying(task: object, task_run: object, state: State) -> bool:
    """Retry what may pass next time (network, server, a file being written), not a
    mistake that will fail again the same way (a bad source, a missing raw zone)."""
    try:
        state.result(raise_on_failure=True)
    except (PipelineError, SettingsError, ValueError, FileNotFoundError):
        return False
    except Exception:  # noqa: BLE001 - anything else may be transient
        return True
    return True


@task(name="read-watermark", retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=2),
      retry_jitter_factor=0.5, retry_condition_fn=worth_retrying, cache_policy=NO_CACHE)
def read_watermark(settings: Settings, source: str) -> str | None:
    """The source's incremental watermark (waits while another process holds a DuckDB file)."""
    return with_warehouse_retry(lambda: loading.read_watermark(settings, source), settings)  # type: ignore[return-value]


@task(name="extract", retries=3, retry_delay_seconds=SOURCE_RETRY_DELAYS, retry_jitter_factor=0.5,
      retry_condition_fn=worth_retrying, cache_policy=NO_CACHE)
def extract(run: Run, settings: Settings, since: str | None = None) -> dict:
    """Read the source into the raw landing zone."""
    return extracting.extract(run, settings, since)


@task(name="replay-raw", retries=2, retry_delay_seconds=exponential_backoff(backoff_factor=2),
      retry_jitter_factor=0.5, retry_condition_fn=worth_retrying, cache_policy=NO_CACHE)
def replay_raw(run: Run, settings: Settings, source: str, date_from: dt.date, date_to: dt.date) -> dict:
    """Collect the raw-zone files of a date range instead of reading the source again."""
    return extracting.replay_raw(run, settings, source, date_from, date_to)


@task(name="stage-and-validate", cache_policy=NO_CACHE)
def stage(run: Run, settings: Settings, extracted: dict) -> dict:
    """Parse, apply the rules, validate: every record loaded or quarantined."""
    return staging.stage(run, settings, extracted)


@task(name="stage-shard", cache_policy=NO_CACHE)
def stage_shard(run: Run, settings: Settings, extracted: dict, shard: dict, buckets: int,
                validate: bool = True) -> dict:
    """Stage one shard of raw files (a unit of parallel work: see :mod:`flows.parallel`)."""
    return staging.stage_shard(run, settings, extracted, shard, buckets, validate)


@task(name="mark-marts-stale", cache_policy=NO_CACHE)
def mark_marts_stale(run: Run, settings: Settings, staged: dict, flow: str, source: str,
                     source_faults: list[dict] | None = None) -> dict:
    """Record "marts stale since this run" before the core changes."""
    pause_for_test("mark_marts_stale")
    return publishing.mark_marts_stale(run, settings, staged, flow, source, source_faults)


@task(name="load-core", cache_policy=NO_CACHE)
def load_core(run: Run, settings: Settings, extracted: dict, staged: dict) -> dict:
    """Quarantine, facts and events (one commit a bucket), dimensions, watermark."""
    pause_for_test("load_core")
    return loading.load_core(run, settings, extracted, staged)


@task(name="plan-rebuild", cache_policy=NO_CACHE)
def plan_rebuild(run: Run, settings: Settings, ranges: list[tuple[dt.date, dt.date]] | None = None,
                 rebuild_all: bool = False) -> dict:
    """Which mart partitions this run rebuilds."""
    return publishing.plan_rebuild(run, settings, ranges, rebuild_all)


@task(name="build-marts", cache_policy=NO_CACHE)
def build_marts(run: Run, settings: Settings, plan: dict | None = None) -> dict:
    """Compute and audit the marts of the planned periods (written to the run folder,
    not published)."""
    pause_for_test("build_marts")
    return marts.build_marts(run, settings, plan=plan)


@task(name="retention", cache_policy=NO_CACHE)
def apply_retention(settings: Settings) -> dict:
    """Delete the raw zone's partitions and the run folders older than
    ``settings.raw_retention_days`` (:mod:`motcua.retention`): they hold personal data in
    clear. The last task of ``nightly``."""
    from motcua.retention import prune_raw_zone, prune_run_dirs

    days = settings.raw_retention_days
    raw = prune_raw_zone(settings.data_dir, days)
    run_dirs = prune_run_dirs(settings.data_dir, days)
    return {"retention_days": days, "raw_partitions_removed": len(raw), "run_dirs_removed": len(run_dirs)}


@task(name="publish", cache_policy=NO_CACHE)
def publish(run: Run, settings: Settings, built: dict, plan: dict | None = None) -> dict:
    """Replace the planned mart partitions in one transaction and record the run."""
    return publishing.publish(run, settings, built, plan)


@task(name="headline-indicators", cache_policy=NO_CACHE)
def headline_indicators(settings: Settings, year: int | None = None) -> dict:
    """Headline indicators of the latest (or given) year, for the run's summary."""
    return with_warehouse_retry(lambda: marts.headline_indicators(settings, year), settings)  # type: ignore[return-value]


@task(name="write-annual-report", cache_policy=NO_CACHE)
def write_annual_report(settings: Settings, year: int, convention: str, agency: str | None, out_dir: str,
                        render: str = "full", plans_file: str | None = None,
                        scoring_file: str | None = None) -> dict:
    """The year's report from the warehouse: the files, the explain files, the
    publication record, the restatements and the points (:mod:`flows.stages.report`)."""
    return with_warehouse_retry(  # type: ignore[return-value]
        lambda: reporting.write_annual_report(settings, year, convention, agency, Path(out_dir), render,
                                              plans_file, scoring_file), settings)


@task(name="prepare-retry", cache_policy=NO_CACHE)
def prepare_retry(run: Run, settings: Settings, reason: str | None, ids: list[str] | None,
                  from_file: str | None) -> list[dict]:
    """The open quarantined records a retry sends again, laid out per source as a run's
    raw files with the warehouse's catalogue (:mod:`flows.stages.retry`); none: ``[]``."""
    from flows.stages import retry
    from motcua.quarantine import select_for_retry
    from warehouse.engine import connected
    from warehouse.reads import read_dims

    def read() -> list[dict]:
        rows = select_for_retry(settings.warehouse_url, reason, ids, from_file)
        if rows.empty:
            return []
        with connected(settings.warehouse_url) as conn:
            dim_proc, dim_ag = read_dims(conn)
        return retry.prepare(run, settings, rows, dim_proc, dim_ag)

    return with_warehouse_retry(read, settings)  # type: ignore[return-value]


@task(name="retry-outcome", cache_policy=NO_CACHE)
def retry_outcome(settings: Settings, ids: list[str], run_id: str) -> dict[str, str]:
    """What became of each retried record: ``resolved`` by ``run_id``, or its reason."""
    from warehouse.quarantine import outcomes

    return with_warehouse_retry(lambda: outcomes(settings.warehouse_url, ids, run_id), settings)  # type: ignore[return-value]

