"""Publications of the annual report and their restatements: each ``motcua report``
records its figures (``audit.publication``: the value of every non-zero cell of tables
1–2) and the cells of every dossier (``audit.publication_dossier``), so the next
publication of the same report can name each cell that changed, by how much and which
dossiers entered or left it. Compared in SQL, streamed in, never held whole."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import uuid
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from motcua.reporting import SCOPE
from warehouse.engine import make_engine

FIGURE_COLUMNS = ("received_total", "carried_over", "received_new", "resolved_total", "resolved_on_time",
                  "resolved_late", "pending_total", "pending_not_due", "pending_overdue", "withdrawn",
                  "received_online", "received_offline")
"""The published columns; a dossier's ``cells`` has bit ``i`` set when it counts in
``FIGURE_COLUMNS[i]`` (frozen: revision 0005 stored bits in this order)."""
SPOOL_BATCH_ROWS = 500_000
"""Dossier rows written to the warehouse per transaction."""


def cells_of(per: pd.DataFrame) -> pd.Series:
    """Each dossier's published cells as a bit mask (see :data:`FIGURE_COLUMNS`)."""
    mask = pd.Series(0, index=per.index, dtype="int64")
    for i, col in enumerate(FIGURE_COLUMNS):
        mask |= (per[col] > 0).astype("int64") * (1 << i)
    return mask


class PublicationRecorder:
    """A report sink (:data:`motcua.reporting.Sink`): each batch's dossier cells are
    spooled to a Parquet file (bounded memory), the cell values kept (small: one per
    procedure and column). :meth:`publish` then records the publication. A context
    manager (the spool is deleted at its end)."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="motcua-publication-")
        self.path = Path(self._dir.name) / "cells.parquet"
        self._writer: pq.ParquetWriter | None = None
        self.values: dict[str, int] = {}
        self.dossiers = 0

    def __enter__(self) -> PublicationRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self._finish()
        self._dir.cleanup()

    def __call__(self, fct: pd.DataFrame, per: pd.DataFrame) -> None:
        sums = per.groupby("procedure_code")[list(FIGURE_COLUMNS)].sum()
        for code, row in sums.iterrows():
            for col in FIGURE_COLUMNS:
                if row[col] > 0:
                    self.values[f"{code}|{col}"] = int(row[col])
        cells = cells_of(per)
        hit = cells > 0
        table = pa.table({"dossier_code": pa.array(per.loc[hit, "dossier_code"], pa.string()),
                          "procedure_code": pa.array(per.loc[hit, "procedure_code"], pa.string()),
                          "cells": pa.array(cells[hit], pa.int32())})
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table)
        self.dossiers += table.num_rows

    def _finish(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def spooled(self) -> pa.Table:
        """Every dossier's cells spooled so far, read whole (small reports and tests)."""
        self._finish()
        if not self.path.exists():
            return pa.table({"dossier_code": pa.array([], pa.string()), "procedure_code": pa.array([], pa.string()),
                             "cells": pa.array([], pa.int32())})
        return pq.read_table(self.path)

    def publish(self, warehouse_url: str, year: int, convention: str,
                agency: str | None) -> tuple[list[dict], dt.datetime | None]:
        """Record this publication and return what changed since the previous publication
        of the same report (and when that was; None the first time). The dossier rows go
        in first, a transaction per :data:`SPOOL_BATCH_ROWS` (invisible until the
        publication row exists); the publication row, the comparison and the removal of
        the previous publications' dossier rows (only the latest is ever compared) go in
        one last transaction."""
        from warehouse import load, locks, schema
        from warehouse.engine import create_schema

        self._finish()
        pid = uuid.uuid4().hex
        scope = agency or SCOPE
        pub, rows = schema.publication, schema.publication_dossier
        engine = make_engine(warehouse_url)
        try:
            create_schema(engine)
            with engine.connect() as conn:
                if self.path.exists():
                    for batch in pq.ParquetFile(self.path).iter_batches(batch_size=SPOOL_BATCH_ROWS):
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
                                                     figures=json.dumps(self.values, ensure_ascii=False)))
                    changes = [] if last is None else restatement(conn, last[0], json.loads(last[1]), pid, self.values)
                    older = sa.select(pub.c.publication_id).where(same, pub.c.publication_id != pid)
                    published = sa.select(pub.c.publication_id)
                    conn.execute(rows.delete().where(rows.c.publication_id.in_(older)
                                                     | rows.c.publication_id.not_in(published)))
        finally:
            engine.dispose()
        return changes, None if last is None else last[2]


