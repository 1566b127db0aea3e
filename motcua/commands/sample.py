"""``motcua sample``: write the deterministic sample export bundle."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("sample")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the bundle into (its previous sample files are replaced).")
@click.option("--seed", default=2019, show_default=True, type=int,
              help="Random seed: the same seed writes the same bytes.")
def sample(out: Path, seed: int) -> None:
    """Write a made-up export bundle (procedures.csv, agencies.csv, dossiers/*.jsonl[.gz])
    whose 2019 dossiers reproduce the seed report's appendix tables."""
    from motcua.dev.sample.bundle import write_sample

    summary = write_sample(out, seed=seed)
    click.echo(f"wrote the sample export bundle to {summary['out']} (seed {summary['seed']})")
    click.echo(f"  procedures: {summary['procedures']} codes in {summary['catalogue_rows']} "
               f"catalogue rows; agencies: {summary['agencies']}")
    click.echo(f"  files: {', '.join(summary['files'])}")
    click.echo("  year  dossiers  lines")
    for year, count in summary["dossiers"].items():
        click.echo(f"  {year}  {count:8d}  {summary['lines'].get(year, 0):5d}")
    click.echo(f"  lines: {summary['lines_total']} in all ({summary['quarantine_records']} to be "
               f"quarantined), {summary['duplicate_lines']} exact duplicates")
    click.echo(f"  2019: {summary['received_2019']} received "
               f"({summary['received_2019_online']} online), all resolved on time")
    click.echo(f"  records that must be quarantined: {summary['quarantine_records']}")
