"""The warehouse's write lock (:func:`warehouse_lock`), and every writing transaction on
PostgreSQL checking that its run still holds it. (The Prefect global concurrency limit a
run takes first, when a server is configured, is orchestration: :mod:`flows.pipeline`.)

:func:`warehouse_lock` holds a *session* advisory lock on a dedicated, idle
connection (the *lock session*) for the whole write section of a run. A session can end
under a run (a server restart, an idle timeout, ``pg_terminate_backend``, a pooler) and
its lock goes with it: another run can then take the lock and write at the same time.
So every transaction that writes to the warehouse is opened with
:func:`write_transaction` (instead of ``engine.begin()``), or :func:`write_step` for a
writer that commits in steps on one connection (the core load: a step a bucket), which
on PostgreSQL:

1. takes the transaction-level advisory lock ``pg_advisory_xact_lock`` on
   :data:`WRITE_XACT_KEY` (another key than the session lock's, which the lock session
   holds): writing transactions never overlap, whichever run they belong to, and this
   lock ends with the transaction, whatever happens to any other session;
2. when this context holds the session lock (:func:`holding` recorded the lock session:
   its backend pid and start time), checks in ``pg_locks`` that this very session still
   holds it, at the start of the transaction, wherever the writer calls
   :func:`check_held`, and again just before the commit. When it does not,
   :class:`WarehouseLockLost` is raised and the transaction is rolled back: nothing of it
   is written (a load's earlier steps stay committed), the run fails, and the next run
   rebuilds.

Hence a transaction commits only if its run's lock session held the lock when the
transaction began and just before it committed; a session lock, once lost, is never
regained by the same session, so no other run wrote in between; and a run that took the
lock after the loss writes only after that transaction has ended (the transaction
lock). The check runs in READ COMMITTED (the warehouse's default): each statement that
follows the transaction lock sees what the previous holder committed.

Transactions outside a write section (recording a failure, a report's publication)
take the transaction lock only. DuckDB is unchanged: its file lock is held by a
connection of the process, and :func:`write_transaction` is ``engine.begin()``.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from motcua.settings import Settings
from warehouse.engine import create_schema, make_engine
from warehouse.errors import PipelineError

log = logging.getLogger("motcua")

WRITE_XACT_KEY = int.from_bytes(hashlib.sha256(b"motcua-warehouse-writes/transaction").digest()[:8], "big",
                                signed=True)
"""The ``pg_advisory_xact_lock`` key every writing transaction takes (not the session
lock's key: the lock session holds that one, so a writer waiting for it would wait for
its own run)."""


class WarehouseLockLost(PipelineError):
    """The run's PostgreSQL session lock was gone when one of its transactions wrote."""


@dataclass(frozen=True)
class LockSession:
    """The session that holds the run's write lock, as a writer can recognise it."""

    key: int
    """The session advisory lock's key."""
    pid: int
    backend_start: dt.datetime
    """With the pid, names the backend: a pid is reused once its backend has ended."""
    warehouse: tuple[str | None, int | None, str | None]
    """(host, port, database) of the warehouse it locks."""


_HELD: contextvars.ContextVar[LockSession | None] = contextvars.ContextVar("motcua_write_lock_session", default=None)


def _warehouse_of(url: sa.engine.URL) -> tuple[str | None, int | None, str | None]:
    return url.host, url.port or 5432, url.database


@contextmanager
def holding(conn: sa.Connection, key: int) -> Iterator[LockSession]:
    """While the block runs, the writers of this context (this thread, and the Prefect
    tasks a flow calls in it) know that ``conn``'s session holds the session advisory
    lock ``key``: :func:`write_transaction` checks it is still so."""
    pid, started = conn.execute(sa.text(
        "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")).one()
    conn.commit()
    session = LockSession(key, int(pid), started, _warehouse_of(conn.engine.url))
    token = _HELD.set(session)
    try:
        yield session
    finally:
        _HELD.reset(token)


def held_session() -> LockSession | None:
    """The lock session recorded for this context, if any."""
    return _HELD.get()


