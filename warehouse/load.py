"""Bulk loading and reading through SQLAlchemy, with a fast path per dialect.

* DuckDB: the Arrow table is registered on the connection and copied with
  ``INSERT … SELECT`` (no row-by-row inserts);
* PostgreSQL: ``COPY … FROM STDIN`` through psycopg 3, fed CSV written by pyarrow;
* anything else: SQLAlchemy ``executemany``.

Frames are conformed to the table's columns and types (:func:`to_arrow`) first, so a
transform whose output drifts from the schema fails here, loudly.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.engine import Connection

_ARROW_TYPES: dict[type, pa.DataType] = {
    sa.String: pa.string(),
    sa.Text: pa.string(),
    sa.Integer: pa.int64(),
    sa.BigInteger: pa.int64(),
    sa.Float: pa.float64(),
    sa.Boolean: pa.bool_(),
    sa.Date: pa.date32(),
    sa.DateTime: pa.timestamp("us"),
}


def arrow_type(column: sa.Column) -> pa.DataType:
    for sa_type, pa_type in _ARROW_TYPES.items():
        if isinstance(column.type, sa_type):
            return pa_type
    raise TypeError(f"no Arrow type for {column.table.name}.{column.name} ({column.type})")


def to_arrow(table: sa.Table, df: pd.DataFrame) -> pa.Table:
    """Conform ``df`` to ``table``: exactly its columns, in order, with its types."""
    missing = [c.name for c in table.columns if c.name not in df.columns and not c.nullable]
    if missing:
        raise ValueError(f"{table.fullname}: frame lacks required column(s) {missing}")
    arrays = []
    for col in table.columns:
        target = arrow_type(col)
        if col.name not in df.columns:
            arrays.append(pa.nulls(len(df), type=target))
            continue
        s = df[col.name]
        if target == pa.date32():
            s = pd.to_datetime(s).dt.date
        arr = pa.array(s, from_pandas=True)
        if arr.type != target:
            arr = arr.cast(target)
        if not col.nullable and arr.null_count:
            raise ValueError(f"{table.fullname}.{col.name}: {arr.null_count} null value(s) in a NOT NULL column")
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=[c.name for c in table.columns])


def _qualified(conn: Connection, table: sa.Table) -> str:
    prep = conn.dialect.identifier_preparer
    return prep.format_table(table)


def insert(conn: Connection, table: sa.Table, df: pd.DataFrame | pa.Table) -> int:
    """Append rows to ``table`` inside the caller's transaction; returns the row count."""
    data = df if isinstance(df, pa.Table) else to_arrow(table, df)
    if data.num_rows == 0:
        return 0
    cols = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in data.column_names)
    dialect = conn.dialect.name
    if dialect == "duckdb":
        raw = conn.connection.driver_connection
        view = f"motcua_load_{uuid.uuid4().hex[:12]}"
        raw.register(view, data)
        try:
            conn.exec_driver_sql(f"INSERT INTO {_qualified(conn, table)} ({cols}) SELECT {cols} FROM {view}")
        finally:
            raw.unregister(view)
    elif dialect == "postgresql":
        buf = io.BytesIO()
        pacsv.write_csv(data, buf, write_options=pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {_qualified(conn, table)} ({cols}) FROM STDIN (FORMAT csv)") as cp:
            view = buf.getbuffer()
            for start in range(0, len(view), 1 << 20):
                cp.write(view[start:start + (1 << 20)])
    else:
        conn.execute(table.insert(), data.to_pylist())
    return data.num_rows


def delete_keys(conn: Connection, table: sa.Table, key: str, values: Iterable[object]) -> None:
    """Delete the rows of ``table`` whose ``key`` is among ``values``."""
    vals = list(dict.fromkeys(v for v in values if v is not None))
    col = table.c[key]
    for start in range(0, len(vals), 5000):
        conn.execute(table.delete().where(col.in_(vals[start:start + 5000])))


def replace_all(conn: Connection, table: sa.Table, df: pd.DataFrame) -> int:
    """Replace the whole content of ``table`` (inside the caller's transaction)."""
    conn.execute(table.delete())
    return insert(conn, table, df)


def _nullable_types(t: pa.DataType) -> object:
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    if pa.types.is_boolean(t):
        return pd.BooleanDtype()
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype()
    return None


def read_frame(conn: Connection, query: sa.Select | sa.Table) -> pd.DataFrame:
    """Run a select and return a DataFrame."""
    stmt = query.select() if isinstance(query, sa.Table) else query
    if conn.dialect.name == "duckdb":
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        cur = conn.connection.driver_connection.execute(str(compiled))
        return cur.to_arrow_table().to_pandas(types_mapper=_nullable_types)
    result = conn.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
