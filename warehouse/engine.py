"""Connecting to the warehouse and migrating its schema.

DuckDB (``duckdb:///path``) is the embedded default; PostgreSQL
(``postgresql+psycopg://…``) is for production. DuckDB engines use ``NullPool`` so the
file is not held (and locked) after the run's work is done.

The schema is owned by Alembic revisions (``warehouse/migrations``), on both engines:
:func:`create_schema` upgrades to the newest revision, in one transaction. The Alembic
configuration is built in code, with the migrations folder found next to this module,
so it works from an installed package and from any working directory.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_URL = "duckdb:///var/warehouse.duckdb"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""Alembic's script location (env.py, versions/), inside the installed package."""
MIGRATION_LOCK_KEY = 7_021_965_301
"""PostgreSQL ``pg_advisory_xact_lock`` key held while migrating (a constant unique to motcua)."""
BASELINE_REVISION = "0001"
"""The revision equal to the schema that ``metadata.create_all`` built before Alembic."""

log = logging.getLogger("motcua.warehouse")

_ALEMBIC_LOCK = threading.RLock()
"""Alembic keeps its running environment in module globals (``alembic.context``): one
command at a time per process. Across processes, PostgreSQL upgrades are serialised by
an advisory lock (see migrations/env.py); a DuckDB file has one writer anyway."""


def is_duckdb(engine_or_url: Engine | str) -> bool:
    """True when the engine (or URL) is DuckDB."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "duckdb"


def is_postgresql(engine_or_url: Engine | str) -> bool:
    """True when the engine (or URL) is PostgreSQL."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "postgresql"


Connection = sa.Connection
"""A connection to the warehouse as the stages hold one: opened by :func:`connected` or
:func:`warehouse.locks.writing` and handed to the functions of :mod:`warehouse` (the
stages themselves run no statement on it)."""

_WARNED_OPEN: set[Path] = set()
"""Warehouse files already reported as readable by others (warned once per process)."""


def private_dir(folder: Path) -> Path:
    """Create ``folder`` and its missing parents owner-only (0700); folders that exist
    already keep their mode (they are not ours). Returns ``folder``."""
    missing = []
    p = folder
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(mode=0o700, exist_ok=True)
        os.chmod(d, 0o700)
    return folder


def _private_spill_dir(db: Path) -> None:
    """DuckDB spills what does not fit in memory (rows of any table, the quarantine's raw
    records too) to ``<file>.tmp/``, a folder it creates with the process's umask: when the
    warehouse's folder is open to others, that folder is made (or kept) owner-only first.
    DuckDB empties it on close; the empty folder stays."""
    if not stat.S_IMODE(db.parent.stat().st_mode) & 0o077:
        return  # a private folder (ours, 0700) protects the spill already
    spill = Path(f"{db}.tmp")
    try:
        spill.mkdir(mode=0o700)
    except FileExistsError:
        st = os.lstat(spill)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or not stat.S_IMODE(st.st_mode) & 0o077:
            return
    os.chmod(spill, 0o700)


def _owner_only_files(db: Path, created: list[bool]) -> None:
    """Keep a DuckDB warehouse file and its WAL from being readable by others: the file
    this process created is made 0600 on its first connection (``created``, shared by the
    engine's hooks, says whether that is still to do); the WAL, which DuckDB deletes at each
    checkpoint and re-creates with the process's umask, never has more permission bits
    than the database file itself."""
    if created and created[0] and db.exists():
        os.chmod(db, 0o600)
        created[0] = False
    wal = Path(f"{db}.wal")
    try:
        wal_stat = os.lstat(wal)
        db_mode = stat.S_IMODE(os.stat(db).st_mode)
        wal_mode = stat.S_IMODE(wal_stat.st_mode)
        if wal_mode & ~db_mode and stat.S_ISREG(wal_stat.st_mode):
            os.chmod(wal, wal_mode & db_mode)
    except FileNotFoundError:  # no WAL (or another process checkpointed it away meanwhile)
        return


