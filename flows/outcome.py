"""How a loading flow ends once the marts are published: the BI snapshot, then the
verdict. A step after the publish that failed (the BI snapshot, the run's artifacts)
fails the run (:class:`~warehouse.errors.StepFailed`, named in ``audit.run``); a run
that could not read all of its source ends in :class:`~warehouse.errors.SourceFaults`
(commands exit 3) unless ``MOTCUA_ALLOW_SOURCE_FAULTS`` / ``allow_source_faults``
accepts it. Never a warning that should have been a failure."""

from __future__ import annotations

from prefect import get_run_logger

from flows.stages.runs import Run
from motcua.redact import scrub
from motcua.settings import Settings
from motcua.sources.limits import describe_fault
from warehouse import audit
from warehouse.errors import SourceFaults, StepFailed


def bi_snapshot(settings: Settings) -> tuple[str | None, dict | None]:
    """Publish the read-only BI snapshot (marts and dimensions) after a publish: (its
    path, None), or (None, the failed step) -- the run then fails in :func:`finish`."""
    from warehouse.bi import publish_bi_snapshot

    try:
        return str(publish_bi_snapshot(settings.warehouse_url, settings.data_dir / "bi").database), None
    except Exception as exc:  # noqa: BLE001 - a failed step, named; the run fails in finish()
        text = f"BI snapshot not published: {scrub(exc)}"
        get_run_logger().error(text)
        return None, {"step": "bi_snapshot", "error": text}


def finish(run: Run, settings: Settings, summary: dict, failed_steps: list[dict]) -> None:
    """Raise when the run must not end as a success: :class:`StepFailed` for the failed
    steps (recorded in ``audit.run``), then :class:`SourceFaults` for the source faults
    (already recorded) unless the settings allow them."""
    steps = [s for s in failed_steps if s]
    if steps:
        audit.record_failed_steps(settings.warehouse_url, run.run_id, steps)
        summary["failed_steps"] = steps
        raise StepFailed(f"run {run.run_id} loaded and published the marts, but "
                         + "; ".join(s["error"] for s in steps))
    faults = summary.get("source_faults") or []
    if faults and not settings.allow_source_faults:
        raise SourceFaults(
            f"run {run.run_id} completed with {len(faults)} source fault(s) -- what was read is loaded and "
            "published, the rest is not: " + "; ".join(describe_fault(f) for f in faults)
            + ". Repair the source and run again, or accept them with --allow-source-faults "
            "(MOTCUA_ALLOW_SOURCE_FAULTS=true)", summary)
