"""Throw-away warehouses for tests: a DuckDB file, or a fresh PostgreSQL database.

``warehouse_url`` is a pytest fixture parametrised over ``duckdb`` (a file in the
test's tmp folder) and ``postgres`` (a database ``motcua_test_<random>`` created on the
local server and dropped afterwards). Use it by importing it into the test module::

    from helpers.warehouses import warehouse_url  # noqa: F401

The PostgreSQL server is ``MOTCUA_TEST_POSTGRES_URL`` (an admin URL, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) or else 127.0.0.1:5432 as user
``postgres`` then ``root``, database ``test`` (trust authentication). When it cannot be
reached the PostgreSQL cases are skipped, loudly; with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

_CANDIDATES = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)


@lru_cache(maxsize=1)
def _probe() -> tuple[str | None, str]:
    """(admin URL that answered, or None; what went wrong)."""
    import psycopg

    configured = os.environ.get("MOTCUA_TEST_POSTGRES_URL")
    errors = []
    for url in ([configured] if configured else list(_CANDIDATES)):
        u = make_url(url)
        try:
            with psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                                 dbname=u.database, connect_timeout=3):
                return url, ""
        except Exception as exc:  # noqa: BLE001 - any failure: try the next, report them all
            errors.append(f"{u.render_as_string(hide_password=True)}: {str(exc).strip().splitlines()[0]}")
    return None, "; ".join(errors)


def postgres_admin_url() -> str:
    """The admin URL of the test PostgreSQL server; skips the test (fails under CI=true)
    when the server cannot be reached."""
    url, why = _probe()
    if url is None:
        message = (f"!!! PostgreSQL NOT REACHABLE ({why}): PostgreSQL warehouse tests SKIPPED. "
                   "Start the server on 127.0.0.1:5432 or set MOTCUA_TEST_POSTGRES_URL.")
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: this is a failure)", pytrace=False)
        pytest.skip(message)
    return url


def admin_engine() -> sa.Engine:
    """An AUTOCOMMIT engine on the server's admin database (CREATE/DROP DATABASE, roles)."""
    return sa.create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextlib.contextmanager
def fresh_postgres_database(prefix: str = "motcua_test") -> Iterator[str]:
    """Create ``<prefix>_<random>``, yield its URL, drop it (closing its sessions)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = admin_engine()
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {_quote(name)}")
    url: URL = make_url(postgres_admin_url()).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
        admin.dispose()


@contextlib.contextmanager
def make_warehouse(kind: str, folder: Path) -> Iterator[str]:
    """A fresh, empty warehouse of ``kind`` (``duckdb`` or ``postgres``): its URL."""
    if kind == "duckdb":
        yield f"duckdb:///{folder / 'warehouse.duckdb'}"
    elif kind == "postgres":
        with fresh_postgres_database() as url:
            yield url
    else:  # pragma: no cover
        raise ValueError(kind)


ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
"""Parameters for a test (or fixture) that runs on both engines."""


@pytest.fixture(params=ENGINES)
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty warehouse: a DuckDB file, or a new PostgreSQL database."""
    with make_warehouse(request.param, tmp_path) as url:
        yield url


def comparable(df: pd.DataFrame) -> pd.DataFrame:
    """Engine-neutral values (to compare PostgreSQL's tables with DuckDB's): dates as
    text, numbers as floats, missing as None."""
    out = df.copy()
    for c in out.columns:
        if c in ("period_start", "period_end"):
            out[c] = pd.to_datetime(out[c]).dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_bool_dtype(out[c]):
            out[c] = pd.to_numeric(out[c]).astype("float64")
        else:
            out[c] = out[c].astype("object").where(out[c].notna(), None)
    return out.reset_index(drop=True)