def _halves(key: int) -> tuple[int, int]:
    """A bigint advisory key as ``pg_locks`` shows it: (classid, objid)."""
    return (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF


def check_held(conn: sa.Connection, what: str) -> None:
    """Raise :class:`WarehouseLockLost` unless the lock session recorded for this context
    still holds its lock (nothing to check on DuckDB, or outside a write section)."""
    session = _HELD.get()
    if session is None or conn.dialect.name != "postgresql" or session.warehouse != _warehouse_of(conn.engine.url):
        return
    conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))  # pg_stat_activity is cached per transaction
    hi, lo = _halves(session.key)
    held = conn.execute(sa.text(
        "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.pid = :pid AND a.backend_start = :started"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND l.classid::bigint = :hi AND l.objid::bigint = :lo AND l.objsubid = 1)"),
        {"pid": session.pid, "started": session.backend_start, "hi": hi, "lo": lo}).scalar()
    if not held:
        raise WarehouseLockLost(
            f"{what}: the warehouse write lock was lost: its session (backend pid {session.pid}) ended, so another "
            "run may hold the lock now; nothing of this transaction was written, and the next run rebuilds")


@contextmanager
def write_transaction(engine: sa.Engine, what: str, *, check: bool = True) -> Iterator[sa.Connection]:
    """``engine.begin()`` for a transaction that writes to the warehouse. On PostgreSQL it
    first takes the write transaction lock, then (``check``) makes sure this run still
    holds the session lock, at the start and before the commit (see the module's doc).
    ``what`` names the transaction in the error. ``check=False`` (recording a failure)
    only serialises the transaction with the other writers. Never open one inside
    another: the inner one would wait for the outer one's lock forever."""
    with engine.connect() as conn, write_step(conn, what, check=check):
        yield conn


@contextmanager
def writing(warehouse_url: str, what: str, *, migrate: bool = False, check: bool = True) -> Iterator[sa.Connection]:
    """:func:`write_transaction` on an engine of its own for ``warehouse_url`` (disposed
    at the end), the schema first upgraded when ``migrate`` (:func:`create_schema`)."""
    engine = make_engine(warehouse_url)
    try:
        if migrate:
            create_schema(engine)
        with write_transaction(engine, what, check=check) as conn:
            yield conn
    finally:
        engine.dispose()


@contextmanager
def write_step(conn: sa.Connection, what: str, *, check: bool = True) -> Iterator[sa.Connection]:
    """One writing transaction on an open connection, committed at the end: what
    :func:`write_transaction` does, for a writer that commits in several steps on the same
    connection (the core load, one step a bucket)."""
    with conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_XACT_KEY})
            if check:
                check_held(conn, what)
        yield conn
        if check:
            check_held(conn, what)


# --------------------------------------------------------------------------- the write lock
WRITE_LOCK_NAME = "motcua-warehouse-writes"
"""One name for the warehouse's write lock: the Prefect global concurrency limit and
the database lock (PostgreSQL advisory lock key derived from it)."""

