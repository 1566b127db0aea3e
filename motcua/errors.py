"""One or two lines for the failures a user meets, instead of a traceback.

:func:`explain` turns an exception into a line naming the thing and the fix (the
warehouse or source server that cannot be reached, a DuckDB file another process
holds, a full disk, a permission); the ``motcua`` command prints it for any error a
command did not handle itself (``motcua --debug …`` shows the traceback instead).
Every text passes :func:`motcua.redact.scrub`: no password or token is shown."""

from __future__ import annotations

import errno

from motcua.redact import scrub


def first_line(exc: BaseException) -> str:
    """The first non-empty line of ``exc``'s message (its class name when it has none)."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


#: exit codes of the ``motcua`` commands that load (README, "Exit codes")
EXIT_CODES = {
    0: "the run completed and published the marts",
    1: "the run failed (another error)",
    2: "configuration error: a setting, an option, a URL or a path that cannot be used",
    3: "completed with source faults (what was read is published; see --allow-source-faults)",
    4: "more records quarantined than --quarantine-threshold allows: nothing loaded",
    5: "validation stopped publication: a critical expectation failed, the warehouse as it was",
    6: "the warehouse is locked by another run (or a program holding the DuckDB file)",
    7: "the source or the warehouse cannot be reached, or refuses the user, password or database",
    8: "published, but a step after the publish failed (the BI snapshot, the run's artifacts)",
}


def exit_code(exc: BaseException) -> int:
    """The exit code for ``exc`` (:data:`EXIT_CODES`)."""
    import sqlalchemy as sa

    from motcua.settings import SettingsError
    from motcua.sources.http import HttpSourceError

    code = getattr(exc, "exit_code", None)
    if isinstance(code, int):
        return code
    if isinstance(exc, (SettingsError, ValueError)):
        return 2
    if isinstance(exc, sa.exc.DBAPIError):
        return 6 if _duckdb_lock(first_line(exc.orig if exc.orig is not None else exc)) else 7
    if type(exc).__module__.startswith("duckdb") and _duckdb_lock(str(exc)):
        return 6
    if isinstance(exc, (HttpSourceError, FileNotFoundError)) or type(exc).__module__.startswith("httpx"):
        return 7
    return 1


def explain(exc: BaseException) -> str:
    """What went wrong and what to check, in one or two lines (scrubbed)."""
    return scrub(_explain(exc))


def _explain(exc: BaseException) -> str:
    import sqlalchemy as sa

    from motcua.settings import SettingsError
    from warehouse.errors import PipelineError

    if isinstance(exc, (PipelineError, SettingsError)):
        return first_line(exc)
    if isinstance(exc, sa.exc.DBAPIError):
        reason = first_line(exc.orig if exc.orig is not None else exc)
        if _duckdb_lock(reason):
            return (f"the DuckDB warehouse file is open in another process: {reason} -- wait for that run to "
                    "end, or close the program holding it (BI tools read the BI snapshot, not the warehouse)")
        return (f"a database server could not be used: {reason} -- check that it is running and the URL's host, "
                "port, user, password and database (--warehouse / MOTCUA_WAREHOUSE_URL, --source / MOTCUA_SOURCE)")
    if type(exc).__module__.startswith("duckdb") and _duckdb_lock(str(exc)):
        return (f"the DuckDB warehouse file is open in another process: {first_line(exc)} -- wait for that run "
                "to end, or close the program holding it")
    if isinstance(exc, OSError) and (exc.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left" in str(exc)):
        where = f" writing {exc.filename}" if exc.filename else ""
        return (f"no space left on the device{where} -- free some space, or point --data-dir / MOTCUA_DATA_DIR "
                "(raw zone, run folders) and the warehouse at a larger disk; rerun: nothing was published")
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or first_line(exc)} -- check the owner and mode of that path"
    if type(exc).__module__.startswith("httpx"):
        return (f"the HTTP source could not be reached: {first_line(exc)} -- check the URL (--source / "
                "MOTCUA_SOURCE) and that the server answers")
    return f"{type(exc).__name__}: {first_line(exc)} (run `motcua --debug …` for the traceback)"


def _duckdb_lock(text: str) -> bool:
    return "Could not set lock on file" in text or "Conflicting lock is held" in text
