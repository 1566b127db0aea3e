"""The full-run flow ``motcua-run``, and what every flow shares.

Every flow is thin: tasks (:mod:`flows.tasks`) call the stages (:mod:`flows.stages`)
and pass paths, table names and counts. Shared here:

* :func:`ingest` — extract and stage (read, parse, validate: loaded or quarantined);
* :func:`load_and_publish` — the write section: under the warehouse write lock
  (:func:`write_slot`), mark the marts stale, load the core, plan which mart partitions
  to rebuild, build and audit the marts, publish those partitions;
* :func:`publish_artifacts` — the run's table and markdown artifacts;
* :func:`progress` — stage-by-stage progress for the command line;
* dates in Asia/Ho_Chi_Minh (:func:`local_date`, :func:`business_yesterday`);
* the flows' URL parameters (:func:`settings_for`, :func:`resolve_source`).

No password in a flow parameter (Prefect stores and shows them): the ``warehouse`` and
``source`` parameters of every flow are either a URL without a password, or the URL
*redacted* (``postgresql+psycopg://user:***@host/db``, as
:func:`motcua.redact.redact_url` shows it); a parameter with a password in clear is
refused. The real URL behind a redacted one is found at run time, where a connection is
opened (:func:`motcua.redact.reveal`): in this process's registry (``motcua run`` and
the other commands conceal the URLs they are given before calling the flow), else in
``MOTCUA_WAREHOUSE_URL`` / ``MOTCUA_SOURCE`` (a deployment's worker), else in the Prefect
Secret blocks ``motcua-warehouse-url`` / ``motcua-source``. Without a parameter, the
flows read those variables, as before. Settings, runs, task inputs, results, artifacts
and audit rows carry the redacted URL only; log lines go through
:class:`motcua.redact.RedactingFilter`.

Which lock applies when (see docs/prefect.md):

* with a Prefect server configured (``PREFECT_API_URL`` set: deployments run by a
  worker, or a user pointing the CLI at a server), the write section first takes a slot
  of the global concurrency limit ``motcua-warehouse-writes`` (``strict=True``: a missing
  limit is an error; create it with ``motcua setup-prefect``), so runs queue visibly in
  Prefect; ``MOTCUA_WRITE_LIMIT=on|off`` forces it on or off (``auto`` by default);
* always, the database lock (:func:`warehouse.locks.warehouse_lock`): DuckDB's own file
  lock held for the whole section (plus a lock per file for threads of one process), or
  a PostgreSQL advisory lock (which every writing transaction checks it still holds:
  :mod:`warehouse.locks`). It is what protects runs that share no Prefect server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger

from flows import outcome, tasks
from flows.stages import stage as staging
from flows.stages.runs import Run, new_run, note_failure
from motcua.redact import check_parameter, conceal, install_log_redaction, scrub
from motcua.settings import Settings, SettingsError
from motcua.sources.limits import describe_fault
from warehouse.errors import PipelineError
from warehouse.locks import WRITE_LOCK_NAME, lock_timeout, warehouse_lock

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
"""The one-stop systems' (and the report's) time zone."""
WRITE_LIMIT = WRITE_LOCK_NAME
"""The Prefect global concurrency limit that serialises warehouse writes (1 slot)."""
WRITE_LIMIT_LEASE_SECONDS = 60.0
"""Lease of the limit's slot, renewed while the run lives; a killed run's slot is
freed by the server within about this long (Prefect's minimum)."""
MART_NAMES = ("mart.dossier_resolution", "mart.dossier_intake", "mart.indicator")


# --------------------------------------------------------------------------- settings, dates
def settings_for(warehouse: str | None = None, data_dir: str | None = None,
                 quarantine_threshold: float | None = None, dask: str | None = None,
                 allow_source_faults: bool | None = None) -> Settings:
    """The settings, with the flow's parameters overriding the environment. ``warehouse``
    must not carry a password in clear (see the module docstring)."""
    install_log_redaction()  # Prefect (re)configures its log handlers: filter them again
    return Settings.from_env(warehouse_url=check_parameter("warehouse", warehouse), data_dir=data_dir, quarantine_threshold=quarantine_threshold,
                             dask=dask, allow_source_faults=allow_source_faults)


def resolve_source(source: str | None) -> str:
    """The source given (never with a password in clear: see the module docstring), else
    ``MOTCUA_SOURCE`` (read at run time, never stored in a deployment); redacted."""
    value = check_parameter("source", source) or Settings.from_env().source
    if not value:
        raise SettingsError("no source: pass --source / the `source` parameter, or set MOTCUA_SOURCE")
    return conceal(value)  # type: ignore[return-value]


def local_date(moment: dt.datetime | None = None) -> dt.date:
    """The date in Asia/Ho_Chi_Minh of ``moment`` (aware; naive means UTC), default now."""
    moment = moment or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL_TZ).date()


