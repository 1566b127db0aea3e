"""What BI tools may read, and how they read it safely.

BI tools read the **marts** (the stable views ``mart.dossier_resolution``,
``mart.dossier_intake``, ``mart.indicator``) and the **dimensions** (``core.dim_*``);
never the dossier-level facts (``core.fct_dossier``, ``core.fct_dossier_event``:
pseudonymous keys to people) nor ``audit`` (the quarantine keeps raw records).

* PostgreSQL: :func:`grant_bi` creates a read-only role with exactly those grants (and
  SELECT on future mart tables). Loads replace the marts in one transaction with
  ``DELETE`` + ``COPY``, so BI readers are never blocked and see the previous complete
  marts until the load commits.
* DuckDB has no roles, and a process writing the file locks everyone else out:
  :func:`publish_bi_snapshot` writes the marts and dimensions to a separate read-only
  DuckDB file (and Parquet files) under a temporary name and swaps it in atomically, so
  BI users open the snapshot and are never blocked by, nor see half of, a run.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from motcua.redact import redact_url
from warehouse import bi_views, load, schema
from warehouse.engine import current_revision, head_revision, is_duckdb, make_engine

log = logging.getLogger("motcua.warehouse")

SNAPSHOT_FILE = "motcua_bi.duckdb"
"""Name of the snapshot database inside the snapshot folder."""
PARQUET_LINK = "parquet"
"""Name of the Parquet folder (a symbolic link to the current version) inside it."""
# DuckDB 2.0 writes new files in its v2.0.0 storage format by default, which no DuckDB 1.x
# opens ("Trying to read a database file with version number 69, but we can only read
# versions between 64 and 68"), and BI drivers often bundle a DuckDB 1.x. The snapshot is
# therefore written in storage version v1.0.0, the format of DuckDB 1.0, which later
# releases read too (DuckDB reads files of older storage versions);
# tests/warehouse/test_bi_snapshot_compat.py opens it with DuckDB 1.5.6. Raise it only
# when every BI tool in use reads the newer format.
SNAPSHOT_STORAGE_VERSION = "v1.0.0"
"""DuckDB storage version of the snapshot file (``ATTACH ... (STORAGE_VERSION ...)``)."""

DUCKDB_HAS_NO_ROLES = (
    "DuckDB has no roles or grants: whoever can read the warehouse file can read every table, "
    "including the dossier facts and the quarantine, and a BI tool holding the file open would "
    "block the pipeline's runs. Give BI users the read-only snapshot of the marts and dimensions "
    "instead: `motcua warehouse snapshot --out DIR` (refreshed at the end of each run), and open "
    f"DIR/{SNAPSHOT_FILE} read-only or the Parquet files in DIR/{PARQUET_LINK}/."
)


class NotSupportedError(RuntimeError):
    """The warehouse's engine cannot do what was asked (e.g. roles on DuckDB)."""


def bi_relations() -> dict[str, sa.Table]:
    """``schema.name`` -> a Table object for every relation BI may read: the stable mart
    views (columns as their versioned tables), the BI views per period type
    (:mod:`warehouse.bi_views`) and the dimensions."""
    md = sa.MetaData()
    out: dict[str, sa.Table] = {}
    for view, table in schema.MART_VIEWS.items():
        cols = [sa.Column(c.name, c.type, comment=c.comment) for c in schema.view_columns(view)]
        out[f"mart.{view}"] = sa.Table(view, md, *cols, schema="mart", comment=table.comment)
    out.update(bi_views.view_tables())
    for table in schema.DIMENSION_TABLES:
        out[table.fullname] = table
    return out


