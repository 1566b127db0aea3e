"""``motcua warehouse``: migrate the warehouse, give BI tools safe read access, publish
the BI snapshot."""

from __future__ import annotations

import os
import sys

import click

from motcua.redact import scrub
from warehouse.engine import DEFAULT_URL

_WAREHOUSE_OPTION = click.option(
    "--warehouse", "url", default=None, metavar="URL", show_default=DEFAULT_URL,
    help="SQLAlchemy URL of the warehouse (env MOTCUA_WAREHOUSE_URL).")


def _url(url: str | None) -> str:
    from motcua.settings import Settings

    return Settings.from_env(warehouse_url=url).warehouse_url


def _shown(url: str) -> str:
    from motcua.redact import redact_url

    return redact_url(url)  # type: ignore[return-value]


@click.group()
def warehouse() -> None:
    """Warehouse administration: schema migrations, BI access and the BI snapshot."""


@warehouse.command()
@_WAREHOUSE_OPTION
@click.option("--revision", default="head", show_default=True, help="Alembic revision to migrate to.")
def upgrade(url: str | None, revision: str) -> None:
    """Create or migrate the warehouse's schemas, tables and views (Alembic), in one transaction."""
    from warehouse.engine import current_revision, make_engine
    from warehouse.engine import upgrade as run_upgrade

    target = _url(url)
    engine = make_engine(target)
    try:
        before = current_revision(engine)
        run_upgrade(engine, revision)
        after = current_revision(engine)
    except Exception as exc:  # noqa: BLE001 - any failure: one clear line, non-zero exit
        click.secho(f"motcua warehouse upgrade failed: {scrub(exc)}", fg="red", err=True)
        sys.exit(1)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"{_shown(target)}: already at revision {after}")
    else:
        click.echo(f"{_shown(target)}: migrated from {before or 'an empty database'} to revision {after}")


@warehouse.command("grant-bi")
@click.argument("role")
@_WAREHOUSE_OPTION
@click.option("--login/--nologin", default=None,
              help="Let the role log in (or not). Default: a new role is NOLOGIN (grant it to BI users' "
                   "roles); an existing role keeps its setting.")
@click.option("--password-env", metavar="VAR", default=None,
              help="Set the role's password from this environment variable (never on the command line).")
def grant_bi(role: str, url: str | None, login: bool | None, password_env: str | None) -> None:
    """Create (if missing) the read-only BI role ROLE on PostgreSQL and grant it SELECT on
    the marts (now and future) and the dimensions only: not the dossier facts, not audit."""
    from warehouse.bi import NotSupportedError
    from warehouse.bi import grant_bi as run_grant
    from warehouse.engine import create_schema, make_engine

    password = None
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            click.secho(f"--password-env {password_env}: the variable is not set or empty", fg="red", err=True)
            sys.exit(2)
    target = _url(url)
    engine = make_engine(target)
    try:
        if engine.dialect.name == "postgresql":
            create_schema(engine)
        statements = run_grant(engine, role, login=login, password=password)
    except NotSupportedError as exc:
        click.secho(scrub(exc), fg="yellow", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001
        click.secho(f"motcua warehouse grant-bi failed: {scrub(exc)}", fg="red", err=True)
        sys.exit(1)
    finally:
        engine.dispose()
    for stmt in statements:
        click.echo(stmt + ";")
    click.echo(f"role {role}: read-only access to mart.* and core.dim_* on {_shown(target)}")


@warehouse.command()
@_WAREHOUSE_OPTION
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder of the snapshot (motcua_bi.duckdb and parquet/).")
@click.option("--parquet/--no-parquet", default=True, show_default=True, help="Also write Parquet files.")
def snapshot(url: str | None, out_dir: str, parquet: bool) -> None:
    """Publish the marts and dimensions to a read-only DuckDB file (and Parquet files) in
    OUT, swapped in atomically: BI users open it and are never blocked by a run."""
    from warehouse.bi import publish_bi_snapshot

    try:
        snap = publish_bi_snapshot(_url(url), out_dir, parquet=parquet)
    except Exception as exc:  # noqa: BLE001
        click.secho(f"motcua warehouse snapshot failed: {scrub(exc)}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"snapshot: {snap.database}" + (f" and {snap.parquet_dir}/" if snap.parquet_dir else ""))
    for name, n in snap.rows.items():
        click.echo(f"  {name}: {n} rows")
    click.echo(f"open it read-only, e.g. duckdb.connect({str(snap.database)!r}, read_only=True)")