def scheduled_moment() -> dt.datetime:
    """When this flow run was scheduled to start (Prefect gives it in UTC), else now."""
    from prefect.runtime import flow_run

    value = flow_run.scheduled_start_time
    return dt.datetime.fromisoformat(value.isoformat()) if value is not None else dt.datetime.now(dt.UTC)


def business_yesterday(moment: dt.datetime | None = None) -> dt.date:
    """The day before ``moment``'s date in Asia/Ho_Chi_Minh: a run scheduled at 01:30
    local time (18:30 UTC the day before) covers the local day that just ended."""
    return local_date(moment) - dt.timedelta(days=1)


# --------------------------------------------------------------------------- progress
_PROGRESS: list[Callable[[str, str], None]] = []


@contextmanager
def progress_listener(callback: Callable[[str, str], None]) -> Iterator[None]:
    """Call ``callback(step, detail)`` at each step of the flows run in this process."""
    _PROGRESS.append(callback)
    try:
        yield
    finally:
        _PROGRESS.remove(callback)


def progress(step: str, detail: str = "") -> None:
    """Announce a step (the command line shows it; flows also log it)."""
    for callback in list(_PROGRESS):
        callback(step, detail)


# --------------------------------------------------------------------------- the write slot
def write_limit_mode() -> str:
    """``MOTCUA_WRITE_LIMIT``: ``auto`` (default: the Prefect limit when an API URL is
    configured), ``on`` (always; an error without a server) or ``off`` (database lock only)."""
    return Settings.from_env().write_limit


