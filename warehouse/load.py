"""Bulk loading and reading through SQLAlchemy, with a fast path per dialect.

* DuckDB: the Arrow table is registered on the connection and copied with
  ``INSERT … SELECT`` (no row-by-row inserts); reads come back as Arrow;
* PostgreSQL: ``COPY … FROM STDIN`` through psycopg 3, fed CSV written by pyarrow in
  batches; reads use ``COPY (SELECT …) TO STDOUT`` parsed by pyarrow with the
  columns' types;
* anything else: SQLAlchemy ``executemany`` / ``fetchall``.

CSV between pyarrow and PostgreSQL: every value is quoted (``quoting_style="all_valid"``
on the way in, ``FORCE_QUOTE *`` on the way out) and NULL is the unquoted empty field,
so ``""`` stays an empty string and NULL stays NULL; booleans travel as
``true``/``false`` in, ``t``/``f`` out; dates and timestamps in ISO form (the session's
``DateStyle`` is set to ISO for the read). PostgreSQL text cannot hold the NUL
character: it is replaced by U+FFFD on load (only raw quarantined text can carry one).

Frames are conformed to the table's columns and types (:func:`to_arrow`) first, so a
transform whose output drifts from the schema fails here, loudly. Every function runs
inside the caller's transaction: a replace is atomic when the caller's is.
"""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse import schema

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
COPY_BATCH_ROWS = 65_536
"""Rows per CSV chunk streamed into ``COPY`` (bounds the memory a load needs)."""
KEY_LIST_LIMIT = 5_000
"""Above this many keys, :func:`delete_keys` stages the keys in a temporary table."""


def arrow_type(column: sa.Column) -> pa.DataType:
    """The Arrow type of a schema column (raises for a type the loader does not know)."""
    t = _arrow_type_of(column.type)
    if t is None:
        raise TypeError(f"no Arrow type for {column.table.name}.{column.name} ({column.type})")
    return t


def _arrow_type_of(sa_type: object) -> pa.DataType | None:
    for cls, pa_type in _ARROW_TYPES.items():
        if isinstance(sa_type, cls):
            return pa_type
    return None


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


def _without_nul(data: pa.Table) -> pa.Table:
    """PostgreSQL text cannot store U+0000: replace it with U+FFFD (string columns only)."""
    for i, field in enumerate(data.schema):
        if not pa.types.is_string(field.type):
            continue
        col = data.column(i)
        if pc.any(pc.match_substring(col, "\x00")).as_py():
            data = data.set_column(i, field, pc.replace_substring(col, "\x00", "\ufffd"))
    return data


def _copy_in(conn: Connection, target: str, data: pa.Table) -> None:
    """``COPY target (cols) FROM STDIN`` with pyarrow-written CSV, batch by batch."""
    cols = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in data.column_names)
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {target} ({cols}) FROM STDIN (FORMAT csv)") as cp:
        for batch in _without_nul(data).to_batches(max_chunksize=COPY_BATCH_ROWS):
            buf = io.BytesIO()
            pacsv.write_csv(batch, buf, write_options=options)
            cp.write(buf.getbuffer())


def _unregister(raw: object, view: str) -> None:
    """Drop a registered Arrow view; in a transaction already aborted by the statement
    that failed, DuckDB refuses, and the original error is the one worth raising."""
    with contextlib.suppress(Exception):
        raw.unregister(view)  # type: ignore[attr-defined]


def _duckdb_insert(conn: Connection, table: sa.Table, data: pa.Table, cols: str, verb: str) -> None:
    """DuckDB's bulk path: register the Arrow table on the connection, ``<verb> INTO …
    SELECT`` from it, unregister."""
    raw = conn.connection.driver_connection
    view = f"motcua_load_{uuid.uuid4().hex[:12]}"
    raw.register(view, data)
    try:
        conn.exec_driver_sql(f"{verb} INTO {_qualified(conn, table)} ({cols}) SELECT {cols} FROM {view}")
    finally:
        _unregister(raw, view)


def insert(conn: Connection, table: sa.Table, df: pd.DataFrame | pa.Table) -> int:
    """Append rows to ``table`` inside the caller's transaction; returns the row count."""
    data = df if isinstance(df, pa.Table) else to_arrow(table, df)
    if data.num_rows == 0:
        return 0
    cols = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in data.column_names)
    dialect = conn.dialect.name
    if dialect == "duckdb":
        _duckdb_insert(conn, table, data, cols, "INSERT")
    elif dialect == "postgresql":
        _copy_in(conn, _qualified(conn, table), data)
    else:
        conn.execute(table.insert(), data.to_pylist())
    return data.num_rows


