"""``motcua serve``: run the one-stop system simulator on an export bundle."""

from __future__ import annotations

import click


@click.command()
@click.option("--source", "bundle", required=True, type=click.Path(exists=True, file_okay=False),
              help="Export bundle folder to serve.")
@click.option("--port", required=True, type=click.IntRange(0, 65535), help="Port (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--token", default=None, help="Require 'Authorization: Bearer TOKEN'.")
@click.option("--latency-ms", default=0.0, show_default=True, type=click.FloatRange(min=0),
              help="Delay before every response.")
@click.option("--fail-rate-429", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of requests answered 429 with Retry-After.")
@click.option("--fail-rate-5xx", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of requests answered 500 or 503.")
@click.option("--truncate-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of responses cut off mid-JSON.")
@click.option("--drop-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of connections closed without a response.")
@click.option("--stall-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of responses delayed by --stall-ms (client time-outs).")
@click.option("--stall-ms", default=5000.0, show_default=True, type=click.FloatRange(min=0))
@click.option("--mid-paging-changes", default=0, show_default=True, type=click.IntRange(min=0),
              help="Snapshots added after the first page is served.")
@click.option("--late-changes", default=0, show_default=True, type=click.IntRange(min=0),
              help="Late snapshots (up to --late-window-s older than the newest) added after a last page.")
@click.option("--late-window-s", default=600, show_default=True, type=click.IntRange(min=1))
@click.option("--retry-after", default=1, show_default=True, type=click.IntRange(min=0),
              help="Retry-After seconds sent with 429.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the fault generator.")
def serve(bundle: str, port: int, host: str, token: str | None, latency_ms: float, fail_rate_429: float,
          fail_rate_5xx: float, truncate_rate: float, drop_rate: float, stall_rate: float, stall_ms: float,
          mid_paging_changes: int, late_changes: int, late_window_s: int, retry_after: int,
          seed: int) -> None:
    """Serve BUNDLE through the one-stop HTTP API (/procedures, /agencies, /dossiers).

    Lines of the bundle that are not valid JSON objects or have no readable NgayCapNhat
    cannot be served by an API and are skipped. Faults are drawn from a generator seeded
    with --seed. Stop with Ctrl-C.
    """
    from motcua.dev.simulator.server import Simulator

    try:
        sim = Simulator(
            bundle, host=host, port=port, token=token, latency_ms=latency_ms,
            fail_rate_429=fail_rate_429, fail_rate_5xx=fail_rate_5xx, truncate_rate=truncate_rate,
            drop_rate=drop_rate, stall_rate=stall_rate, stall_ms=stall_ms,
            mid_paging_changes=mid_paging_changes, late_changes=late_changes, late_window_s=late_window_s,
            retry_after=retry_after, seed=seed,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    n = len(sim.snapshots)
    click.echo(f"serving {n} snapshot(s) from {bundle}; {len(sim.skipped)} line(s) skipped (not servable)")
    sim.start()
    click.echo(f"listening on {sim.url}" + (" (bearer token required)" if token else ""), err=False)
    try:
        sim._stop.wait()
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        sim.stop()
