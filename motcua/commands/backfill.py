"""``motcua backfill``: the backfill flow from the command line (a date range read
again, from the source or the raw zone; the affected mart periods rebuilt)."""

from __future__ import annotations

import datetime as dt

import click

from motcua.commands.nightly import (
    common_options,
    echo_dry_run,
    echo_summary,
    fail,
    preflight,
    stage_progress,
)


@click.command("backfill")
@click.option("--from", "date_from", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="First day of the range, YYYY-MM-DD (local date, included).")
@click.option("--to", "date_to", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day of the range, YYYY-MM-DD (local date, included).")
@common_options
@click.option("--replay", is_flag=True,
              help="Process again the raw-zone files extracted in the range "
                   "(<data dir>/raw/source=…/extracted=YYYY-MM-DD) instead of reading the source; "
                   "--source may then also be the raw-zone name (bundle-…).")
@click.option("--rebuild-all", is_flag=True, help="Rebuild every mart period, not only those the range touches.")
def backfill(date_from: dt.datetime, date_to: dt.datetime, source: str | None, warehouse: str | None,
             data_dir: str | None, quarantine_threshold: float | None, allow_source_faults: bool | None,
             dry_run: bool, show_progress: bool | None,
             replay: bool, rebuild_all: bool) -> None:
    """Read the dossier changes from --from to --to again (from SOURCE: every change since
    --from; with --replay: what the raw zone holds for those days), load what is newer
    than the warehouse, and rebuild the mart periods the range and the changes touch.

    Safe next to a nightly run: warehouse writes wait for the write lock.
    """
    from flows.backfill import backfill as backfill_flow
    from motcua.redact import conceal
    from motcua.settings import SettingsError
    from motcua.sources.http import HttpSourceError
    from warehouse.errors import PipelineError

    try:
        preflight(warehouse, None if replay else source)
        with stage_progress(show_progress):  # the flow run gets the URLs redacted (motcua.redact)
            result = backfill_flow(date_from=date_from.date(), date_to=date_to.date(), source=conceal(source),
                                   replay=replay, rebuild_all=rebuild_all, warehouse=conceal(warehouse),
                                   data_dir=data_dir, quarantine_threshold=quarantine_threshold,
                                   allow_source_faults=allow_source_faults, dry_run=dry_run)
    except (PipelineError, SettingsError, HttpSourceError, FileNotFoundError, ValueError) as exc:
        fail("backfill", exc)
    if dry_run:
        echo_dry_run(result["dry_run"])
        return
    how = f"replayed {', '.join(result['replayed_partitions'] or []) or 'no partition'}" if replay else "re-extracted"
    click.echo(f"backfill {result['date_from']} → {result['date_to']} ({how}):")
    echo_summary(result)