# --------------------------------------------------------------------------- PostgreSQL roles
def _ident(conn: sa.Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def grant_bi(engine: Engine, role: str, *, login: bool | None = None, password: str | None = None) -> list[str]:
    """Create (if missing) the read-only BI role ``role`` and grant it exactly what BI may
    read: USAGE on schemas ``mart`` and ``core``, SELECT on every mart table and view (and,
    by default privileges, on the mart tables created later) and on the dimensions
    ``core.dim_*``; nothing on the facts nor on ``audit``. Idempotent.

    ``login``: True/False sets LOGIN/NOLOGIN; None creates a NOLOGIN role and leaves an
    existing role's setting alone. ``password`` (never logged) is set when given. Returns
    the statements run (the password masked). Raises :class:`NotSupportedError` on DuckDB.
    """
    if is_duckdb(engine):
        raise NotSupportedError(DUCKDB_HAS_NO_ROLES)
    if engine.dialect.name != "postgresql":
        raise NotSupportedError(f"grant-bi supports PostgreSQL only, not {engine.dialect.name}")
    if not role or len(role.encode()) > 63:
        raise ValueError(f"invalid role name {role!r} (1 to 63 bytes)")
    done: list[str] = []
    with engine.begin() as conn:

        def run(sql: str, shown: str | None = None) -> None:
            conn.exec_driver_sql(sql)
            done.append(shown or sql)

        r = _ident(conn, role)
        exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
        if not exists:
            run(f"CREATE ROLE {r} {'LOGIN' if login else 'NOLOGIN'}")
        elif login is not None:
            run(f"ALTER ROLE {r} {'LOGIN' if login else 'NOLOGIN'}")
        if password is not None:
            from psycopg import sql as pgsql

            raw = conn.connection.driver_connection
            stmt = pgsql.SQL("ALTER ROLE {} PASSWORD {}").format(pgsql.Identifier(role), pgsql.Literal(password))
            with raw.cursor() as cur:
                cur.execute(stmt)
            done.append(f"ALTER ROLE {r} PASSWORD '********'")
        run(f"ALTER ROLE {r} SET default_transaction_read_only = on")
        database = conn.execute(sa.text("SELECT current_database()")).scalar()
        run(f"GRANT CONNECT ON DATABASE {_ident(conn, database)} TO {r}")
        # a clean slate, then exactly the BI grants
        run(f"REVOKE ALL ON ALL TABLES IN SCHEMA core FROM {r}")
        run(f"REVOKE ALL ON ALL TABLES IN SCHEMA audit FROM {r}")
        run(f"REVOKE ALL ON SCHEMA audit FROM {r}")
        run(f"GRANT USAGE ON SCHEMA mart, core TO {r}")
        run(f"GRANT SELECT ON ALL TABLES IN SCHEMA mart TO {r}")
        dims = ", ".join(f"core.{_ident(conn, t.name)}" for t in schema.DIMENSION_TABLES)
        run(f"GRANT SELECT ON {dims} TO {r}")
        owner = conn.execute(sa.text(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'mart'")).scalar()
        run(f"ALTER DEFAULT PRIVILEGES FOR ROLE {_ident(conn, owner)} IN SCHEMA mart GRANT SELECT ON TABLES TO {r}")
    log.info("BI role %s granted read access to the marts and dimensions", role)
    return done


# --------------------------------------------------------------------------- snapshot
@dataclass
class Snapshot:
    """Where a BI snapshot was published, and what it holds."""

    database: Path
    parquet_dir: Path | None
    rows: dict[str, int] = field(default_factory=dict)
    created_at: dt.datetime = field(default_factory=dt.datetime.now)


def _reader_engine(warehouse_url: str) -> Engine:
    """An engine that only reads: a DuckDB file is opened ``read_only`` (other read-only
    openers are not locked out), unless this process already has it open read-write."""
    if not is_duckdb(warehouse_url):
        return make_engine(warehouse_url)
    url = make_url(warehouse_url)
    db = url.database
    if not db or db == ":memory:" or not Path(db).expanduser().exists():
        raise FileNotFoundError(f"no DuckDB warehouse at {redact_url(warehouse_url)}")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"read_only": True})
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        if "different configuration" in str(exc):
            return make_engine(warehouse_url)
        raise RuntimeError(f"cannot open the warehouse {redact_url(warehouse_url)} (a run may hold it; the snapshot is "
                           f"refreshed at the end of each run): {exc.orig}") from exc
    return engine


def _read_bi_tables(warehouse_url: str) -> tuple[dict[str, pa.Table], dict[str, object]]:
    """Every BI relation as Arrow, read in one transaction (one consistent state)."""
    engine = _reader_engine(warehouse_url)
    try:
        head = head_revision()
        try:
            rev = current_revision(engine)
        except sa.exc.DBAPIError as exc:
            raise RuntimeError(f"cannot open the warehouse {redact_url(warehouse_url)} "
                               f"(a run may hold it; the snapshot is refreshed at the end of each run): {exc}") from exc
        if rev != head:
            raise RuntimeError(f"warehouse is at revision {rev}, not {head}: run `motcua warehouse upgrade` "
                               "(or a pipeline run) first")
        options = {} if is_duckdb(warehouse_url) else {"isolation_level": "REPEATABLE READ"}
        with engine.connect().execution_options(**options) as conn:
            tables = {name: load.read_arrow(conn, rel) for name, rel in bi_relations().items()}
            t = schema.run
            found = conn.execute(sa.select(t.c.run_id, t.c.finished_at).where(t.c.status == "completed")
                                 .order_by(t.c.finished_at.desc()).limit(1)).all()
            last = found[0] if found else None
            conn.rollback()
    finally:
        engine.dispose()
    info = {"schema_revision": rev, "last_run_id": last[0] if last else None,
            "last_run_finished_at": last[1] if last else None}
    return tables, info


def _sql_literal(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def _write_duckdb(path: Path, tables: dict[str, pa.Table], info: dict[str, object], created_at: dt.datetime) -> None:
    import duckdb

    relations = bi_relations()
    # an in-memory connection attaching the file: ATTACH is where DuckDB takes the storage
    # version a new file is written in; USE makes it the default catalog for what follows
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_sql_literal(str(path))} AS motcua_bi "
                    f"(STORAGE_VERSION {_sql_literal(SNAPSHOT_STORAGE_VERSION)})")
        con.execute("USE motcua_bi")
        for name in ("mart", "core"):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {name}")
        for name, data in tables.items():
            rel = relations[name]
            view = f"motcua_src_{uuid.uuid4().hex[:8]}"
            con.register(view, data)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM {view}")
            con.unregister(view)
            con.execute(f"COMMENT ON TABLE {name} IS {_sql_literal(rel.comment)}")
            for col in rel.columns:
                if col.comment:
                    con.execute(f"COMMENT ON COLUMN {name}.{col.name} IS {_sql_literal(col.comment)}")
        meta = pa.table({
            "created_at": pa.array([created_at], pa.timestamp("us")),
            "schema_revision": pa.array([info["schema_revision"]], pa.string()),
            "last_run_id": pa.array([info["last_run_id"]], pa.string()),
            "last_run_finished_at": pa.array([info["last_run_finished_at"]], pa.timestamp("us")),
        })
        con.register("motcua_meta", meta)
        con.execute("CREATE TABLE main.snapshot_info AS SELECT * FROM motcua_meta")
        con.unregister("motcua_meta")
        con.execute("COMMENT ON TABLE main.snapshot_info IS "
                    "'Thông tin bản sao: when this read-only BI snapshot was made, from which run.'")
        con.execute("CHECKPOINT")
        con.execute("USE memory")
        con.execute("DETACH motcua_bi")
    finally:
        con.close()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _publish_parquet(out: Path, tables: dict[str, pa.Table], stamp: str) -> Path:
    """Write the Parquet files into a new version folder and repoint the ``parquet``
    link to it in one ``os.replace``; older versions but the previous are removed."""
    version = out / f".parquet-{stamp}"
    for name, data in tables.items():
        schema_name, table_name = name.split(".")
        target = version / schema_name / f"{table_name}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(data, target)
        os.chmod(target, 0o444)
    link = out / PARQUET_LINK
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)  # a folder from an older layout: replaced once, not atomically
    tmp_link = out / f".{PARQUET_LINK}-{stamp}.link"
    os.symlink(version.name, tmp_link, target_is_directory=True)
    os.replace(tmp_link, link)
    _fsync_dir(out)
    versions = sorted(p for p in out.glob(".parquet-*") if p.is_dir() and not p.is_symlink())
    for old in versions[:-2]:
        if old != version:
            shutil.rmtree(old, ignore_errors=True)
    return link


