"""DuckDB only: the fact tables ``core.fct_dossier`` and ``core.fct_dossier_event``
without primary keys.

DuckDB keeps a primary key's ART index in memory for the whole of a loading
transaction: at 10M dossiers the load grew to 17 GB whatever the memory limit, and a
limit below the index's size made the insert fail. Uniqueness does not need the index:
the merge deletes a dossier's rows before it inserts them (one row per dossier, one per
(dossier, seq)), and the core suites check ``dossier_code`` and ``(dossier_code, seq)``
unique. PostgreSQL keeps its keys (its indexes live on disk). NOT NULL and the comments
are kept.

DuckDB cannot drop a primary key in place, so each table is copied to a new one and
renamed (the data are kept).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

FACTS = {"fct_dossier": ("dossier_code",), "fct_dossier_event": ("dossier_code", "seq")}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _rebuild(table: str, keys: tuple[str, ...] | None) -> None:
    """Copy ``core.<table>`` into a new table with primary key ``keys`` (None: none),
    keeping NOT NULL and the comments, then put it in the old one's place."""
    bind = op.get_bind()
    cols = bind.exec_driver_sql(
        "SELECT column_name, is_nullable, comment FROM duckdb_columns() "
        "WHERE schema_name = 'core' AND table_name = ? ORDER BY column_index", (table,)).fetchall()
    table_comment = bind.exec_driver_sql(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'core' AND table_name = ?", (table,)).scalar()
    new = f"{table}__rebuilt"
    bind.exec_driver_sql(f"CREATE TABLE core.{_quote(new)} AS SELECT * FROM core.{_quote(table)} LIMIT 0")
    for name, nullable, _ in cols:
        if not nullable:
            bind.exec_driver_sql(f"ALTER TABLE core.{_quote(new)} ALTER COLUMN {_quote(name)} SET NOT NULL")
    if keys:
        bind.exec_driver_sql(f"ALTER TABLE core.{_quote(new)} ADD PRIMARY KEY ({', '.join(map(_quote, keys))})")
    bind.exec_driver_sql(f"INSERT INTO core.{_quote(new)} SELECT * FROM core.{_quote(table)}")
    bind.exec_driver_sql(f"DROP TABLE core.{_quote(table)}")
    bind.exec_driver_sql(f"ALTER TABLE core.{_quote(new)} RENAME TO {_quote(table)}")
    if table_comment:
        bind.exec_driver_sql(f"COMMENT ON TABLE core.{_quote(table)} IS {_literal(table_comment)}")
    for name, _, comment in cols:
        if comment:
            bind.exec_driver_sql(f"COMMENT ON COLUMN core.{_quote(table)}.{_quote(name)} IS {_literal(comment)}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "duckdb":
        return
    for table in FACTS:
        _rebuild(table, None)


def downgrade() -> None:
    if op.get_bind().dialect.name != "duckdb":
        return
    for table, keys in FACTS.items():
        _rebuild(table, keys)
