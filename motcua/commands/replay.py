"""``motcua replay``: rebuild the warehouse from the raw landing zone alone."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--warehouse", default=None, metavar="URL", help="SQLAlchemy URL of the warehouse (env MOTCUA_WAREHOUSE_URL).")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False),
              help="Folder holding raw/ (env MOTCUA_DATA_DIR; default ./var).")
def replay(warehouse: str | None, data_dir: str | None) -> None:
    """Re-process every record of the raw zone (as first read, with the latest catalogue
    read with it) into the warehouse: no access to the original source is needed. The
    newest snapshot per dossier wins, so replaying is idempotent."""
    from flows.pipeline import motcua_run
    from motcua.settings import Settings
    from motcua.sources.replay import ReplaySource
    from warehouse.errors import PipelineError

    settings = Settings.from_env(warehouse_url=warehouse, data_dir=data_dir)
    raw = Path(settings.data_dir) / "raw"
    try:
        files = ReplaySource(raw).record_files()
        click.echo(f"replaying {len(files)} raw file(s) from {raw}")
        result = motcua_run(source=f"raw:{raw}", warehouse=settings.warehouse_url, data_dir=str(settings.data_dir))
    except (PipelineError, FileNotFoundError, ValueError) as exc:
        from motcua.commands.nightly import fail

        fail("replay", exc)
    st = result["staged"]
    click.echo(f"replayed {st['records_read']} records: {st['records_loaded']} loaded, "
               f"{st['records_quarantined']} quarantined")
