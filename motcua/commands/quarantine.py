"""``motcua quarantine list|show|retry``: work from the records a run could not place."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from motcua.redact import scrub

WAREHOUSE_HELP = "SQLAlchemy URL of the warehouse (env MOTCUA_WAREHOUSE_URL; default duckdb:///var/warehouse.duckdb)."


def _url(warehouse: str | None) -> str:
    from motcua.commands import require_warehouse
    from motcua.settings import Settings

    return require_warehouse(Settings.from_env(warehouse_url=warehouse).warehouse_url, "quarantine")


@click.group()
def quarantine() -> None:
    """Quarantined records (audit.quarantine): counts, raw records, retry after a fix.

    A record is quarantined when it cannot be placed (not JSON, no MaHoSo, a code
    outside its table, dates missing or impossible, no due computable …); it is kept
    with its reason and counted nowhere until a retry loads it.
    """


@quarantine.command("list")
@click.option("--warehouse", default=None, metavar="URL", help=WAREHOUSE_HELP)
@click.option("--all", "include_resolved", is_flag=True, help="Include records already resolved by a retry.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_(warehouse: str | None, include_resolved: bool, as_json: bool) -> None:
    """Count quarantined records by reason (the text before ':') and source; open ones
    unless --all."""
    from motcua import quarantine as q

    df = q.counts(_url(warehouse), include_resolved)
    if as_json:
        click.echo(json.dumps(df.to_dict(orient="records"), ensure_ascii=False, default=int))
        return
    if df.empty:
        click.echo("no quarantined records" if include_resolved else "no open quarantined records")
        return
    num_cols = [c for c in ("open", "resolved", "total") if c in df.columns]
    widths = {c: max(len(c), *(len(str(v)) for v in df[c])) for c in df.columns}
    click.echo("  ".join(c.ljust(widths[c]) if c not in num_cols else c.rjust(widths[c]) for c in df.columns))
    for _, r in df.iterrows():
        click.echo("  ".join(str(r[c]).ljust(widths[c]) if c not in num_cols else str(int(r[c])).rjust(widths[c])
                             for c in df.columns))
    click.echo(f"{int(df['open'].sum())} open" + (f", {int(df['resolved'].sum())} resolved" if include_resolved else ""))


@quarantine.command("show")
@click.argument("quarantine_id", required=False)
@click.option("--reason", default=None, metavar="PREFIX", help="Records whose reason starts with PREFIX.")
@click.option("--limit", default=10, show_default=True, type=int, help="Show at most this many records.")
@click.option("--warehouse", default=None, metavar="URL", help=WAREHOUSE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of text.")
def show(quarantine_id: str | None, reason: str | None, limit: int, warehouse: str | None, as_json: bool) -> None:
    """Show quarantined records in full (raw record and reason): by QUARANTINE_ID (or
    a prefix of it) or by --reason PREFIX."""
    import pandas as pd

    from motcua import quarantine as q

    if not quarantine_id and not reason:
        raise click.UsageError("give a QUARANTINE_ID (or a prefix of it) or --reason PREFIX")
    df = q.find(_url(warehouse), quarantine_id, reason, limit)
    if df.empty:
        click.echo("no quarantined record matches", err=True)
        sys.exit(1)
    for _, r in df.iterrows():
        row = {k: (None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)) for k, v in r.items()}
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        status = f"resolved by run {row['resolved_run_id']}" if row["resolved_run_id"] else "open"
        click.echo(f"quarantine_id {row['quarantine_id']} ({status})")
        click.echo(f"  source   {row['source']}  at {row['locator']}")
        click.echo(f"  dossier  {row['dossier_code'] or '-'}   run {row['run_id']}  quarantined {row['quarantined_at']}")
        click.echo(f"  reason   {row['reason']}")
        click.echo(f"  record   {row['record']}")
        click.echo("")


@quarantine.command("retry")
@click.option("--reason", default=None, metavar="PREFIX", help="Only open records whose reason starts with PREFIX.")
@click.option("--from-file", "from_file", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSONL of corrected records: each line replaces the open record with the same MaHoSo "
                   "(or the record of the matching --id).")
@click.option("--id", "ids", multiple=True, metavar="ID",
              help="Only this record (id or prefix); repeat for several. With --from-file: one id per line, in order.")
@click.option("--warehouse", default=None, metavar="URL", help=WAREHOUSE_HELP)
@click.option("--data-dir", default=None, type=click.Path(file_okay=False),
              help="Folder for the retry's run files (env MOTCUA_DATA_DIR; default ./var).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def retry(reason: str | None, from_file: Path | None, ids: tuple[str, ...], warehouse: str | None,
          data_dir: str | None, as_json: bool) -> None:
    """Send open quarantined records again through the normal stages after a fix (or with
    corrected lines): staged and validated, loaded, the marts they touch rebuilt and
    published, as a run of the ``quarantine-retry`` flow.

    Records loaded are marked resolved and counted once; those that still fail stay
    quarantined with their new reason. Exits non-zero only when the retry itself
    could not be carried out.
    """
    from flows.quarantine_retry import quarantine_retry
    from motcua import quarantine as q
    from motcua.redact import conceal
    from motcua.settings import Settings, SettingsError
    from warehouse.errors import PipelineError

    try:
        settings = Settings.from_env(warehouse_url=warehouse, data_dir=data_dir)
        result = quarantine_retry(warehouse=conceal(settings.warehouse_url), data_dir=str(settings.data_dir),
                                  reason=reason, ids=list(ids) or None,
                                  from_file=str(from_file.resolve()) if from_file else None)
    except (q.QuarantineError, PipelineError, SettingsError) as exc:
        click.secho(f"motcua quarantine retry failed: {scrub(exc)}", fg="red", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, default=str))
        return
    if not result["retried"]:
        click.echo("nothing to retry: no open quarantined record matches")
        return
    click.echo(f"retry run {', '.join(result['runs'])}: {result['retried']} record(s) retried, {result['resolved']} "
               f"loaded and resolved ({result['flagged']} flagged with warnings), {result['still_quarantined']} "
               f"still quarantined; {result['dossiers_changed']} dossier(s) changed")
    if result["marts"]:
        click.echo("marts rebuilt: " + ", ".join(f"{k} {v} rows" for k, v in result["marts"].items()))
    for qid, what in result["outcome"].items():
        if what != "resolved":
            click.echo(f"  still quarantined {qid[:12]}: {what}")
