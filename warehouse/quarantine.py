"""Reading ``audit.quarantine`` for the quarantine commands (one row per quarantined
record: ``quarantine_id``, a digest of its source, place and text): the rows by reason,
id or state, and what became of the rows a retry sent again. The rows a run adds and
resolves are written by :mod:`warehouse.audit`."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from warehouse import load, schema
from warehouse.engine import create_schema, make_engine

Q = schema.quarantine


def read(warehouse_url: str, query: sa.Select) -> pd.DataFrame:
    """``query`` on the warehouse (its schema created first, so an empty warehouse
    answers with no rows)."""
    engine = make_engine(warehouse_url)
    try:
        create_schema(engine)
        with engine.connect() as conn:
            return load.read_frame(conn, query)
    finally:
        engine.dispose()


def states(warehouse_url: str, include_resolved: bool) -> pd.DataFrame:
    """``reason, source, resolved_run_id`` of the open rows (every row with
    ``include_resolved``)."""
    q = sa.select(Q.c.reason, Q.c.source, Q.c.resolved_run_id)
    if not include_resolved:
        q = q.where(Q.c.resolved_run_id.is_(None))
    return read(warehouse_url, q)


def find(warehouse_url: str, id_prefix: str | None = None, reason: str | None = None, limit: int | None = 20,
         include_resolved: bool = True) -> pd.DataFrame:
    """Rows whose id starts with ``id_prefix`` and/or whose reason starts with
    ``reason``, oldest first (all columns, the raw record included)."""
    q = sa.select(Q)
    if id_prefix:
        q = q.where(Q.c.quarantine_id.like(f"{id_prefix.lower()}%"))
    if reason:
        q = q.where(Q.c.reason.like(f"{reason}%"))
    if not include_resolved:
        q = q.where(Q.c.resolved_run_id.is_(None))
    q = q.order_by(Q.c.quarantined_at, Q.c.source, Q.c.locator)
    if limit:
        q = q.limit(limit)
    return read(warehouse_url, q)


def outcomes(warehouse_url: str, ids: list[str], run_id: str) -> dict[str, str]:
    """For each row of ``ids``: ``resolved`` when ``run_id`` resolved it, else its reason."""
    out: dict[str, str] = {}
    for start in range(0, len(ids), 5000):
        part = read(warehouse_url, sa.select(Q.c.quarantine_id, Q.c.reason, Q.c.resolved_run_id)
                    .where(Q.c.quarantine_id.in_(ids[start:start + 5000])))
        for qid, reason, resolved in zip(part["quarantine_id"], part["reason"], part["resolved_run_id"], strict=True):
            out[str(qid)] = "resolved" if not pd.isna(resolved) and str(resolved) == run_id else str(reason)
    return out