_PROCESS_LOCKS: dict[str, threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


class WarehouseLockTimeout(PipelineError):
    """The warehouse write lock could not be taken in time."""

    exit_code = 6  # the README's exit codes: the warehouse is locked by another run


def lock_timeout() -> float:
    """Seconds a run waits for the warehouse (``MOTCUA_LOCK_TIMEOUT_SECONDS``, default 6 h)."""
    from motcua.settings import Settings

    return Settings.from_env().lock_timeout_seconds


def is_locked_error(exc: BaseException) -> bool:
    """True for DuckDB's "another process holds the file" error."""
    text = str(exc)
    return "Could not set lock on file" in text or "Conflicting lock is held" in text


def with_warehouse_retry(fn: Callable[[], object], settings: Settings, timeout: float | None = None) -> object:
    """Call ``fn``; while another process holds a DuckDB warehouse file, wait and retry
    (back-off up to 5 s) until ``timeout``. Other errors and other databases: no retry."""
    deadline = time.monotonic() + (lock_timeout() if timeout is None else timeout)
    delay = 0.2
    while True:
        try:
            return fn()
        except Exception as exc:
            if not (is_locked_error(exc) and time.monotonic() < deadline):
                raise
            log.info("warehouse busy (%s): retrying in %.1f s", str(exc).split("\n")[0][:160], delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _process_lock(key: str) -> threading.Lock:
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(key, threading.Lock())


def _advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _unlock(conn: sa.Connection, key: int, holder: str) -> None:
    """Release the session lock; a session that ended has released it already (its
    run's writes have failed since, see this module's doc): a warning, not an error
    that would hide the run's own."""
    try:
        conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        conn.commit()
    except sa.exc.DBAPIError as exc:
        log.warning("%s: the warehouse lock's session had ended before its release: %s", holder,
                    str(exc).strip().splitlines()[0])


@contextmanager
def warehouse_lock(settings: Settings, holder: str, timeout: float | None = None) -> Iterator[str]:
    """Hold the warehouse's write lock (works without any Prefect server).

    * DuckDB: a lock per file inside this process (threads), then a connection kept open
      for the whole block: DuckDB's own file lock keeps every other process out of the
      file (their attempts are retried by :func:`with_warehouse_retry`); the OS releases
      it when the process dies.
    * PostgreSQL: a session advisory lock on a dedicated connection
      (``pg_try_advisory_lock``, polled), released on exit or when the session ends.
      A session can end under the run (server restart, idle timeout,
      ``pg_terminate_backend``, a pooler), and another run then take the lock: so the
      lock session is recorded for this context (:func:`holding`) and every
      writing transaction (:func:`write_transaction`) takes a
      transaction-level advisory lock and checks, at its start and before its commit,
      that this session still holds the lock; if not it raises
      :class:`WarehouseLockLost` and rolls back. So the run fails at its next
      write instead of writing beside another run, and writing transactions of two runs
      never overlap.
    * other databases: no lock (a warning).

    Yields the kind of lock taken. Raises :class:`WarehouseLockTimeout` after ``timeout``
    seconds (default :func:`lock_timeout`).
    """
    wait = lock_timeout() if timeout is None else timeout
    deadline = time.monotonic() + wait
    url = sa.engine.make_url(settings.warehouse_url)
    backend = url.get_backend_name()
    if backend == "duckdb":
        db = url.database or ""
        key = str(Path(db).expanduser().resolve()) if db and db != ":memory:" else settings.warehouse_url
        plock = _process_lock(key)
        if not plock.acquire(timeout=wait):
            raise WarehouseLockTimeout(f"{holder}: another run of this process held the warehouse for {wait:.0f} s")
        try:
            engine = make_engine(settings.warehouse_url)
            try:
                conn = with_warehouse_retry(engine.connect, settings, max(0.0, deadline - time.monotonic()))
            except Exception as exc:
                engine.dispose()
                if is_locked_error(exc):
                    raise WarehouseLockTimeout(f"{holder}: the warehouse file stayed locked for {wait:.0f} s: "
                                               f"{str(exc).splitlines()[0]}") from exc
                raise
            try:
                yield "duckdb-file"
            finally:
                conn.close()  # type: ignore[attr-defined]
                engine.dispose()
        finally:
            plock.release()
    elif backend == "postgresql":
        engine = make_engine(settings.warehouse_url)
        key = _advisory_key(WRITE_LOCK_NAME)
        try:
            with engine.connect() as conn:
                delay = 0.2
                while not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                    conn.commit()
                    if time.monotonic() >= deadline:
                        raise WarehouseLockTimeout(f"{holder}: advisory lock {WRITE_LOCK_NAME} busy for {wait:.0f} s")
                    time.sleep(delay)
                    delay = min(delay * 2, 5.0)
                conn.commit()
                try:
                    with holding(conn, key):
                        yield "postgresql-advisory"
                finally:
                    _unlock(conn, key, holder)
        finally:
            engine.dispose()
    else:
        log.warning("no write lock for %s warehouses: do not run two loads at once", backend)
        yield "none"
