"""The test warehouses helper: an unreachable PostgreSQL skips loudly, or fails under CI."""

from __future__ import annotations

import pytest
from helpers import warehouses


@pytest.fixture
def unreachable(monkeypatch):
    monkeypatch.setenv("MOTCUA_TEST_POSTGRES_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    warehouses._probe.cache_clear()
    yield
    warehouses._probe.cache_clear()


def test_unreachable_postgresql_skips_loudly(unreachable, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL NOT REACHABLE.*127.0.0.1:1"):
        warehouses.postgres_admin_url()


def test_unreachable_postgresql_fails_under_ci(unreachable, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        warehouses.postgres_admin_url()
