"""The warehouse side of a publication of the annual report: :func:`record` writes
``audit.publication`` (the value of every non-zero cell of tables 1–2) and
``audit.publication_dossier`` (each dossier's cells), and compares them with the
previous publication of the same report in SQL (:func:`moved_dossiers`: only the
dossiers whose cells differ are read). Streamed in, never held whole."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from transforms.rpt_counts import SCOPE
from transforms.rpt_restatement import changes_of
from warehouse import load, locks, schema
from warehouse.engine import create_schema, make_engine

SPOOL_BATCH_ROWS = 500_000
"""Dossier rows written to the warehouse per transaction."""


def moved_dossiers(conn: sa.Connection, previous_id: str, current_id: str) -> pd.DataFrame:
    """The dossiers whose procedure or cells differ between two publications (a full
    outer join in the warehouse): ``dossier_code, old_procedure, old_cells,
    new_procedure, new_cells``."""
    t = schema.publication_dossier
    new = sa.select(t.c.dossier_code, t.c.procedure_code, t.c.cells).where(t.c.publication_id == current_id).subquery("n")
    old = sa.select(t.c.dossier_code, t.c.procedure_code, t.c.cells).where(t.c.publication_id == previous_id).subquery("o")
    return load.read_frame(conn, sa.select(
        sa.func.coalesce(new.c.dossier_code, old.c.dossier_code).label("dossier_code"),
        old.c.procedure_code.label("old_procedure"), old.c.cells.label("old_cells"),
        new.c.procedure_code.label("new_procedure"), new.c.cells.label("new_cells"))
        .select_from(new.join(old, new.c.dossier_code == old.c.dossier_code, full=True))
        .where(new.c.procedure_code.is_distinct_from(old.c.procedure_code)
               | new.c.cells.is_distinct_from(old.c.cells)))


def record(warehouse_url: str, cells: Path | None, values: dict[str, int], year: int, convention: str,
           agency: str | None) -> tuple[list[dict], dt.datetime | None]:
    """Record a publication (``cells``: a Parquet file of ``dossier_code,
    procedure_code, cells``, or None when no dossier counts; ``values``: its cell
    values) and return what changed since the previous publication of the same report
    (and when that was; None the first time). The dossier rows go in first, a
    transaction per :data:`SPOOL_BATCH_ROWS` (invisible until the publication row
    exists); the publication row, the comparison and the removal of the previous
    publications' dossier rows (only the latest is ever compared) go in one last
    transaction."""
    pid = uuid.uuid4().hex
    scope = agency or SCOPE
    pub, rows = schema.publication, schema.publication_dossier
    engine = make_engine(warehouse_url)
    try:
        create_schema(engine)
        with engine.connect() as conn:
            if cells is not None:
                for batch in pq.ParquetFile(cells).iter_batches(batch_size=SPOOL_BATCH_ROWS):
                    data = pa.Table.from_batches([batch])
                    data = data.add_column(0, "publication_id", pa.array([pid] * data.num_rows, pa.string()))
                    with locks.write_step(conn, "record the publication's dossiers"):
                        load.insert(conn, rows, data)
            with locks.write_step(conn, "record the publication"):
                same = (pub.c.year == year) & (pub.c.convention == convention) & (pub.c.agency_scope == scope)
                last = conn.execute(sa.select(pub.c.publication_id, pub.c.figures, pub.c.published_at)
                                    .where(same).order_by(pub.c.published_at.desc()).limit(1)).first()
                conn.execute(pub.insert().values(publication_id=pid, year=year, convention=convention,
                                                 agency_scope=scope, published_at=dt.datetime.now(),
                                                 figures=json.dumps(values, ensure_ascii=False)))
                changes = ([] if last is None
                           else changes_of(moved_dossiers(conn, last[0], pid), json.loads(last[1]), values))
                older = sa.select(pub.c.publication_id).where(same, pub.c.publication_id != pid)
                published = sa.select(pub.c.publication_id)
                conn.execute(rows.delete().where(rows.c.publication_id.in_(older)
                                                 | rows.c.publication_id.not_in(published)))
    finally:
        engine.dispose()
    return changes, None if last is None else last[2]
