"""The ``motcua`` console command.

Each sub-command lives in its own module under :mod:`motcua.commands` and is
registered below; ``motcua --help`` lists them.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" (imported lazily so that `motcua --help` stays fast)
COMMANDS: dict[str, str] = {
    "sample": "motcua.commands.sample:sample",
    "run": "motcua.commands.run:run",
    "serve": "motcua.commands.serve:serve",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="motcua")
def main() -> None:
    """motcua: one-stop (một cửa) dossier logs -> warehouse -> the annual CCHC report.

    Typical use: `motcua sample --out var/sample` then
    `motcua run --source var/sample --warehouse duckdb:///var/warehouse.duckdb`.
    """
