"""Connecting to the warehouse and creating its schema.

DuckDB (``duckdb:///path``) is the embedded default; PostgreSQL
(``postgresql+psycopg://…``) is for production. DuckDB engines use ``NullPool`` so the
file is not held (and locked) after the run's work is done.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateSchema

from warehouse.schema import SCHEMAS, metadata

DEFAULT_URL = "duckdb:///var/warehouse.duckdb"


def is_duckdb(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "duckdb"


def make_engine(url: str = DEFAULT_URL) -> Engine:
    """An engine for ``url``; creates the folder of a DuckDB file."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ValueError(f"warehouse URL {url!r} is not a SQLAlchemy URL (e.g. duckdb:///var/warehouse.duckdb)") from exc
    if parsed.get_backend_name() == "duckdb":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return sa.create_engine(parsed, poolclass=NullPool)
    return sa.create_engine(parsed, pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    """Create the schemas and tables that do not exist yet (idempotent)."""
    with engine.begin() as conn:
        for name in SCHEMAS:
            conn.execute(CreateSchema(name, if_not_exists=True))
        metadata.create_all(conn)
