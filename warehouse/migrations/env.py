"""Alembic environment of the motcua warehouse.

Used two ways:

* from code (:func:`warehouse.engine.upgrade`), which passes an open connection in
  ``config.attributes["connection"]``: the migrations run inside the caller's
  transaction;
* from the ``alembic`` command line (``-c warehouse/migrations/alembic.ini``), with the
  URL from ``-x url=…``, the ``sqlalchemy.url`` option or ``MOTCUA_WAREHOUSE_URL``.

On PostgreSQL a transaction-scoped advisory lock serialises concurrent upgrades (two
runs starting at once). Autogenerate compares only the ``core``, ``mart`` and
``audit`` schemas; the stable mart views are written by hand in the revisions.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import context

from warehouse import _alembic_duckdb  # noqa: F401 - registers Alembic's DuckDB support
from warehouse.engine import MIGRATION_LOCK_KEY, make_engine
from warehouse.schema import MART_VIEWS, SCHEMAS, metadata

config = context.config


def _from_settings() -> str | None:
    """MOTCUA_WAREHOUSE_URL (the real URL behind the redacted one), when it is set."""
    from motcua.redact import reveal
    from motcua.settings import Settings

    settings = Settings.from_env()
    return reveal(settings.warehouse_url) if "warehouse_url" in settings.model_fields_set else None


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url") \
        or _from_settings()
    if not url:
        raise RuntimeError("no warehouse URL: pass -x url=…, set sqlalchemy.url or MOTCUA_WAREHOUSE_URL")
    return url


def _include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    if type_ == "schema":
        return name in SCHEMAS
    return True


def _include_object_for(dialect_name: str) -> Callable[[object, str | None, str, bool, object], bool]:
    def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        # indexes declared PostgreSQL-only (Index.ddl_if) do not exist elsewhere
        if type_ == "index" and dialect_name != "postgresql":
            return False
        # the stable views are written by hand in the revisions, not from the metadata
        return not (type_ == "table" and name in MART_VIEWS)

    return include_object


def _configure(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_schemas=True,
        include_name=_include_name,
        include_object=_include_object_for(connection.dialect.name),
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """Emit the SQL instead of running it (``alembic upgrade head --sql``)."""
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True, include_schemas=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: sa.Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