def publish_bi_snapshot(warehouse_url: str, out_dir: str | os.PathLike[str], *, parquet: bool = True) -> Snapshot:
    """Publish the marts and dimensions (never facts nor audit) of ``warehouse_url`` for BI.

    Writes ``out_dir/motcua_bi.duckdb`` (tables ``mart.dossier_resolution``,
    ``mart.dossier_intake``, ``mart.indicator``, ``core.dim_*`` with their comments, and
    ``snapshot_info``) and, when ``parquet``, ``out_dir/parquet/<schema>/<table>.parquet``.
    Everything is read in one transaction and written under temporary names, then swapped
    in with ``os.replace``: a reader has the previous snapshot or the new one, never half
    of one, and is never blocked (open it with ``read_only=True``; the file is 0444).
    Works for DuckDB and PostgreSQL warehouses. Call it after a run has published.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    created_at = dt.datetime.now()
    tables, info = _read_bi_tables(warehouse_url)
    stamp = f"{created_at:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}"
    final = out / SNAPSHOT_FILE
    tmp = out / f".{SNAPSHOT_FILE}.{stamp}.tmp"
    try:
        _write_duckdb(tmp, tables, info, created_at)
        wal = Path(f"{tmp}.wal")
        if wal.exists():  # pragma: no cover - close() checkpoints; never ship a file needing its WAL
            raise RuntimeError(f"DuckDB left a WAL next to {tmp}")
        os.chmod(tmp, 0o444)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        _fsync_dir(out)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            if leftover.exists():
                leftover.unlink()
    parquet_dir = _publish_parquet(out, tables, stamp) if parquet else None
    rows = {name: t.num_rows for name, t in tables.items()}
    log.info("BI snapshot published at %s (%s)", final, ", ".join(f"{k} {v}" for k, v in rows.items()))
    return Snapshot(final, parquet_dir, rows, created_at)
