"""BI access on PostgreSQL: the read-only role sees the marts and dimensions and nothing
else; a BI reader is never blocked by a load and sees the previous complete marts until
the load commits. (DuckDB: see test_bi_snapshot.py.)"""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from helpers.bundle import dossier, run_pipeline, write_bundle
from helpers.warehouses import admin_engine, fresh_postgres_database
from sqlalchemy.engine import make_url

from motcua.cli import main
from warehouse import schema

pytestmark = pytest.mark.postgres

MARTS = [f"mart.{v}" for v in schema.MART_VIEWS] + [t.fullname for t in schema.MART_TABLES]
DIMENSIONS = [t.fullname for t in schema.DIMENSION_TABLES]
FORBIDDEN = ["core.fct_dossier", "core.fct_dossier_event", "audit.quarantine", "audit.run", "audit.source_state"]

FIRST = [  # 2019: three dossiers
    dossier("D1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000"),
    dossier("D2", 4, "20190305100000", intake="20190305090000", due="20190312170000"),
    dossier("D3", 9, "20190312090000", intake="20190304090000", due="20190311170000", resolved="20190312090000"),
]
SECOND = FIRST + [  # D2 resolved, and 2020 activity
    dossier("D2", 9, "20190313100000", intake="20190305090000", due="20190312170000", resolved="20190313100000"),
    dossier("D4", 9, "20200110100000", intake="20200106090000", due="20200113170000", resolved="20200110100000"),
]


