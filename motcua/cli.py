"""The ``motcua`` console command.

Each sub-command lives in its own module under :mod:`motcua.commands` and is
registered below; ``motcua --help`` lists them.
"""

from __future__ import annotations

import importlib
import os

import click

# Sane defaults for Prefect when motcua runs flows without a configured server: a slow
# machine may need more than Prefect's default time to start its temporary server, and
# nothing is sent home. Users can override any of these in their environment.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

# name -> "module:attribute" (imported lazily so that `motcua --help` stays fast)
COMMANDS: dict[str, str] = {
    "sample": "motcua.commands.sample:sample",
    "run": "motcua.commands.run:run",
    "report": "motcua.commands.report:report",
    "explain": "motcua.commands.report:explain",
    "replay": "motcua.commands.replay:replay",
    "serve": "motcua.commands.serve:serve",
    "quarantine": "motcua.commands.quarantine:quarantine",
    "check-report": "motcua.commands.check_report:check_report",
    "warehouse": "motcua.commands.warehouse:warehouse",
    "nightly": "motcua.commands.nightly:nightly",
    "backfill": "motcua.commands.backfill:backfill",
    "setup-prefect": "motcua.commands.setup_prefect:setup_prefect",
    "status": "motcua.commands.status:status",
}


class LazyGroup(click.Group):
    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Every setting (from :func:`motcua.settings.describe`), after the commands."""
        from motcua.settings import SECRET_DESCRIPTIONS, describe

        rows = [(name, (f"[{default}] " if default else "") + text) for name, default, text in describe()]
        rows += list(SECRET_DESCRIPTIONS.items())
        with formatter.section("Settings (environment variables or a .env file; see .env.example)"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; an error it did not handle is shown as one or two lines
        (:func:`motcua.errors.explain`) and exits with its code
        (:func:`motcua.errors.exit_code`), its traceback only with ``--debug``."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            from motcua.errors import exit_code, explain

            name = ctx.invoked_subcommand or "motcua"
            click.secho(f"motcua {name} failed: {explain(exc)}", fg="red", err=True)
            ctx.exit(exit_code(exc))

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
@click.option("--debug", is_flag=True, help="Show the Python traceback of an error instead of its one-line explanation.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              default=None, help="Level of the log lines on stderr, motcua's and Prefect's (default: INFO).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one JSON object per log line on stderr (Prefect's JsonFormatter), for log collectors.")
def main(debug: bool, log_level: str | None, log_format: str) -> None:
    """motcua: one-stop (một cửa) dossier logs -> warehouse -> the annual CCHC report.

    Typical use: `motcua sample --out var/sample` then
    `motcua run --source var/sample --warehouse duckdb:///var/warehouse.duckdb`.
    """
    configure_logging(log_level, log_format)


def configure_logging(level: str | None, fmt: str) -> None:
    """Through Prefect's own logging settings (read when Prefect is first imported, which
    the commands do after this): the level of Prefect's and motcua's loggers, and Prefect's
    JSON formatter on the console handler for ``json``."""
    import logging

    if level:
        os.environ["PREFECT_LOGGING_LEVEL"] = level.upper()
        os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = level.upper()  # other libraries' lines too
        logging.getLogger("motcua").setLevel(level.upper())  # flows/ keeps a level set (its default: INFO)
    if fmt == "json":
        os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_FORMATTER"] = "json"
