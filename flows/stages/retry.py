"""Quarantine retry as a run: the open quarantined records a retry asks for, laid out as a
run's raw files and catalogue, so that the normal stages (stage and validate, load core,
marts, publish) process them exactly as they process a source's records.

Per source of the records, :func:`prepare` writes one raw file (the raw zone's columns:
``locator``, ``record``, ``error``, ``run_id``, ``source``) and the catalogue the records
are placed with: the warehouse's own dimensions (``core.dim_procedure``,
``core.dim_agency``), so a fix made there (a procedure added) is what the retry sees.
Corrected lines (``--from-file``) replace the stored record: the open row takes the
corrected text and the id that text hashes to (:func:`quarantine_id`), applied by the
load in its first step, so the corrected record is resolved, or keeps its row with its
new reason, like any other. A retry never moves a source's watermark.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from flows.stages.runs import Run, frame_private, write_private
from motcua.settings import Settings
from warehouse.audit import quarantine_id
from warehouse.engine import private_dir


def prepare(run: Run, settings: Settings, rows: pd.DataFrame, dim_procedure: pd.DataFrame,
            dim_agency: pd.DataFrame) -> list[dict[str, Any]]:
    """One ``extracted`` dict per source of ``rows`` (open quarantine rows, ``record``
    possibly corrected, ``original_id`` the row's id before), in the shape
    :func:`flows.stages.extract.extract` returns, for :func:`flows.stages.stage.stage` and
    :func:`flows.stages.load_core.load_core`."""
    from transforms import dim_agency as agencies
    from transforms import dim_procedure as procedures

    cat_dir = run.run_dir / "catalogue"
    private_dir(cat_dir)
    frame_private(procedures.to_catalogue(dim_procedure), cat_dir / "procedures.parquet")
    frame_private(agencies.to_catalogue(dim_agency), cat_dir / "agencies.parquet")
    out = []
    for k, (source, part) in enumerate(rows.groupby(rows["source"].astype(str), sort=True)):
        locators = part["locator"].fillna("").astype(str).tolist()
        records = part["record"].astype(str).tolist()
        table = pa.table({"locator": locators, "record": records, "error": pa.nulls(len(part), pa.string()),
                          "run_id": [run.run_id] * len(part), "source": [source] * len(part)})
        path = run.run_dir / "raw" / f"{run.run_id}-records-retry{k:05d}.parquet"
        write_private(table, path)
        new_ids = [quarantine_id(source, loc, rec) for loc, rec in zip(locators, records, strict=True)]
        corrections = pd.DataFrame({"quarantine_id": part["original_id"].astype(str).to_numpy(),
                                    "new_id": new_ids, "record": records})
        corrections = corrections[corrections["quarantine_id"] != corrections["new_id"]]
        corr_path = run.run_dir / "raw" / f"corrections-{k:05d}.parquet"
        frame_private(corrections, corr_path)
        out.append({"raw_files": [str(path)], "records_read": len(part), "source_name": source,
                    "procedures": str(cat_dir / "procedures.parquet"),
                    "agencies": str(cat_dir / "agencies.parquet"),
                    "source_max_updated": None, "advance_watermark": False,
                    "corrections": str(corr_path), "quarantine_ids": new_ids})
    return out

