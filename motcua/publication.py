"""The publication record of a report run: each ``motcua report`` records its figures
and the cells of every dossier (:mod:`warehouse.publication`), so the next publication
of the same report can name each cell that changed, by how much and which dossiers
entered or left it (:mod:`transforms.rpt_restatement`). :class:`PublicationRecorder`
is the report pass's sink that gathers them."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.rpt_restatement import cell_values, cells_of


class PublicationRecorder:
    """A report sink (:data:`transforms.rpt_counts.Sink`): each batch's dossier cells are
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
        self.values.update(cell_values(per))
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
        """Record this publication (:func:`warehouse.publication.record`) and return what
        changed since the previous one of the same report, and when that was."""
        from warehouse.publication import record

        self._finish()
        return record(warehouse_url, self.path if self.path.exists() else None, self.values, year, convention,
                      agency)
