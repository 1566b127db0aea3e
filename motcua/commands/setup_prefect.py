"""``motcua setup-prefect``: what motcua's deployments need on a Prefect server, created
once (idempotent): the global concurrency limit that serialises warehouse writes and the
process work pool of prefect.yaml."""

from __future__ import annotations

import sys

import click

WRITE_LIMIT = "motcua-warehouse-writes"  # = warehouse.locks.WRITE_LOCK_NAME (kept import-free for --help)
WORK_POOL = "motcua-pool"


def ensure_prefect_setup(limit_name: str = WRITE_LIMIT, pool: str | None = WORK_POOL) -> list[str]:
    """Create the limit (1 slot) and the process work pool on the configured Prefect API
    if they are missing; correct a limit whose size is not 1. Returns what was done."""
    from prefect import get_client
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
        WorkPoolCreate,
    )
    from prefect.exceptions import ObjectNotFound

    done: list[str] = []
    with get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name(limit_name)
        except ObjectNotFound:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=limit_name, limit=1))
            done.append(f"created global concurrency limit {limit_name!r} (1 slot)")
        else:
            if limit.limit != 1 or not limit.active:
                client.update_global_concurrency_limit(
                    limit_name, GlobalConcurrencyLimitUpdate(limit=1, active=True))
                done.append(f"set global concurrency limit {limit_name!r} to 1 active slot")
            else:
                done.append(f"global concurrency limit {limit_name!r} already there (1 slot)")
        if pool:
            try:
                client.read_work_pool(pool)
                done.append(f"work pool {pool!r} already there")
            except ObjectNotFound:
                from prefect.workers.process import ProcessWorker

                client.create_work_pool(WorkPoolCreate(
                    name=pool, type="process", base_job_template=ProcessWorker.get_default_base_job_template(),
                    description="motcua: nightly, backfill and annual_report flow runs (see prefect.yaml)"))
                done.append(f"created process work pool {pool!r}")
    return done


@click.command("setup-prefect")
@click.option("--limit-name", default=WRITE_LIMIT, show_default=True,
              help="Name of the global concurrency limit the flows take (strict) before writing to the warehouse.")
@click.option("--pool", default=WORK_POOL, show_default=True,
              help="Name of the process work pool prefect.yaml's deployments run on.")
@click.option("--no-pool", is_flag=True, help="Only create the concurrency limit.")
def setup_prefect(limit_name: str, pool: str, no_pool: bool) -> None:
    """Prepare the Prefect server in PREFECT_API_URL for motcua's deployments.

    Creates, if missing: the global concurrency limit (1 slot) that keeps a nightly run
    and a backfill from writing the warehouse at the same time, and the process work
    pool. Safe to run again. Next: `prefect --no-prompt deploy --all`, then
    `prefect worker start --pool motcua-pool`.
    """
    from prefect.settings import get_current_settings

    api = get_current_settings().api.url
    if not api:
        click.secho("PREFECT_API_URL is not set: this would only prepare a temporary local server. "
                    "Start one (`prefect server start`) and set PREFECT_API_URL=http://127.0.0.1:4200/api.",
                    fg="red", err=True)
        sys.exit(1)
    try:
        done = ensure_prefect_setup(limit_name, None if no_pool else pool)
    except Exception as exc:  # noqa: BLE001 - unreachable server, bad credentials: say so
        click.secho(f"motcua setup-prefect failed on {api}: {exc}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"Prefect server {api}:")
    for line in done:
        click.echo(f"  {line}")
