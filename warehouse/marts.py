"""The marts' partitions in the warehouse: a partition is every row of one period (and
every agency) of a mart; a publish replaces the partitions it rebuilt, in the caller's
transaction (one for the whole publish: :func:`warehouse.locks.write_transaction`).
Which periods to rebuild is :mod:`transforms.partitions`'."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from transforms.partitions import Interval
from warehouse import load, schema

MART_TABLES_BY_NAME: dict[str, sa.Table] = {
    "dossier_resolution": schema.dossier_resolution,
    "dossier_intake": schema.dossier_intake,
    "indicator": schema.indicator,
}
"""The marts ``build_marts`` writes, by the name it gives their Parquet files."""


def partition_clause(table: sa.Table, intervals: list[Interval]) -> sa.ColumnElement[bool]:
    """Rows of the periods that intersect any of ``intervals``."""
    parts = []
    for a, b in intervals:
        conds = []
        if a is not None:
            conds.append(table.c.period_end >= a)
        if b is not None:
            conds.append(table.c.period_start <= b)
        if not conds:
            return sa.true()
        parts.append(sa.and_(*conds))
    return sa.or_(*parts) if parts else sa.false()


def replace_partitions(conn: sa.Connection, name: str, rows: pd.DataFrame, intervals: list[Interval]) -> int:
    """Replace the partitions of mart ``name`` (:data:`MART_TABLES_BY_NAME`) that intersect
    ``intervals``: their rows deleted, ``rows`` (the partitions rebuilt, already cut to the
    intervals) inserted. A mart has one row per ``period_type, period_start,
    agency_code`` and procedure (``dossier_resolution``, ``dossier_intake``) or indicator
    (``indicator``). Returns the rows inserted."""
    table = MART_TABLES_BY_NAME[name]
    conn.execute(table.delete().where(partition_clause(table, intervals)))
    return load.insert(conn, table, rows)
