"""Reads of the core the stages and the report share: the dossier facts in bounded
chunks (all of them, one run's, those still open at a date), the dimensions, the
coverage and fingerprint of the marts' input, and the few reads of the marts a run's
summary makes."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from transforms import (
    mart_dossier_resolution,
)
from transforms.partitions import Interval, merge_intervals
from warehouse import load, schema

# --------------------------------------------------------------------------- marts
FCT_CHUNK = 125_000
"""Dossier facts read at a time when validating the core and building the marts."""
MART_FCT_COLUMNS = [
    "dossier_code", "agency_code", "procedure_code", "is_received", "intake_at", "ended_at", "due_date",
    "resolved_at", "withdrawn_at", "resolution_class", "channel_code", "rating", "paid_online", "digitised",
    "processing_working_days",
]
"""The fct_dossier columns the marts are computed from."""
_FCT_DATES = ("submitted_at", "intake_at", "ended_at", "due_date", "resolved_at", "withdrawn_at", "updated_at",
              "returned_at", "refused_at")


def typed_fct(fct: pd.DataFrame) -> pd.DataFrame:
    for c in _FCT_DATES:
        if c in fct:
            fct[c] = pd.to_datetime(fct[c]).astype("datetime64[us]")
    if "resolved_at" in fct and "withdrawn_at" in fct:
        kind = np.where(fct["resolved_at"].notna(), "resolved",
                        np.where(fct["withdrawn_at"].notna(), "withdrawn", None))
        fct["end_kind"] = pd.Series(kind, index=fct.index, dtype="object")
    return fct


def iter_fct(conn: sa.Connection, columns: list[str] | None = None, where: sa.ColumnElement[bool] | None = None,
             chunk: int = FCT_CHUNK) -> Iterator[pd.DataFrame]:
    """core.fct_dossier in chunks of at most ``chunk`` rows, memory bounded by a chunk, in
    no promised order (every reader adds up or checks chunks independently). On DuckDB,
    whose facts carry no key index, one streamed query without a sort; elsewhere keyset
    pagination over the primary key."""
    t = schema.fct_dossier
    cols = [t.c[c] for c in (columns or [c.name for c in t.columns])]
    if conn.dialect.name == "duckdb":
        q = sa.select(*cols)
        if where is not None:
            q = q.where(where)
        for df in load.iter_frames_duckdb(conn, q, chunk):
            yield typed_fct(df)
        return
    last = None
    while True:
        q = sa.select(*cols).order_by(t.c.dossier_code).limit(chunk)
        if where is not None:
            q = q.where(where)
        if last is not None:
            q = q.where(t.c.dossier_code > last)
        df = load.read_frame(conn, q)
        if df.empty:
            return
        last = df["dossier_code"].iloc[-1]
        yield typed_fct(df)
        if len(df) < chunk:
            return


def iter_fct_of_run(conn: sa.Connection, run_id: str, columns: list[str] | None = None,
                    chunk: int = FCT_CHUNK) -> Iterator[pd.DataFrame]:
    """:func:`iter_fct` of the facts run ``run_id`` wrote."""
    return iter_fct(conn, columns, where=schema.fct_dossier.c.run_id == run_id, chunk=chunk)


def iter_fct_open_at(conn: sa.Connection, start: dt.datetime, columns: list[str] | None = None,
                     chunk: int = FCT_CHUNK) -> Iterator[pd.DataFrame]:
    """:func:`iter_fct` of the dossiers not ended before ``start`` (open, or ended at or after it)."""
    t = schema.fct_dossier
    return iter_fct(conn, columns, where=sa.or_(t.c.ended_at.is_(None), t.c.ended_at >= start), chunk=chunk)


def empty_fct(conn: sa.Connection) -> pd.DataFrame:
    """core.fct_dossier's columns, typed, without a row."""
    return typed_fct(load.read_frame(conn, sa.select(schema.fct_dossier).limit(0)))


def fct_is_empty(conn: sa.Connection) -> bool:
    """True when core.fct_dossier has no row."""
    return not conn.execute(sa.select(schema.fct_dossier.c.dossier_code).limit(1)).all()


