"""warehouse.engine: DuckDB's memory limit while a reader holds frames in Python."""

from __future__ import annotations

import sqlalchemy as sa

from warehouse.engine import _bytes, duckdb_buffer_share, make_engine


def _limit(conn: sa.Connection) -> int:
    value = _bytes(str(conn.exec_driver_sql("SELECT current_setting('memory_limit')").scalar()))
    assert value is not None
    return value


def _near(a: int, b: int) -> bool:
    """DuckDB prints the limit with one decimal (18.8 GiB): equal to within 2 %."""
    return abs(a - b) <= 0.02 * b


def test_units_read_as_duckdb_prints_them():
    assert _bytes("953.6 MiB") == int(953.6 * 2**20)
    assert _bytes("1GB") == 10**9 and _bytes("2 GiB") == 2 * 2**30 and _bytes("512KB") == 512_000
    assert _bytes("unlimited") is None and _bytes("1 parsec") is None


def test_the_share_halves_the_configured_limit_and_puts_it_back(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_DUCKDB_MEMORY_LIMIT", "1GB")
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    try:
        with engine.connect() as conn:
            before = _limit(conn)
            assert _near(before, 10**9)  # DuckDB prints 953.6 MiB
            with duckdb_buffer_share(conn):
                assert _near(_limit(conn), before // 2)
                with engine.connect() as other:  # the limit is the database's, every connection's
                    assert _near(_limit(other), before // 2)
            assert _limit(conn) == before
            try:
                with duckdb_buffer_share(conn, fraction=0.25):
                    raise RuntimeError("a reader fails")
            except RuntimeError:
                pass
            assert _limit(conn) == before
    finally:
        engine.dispose()


def test_without_a_configured_limit_duckdbs_default_comes_back(tmp_path, monkeypatch):
    monkeypatch.delenv("MOTCUA_DUCKDB_MEMORY_LIMIT", raising=False)
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    try:
        with engine.connect() as conn:
            default = _limit(conn)
            with duckdb_buffer_share(conn):
                assert _near(_limit(conn), default // 2)
            assert _limit(conn) == default
    finally:
        engine.dispose()
