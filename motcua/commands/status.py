"""``motcua status``: the last run of each flow, each source's freshness, the marts'
publication time and the open quarantine, read from the warehouse (never created)."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

STALE_HOURS = 36.0
"""A source whose newest loaded update (its watermark) is older than this is stale:
a nightly source should move every day."""


@click.command()
@click.option("--warehouse", default=None, metavar="URL",
              help="SQLAlchemy URL of the warehouse (env MOTCUA_WAREHOUSE_URL; default duckdb:///var/warehouse.duckdb).")
@click.option("--stale-hours", type=float, default=STALE_HOURS, show_default=True,
              help="Call a source stale when its watermark (newest NgayCapNhat loaded) is older than this.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts and monitoring).")
def status(warehouse: str | None, stale_hours: float, as_json: bool) -> None:
    """Show the warehouse's state: the last run of each flow (when, how long, records
    read/loaded/quarantined, its error or source faults), each source's watermark and
    freshness, when the marts were last published, the open quarantine.

    Exits 0 when every flow's last run completed and no source is stale, 1 when the
    warehouse is missing or unreadable, 2 when a last run failed, had a failed step or
    source faults, or a source is stale.
    """
    from motcua.redact import scrub
    from motcua.settings import Settings
    from warehouse.engine import connected
    from warehouse.status import absent, read_status

    url = Settings.from_env(warehouse_url=warehouse).warehouse_url
    missing = absent(url)
    if missing:
        click.secho(f"motcua status: {missing}", fg="red", err=True)
        sys.exit(1)
    try:
        with connected(url) as conn:
            state = read_status(conn, dt.datetime.now(), stale_hours)
    except Exception as exc:  # noqa: BLE001 - one line, the URL never shown with its password
        click.secho(f"motcua status: cannot read the warehouse: {scrub(str(exc).splitlines()[0])}", fg="red", err=True)
        sys.exit(1)
    unhealthy = (any(r["status"] == "failed" or r["source_faults"] or r["failed_steps"] for r in state["runs"])
                 or any(s["stale"] for s in state["sources"]))
    if as_json:
        click.echo(json.dumps(state, ensure_ascii=False, indent=2))
    else:
        _print(state)
    sys.exit(2 if unhealthy else 0)


def _print(state: dict) -> None:
    from motcua.sources.limits import describe_fault

    if not state["runs"]:
        click.echo("no run recorded yet")
    for r in state["runs"]:
        took = "" if r["seconds"] is None else f", {r['seconds']:g} s"
        line = (f"{r['flow']}: {r['status']} {r['started_at']}{took}, source {r['source']}: "
                f"{r['records_read']} read, {r['records_loaded']} loaded, {r['records_quarantined']} quarantined")
        click.secho(line, fg="red" if r["status"] == "failed" else None)
        if r["error"]:
            click.echo(f"  error: {str(r['error']).splitlines()[0]}")
        for fault in r["source_faults"]:
            click.secho(f"  source fault: {describe_fault(fault) if isinstance(fault, dict) else fault}", fg="yellow")
        for step in r.get("failed_steps") or []:
            click.secho(f"  failed step: {step.get('error') if isinstance(step, dict) else step}", fg="red")
    for s in state["sources"]:
        age = "" if s["age_hours"] is None else f", {s['age_hours']:g} h old"
        stale = f" STALE (over {state['stale_hours']:g} h)" if s["stale"] else ""
        click.secho(f"source {s['source']}: watermark {s['watermark']}{age}{stale}, stored {s['stored_at']}",
                    fg="yellow" if s["stale"] else None)
    click.echo(f"marts last published: {state['marts_published_at'] or 'never'}")
    total = sum(state["quarantine_open"].values())
    per = ", ".join(f"{k} {v}" for k, v in sorted(state["quarantine_open"].items()))
    click.echo(f"quarantine: {total} open" + (f" ({per})" if per else ""))
