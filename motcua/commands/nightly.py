"""``motcua nightly``: the nightly flow from the command line (incremental load, the
touched mart periods rebuilt and published). Also the progress display the loading
commands share."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

from warehouse.engine import DEFAULT_URL

# the steps the loading flows announce, in order (flows.pipeline.progress)
STEPS = ("read watermark", "replay raw zone", "extract", "stage and validate", "wait for the warehouse",
         "load core", "build marts", "publish")


@contextmanager
def stage_progress(enabled: bool | None = None) -> Iterator[None]:
    """Show each step of the flow run in this process as a rich progress line (spinner,
    step, detail, elapsed time) when stderr is a terminal; silent otherwise (the flow's
    log still says everything)."""
    from flows.pipeline import progress_listener

    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.fields[detail]}", markup=False), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("starting", total=len(STEPS), detail="")

        def on_step(step: str, detail: str) -> None:
            done = STEPS.index(step) if step in STEPS else 0
            bar.update(task, description=step, detail=detail, completed=done)

        with progress_listener(on_step):
            yield
        bar.update(task, description="done", detail="", completed=len(STEPS))


def common_options(fn: Callable) -> Callable:
    """The options every loading command shares."""
    for option in reversed([
        click.option("--source", default=None, metavar="SOURCE",
                     help="Where the dossier log is: an export bundle folder, http(s)://… API base URL, a "
                          "database URL or a .xlsx/.csv vendor export (env MOTCUA_SOURCE)."),
        click.option("--warehouse", default=None, metavar="URL", show_default=DEFAULT_URL,
                     help="SQLAlchemy URL of the warehouse (env MOTCUA_WAREHOUSE_URL)."),
        click.option("--data-dir", default=None, type=click.Path(file_okay=False),
                     help="Folder for the raw landing zone, run files and reports (env MOTCUA_DATA_DIR; default ./var)."),
        click.option("--quarantine-threshold", type=float, default=None,
                     help="Fail when more than this share of records is quarantined (default 0.05)."),
        click.option("--allow-source-faults", is_flag=True, default=None,
                     help="Exit 0 when the run completed but part of the source could not be read (a file cut "
                          "off or vanished): the faults are still recorded and shown (env "
                          "MOTCUA_ALLOW_SOURCE_FAULTS; default: exit 3)."),
        click.option("--dry-run", is_flag=True,
                     help="Print what the run would read (source, watermark, range) and which mart periods it "
                          "would rebuild, from what the warehouse knows; write nothing."),
        click.option("--progress/--no-progress", "show_progress", default=None,
                     help="Show each step as it runs (default: when the terminal is interactive)."),
    ]):
        fn = option(fn)
    return fn


def echo_summary(result: dict) -> None:
    """One paragraph about a loading run (counts only)."""
    ranges = result["rebuilt_ranges"]
    span = "all periods" if ranges == [[None, None]] else "; ".join(f"{a} → {b or 'open'}" for a, b in ranges) or "none"
    click.echo(f"run {result['run_id']} ({result['source']}): {result['records_read']} records read, "
               f"{result['records_loaded']} loaded, {result['records_quarantined']} quarantined; "
               f"{result['dossiers_changed']} dossiers changed; {result['periods_rebuilt']} mart periods "
               f"rebuilt ({result['rebuild_reason']}: {span}).")
    if result["healed_runs"]:
        click.echo(f"also published the periods of interrupted run(s): {', '.join(result['healed_runs'])}")
    if result["records_quarantined"]:
        click.echo("quarantined records are in audit.quarantine (see `motcua quarantine --help`).")


def echo_dry_run(plan: dict) -> None:
    """What a dry run found (:func:`flows.preview.preview`)."""
    click.echo(f"dry run of {plan['flow']}: nothing read from the source, nothing written")
    click.echo(f"  source: {plan['source']}")
    click.echo(f"  would read: {plan['reads']}")
    click.echo(f"  warehouse: {plan['warehouse']}" + (f" ({plan['warehouse_missing']})" if plan["warehouse_missing"]
                                                      else ""))
    click.echo(f"  would rebuild: {plan['rebuild']}")
    if plan["stale_spans"]:
        click.echo("  interrupted runs' spans: " + "; ".join(f"{a or '…'} → {b or 'open'}" for a, b in plan["stale_spans"]))


def preflight(warehouse: str | None, source: str | None = None) -> None:
    """Before a flow starts: a source file or folder that is not there, the demonstration
    pseudonym key on a source that is not the sample, or a server
    warehouse that cannot be reached (or refuses the URL's user, password or database),
    stops the command with one line (:func:`warehouse.engine.check_reachable`), not a
    failed flow run's tracebacks."""
    from pathlib import Path

    from motcua.settings import Settings, check_demo_key, secret
    from warehouse.engine import check_reachable

    settings = Settings.from_env(warehouse_url=warehouse)
    spec = source or settings.source
    if spec and "://" not in spec and not spec.startswith("raw:") and not Path(spec).exists():
        raise FileNotFoundError(f"source {spec} does not exist: give an export bundle folder, a .xlsx/.csv "
                                "file, an http(s):// URL or a database URL (--source / MOTCUA_SOURCE)")
    key = secret("pseudonym_key")
    if key and spec:  # the demonstration key on a real source: stop here, one line
        check_demo_key(key.encode("utf-8"), spec)
    check_reachable(settings.warehouse_url)


def fail(command: str, exc: BaseException) -> NoReturn:
    """One line on stderr (:func:`motcua.errors.explain`); exit with the code the README's
    table gives the error (:func:`motcua.errors.exit_code`). A run that completed but
    could not read all of its source prints its summary and its faults first."""
    from motcua.errors import exit_code, explain
    from motcua.redact import scrub
    from motcua.sources.limits import describe_fault
    from warehouse.errors import SourceFaults

    if isinstance(exc, SourceFaults):
        echo_summary(exc.result)
        for fault in exc.result.get("source_faults") or []:
            click.secho(f"source fault: {scrub(describe_fault(fault))}", fg="yellow", err=True)
        click.secho(f"motcua {command}: completed with source faults (exit {exc.exit_code}); repair the "
                    "source and run again, or pass --allow-source-faults to accept them", fg="yellow", err=True)
        sys.exit(exc.exit_code)
    click.secho(f"motcua {command} failed: {explain(exc)}", fg="red", err=True)
    sys.exit(exit_code(exc))


@click.command("nightly")
@common_options
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The business day the run closes, YYYY-MM-DD (default: yesterday in Asia/Ho_Chi_Minh).")
def nightly(source: str | None, warehouse: str | None, data_dir: str | None, quarantine_threshold: float | None,
            allow_source_faults: bool | None, dry_run: bool, show_progress: bool | None,
            as_of: dt.datetime | None) -> None:
    """Load what changed at SOURCE since its watermark, then rebuild and publish the mart
    partitions (period × agency) of the periods those changes touch.

    Safe next to a backfill or another run: warehouse writes wait for the write lock.
    An interrupted run is completed by the next one. Exits 1 when the run fails, 3 when
    it completed but part of the source could not be read (--allow-source-faults: 0).
    """
    from flows.nightly import nightly as nightly_flow
    from motcua.redact import conceal
    from motcua.settings import SettingsError
    from motcua.sources.http import HttpSourceError
    from warehouse.errors import PipelineError

    try:
        preflight(warehouse, source)
        with stage_progress(show_progress):  # the flow run gets the URLs redacted (motcua.redact)
            result = nightly_flow(source=conceal(source), as_of=as_of.date() if as_of else None,
                                  warehouse=conceal(warehouse), data_dir=data_dir,
                                  quarantine_threshold=quarantine_threshold,
                                  allow_source_faults=allow_source_faults, dry_run=dry_run)
    except (PipelineError, SettingsError, HttpSourceError, FileNotFoundError, ValueError) as exc:
        fail("nightly", exc)
    if dry_run:
        echo_dry_run(result["dry_run"])
        return
    click.echo(f"nightly for {result['as_of']} (changes since {result['since'] or 'the beginning'}):")
    echo_summary(result)