def existing_fct(conn: sa.Connection, codes: list[str]) -> pd.DataFrame:
    """``dossier_code, updated_at, record_hash`` of the facts of ``codes`` already loaded."""
    t = schema.fct_dossier
    parts = []
    for start in range(0, len(codes), 5000):
        q = sa.select(t.c.dossier_code, t.c.updated_at, t.c.record_hash).where(t.c.dossier_code.in_(codes[start:start + 5000]))
        parts.append(load.read_frame(conn, q))
    if not parts:
        return pd.DataFrame(columns=["dossier_code", "updated_at", "record_hash"])
    out = pd.concat(parts, ignore_index=True)
    out["updated_at"] = pd.to_datetime(out["updated_at"]).astype("datetime64[us]")
    return out


def fct_agency_codes(conn: sa.Connection) -> set[str]:
    """The agency codes the facts carry (no null)."""
    return set(load.read_frame(conn, sa.select(schema.fct_dossier.c.agency_code).distinct())["agency_code"].dropna())


def procedure_names(conn: sa.Connection) -> pd.DataFrame:
    """How many facts carry each (procedure_code, procedure_name_recorded): column ``n``."""
    t = schema.fct_dossier
    return load.read_frame(conn, sa.select(
        t.c.procedure_code, t.c.procedure_name_recorded, sa.func.count().label("n")).group_by(
        t.c.procedure_code, t.c.procedure_name_recorded))


