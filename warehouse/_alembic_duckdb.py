"""Alembic support for DuckDB (duckdb_engine ships none).

Alembic looks up a ``DefaultImpl`` subclass by dialect name; importing this module
registers one for ``duckdb``, and teaches ``RENAME TO`` DuckDB's (and PostgreSQL's)
form: the new name without its schema. DuckDB runs DDL inside transactions, so a whole
upgrade is atomic there as on PostgreSQL.
"""

from __future__ import annotations

from alembic.ddl.base import RenameTable, alter_table, format_table_name
from alembic.ddl.impl import DefaultImpl
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import DDLCompiler


class DuckDBImpl(DefaultImpl):
    """Alembic's operations on DuckDB: the generic (PostgreSQL-like) DDL."""

    __dialect__ = "duckdb"
    transactional_ddl = True


@compiles(RenameTable, "duckdb")
def _rename_table(element: RenameTable, compiler: DDLCompiler, **kw: object) -> str:
    return (f"{alter_table(compiler, element.table_name, element.schema)} "
            f"RENAME TO {format_table_name(compiler, element.new_table_name, None)}")