def _psycopg_kwargs(url: str, user: str | None = None) -> dict:
    u = make_url(url)
    return {"host": u.host, "port": u.port or 5432, "user": user or u.username, "dbname": u.database}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A PostgreSQL warehouse after one run of FIRST; yields (url, tmp folder)."""
    tmp = tmp_path_factory.mktemp("bi-access")
    with fresh_postgres_database() as url:
        run_pipeline(write_bundle(tmp / "first", FIRST), url, tmp / "var", validate=False)
        yield url, tmp


@pytest.fixture
def bi_role(loaded):
    role = f"motcua_bi_{uuid.uuid4().hex[:8]}"
    yield role
    url, _ = loaded
    with admin_engine().connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
    if exists:
        owner = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with owner.connect() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
        owner.dispose()
        with admin_engine().connect() as conn:
            conn.exec_driver_sql(f'DROP ROLE "{role}"')


def _grant(url: str, role: str, *extra: str) -> None:
    result = CliRunner().invoke(main, ["warehouse", "grant-bi", role, "--warehouse", url, *extra])
    assert result.exit_code == 0, result.output
    assert "PASSWORD '" not in result.output or "********" in result.output


def test_bi_role_reads_marts_and_dimensions_only(loaded, bi_role):
    url, _ = loaded
    _grant(url, bi_role, "--login")
    _grant(url, bi_role)  # idempotent, keeps LOGIN
    with psycopg.connect(**_psycopg_kwargs(url, bi_role), autocommit=True) as bi:
        for relation in MARTS + DIMENSIONS:
            bi.execute(f"SELECT * FROM {relation} LIMIT 1").fetchall()
        assert bi.execute("SELECT count(*) FROM mart.dossier_resolution").fetchone()[0] > 0
        for relation in FORBIDDEN:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute(f"SELECT * FROM {relation} LIMIT 1")
        with pytest.raises((psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)):
            bi.execute("DELETE FROM mart.dossier_resolution_v1")
        with pytest.raises((psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)):
            bi.execute("CREATE TABLE mart.mine (x int)")
    # a mart table created later (a future _v2) is readable without granting again
    owner = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with owner.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE mart.future_v2 (x int)")
    owner.dispose()
    with psycopg.connect(**_psycopg_kwargs(url, bi_role), autocommit=True) as bi:
        assert bi.execute("SELECT count(*) FROM mart.future_v2").fetchone()[0] == 0
    with admin_engine().connect() as conn:
        row = conn.execute(sa.text("SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                                   "WHERE rolname = :r"), {"r": bi_role}).one()
    assert tuple(row) == (True, False, False, False)
    owner = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with owner.begin() as conn:
        conn.exec_driver_sql("DROP TABLE mart.future_v2")
    owner.dispose()


def test_grant_bi_default_role_is_nologin_and_password_comes_from_env(loaded, bi_role, monkeypatch):
    url, _ = loaded
    _grant(url, bi_role)
    with admin_engine().connect() as conn:
        assert conn.execute(sa.text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :r"), {"r": bi_role}).scalar() is False
    monkeypatch.setenv("MOTCUA_TEST_BI_PASSWORD", "s3cret-'quoted'")
    result = CliRunner().invoke(main, ["warehouse", "grant-bi", bi_role, "--warehouse", url, "--login",
                                       "--password-env", "MOTCUA_TEST_BI_PASSWORD"])
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    with admin_engine().connect() as conn:
        assert conn.execute(sa.text("SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = :r"),
                            {"r": bi_role}).scalar()
    result = CliRunner().invoke(main, ["warehouse", "grant-bi", bi_role, "--warehouse", url,
                                       "--password-env", "MOTCUA_TEST_NOT_SET"])
    assert result.exit_code == 2


def _marts(cur: psycopg.Cursor) -> dict[str, list[tuple]]:
    return {v: cur.execute(f"SELECT * FROM mart.{v} ORDER BY 1, 2, 3, 4, 5").fetchall() for v in schema.MART_VIEWS}


def test_bi_reader_sees_previous_complete_marts_until_the_load_commits(loaded):
    """A REPEATABLE READ reader holds its transaction open across a whole run: it is never
    blocked, and sees the previous marts, complete, until it ends its transaction; a
    reader arriving while the marts are being replaced sees the previous ones too."""
    url, tmp = loaded
    in_commit, release = threading.Event(), threading.Event()

    def mark(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("DELETE FROM MART."):
            conn.info["motcua_touched_marts"] = True

    def hold(conn):  # noqa: ANN001
        if conn.info.pop("motcua_touched_marts", False):
            in_commit.set()
            release.wait(60)

    reader = psycopg.connect(**_psycopg_kwargs(url))
    reader.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    reader.execute("SET statement_timeout = '5s'")  # a blocked read fails instead of hanging
    reader.commit()
    before = _marts(reader.cursor())  # the snapshot is taken here and kept
    errors: list[BaseException] = []

    def second_run() -> None:
        try:
            run_pipeline(write_bundle(tmp / "second", SECOND), url, tmp / "var", validate=False)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", mark)
    sa.event.listen(sa.engine.Engine, "commit", hold)
    worker = threading.Thread(target=second_run)
    try:
        worker.start()
        assert in_commit.wait(120), f"the load never reached its commit: {errors}"
        # marts replaced, not committed: the open reader and a newcomer see the old marts
        assert _marts(reader.cursor()) == before
        with psycopg.connect(**_psycopg_kwargs(url), autocommit=True) as newcomer:
            newcomer.execute("SET statement_timeout = '5s'")
            assert _marts(newcomer.cursor()) == before
        release.set()
        worker.join(120)
        assert not worker.is_alive() and errors == []
        assert _marts(reader.cursor()) == before  # committed now, but the snapshot holds
        reader.commit()
        after = _marts(reader.cursor())
    finally:
        release.set()
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", mark)
        sa.event.remove(sa.engine.Engine, "commit", hold)
        reader.close()
    assert after != before
    years = {r[1].year for r in after["dossier_resolution"]}
    assert 2020 in years and 2020 not in {r[1].year for r in before["dossier_resolution"]}


def test_a_role_name_with_quotes_and_spaces_is_quoted_not_executed(loaded):
    """grant-bi takes the role name from the operator: a name with a double quote, a
    space and SQL in it becomes that role, exactly, and nothing of it runs as SQL."""
    url, _ = loaded
    role = f'motcua bi"; DROP SCHEMA mart CASCADE; -- {uuid.uuid4().hex[:6]}'
    quoted = '"' + role.replace('"', '""') + '"'
    try:
        _grant(url, role)
        with admin_engine().connect() as conn:
            assert conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar() == 1
        owner = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with owner.connect() as conn:  # the marts are still there
            assert conn.execute(sa.text("SELECT count(*) FROM mart.dossier_resolution")).scalar() > 0
        owner.dispose()
    finally:
        owner = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with owner.connect() as conn:
            if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
                conn.exec_driver_sql(f"DROP OWNED BY {quoted}")
        owner.dispose()
        with admin_engine().connect() as conn:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {quoted}")
