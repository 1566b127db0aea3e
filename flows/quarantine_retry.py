"""The ``quarantine_retry`` flow: open quarantined records sent again through the normal
stages after a fix (a code change, a catalogue entry, corrected lines), as a run of their
own per source; ``motcua quarantine retry`` runs it.

The records are laid out as a run's raw files with the warehouse's catalogue
(:mod:`flows.stages.retry`), then staged and validated, loaded (newest-wins merge, so a
fixed record counts once), and the marts they touch rebuilt and published, by the same
tasks as a nightly run. A loaded record's quarantine row is resolved by that run; one
that still fails keeps its row with its new reason. No quarantine threshold applies (a
retry of bad records is expected to leave some), and no source's watermark moves.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows import pipeline, tasks
from flows.stages.runs import new_run, note_failure
from motcua.quarantine import QuarantineError


@flow(name="quarantine-retry", log_prints=False,  # QUARANTINE_RETRY_TIMEOUT_SECONDS, 2 h: re-processes
      # quarantined records only (a small share of a run); 2 h leaves room for a wait on the warehouse
      timeout_seconds=(QUARANTINE_RETRY_TIMEOUT_SECONDS := 2 * 3600))
def quarantine_retry(warehouse: str | None = None, data_dir: str | None = None, reason: str | None = None,
                     ids: list[str] | None = None, from_file: str | None = None) -> dict:
    """Retry open quarantined records: all, those whose reason starts with ``reason``,
    those whose id starts with one of ``ids``, or those the corrected lines of
    ``from_file`` (JSONL) replace.

    Args:
        warehouse: SQLAlchemy URL of the warehouse, redacted (see :mod:`flows.pipeline`).
        data_dir: folder for the retry's run files (default: MOTCUA_DATA_DIR or ./var).
        reason: only open records whose reason starts with this.
        ids: only these records (id prefixes); with ``from_file``, one id per line, in order.
        from_file: JSONL of corrected records, each replacing the open record with the
            same MaHoSo (or the matching id's).

    Returns the runs, the records retried, resolved and still quarantined, each record's
    outcome (``resolved`` or its new reason) and the marts rebuilt.
    """
    logger = get_run_logger()
    settings = pipeline.settings_for(warehouse, data_dir, quarantine_threshold=1.0)
    run = new_run(settings, "quarantine-retry")
    try:
        prepared = tasks.prepare_retry(run, settings, reason, ids, from_file)
    except QuarantineError:
        raise  # the request was refused: nothing was written, no run to record
    except BaseException as exc:
        note_failure(run, settings, exc, "quarantine-retry")
        raise
    result: dict = {"runs": [], "retried": 0, "resolved": 0, "still_quarantined": 0, "flagged": 0,
                    "dossiers_changed": 0, "marts": None, "data_docs": None, "outcome": {}}
    for k, extracted in enumerate(prepared):
        this = run if k == 0 else new_run(settings, "quarantine-retry")
        pipeline.progress("quarantine retry", f"{extracted['records_read']} record(s) of {extracted['source_name']}")
        try:
            staged = pipeline.stage(this, settings, extracted)
        except BaseException as exc:
            note_failure(this, settings, exc, "quarantine-retry", extracted["source_name"])
            raise
        done = pipeline.load_and_publish(this, settings, extracted, staged, flow_name="quarantine-retry")
        outcome = tasks.retry_outcome(settings, extracted["quarantine_ids"], this.run_id)
        result["runs"].append(this.run_id)
        result["retried"] += extracted["records_read"]
        result["resolved"] += sum(v == "resolved" for v in outcome.values())
        result["still_quarantined"] += sum(v != "resolved" for v in outcome.values())
        result["flagged"] += int(staged.get("records_flagged", 0))
        result["dossiers_changed"] += int(done["loaded"]["dossiers_changed"])
        result["outcome"].update(outcome)
        if done["loaded"]["dossiers_changed"]:
            result["marts"], result["data_docs"] = done["built"]["rows"], done["built"].get("data_docs")
    logger.info("quarantine retry: %s retried, %s resolved, %s still quarantined", result["retried"],
                result["resolved"], result["still_quarantined"])
    return result