def prefect_api_url() -> str | None:
    """The configured Prefect API URL (None: flows use a temporary local server)."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


@contextmanager
def write_slot(settings: Settings, run: Run) -> Iterator[dict]:
    """Hold the right to write to the warehouse: the Prefect global concurrency limit
    (strict) when it applies, then the database lock. Yields what was taken."""
    mode = write_limit_mode()
    api = prefect_api_url()
    use_limit = mode == "on" or (mode == "auto" and api is not None)
    taken: dict = {"prefect_limit": None, "database_lock": None}
    with ExitStack() as stack:
        if use_limit:
            progress("wait for the warehouse", f"global concurrency limit {WRITE_LIMIT}")
            stack.enter_context(_prefect_limit())
            taken["prefect_limit"] = WRITE_LIMIT
        progress("wait for the warehouse", "database lock")
        taken["database_lock"] = stack.enter_context(warehouse_lock(settings, run.run_id))
        yield taken


@contextmanager
def _prefect_limit() -> Iterator[None]:
    from prefect.client.schemas.objects import ConcurrencyLeaseHolder
    from prefect.concurrency.sync import concurrency
    from prefect.runtime import flow_run

    run_id = flow_run.id
    holder = ConcurrencyLeaseHolder(type="flow_run", id=run_id) if run_id else None
    try:
        with concurrency(WRITE_LIMIT, occupy=1, timeout_seconds=lock_timeout(), strict=True,
                         lease_duration=WRITE_LIMIT_LEASE_SECONDS, holder=holder):
            yield
    except Exception as exc:
        if type(exc).__name__ != "ConcurrencySlotAcquisitionError":
            raise
        raise PipelineError(
            f"the Prefect global concurrency limit {WRITE_LIMIT!r} does not exist on {prefect_api_url()}: "
            "create it with `motcua setup-prefect` (or set MOTCUA_WRITE_LIMIT=off to rely on the "
            "database lock only)") from exc


# --------------------------------------------------------------------------- shared steps
def ingest(run: Run, settings: Settings, since: str | None = None) -> tuple[dict, dict]:
    """Extract the source into the raw zone, then stage and validate every record."""
    logger = get_run_logger()
    progress("extract", f"changes since {since}" if since else "everything")
    extracted = tasks.extract(run, settings, since)
    logger.info("extracted %s records", extracted["records_read"])
    return extracted, stage(run, settings, extracted)


def stage(run: Run, settings: Settings, extracted: dict) -> dict:
    """Stage and validate extracted (or replayed) records."""
    logger = get_run_logger()
    progress("stage and validate", f"{extracted['records_read']} records"
             + (f" on Dask ({settings.dask})" if settings.dask else ""))
    if settings.dask:
        from flows.parallel import shard_mapper

        staged = staging.stage(run, settings, extracted, mapper=shard_mapper(settings.dask))
    else:
        staged = tasks.stage(run, settings, extracted)
    logger.info("records: %s read, %s loaded, %s quarantined", staged["records_read"],
                staged["records_loaded"], staged["records_quarantined"])
    return staged


def load_and_publish(run: Run, settings: Settings, extracted: dict, staged: dict, *, flow_name: str,
                     ranges: list[tuple[dt.date, dt.date]] | None = None, rebuild_all: bool = False) -> dict:
    """The write section, under :func:`write_slot`: mark the marts stale, load the core,
    plan the partitions, build and audit the marts, publish. A failure leaves the run
    ``marts_stale`` in audit.run (the next run rebuilds its periods) and is re-raised."""
    logger = get_run_logger()
    with write_slot(settings, run) as taken:
        logger.info("warehouse write slot: %s", taken)
        try:
            tasks.mark_marts_stale(run, settings, staged, flow_name, extracted["source_name"],
                                   extracted.get("source_faults"))
            progress("load core", f"{staged['records_loaded']} records")
            loaded = tasks.load_core(run, settings, extracted, staged)
            plan = tasks.plan_rebuild(run, settings, ranges, rebuild_all)
            logger.info("marts: %s (%s)", "rebuild all periods" if plan["all"] else plan["intervals"], plan["reason"])
            progress("build marts", plan["reason"])
            built = tasks.build_marts(run, settings, plan)
            progress("publish", "all periods" if plan["all"] else f"{len(plan['intervals'])} date range(s)")
            published = tasks.publish(run, settings, built, plan)
            headline = tasks.headline_indicators(settings)
            published["bi_snapshot"], failed_step = outcome.bi_snapshot(settings)
        except BaseException as exc:
            note_failure(run, settings, exc, flow_name, extracted.get("source_name"))
            raise
    logger.info("published %s periods (%s rows); healed runs: %s", published["periods_rebuilt"],
                published["rows_written"], published["healed_runs"] or "none")
    return {"loaded": loaded, "plan": plan, "built": built, "published": published, "headline": headline,
            "write_slot": taken, "failed_steps": [failed_step] if failed_step else []}


def run_summary(run: Run, extracted: dict, staged: dict, result: dict) -> dict:
    """What a loading run did, as plain values (returned by the flows, shown in artifacts)."""
    from prefect.runtime import flow_run

    published = result["published"]
    return {
        "run_id": run.run_id, "flow_run_id": flow_run.id, "source": extracted["source_name"],
        "records_read": staged["records_read"], "records_loaded": staged["records_loaded"],
        "records_quarantined": staged["records_quarantined"],
        "records_flagged": staged.get("records_flagged", 0),
        "dossiers_changed": result["loaded"]["dossiers_changed"],
        "periods_rebuilt": published["periods_rebuilt"], "full_rebuild": published["full_rebuild"],
        "rebuild_reason": result["plan"]["reason"], "rebuilt_ranges": published["intervals"],
        "healed_runs": published["healed_runs"], "mart_rows": result["built"]["rows"],
        "rows_written": published["rows_written"], "data_docs": result["built"].get("data_docs"),
        "bi_snapshot": published.get("bi_snapshot"), "source_faults": extracted.get("source_faults") or [],
    }


# --------------------------------------------------------------------------- artifacts
def _ranges_text(ranges: list[list[str | None]]) -> str:
    if ranges == [[None, None]]:
        return "all periods"
    return "; ".join(f"{a or '…'} → {b or 'open'}" for a, b in ranges) or "none"


def _fmt(value: float | None, rate: bool) -> str:
    if value is None:
        return "–"
    return f"{value:.1%}" if rate else f"{value:g}"


def headline_markdown(headline: dict) -> str:
    """The headline indicators as a markdown table (aggregates only)."""
    if not headline.get("rows"):
        return "_No indicators yet: no received dossiers in the marts._\n"
    lines = [f"## Headline indicators, {headline['year']} (calendar year, `mart.indicator`)", "",
             "| agency | indicator | numerator | denominator | value |", "| --- | --- | ---: | ---: | ---: |"]
    for r in headline["rows"]:
        rate = r["indicator_code"].endswith("_rate")
        lines.append(f"| {r['agency_code'] or '(none)'} | {r['indicator_code']} | {_fmt(r['numerator'], False)} | "
                     f"{_fmt(r['denominator'], False)} | {_fmt(r['value'], rate)} |")
    return "\n".join(lines) + "\n"


def publish_artifacts(flow_name: str, summaries: list[dict], headline: dict, reports: list[str] | None = None,
                      note: str = "") -> dict | None:
    """A table artifact ``motcua-<flow>-records`` (per source: records read / loaded /
    quarantined, dossiers changed, periods rebuilt) and a markdown artifact
    ``motcua-<flow>-summary`` (headline indicators, where the marts and reports are).
    Counts, codes and paths only: no personal data. A failure to create them is
    returned as a failed step (the run then fails: :func:`flows.outcome.finish`)."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    logger = get_run_logger()
    rows = [{"source": s["source"], "records_read": s["records_read"], "records_loaded": s["records_loaded"],
             "records_quarantined": s["records_quarantined"], "dossiers_changed": s["dossiers_changed"],
             "periods_rebuilt": s["periods_rebuilt"], "rebuilt_ranges": _ranges_text(s["rebuilt_ranges"])}
            for s in summaries]
    md = [f"# motcua {flow_name}", ""]
    if note:
        md += [note, ""]
    for s in summaries:
        md += [f"Run `{s['run_id']}`, source `{s['source']}`: {s['records_read']} records read, "
               f"{s['records_loaded']} loaded, {s['records_quarantined']} quarantined; "
               f"{s['dossiers_changed']} dossiers changed; {s['periods_rebuilt']} periods rebuilt "
               f"({s['rebuild_reason']}: {_ranges_text(s['rebuilt_ranges'])}).", ""]
        md += [f"- **source fault**: {describe_fault(f)}" for f in s.get("source_faults") or []] + [""]
        if s["records_quarantined"]:
            md += [f"Quarantined records: `audit.quarantine` where `run_id = '{s['run_id']}'`.", ""]
    md.append(headline_markdown(headline))
    md += ["Marts: " + ", ".join(f"`{m}`" for m in MART_NAMES) + ".", ""]
    md.append("Reports written: " + (", ".join(f"`{p}`" for p in reports) if reports
                                   else "none by this run (the `annual_report` flow writes them)."))
    try:
        if rows:
            create_table_artifact(table=rows, key=f"motcua-{flow_name.replace('_', '-')}-records",
                                  description=f"motcua {flow_name}: records and periods per source")
        create_markdown_artifact(markdown="\n".join(md), key=f"motcua-{flow_name.replace('_', '-')}-summary",
                                 description=f"motcua {flow_name}: headline indicators and outputs")
    except Exception as exc:  # noqa: BLE001 - a failed step, named; the run fails in outcome.finish
        text = f"the run's artifacts were not created: {scrub(exc)}"
        logger.error(text)
        return {"step": "artifacts", "error": text}
    return None