def upsert(conn: Connection, table: sa.Table, df: pd.DataFrame | pa.Table) -> int:
    """Insert rows, replacing those whose primary key is already there (inside the
    caller's transaction); returns the row count.

    The fast way to rewrite many existing rows: on DuckDB ``INSERT OR REPLACE`` avoids
    the very slow commit of deleting indexed rows (``delete_keys`` then ``insert`` of
    300 000 rows: ~20 s of commit; this: none); on PostgreSQL ``COPY`` into a temporary
    table, then ``INSERT … ON CONFLICT (key) DO UPDATE``.
    """
    data = df if isinstance(df, pa.Table) else to_arrow(table, df)
    if data.num_rows == 0:
        return 0
    prep = conn.dialect.identifier_preparer
    cols = ", ".join(prep.quote(c) for c in data.column_names)
    keys = [c.name for c in table.primary_key.columns]
    if not keys:
        raise ValueError(f"{table.fullname} has no primary key to upsert on")
    dialect = conn.dialect.name
    if dialect == "duckdb" and table.fullname in schema.UNKEYED_ON_DUCKDB:
        # no key to replace on: delete the rows with these keys, then insert
        raw = conn.connection.driver_connection
        view = f"motcua_keys_{uuid.uuid4().hex[:12]}"
        raw.register(view, data.select(keys))
        try:
            match = " AND ".join(f"{_qualified(conn, table)}.{prep.quote(k)} = {view}.{prep.quote(k)}" for k in keys)
            conn.exec_driver_sql(f"DELETE FROM {_qualified(conn, table)} USING {view} WHERE {match}")
        finally:
            _unregister(raw, view)
        _duckdb_insert(conn, table, data, cols, "INSERT")
    elif dialect == "duckdb":
        _duckdb_insert(conn, table, data, cols, "INSERT OR REPLACE")
    elif dialect == "postgresql":
        name = f"motcua_upsert_{uuid.uuid4().hex[:12]}"
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} (LIKE {_qualified(conn, table)}) ON COMMIT DROP")
        _copy_in(conn, name, data)
        others = [c for c in data.column_names if c not in keys]
        action = ("DO UPDATE SET " + ", ".join(f"{prep.quote(c)} = EXCLUDED.{prep.quote(c)}" for c in others)
                  if others else "DO NOTHING")
        conn.exec_driver_sql(f"INSERT INTO {_qualified(conn, table)} ({cols}) SELECT {cols} FROM {name} "
                             f"ON CONFLICT ({', '.join(prep.quote(k) for k in keys)}) {action}")
        conn.exec_driver_sql(f"DROP TABLE {name}")
    else:
        key_values = {k: data.column(k).to_pylist() for k in keys}
        if len(keys) == 1:
            delete_keys(conn, table, keys[0], key_values[keys[0]])
        else:
            for row in zip(*key_values.values(), strict=True):
                conn.execute(table.delete().where(sa.and_(*[table.c[k] == v for k, v in zip(keys, row, strict=True)])))
        conn.execute(table.insert(), data.to_pylist())
    return data.num_rows


def delete_keys(conn: Connection, table: sa.Table, key: str, values: Iterable[object]) -> None:
    """Delete the rows of ``table`` whose ``key`` is among ``values``.

    Many keys go to the database in one piece (an Arrow view on DuckDB, a ``COPY``
    into a temporary table on PostgreSQL) rather than as thousands of bound parameters.
    """
    vals = list(dict.fromkeys(v for v in values if v is not None))
    if not vals:
        return
    col = table.c[key]
    dialect = conn.dialect.name
    if len(vals) > KEY_LIST_LIMIT and dialect in ("duckdb", "postgresql"):
        keys = pa.table({"k": pa.array(vals, type=arrow_type(col))})
        qcol = conn.dialect.identifier_preparer.quote(key)
        name = f"motcua_keys_{uuid.uuid4().hex[:12]}"
        if dialect == "duckdb":
            raw = conn.connection.driver_connection
            raw.register(name, keys)
            try:
                conn.exec_driver_sql(f"DELETE FROM {_qualified(conn, table)} WHERE {qcol} IN (SELECT k FROM {name})")
            finally:
                _unregister(raw, name)
        else:
            ddl_type = col.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} (k {ddl_type}) ON COMMIT DROP")
            _copy_in(conn, name, keys)
            conn.exec_driver_sql(f"DELETE FROM {_qualified(conn, table)} AS t USING {name} AS s WHERE t.{qcol} = s.k")
            conn.exec_driver_sql(f"DROP TABLE {name}")
        return
    for start in range(0, len(vals), KEY_LIST_LIMIT):
        conn.execute(table.delete().where(col.in_(vals[start:start + KEY_LIST_LIMIT])))