def _duckdb_config() -> dict[str, str]:
    from motcua.settings import Settings

    s = Settings.from_env()
    return {k: str(v) for k, v in (("memory_limit", s.duckdb_memory_limit), ("threads", s.duckdb_threads)) if v}


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _bytes(setting: str) -> int | None:
    m = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", setting)
    unit = _UNITS.get(m.group(2).lower()) if m else None
    return int(float(m.group(1)) * unit) if m and unit else None


@contextmanager
def duckdb_buffer_share(conn: sa.Connection, fraction: float = 0.5) -> Iterator[None]:
    """While a reader holds large frames in Python (the marts' chunks and their suites,
    the report's batches), DuckDB gets ``fraction`` of its memory limit: its buffer pool
    keeps the blocks a scan read until it reaches the limit, so a scan of a table larger
    than the limit holds the whole limit, and the process would need the limit *plus*
    the frames. The limit is put back on exit (the configured one, or DuckDB's default).
    Nothing on other engines."""
    if conn.dialect.name != "duckdb":
        yield
        return
    limit = _bytes(str(conn.exec_driver_sql("SELECT current_setting('memory_limit')").scalar()))
    if not limit:
        yield
        return
    conn.exec_driver_sql(f"SET memory_limit = '{max(int(limit * fraction), 64 * 2**20)}B'")
    try:
        yield
    finally:
        configured = _duckdb_config().get("memory_limit")
        if configured:
            conn.exec_driver_sql(f"SET memory_limit = '{configured.replace(chr(39), '')}'")
        else:
            conn.exec_driver_sql("RESET memory_limit")


def make_engine(url: str = DEFAULT_URL) -> Engine:
    """An engine for ``url``. A DuckDB warehouse's folder is created owner-only (0700) when
    missing, and a file this engine creates is owner-only (0600), its WAL too: it holds
    ``audit.quarantine``'s raw records (personal data). A DuckDB warehouse takes
    ``MOTCUA_DUCKDB_MEMORY_LIMIT`` (e.g. ``1GB``; DuckDB's default is 80 % of the RAM) and
    ``MOTCUA_DUCKDB_THREADS`` (:class:`motcua.settings.Settings`). ``url`` may be redacted (``user:***@``):
    its password is found by :func:`motcua.redact.reveal`, here and nowhere earlier."""
    from motcua.redact import redact_url, reveal

    real = reveal(url)
    try:
        parsed = make_url(real)
    except (sa.exc.ArgumentError, ValueError):  # the message may quote the URL: never chained
        raise ValueError(f"warehouse URL {redact_url(url)!r} is not a SQLAlchemy URL "
                         "(e.g. duckdb:///var/warehouse.duckdb)") from None
    if parsed.get_backend_name() == "duckdb":
        db = parsed.database
        config = _duckdb_config()
        engine = sa.create_engine(parsed, poolclass=NullPool, connect_args={"config": config} if config else {})
        if db and db != ":memory:" and not db.startswith(("md:", "motherduck:")):
            path = Path(db).expanduser()
            private_dir(path.parent)
            _private_spill_dir(path)
            created = [not path.exists()]
            if not created[0] and stat.S_IMODE(path.stat().st_mode) & 0o077 and path not in _WARNED_OPEN:
                _WARNED_OPEN.add(path)
                log.warning("warehouse file %s is readable by others (mode %o); it holds audit.quarantine's raw "
                            "records: chmod 600 it", path, stat.S_IMODE(path.stat().st_mode))

            def guard(*_: object) -> None:
                _owner_only_files(path, created)

            for event in ("connect", "checkin"):
                sa.event.listen(engine.pool, event, guard)
            sa.event.listen(engine, "after_cursor_execute", guard)
            # DuckDB writes (and re-creates) its WAL at commit: check right after each one
            # (SQLAlchemy's commit event comes before it); this engine's dialect only
            do_commit = engine.dialect.do_commit

            def commit_then_guard(dbapi_connection: object) -> None:
                do_commit(dbapi_connection)
                guard()

            engine.dialect.do_commit = commit_then_guard  # type: ignore[method-assign]
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True)


