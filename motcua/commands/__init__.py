"""The ``motcua`` sub-commands, one module each (registered in :mod:`motcua.cli`)."""

from __future__ import annotations

import sys

import click


def require_warehouse(url: str, command: str, code: int = 1) -> str:
    """``url``, when a warehouse with motcua's tables is there; else one line on stderr
    and exit ``code``: a command that reads the warehouse never creates one
    (:func:`warehouse.status.absent`). A server that cannot be reached: one line too
    (:func:`motcua.errors.explain`), exit ``code`` (by default the README's table: 7
    unreachable, 6 a DuckDB file another process holds)."""
    from motcua.errors import exit_code, explain
    from warehouse.status import absent

    try:
        missing = absent(url)
    except Exception as exc:  # noqa: BLE001 - one line, the URL never shown with its password
        ctx = click.get_current_context(silent=True)
        if ctx is not None and ctx.find_root().params.get("debug"):
            raise  # motcua --debug: the traceback
        from motcua.redact import redact_url

        click.secho(f"motcua {command}: cannot read the warehouse {redact_url(url)}: {explain(exc)}", fg="red",
                    err=True)
        sys.exit(exit_code(exc) if code == 1 else code)
    if missing:
        click.secho(f"motcua {command}: {missing}", fg="red", err=True)
        sys.exit(code)
    return url
