"""Fixtures shared by the source tests: the small, slightly messy export bundle of
:mod:`helpers.source_bundle` and a fresh MariaDB database standing for a one-stop
system's."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from helpers.source_bundle import Bundle, make_bundle
from servers import require_server


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """The shared small bundle (read-only: tests must not change it)."""
    return make_bundle(tmp_path_factory.mktemp("bundle"))


@pytest.fixture
def mariadb_source() -> Iterator[str]:
    """A fresh database on the local MariaDB (a one-stop system's), dropped afterwards;
    skipped loudly without the server (a failure under CI, see ``servers``)."""
    require_server("127.0.0.1", 3306, "MariaDB")
    name = f"motcua_src_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/test")
    with admin.begin() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    try:
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    finally:
        with admin.begin() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()