# --------------------------------------------------------------------------- the full run
@flow(name="motcua-run", log_prints=False,  # RUN_TIMEOUT_SECONDS, 24 h: the one-shot full run reads
      # everything the source has (years of dossiers); still running after a day, it is stuck, not working
      timeout_seconds=(RUN_TIMEOUT_SECONDS := 24 * 3600))
def motcua_run(source: str, warehouse: str | None = None, data_dir: str | None = None,
               incremental: bool = False, quarantine_threshold: float | None = None,
               dask: str | None = None, allow_source_faults: bool | None = None, dry_run: bool = False) -> dict:
    """Load a source into the warehouse and publish the marts.

    Args:
        source: export bundle folder, http(s):// API base, database URL or spreadsheet.
            A URL's password is never a parameter: pass the URL redacted (``user:***@``;
            the real one from this process's registry, MOTCUA_SOURCE or the Secret block
            ``motcua-source``; see the module docstring) or without a password.
        warehouse: SQLAlchemy URL of the warehouse (default: MOTCUA_WAREHOUSE_URL or DuckDB),
            without a password or redacted (the real one from the registry,
            MOTCUA_WAREHOUSE_URL or the Secret block ``motcua-warehouse-url``).
        data_dir: folder for the raw zone and run files (default: MOTCUA_DATA_DIR or ./var).
        incremental: only read what changed since the source's watermark.
        quarantine_threshold: fail when a larger share of records is quarantined.
        dask: stage the shards on Dask (local[:N] or a scheduler address; see flows.parallel).
        allow_source_faults: complete (not fail) when part of the source could not be read
            (default: MOTCUA_ALLOW_SOURCE_FAULTS, false; see flows.outcome).
        dry_run: return what the run would read and rebuild (flows.preview), writing nothing.
    """
    settings = settings_for(warehouse, data_dir, quarantine_threshold, dask, allow_source_faults)
    source = resolve_source(source)
    if dry_run:
        from flows.preview import preview

        return {"dry_run": preview(settings, source, flow="run", incremental=incremental)}
    run = new_run(settings, source)
    try:
        since = tasks.read_watermark(settings, source) if incremental else None
        extracted, staged = ingest(run, settings, since)
    except BaseException as exc:
        note_failure(run, settings, exc, "run")
        raise
    result = load_and_publish(run, settings, extracted, staged, flow_name="run")
    summary = run_summary(run, extracted, staged, result)
    failed = publish_artifacts("run", [summary], result["headline"])
    outcome.finish(run, settings, summary, [*result["failed_steps"], failed])
    return {"run": run.as_dict(), "staged": staged, "loaded": result["loaded"], "marts": result["built"]["rows"],
            "summary": summary}
