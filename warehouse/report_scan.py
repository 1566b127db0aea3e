"""The warehouse reads of a report: :class:`FactScan` reads only the facts that can count
in the report's period, in batches of whole procedures, so memory is bounded by a batch
whatever the size of the warehouse and everything per procedure (a row of tables 1–2,
its explanations, its published figures) is complete inside one batch;
:func:`latest_year` finds the year a report defaults to."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import pandas as pd
import sqlalchemy as sa

from transforms import dim_indicator
from transforms.rpt_counts import REPORT_FCT_COLUMNS, Scope, agency_members, period_of
from warehouse import load, schema
from warehouse.engine import duckdb_buffer_share, make_engine
from warehouse.reads import iter_fct, read_dims

REPORT_BATCH_ROWS = 400_000
"""Facts a report batch holds (one procedure bigger than this is a batch of its own)."""


class FactScan:
    """One read of the warehouse for a report: :attr:`scope`, then :meth:`batches` of the
    facts that can count in ``year``'s period (received by its end, not ended before
    its start), in the agency scope, optionally of one procedure. ``every_fact`` drops
    the period filter (a test holds the filter to it). A context manager: the
    connection lives as long as the ``with``."""

    def __init__(self, warehouse_url: str, year: int, convention: str = "calendar", agency: str | None = None,
                 procedure: str | None = None, *, every_fact: bool = False,
                 batch_rows: int = REPORT_BATCH_ROWS) -> None:
        self.url, self.year, self.convention, self.agency = warehouse_url, year, convention, agency
        self.procedure, self.every_fact, self.batch_rows = procedure, every_fact, batch_rows
        self.facts_read = 0

    def __enter__(self) -> FactScan:
        t = schema.fct_dossier
        self._engine = make_engine(self.url)
        self._stack = contextlib.ExitStack()
        try:
            self._conn = self._stack.enter_context(self._engine.connect())
            self._stack.enter_context(duckdb_buffer_share(self._conn))
            dim_proc, dim_ag = read_dims(self._conn)
            codes = [str(c) for (c,) in self._conn.execute(sa.select(t.c.agency_code).distinct())]
            names = load.read_frame(self._conn, sa.select(
                t.c.agency_code, t.c.procedure_code, t.c.procedure_name_recorded, sa.func.count().label("n"))
                .group_by(t.c.agency_code, t.c.procedure_code, t.c.procedure_name_recorded))
            members = agency_members(dim_proc, dim_ag, codes, self.agency)
            indicator_names = dim_indicator.names_vi(load.read_frame(self._conn, schema.dim_indicator))
        except BaseException:
            self.__exit__()
            raise
        if members is not None:
            dim_proc = dim_proc[dim_proc["agency_code"].isin(members)]
            names = names[names["agency_code"].isin(members)]
        self.scope = Scope(dim_proc, dim_ag, names.drop(columns="agency_code"), members, indicator_names)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._stack.close()
        finally:
            self._engine.dispose()

    def _where(self) -> sa.ColumnElement[bool]:
        t = schema.fct_dossier
        where: list[sa.ColumnElement[bool]] = []
        if not self.every_fact:
            start, end = period_of(self.year, self.convention)
            after_end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
            where += [sa.or_(t.c.intake_at.is_(None), t.c.intake_at < after_end),
                      sa.or_(t.c.ended_at.is_(None), t.c.ended_at >= dt.datetime.combine(start, dt.time()))]
        if self.scope.members is not None:
            where.append(t.c.agency_code.in_(sorted(self.scope.members)))
        if self.procedure is not None:
            where.append(t.c.procedure_code == self.procedure)
        return sa.and_(sa.true(), *where)

    def _batch_of_procedure(self) -> sa.Subquery:
        """``procedure_code -> batch``: procedures in code order, each in the batch where
        its first fact falls when the facts are laid end to end ``batch_rows`` a batch."""
        t = schema.fct_dossier
        per = sa.select(t.c.procedure_code, sa.func.count().label("n")).where(self._where()) \
            .group_by(t.c.procedure_code).subquery("per_procedure")
        before = sa.func.sum(per.c.n).over(order_by=per.c.procedure_code, rows=(None, 0)) - per.c.n
        return sa.select(per.c.procedure_code, sa.func.floor(before / self.batch_rows).label("batch")).subquery("b")

    def batches(self) -> Iterator[pd.DataFrame]:
        """The facts (:data:`REPORT_FCT_COLUMNS`, plus ``end_kind``) in batches of whole
        procedures, each at most ``batch_rows`` facts unless one procedure has more."""
        b = self._batch_of_procedure()
        n_batches = self._conn.execute(sa.select(sa.func.max(b.c.batch))).scalar()
        if n_batches is None:
            return
        t = schema.fct_dossier
        for i in range(int(n_batches) + 1):
            members = sa.select(b.c.procedure_code).where(b.c.batch == i)
            where = sa.and_(self._where(), t.c.procedure_code.in_(members))
            parts = list(iter_fct(self._conn, REPORT_FCT_COLUMNS, where=where, chunk=self.batch_rows))
            if not parts:
                continue
            batch = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            self.facts_read += len(batch)
            yield batch


def latest_year(warehouse_url: str) -> int | None:
    """The year of the latest intake of a received dossier (None: no dossier)."""
    t = schema.fct_dossier
    engine = make_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            latest = conn.execute(sa.select(sa.func.max(t.c.intake_at)).where(t.c.is_received)).scalar()
    finally:
        engine.dispose()
    return None if latest is None else pd.Timestamp(latest).year