def read_core(conn: sa.Connection) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The whole dossier fact and the two dimensions (small warehouses, reports, tests)."""
    fct = typed_fct(load.read_frame(conn, schema.fct_dossier))
    return fct, *read_dims(conn)


def read_dims(conn: sa.Connection) -> tuple[pd.DataFrame, pd.DataFrame]:
    dim_proc = load.read_frame(conn, schema.dim_procedure)
    dim_ag = load.read_frame(conn, schema.dim_agency)
    for d in (dim_proc, dim_ag):
        for c in ("valid_from", "valid_to"):
            d[c] = pd.to_datetime(d[c]).astype("datetime64[us]")
    return dim_proc, dim_ag


def coverage(conn: sa.Connection) -> tuple[dt.date, dt.date] | None:
    """:func:`transforms.mart_dossier_resolution.coverage`, counted by the warehouse."""
    t = schema.fct_dossier
    row = conn.execute(sa.select(sa.func.min(t.c.intake_at), sa.func.max(t.c.intake_at), sa.func.max(t.c.ended_at))
                       .where(t.c.is_received.is_(True))).all()[0]
    if row[0] is None:
        return None
    first, last = pd.Timestamp(row[0]), pd.Timestamp(row[1])
    if row[2] is not None:
        last = max(last, pd.Timestamp(row[2]))
    return first.date(), last.date()


def grain_problem(conn: sa.Connection) -> str | None:
    """The facts' grain over the whole tables (the suites see one chunk at a time, and on
    DuckDB no key enforces it): one row per dossier in core.fct_dossier, one per
    (dossier, seq) in core.fct_dossier_event, and no event whose dossier is missing from
    the facts. One aggregate each; None when it holds."""
    problems = []
    for table, keys in ((schema.fct_dossier, ["dossier_code"]), (schema.fct_dossier_event, ["dossier_code", "seq"])):
        cols = [table.c[k] for k in keys]
        dup = sa.select(*cols).group_by(*cols).having(sa.func.count() > 1).subquery()
        n = int(conn.execute(sa.select(sa.func.count()).select_from(dup)).scalar_one())
        if n:
            some = conn.execute(sa.select(*dup.c).limit(3)).all()
            problems.append(f"{table.fullname}: {n} keys ({', '.join(keys)}) on more than one row, e.g. "
                            + "; ".join(", ".join(str(v) for v in r) for r in some))
    e, f = schema.fct_dossier_event, schema.fct_dossier
    orphans = sa.select(e.c.dossier_code).distinct().where(
        ~sa.exists().where(f.c.dossier_code == e.c.dossier_code)).subquery()
    n = int(conn.execute(sa.select(sa.func.count()).select_from(orphans)).scalar_one())
    if n:
        some = sorted(str(r[0]) for r in conn.execute(sa.select(orphans.c.dossier_code).limit(3)))
        problems.append(f"{e.fullname}: events of {n} dossier(s) missing from {f.fullname}, e.g. {', '.join(some)}")
    return " | ".join(problems) or None


def count_fct(conn: sa.Connection, where: sa.ColumnElement[bool]) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(schema.fct_dossier).where(where)).all()[0][0])


def count_fct_of_run(conn: sa.Connection, run_id: str) -> int:
    """The facts run ``run_id`` wrote."""
    return count_fct(conn, schema.fct_dossier.c.run_id == run_id)


def count_fct_of_other_runs(conn: sa.Connection, run_id: str) -> int:
    """The facts other runs than ``run_id`` wrote."""
    return count_fct(conn, schema.fct_dossier.c.run_id != run_id)


def span_pairs(conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[Interval]:
    """:func:`dossier_spans` of the fct rows matching ``where``, with the distinct
    (intake date, end date) pairs counted by the warehouse: a few thousand pairs
    whatever the number of dossiers."""
    t = schema.fct_dossier
    a, b = sa.cast(t.c.intake_at, sa.Date).label("a"), sa.cast(t.c.ended_at, sa.Date).label("b")
    rows = conn.execute(sa.select(a, b).distinct().where(
        where, t.c.is_received.is_(True), t.c.intake_at.is_not(None))).all()
    return merge_intervals([(_as_date(x), None if y is None else _as_date(y)) for x, y in rows])


def span_pairs_of_runs(conn: sa.Connection, run_ids: list[str]) -> list[Interval]:
    """:func:`span_pairs` of the facts the runs ``run_ids`` wrote."""
    return span_pairs(conn, schema.fct_dossier.c.run_id.in_(run_ids))


def _as_date(v: object) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v  # type: ignore[return-value]


def fct_rows_for_codes(conn: sa.Connection, codes: list[str]) -> pd.DataFrame:
    """The mart columns (:data:`MART_FCT_COLUMNS`) of the facts of ``codes``."""
    t = schema.fct_dossier
    cols = [t.c[c] for c in MART_FCT_COLUMNS]
    parts = [load.read_frame(conn, sa.select(*cols).where(t.c.dossier_code.in_(codes[i:i + 5000])))
             for i in range(0, len(codes), 5000)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=MART_FCT_COLUMNS)


def marts_fingerprint(conn: sa.Connection) -> str:
    """A digest of what the marts are computed from besides the dossier facts: the
    catalogue and agency dimensions (names, roll-ups, catalogue indicators cover every
    period) and the transforms' code. When it differs from the last published run's,
    every partition is rebuilt. A new input of the marts must be added here."""
    h = hashlib.sha256()
    for t in (schema.dim_procedure, schema.dim_agency):
        df = load.read_frame(conn, t)
        keys = [c.name for c in t.primary_key.columns]
        h.update(t.fullname.encode())
        h.update(df.sort_values(keys, kind="mergesort").to_csv(index=False).encode("utf-8", "surrogatepass"))
    for path in sorted(Path(mart_dossier_resolution.__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


# --------------------------------------------------------------------------- the marts, for a run's summary
def marts_empty(conn: sa.Connection) -> bool:
    """True when no mart is published (mart.dossier_resolution has no row)."""
    return conn.execute(sa.select(sa.func.count()).select_from(schema.dossier_resolution)).all()[0][0] == 0


def yearly_indicators(conn: sa.Connection, codes: tuple[str, ...]) -> pd.DataFrame:
    """The calendar-year rows of mart.indicator (the agency roll-ups) for the indicators
    ``codes`` (aggregates only)."""
    t = schema.indicator
    return load.read_frame(conn, sa.select(t).where(t.c.period_type == "year", t.c.agency_scope == "rollup",
                                                    t.c.indicator_code.in_(codes)))


def agency_parents(conn: sa.Connection) -> pd.DataFrame:
    """``agency_code, parent_code`` of every core.dim_agency row."""
    return load.read_frame(conn, sa.select(schema.dim_agency.c.agency_code, schema.dim_agency.c.parent_code))
