"""The pipeline's pure path, without warehouse or Prefect: raw lines -> records ->
fct_dossier -> counts. Used by property tests to run hundreds of examples quickly."""

from __future__ import annotations

import json

import pandas as pd

from motcua.sources.base import make_batch
from transforms import dim_procedure, fct_dossier, int_dossier_record, stg_dossier_snapshot

KEY = b"property-test-key"


def records(lines: list[str | dict], procedures: pd.DataFrame, first_id: int = 0) -> pd.DataFrame:
    texts = [ln if isinstance(ln, str) else json.dumps(ln, ensure_ascii=False) for ln in lines]
    batch = make_batch([f"t:{i}" for i in range(len(texts))], texts)
    staged, history = stg_dossier_snapshot.build(batch, first_record_id=first_id)
    return int_dossier_record.build(staged, history, dim_procedure.build(procedures), {"A1", "A2"})


def merge(existing: pd.DataFrame, recs: pd.DataFrame) -> pd.DataFrame:
    """One incremental load: valid records merged into the existing fct (newest wins)."""
    ok = recs[recs["quarantine_reason"].isna()]
    cand = fct_dossier.from_records(ok, KEY, "test", "run")
    changed = fct_dossier.build(cand, existing)
    if existing.empty:
        out = changed
    else:
        out = pd.concat([existing[~existing["dossier_code"].isin(changed["dossier_code"])], changed],
                        ignore_index=True)
    return out.sort_values("dossier_code").reset_index(drop=True)


def with_end_kind(fct: pd.DataFrame) -> pd.DataFrame:
    fct = fct.copy()
    fct["end_kind"] = [("resolved" if pd.notna(r) else "withdrawn" if pd.notna(w) else None)
                       for r, w in zip(fct["resolved_at"], fct["withdrawn_at"], strict=True)]
    return fct


def procedures_frame(rows: list[dict]) -> pd.DataFrame:
    from helpers.bundle import PROCEDURE_HEADER

    return pd.DataFrame(rows, columns=PROCEDURE_HEADER).astype("string")