def check_reachable(url: str, timeout_seconds: int = 10) -> None:
    """Connect once to a server warehouse (PostgreSQL, ...) and ask ``SELECT 1`` within
    ``timeout_seconds``; :class:`~warehouse.errors.WarehouseUnavailable` (one line: the
    server as host:port/database, the driver's reason, what to check) when it cannot.
    A DuckDB file is not checked: it is created on first use, and a file held by
    another run is waited for (:mod:`warehouse.locks`)."""
    from motcua.errors import first_line
    from motcua.redact import reveal
    from warehouse.errors import WarehouseUnavailable

    parsed = make_url(reveal(url))
    if parsed.get_backend_name() == "duckdb":
        return
    where = f"{parsed.host or 'localhost'}:{parsed.port or 'default port'}/{parsed.database or ''}"
    engine = sa.create_engine(parsed, poolclass=NullPool, connect_args={"connect_timeout": timeout_seconds})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        reason = first_line(exc.orig if exc.orig is not None else exc)
        raise WarehouseUnavailable(
            f"cannot use the warehouse at {where} as user {parsed.username or '(none)'}: {reason} -- check that "
            "the server is running and the URL's host, port, user, password and database "
            "(--warehouse / MOTCUA_WAREHOUSE_URL)") from None
    finally:
        engine.dispose()


def alembic_config(connection: sa.Connection | None = None, url: str | None = None) -> Config:
    """An Alembic ``Config`` built in code: script location inside the package; the
    migrations run on ``connection`` when given (inside its transaction), else on ``url``."""
    from alembic.config import Config

    from warehouse import _alembic_duckdb  # noqa: F401 - registers Alembic's DuckDB support

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if url:
        # ConfigParser interpolation: a literal % must be doubled
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision in the package."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the warehouse is at (None: never migrated)."""
    from alembic.migration import MigrationContext

    from warehouse import _alembic_duckdb  # noqa: F401 - registers Alembic's DuckDB support

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _adopt_pre_alembic(conn: sa.Connection, cfg: Config) -> None:
    """A warehouse built by ``metadata.create_all`` before the migrations existed has the
    baseline's tables but no ``alembic_version``: stamp it at the baseline so the later
    revisions apply (keeping its data)."""
    from alembic import command

    insp = sa.inspect(conn)
    if insp.has_table("alembic_version"):
        return
    if insp.has_table("fct_dossier", schema="core") and insp.has_table("dossier_resolution", schema="mart"):
        log.warning("warehouse built before migrations: stamping it at revision %s", BASELINE_REVISION)
        command.stamp(cfg, BASELINE_REVISION)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the warehouse to ``revision`` (default: the newest), in one transaction."""
    from alembic import command

    with _ALEMBIC_LOCK, engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # concurrent runs: one migrates, the others wait
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        cfg = alembic_config(conn)
        _adopt_pre_alembic(conn, cfg)
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the warehouse back to ``revision`` (``base`` drops everything), in one transaction."""
    from alembic import command

    with _ALEMBIC_LOCK, engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def create_schema(engine: Engine) -> None:
    """Bring the warehouse's schemas, tables and views up to date (idempotent): upgrade
    to the newest Alembic revision."""
    upgrade(engine, "head")


@contextmanager
def connected(url: str, *, migrate: bool = False) -> Iterator[sa.Connection]:
    """A connection to the warehouse ``url`` on an engine of its own, disposed at the end
    (so a DuckDB file is not held after); the schema first upgraded when ``migrate``
    (:func:`create_schema`). For reads, and for a writer that commits in steps
    (:func:`warehouse.locks.write_step`)."""
    engine = make_engine(url)
    try:
        if migrate:
            create_schema(engine)
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()
