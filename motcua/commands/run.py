"""``motcua run``: load a source into the warehouse, publish the marts, print the year's tables."""

from __future__ import annotations

from pathlib import Path

import click

from warehouse.engine import DEFAULT_URL


@click.command()
@click.option("--source", required=True, metavar="SOURCE",
              help="Where the dossier log is: an export bundle folder, http(s)://… API base URL, "
                   "a database URL (mysql+pymysql://…) or a .xlsx/.csv vendor export.")
@click.option("--warehouse", default=None, metavar="URL", show_default=DEFAULT_URL,
              help="SQLAlchemy URL of the warehouse (env MOTCUA_WAREHOUSE_URL).")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False),
              help="Folder for the raw landing zone, run files and reports (env MOTCUA_DATA_DIR; default ./var).")
@click.option("--year", type=int, default=None,
              help="Print and write tables 1 and 2 for this calendar year (default: the latest year with intakes).")
@click.option("--incremental/--full", default=False, show_default=True,
              help="Read only what changed since the source's watermark.")
@click.option("--quarantine-threshold", type=float, default=None,
              help="Fail when more than this share of records is quarantined (default 0.05).")
@click.option("--allow-source-faults", is_flag=True, default=None,
              help="Exit 0 when the run completed but part of the source could not be read (a file cut off "
                   "or vanished): the faults are still recorded and shown (env MOTCUA_ALLOW_SOURCE_FAULTS; "
                   "default: exit 3).")
@click.option("--dask", default=None, metavar="ADDRESS",
              help="Stage the shards on Dask: local[:N] (a LocalCluster of N worker processes) or a "
                   "scheduler address tcp://host:8786 (env MOTCUA_DASK; default: in this process).")
@click.option("--dry-run", is_flag=True,
              help="Print what the run would read and which mart periods it would rebuild; write nothing.")
@click.option("--quiet", is_flag=True, help="Do not print the tables.")
def run(source: str, warehouse: str | None, data_dir: str | None, year: int | None, incremental: bool,
        quarantine_threshold: float | None, allow_source_faults: bool | None, dask: str | None,
        dry_run: bool, quiet: bool) -> None:
    """Extract, validate, transform and load SOURCE, then publish the marts.

    Exits 0 when the run completed (quarantined records are not fatal); else the code of
    the README's table: 2 configuration, 3 completed with source faults (a file cut off
    or vanished mid-run), 4 quarantine over the threshold, 5 validation stopped
    publication, 6 warehouse locked by another run, 7 source or warehouse unreachable,
    8 a step after the publish failed, 1 anything else.

    The flow run gets the URLs redacted (a password as ***): Prefect stores its
    parameters. The passwords stay in this process (motcua.redact).
    """
    from flows.pipeline import motcua_run
    from motcua import reporting
    from motcua.commands.nightly import fail, preflight
    from motcua.redact import conceal
    from motcua.settings import Settings, SettingsError
    from motcua.sources.http import HttpSourceError
    from warehouse.errors import PipelineError
    from warehouse.report_scan import latest_year

    try:
        settings = Settings.from_env(warehouse_url=warehouse, data_dir=data_dir,
                                     quarantine_threshold=quarantine_threshold, dask=dask,
                                     allow_source_faults=allow_source_faults)
        preflight(settings.warehouse_url, source)
        result = motcua_run(source=conceal(source), warehouse=settings.warehouse_url, data_dir=str(settings.data_dir),
                            incremental=incremental, quarantine_threshold=settings.quarantine_threshold,
                            dask=settings.dask, allow_source_faults=settings.allow_source_faults,
                            dry_run=dry_run)
    except (PipelineError, SettingsError, HttpSourceError, FileNotFoundError, ValueError) as exc:
        fail("run", exc)  # one line, the README's exit code (3: source faults, 4: quarantine, ...)
    if dry_run:
        from motcua.commands.nightly import echo_dry_run

        echo_dry_run(result["dry_run"])
        return
    st = result["staged"]
    click.echo(f"run {result['run']['run_id']}: {st['records_read']} records read, "
               f"{st['records_loaded']} loaded, {st['records_quarantined']} quarantined "
               f"({st.get('records_flagged', 0)} flagged with warnings); "
               f"{result['loaded']['dossiers_changed']} dossiers changed; marts: "
               + ", ".join(f"{k} {v} rows" for k, v in result["marts"].items()))
    if st["records_quarantined"]:
        click.echo("quarantined records are in audit.quarantine (see `motcua quarantine list`).")
    summary = result.get("summary", {})
    if summary.get("data_docs"):
        click.echo(f"data docs (validation results): {summary['data_docs']}")
    if summary.get("bi_snapshot"):
        click.echo(f"BI snapshot (read-only, for BI tools): {summary['bi_snapshot']}")
    if quiet:
        return
    y = year or latest_year(settings.warehouse_url)
    if y is None:
        click.echo("no received dossiers: nothing to print")
        return
    import shutil

    from rich.console import Console

    from motcua.report import print_tables

    tables = reporting.build_report(settings.warehouse_url, y)
    # table 2 has 14 columns: never squeeze it below 150 characters (piped output included)
    print_tables(tables, Console(width=max(150, shutil.get_terminal_size((150, 40)).columns)))
    paths = reporting.write_csv(tables, Path(settings.data_dir) / "reports" / str(y))
    click.echo("written: " + ", ".join(str(p) for p in paths))