def replace_all(conn: Connection, table: sa.Table, df: pd.DataFrame | pa.Table) -> int:
    """Replace the whole content of ``table`` inside the caller's transaction.

    ``DELETE`` rather than ``TRUNCATE``: on PostgreSQL readers are never blocked and a
    reader's snapshot keeps seeing the old rows until the caller commits (``TRUNCATE``
    takes an exclusive lock and is not MVCC-safe).
    """
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


def _select(query: sa.Select | sa.Table) -> sa.Select:
    return query.select() if isinstance(query, sa.Table) else query


def _postgresql_arrow(conn: Connection, stmt: sa.Select) -> pa.Table | None:
    """Read ``stmt`` with ``COPY (…) TO STDOUT`` as typed Arrow; None when a column's
    type or the statement's literals cannot be handled (the caller falls back)."""
    columns = list(stmt.selected_columns)
    names = [c.key for c in columns]
    types = [_arrow_type_of(c.type) for c in columns]
    if any(t is None for t in types) or len(set(names)) != len(names):
        return None
    try:
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    except (sa.exc.CompileError, NotImplementedError):
        return None
    if conn.dialect.paramstyle in ("format", "pyformat"):
        sql = sql.replace("%%", "%")  # the compiler escaped every literal % for a driver that never sees it
    # DateStyle ISO for parseable dates; extra_float_digits >= 1: shortest exact floats
    conn.exec_driver_sql("SET LOCAL DateStyle = 'ISO, YMD'")
    conn.exec_driver_sql("SET LOCAL extra_float_digits = 1")
    buf = io.BytesIO()
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, FORCE_QUOTE *)") as cp:
        for chunk in cp:
            buf.write(chunk)
    if buf.tell() == 0:
        return pa.table({n: pa.array([], type=t) for n, t in zip(names, types, strict=True)})
    buf.seek(0)
    return pacsv.read_csv(
        buf,
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict(zip(names, types, strict=True)), strings_can_be_null=True,
            quoted_strings_can_be_null=False, null_values=[""], true_values=["t"], false_values=["f"]),
    )


def _conform(table: pa.Table, stmt: sa.Select) -> pa.Table:
    """Cast columns to the Arrow type of their SQLAlchemy type where they differ (e.g. a
    date literal DuckDB returns as text), so every engine gives the same types."""
    for i, col in enumerate(stmt.selected_columns):
        target = _arrow_type_of(col.type)
        if i >= table.num_columns or target is None or table.column(i).type == target:
            continue
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
            table = table.set_column(i, table.field(i).name, table.column(i).cast(target))
    return table


def read_arrow(conn: Connection, query: sa.Select | sa.Table) -> pa.Table:
    """Run a select and return an Arrow table (typed from the schema where possible)."""
    stmt = _select(query)
    if conn.dialect.name == "duckdb":
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        return _conform(conn.connection.driver_connection.sql(str(compiled)).to_arrow_table(), stmt)
    if conn.dialect.name == "postgresql":
        table = _postgresql_arrow(conn, stmt)
        if table is not None:
            return table
    result = conn.execute(stmt)
    names = list(result.keys())
    rows = result.fetchall()
    arrays = []
    for i, col in enumerate(stmt.selected_columns):
        values = [r[i] for r in rows]
        t = _arrow_type_of(col.type)
        arrays.append(pa.array(values, type=t) if t is not None else pa.array(values))
    return pa.Table.from_arrays(arrays, names=names)


def iter_frames_duckdb(conn: Connection, query: sa.Select | sa.Table, chunk: int) -> Iterator[pd.DataFrame]:
    """A DuckDB select streamed in one pass, at most ``chunk`` rows a frame (dtypes as
    :func:`read_frame`'s), in the query's order (none without an ORDER BY): DuckDB runs
    the query once (a sort once, spilling under its memory limit) and hands the result
    over batch by batch, where paging would re-run it per page. The result is read on a
    connection of its own (DuckDB shares the open database inside a process), so the
    caller may query ``conn`` between chunks; it sees what is committed."""
    if conn.dialect.name != "duckdb":
        raise ValueError(f"iter_frames_duckdb on {conn.dialect.name}")
    stmt = _select(query)
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    with conn.engine.connect() as own:
        reader = own.connection.driver_connection.sql(sql).to_arrow_reader(chunk)
        for batch in reader:  # at most ``chunk`` rows each
            if batch.num_rows:
                yield _conform(pa.Table.from_batches([batch]), stmt).to_pandas(types_mapper=_nullable_types)


def read_frame(conn: Connection, query: sa.Select | sa.Table) -> pd.DataFrame:
    """Run a select and return a DataFrame (nullable integer, boolean and string dtypes,
    the same on every engine)."""
    return read_arrow(conn, query).to_pandas(types_mapper=_nullable_types)