def _cells(procedure: object, mask: object) -> set[str]:
    if procedure is None or pd.isna(procedure) or mask is None or pd.isna(mask):
        return set()
    return {f"{procedure}|{col}" for i, col in enumerate(FIGURE_COLUMNS) if int(mask) >> i & 1}


def restatement(conn: sa.Connection, previous_id: str, previous: dict[str, int], current_id: str,
                current: dict[str, int]) -> list[dict]:
    """The cells whose value or dossiers changed from publication ``previous_id`` to
    ``current_id`` (their ``figures`` values given), each with the dossiers that
    entered or left it: the dossiers whose cells differ are found by a full outer join
    in the warehouse, only they are read."""
    from warehouse import load, schema

    t = schema.publication_dossier
    new = sa.select(t.c.dossier_code, t.c.procedure_code, t.c.cells).where(t.c.publication_id == current_id).subquery("n")
    old = sa.select(t.c.dossier_code, t.c.procedure_code, t.c.cells).where(t.c.publication_id == previous_id).subquery("o")
    moved = load.read_frame(conn, sa.select(
        sa.func.coalesce(new.c.dossier_code, old.c.dossier_code).label("dossier_code"),
        old.c.procedure_code.label("old_procedure"), old.c.cells.label("old_cells"),
        new.c.procedure_code.label("new_procedure"), new.c.cells.label("new_cells"))
        .select_from(new.join(old, new.c.dossier_code == old.c.dossier_code, full=True))
        .where(new.c.procedure_code.is_distinct_from(old.c.procedure_code)
               | new.c.cells.is_distinct_from(old.c.cells)))
    entered: dict[str, list[str]] = defaultdict(list)
    left: dict[str, list[str]] = defaultdict(list)
    for r in moved.itertuples(index=False):
        before, after = _cells(r.old_procedure, r.old_cells), _cells(r.new_procedure, r.new_cells)
        for key in after - before:
            entered[key].append(str(r.dossier_code))
        for key in before - after:
            left[key].append(str(r.dossier_code))
    changes = []
    for key in sorted(set(previous) | set(current) | set(entered) | set(left)):
        was, now = previous.get(key, 0), current.get(key, 0)
        if was == now and key not in entered and key not in left:
            continue
        procedure, column = key.split("|", 1)
        changes.append({"procedure_code": procedure, "column": column, "previous": was, "current": now,
                        "change": now - was, "dossiers_in": sorted(entered.get(key, [])),
                        "dossiers_out": sorted(left.get(key, []))})
    return changes


def restatement_text(changes: list[dict], since: dt.datetime | None) -> str:
    """A readable account of the changes, for the officer and the report folder."""
    if since is None:
        return "Lần công bố đầu tiên của báo cáo này: chưa có số liệu để so sánh."
    if not changes:
        return f"Không có ô số liệu nào thay đổi so với lần công bố {since:%d/%m/%Y %H:%M}."
    lines = [f"{len(changes)} ô số liệu thay đổi so với lần công bố {since:%d/%m/%Y %H:%M}:"]
    for ch in changes:
        moved = []
        if ch["dossiers_in"]:
            moved.append("thêm hồ sơ " + ", ".join(ch["dossiers_in"]))
        if ch["dossiers_out"]:
            moved.append("bớt hồ sơ " + ", ".join(ch["dossiers_out"]))
        lines.append(f"- TTHC {ch['procedure_code']}, cột {ch['column']}: {ch['previous']} -> {ch['current']} "
                     f"({ch['change']:+d}); " + "; ".join(moved))
    return "\n".join(lines)
