"""The pipeline's stages as plain functions (the Prefect tasks in :mod:`flows.tasks`
wrap them). Between stages only paths, table names and counts travel; the data lives
in Parquet files under the run's folder and in the warehouse.

extract -> stage (parse, rules, validate: records loaded or quarantined) -> load_core
(dimensions, fct_dossier, events, quarantine, watermark: one transaction) ->
build_marts (+ mart suite: write, audit) -> publish (marts replaced in one transaction).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from motcua.settings import Settings, pseudonym_key
from motcua.sources import open_source
from transforms import (
    dim_agency,
    dim_procedure,
    dim_static,
    fct_dossier,
    fct_dossier_event,
    int_dossier_record,
    mart_dossier_intake,
    mart_dossier_resolution,
    mart_indicator,
    stg_dossier_snapshot,
)
from transforms.workdays import calendars_from_overrides
from warehouse import load, schema
from warehouse.engine import create_schema, make_engine

log = logging.getLogger("motcua")


class PipelineError(RuntimeError):
    """The run could not complete; nothing was published."""


@dataclass
class Run:
    """Where one run keeps its files, and what it has counted so far."""

    run_id: str
    run_dir: Path
    source: str
    warehouse_url: str
    started_at: dt.datetime
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["run_dir"] = str(self.run_dir)
        d["started_at"] = self.started_at.isoformat()
        return d


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _write_private(table: pa.Table, path: Path) -> None:
    _private_dir(path.parent)
    pq.write_table(table, path)
    os.chmod(path, 0o600)


def new_run(settings: Settings, source: str, run_id: str | None = None) -> Run:
    now = dt.datetime.now()
    rid = run_id or f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    run_dir = _private_dir(Path(settings.data_dir) / "runs" / rid)
    return Run(rid, run_dir, source, settings.warehouse_url, now)


def source_name(spec: str) -> str:
    """A stable, file-system safe name for a source (used in the raw zone and watermarks)."""
    kind = "http" if spec.startswith(("http://", "https://")) else "db" if "://" in spec else "file"
    if kind == "file":
        kind = "bundle" if Path(spec).is_dir() else "sheet"
        spec = str(Path(spec).resolve())
    digest = hashlib.sha256(spec.encode()).hexdigest()[:10]
    return f"{kind}-{digest}"


# --------------------------------------------------------------------------- extract
def extract(run: Run, settings: Settings, since: str | None = None) -> dict:
    """Read every record of the source into the raw landing zone, as read."""
    src = open_source(run.source)
    name = source_name(run.source)
    cat_dir = _private_dir(run.run_dir / "catalogue")
    procedures = src.read_procedures()
    agencies = src.read_agencies()
    procedures.astype("string").to_parquet(cat_dir / "procedures.parquet", index=False)
    agencies.astype("string").to_parquet(cat_dir / "agencies.parquet", index=False)
    raw_dir = Path(settings.data_dir) / "raw" / f"source={name}" / f"extracted={run.started_at:%Y-%m-%d}"
    files: list[str] = []
    n = 0
    for i, batch in enumerate(src.iter_records(since)):
        if batch.num_rows == 0:
            continue
        table = batch.append_column("run_id", pa.array([run.run_id] * batch.num_rows, pa.string()))
        table = table.append_column("source", pa.array([name] * batch.num_rows, pa.string()))
        path = raw_dir / f"{run.run_id}-{i:05d}.parquet"
        _write_private(table, path)
        files.append(str(path))
        n += batch.num_rows
    run.counts["records_read"] = n
    max_updated = getattr(src, "max_updated", None)
    return {"raw_files": files, "records_read": n, "source_name": name,
            "procedures": str(cat_dir / "procedures.parquet"), "agencies": str(cat_dir / "agencies.parquet"),
            "source_max_updated": max_updated}


def _catalogue(extracted: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    procedures = pd.read_parquet(extracted["procedures"])
    agencies = pd.read_parquet(extracted["agencies"])
    return dim_procedure.build(procedures), agencies


# --------------------------------------------------------------------------- stage
def stage(run: Run, settings: Settings, extracted: dict, validate: bool = True) -> dict:
    """Parse, apply the rules and validate every raw record; write the records that load
    and those quarantined (with reasons) to the run folder."""
    dim_proc, agencies = _catalogue(extracted)
    agency_codes = set(agencies["MaDonVi"].dropna())
    overrides = None
    if settings.calendar_overrides:
        overrides = pd.read_csv(settings.calendar_overrides, dtype=str, keep_default_na=False)
    cal, per_agency = calendars_from_overrides(overrides)
    out_dir = _private_dir(run.run_dir / "records")
    first_id = 0
    parts, hist_parts, q_parts = [], [], []
    loaded = quarantined = 0
    warnings = 0
    for i, f in enumerate(extracted["raw_files"]):
        raw = pq.read_table(f)
        staged, history = stg_dossier_snapshot.build(raw, first_record_id=first_id)
        first_id += len(staged)
        records = int_dossier_record.build(staged, history, dim_proc, agency_codes, cal, per_agency)
        if validate:
            from expectations import int_dossier_record as suite
            from expectations.runner import validate as run_suite

            ok = records["quarantine_reason"].isna()
            outcome = run_suite(suite, records[ok])
            for (rid,), reasons in outcome.errors.items():
                records.loc[records["record_id"] == rid, "quarantine_reason"] = "expectation: " + "; ".join(reasons)
            if outcome.table_errors:
                raise PipelineError(f"record suite could not run: {outcome.table_errors}")
            warnings += len(outcome.warnings)
        bad = records["quarantine_reason"].notna()
        q = records.loc[bad, ["record_id", "locator", "dossier_code", "quarantine_reason"]].copy()
        q["record"] = raw.column("record").to_pandas().to_numpy()[bad.to_numpy()]
        q["source"] = raw.column("source")[0].as_py() if raw.num_rows else extracted["source_name"]
        good = records[~bad]
        good_path = out_dir / f"records-{i:05d}.parquet"
        hist_path = out_dir / f"history-{i:05d}.parquet"
        q_path = out_dir / f"quarantine-{i:05d}.parquet"
        good.to_parquet(good_path, index=False)
        history[history["record_id"].isin(good["record_id"])].to_parquet(hist_path, index=False)
        q.to_parquet(q_path, index=False)
        for p in (good_path, hist_path, q_path):
            os.chmod(p, 0o600)
        parts.append(str(good_path))
        hist_parts.append(str(hist_path))
        q_parts.append(str(q_path))
        loaded += len(good)
        quarantined += int(bad.sum())
    read = extracted["records_read"]
    if loaded + quarantined != read:
        raise PipelineError(f"record accounting broken: read {read}, loaded {loaded} + quarantined {quarantined}")
    run.counts.update(records_loaded=loaded, records_quarantined=quarantined, records_flagged=warnings)
    return {"record_parts": parts, "history_parts": hist_parts, "quarantine_parts": q_parts,
            "records_read": read, "records_loaded": loaded, "records_quarantined": quarantined,
            "records_flagged": warnings}


# --------------------------------------------------------------------------- load core
def _existing_fct(conn: sa.Connection, codes: list[str]) -> pd.DataFrame:
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


def _quarantine_rows(run: Run, q_parts: list[str]) -> pd.DataFrame:
    frames = [pd.read_parquet(p) for p in q_parts]
    q = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["record_id", "locator", "dossier_code", "quarantine_reason", "record", "source"])
    ids = [hashlib.sha256(f"{s}\x00{lc}\x00{r}".encode("utf-8", "surrogatepass")).hexdigest()
           for s, lc, r in zip(q["source"], q["locator"], q["record"], strict=True)]
    return pd.DataFrame({
        "quarantine_id": ids, "run_id": run.run_id, "source": q["source"], "locator": q["locator"],
        "dossier_code": q["dossier_code"], "reason": q["quarantine_reason"], "record": q["record"],
        "quarantined_at": pd.Timestamp(run.started_at).as_unit("us"), "resolved_run_id": None,
    }).drop_duplicates("quarantine_id")


def check_quarantine_share(staged: dict, threshold: float) -> str | None:
    read = staged["records_read"]
    if read and staged["records_quarantined"] / read > threshold:
        return (f"{staged['records_quarantined']} of {read} records quarantined "
                f"({staged['records_quarantined'] / read:.1%}), above the threshold {threshold:.1%}")
    return None


def load_core(run: Run, settings: Settings, extracted: dict, staged: dict) -> dict:
    """Load dimensions, the dossier facts that changed, their events, the quarantine and
    the watermark in one transaction."""
    key = pseudonym_key()
    engine = make_engine(settings.warehouse_url)
    create_schema(engine)
    dim_proc, agencies = _catalogue(extracted)
    records = pd.concat([pd.read_parquet(p) for p in staged["record_parts"]], ignore_index=True) \
        if staged["record_parts"] else pd.DataFrame(columns=int_dossier_record.OUTPUT_COLUMNS)
    candidates = fct_dossier.from_records(records, key, extracted["source_name"], run.run_id)
    candidates["_record_id"] = records["record_id"].to_numpy()
    quarantine = _quarantine_rows(run, staged["quarantine_parts"])
    share_problem = check_quarantine_share(staged, settings.quarantine_threshold)
    try:
        with engine.begin() as conn:
            load.delete_keys(conn, schema.quarantine, "quarantine_id", quarantine["quarantine_id"])
            load.insert(conn, schema.quarantine, quarantine)
            if share_problem:
                _record_run(conn, run, "failed", share_problem)
                changed = pd.DataFrame()
            else:
                existing = _existing_fct(conn, candidates["dossier_code"].dropna().unique().tolist())
                changed = fct_dossier.build(candidates, existing)
                seen_agencies = set(changed["agency_code"].dropna()) | set(
                    load.read_frame(conn, sa.select(schema.fct_dossier.c.agency_code).distinct())["agency_code"].dropna())
                dim_ag = dim_agency.build(agencies, seen_agencies - {""})
                load.replace_all(conn, schema.dim_procedure, dim_proc)
                load.replace_all(conn, schema.dim_agency, dim_ag)
                load.replace_all(conn, schema.dim_field, dim_static.dim_field(dim_proc))
                load.replace_all(conn, schema.dim_channel, dim_static.CHANNELS)
                load.replace_all(conn, schema.dim_status, dim_static.STATUSES)
                winners = changed[["_record_id", "dossier_code"]].rename(columns={"_record_id": "record_id"})
                history = pd.concat([pd.read_parquet(p) for p in staged["history_parts"]], ignore_index=True)
                events = fct_dossier_event.build(history, winners)
                codes = changed["dossier_code"].tolist()
                load.delete_keys(conn, schema.fct_dossier, "dossier_code", codes)
                load.insert(conn, schema.fct_dossier, changed.drop(columns="_record_id"))
                load.delete_keys(conn, schema.fct_dossier_event, "dossier_code", codes)
                load.insert(conn, schema.fct_dossier_event, events)
                _advance_watermark(conn, run, extracted, records)
                run.counts["dossiers_changed"] = len(changed)
    finally:
        engine.dispose()
    if share_problem:
        raise PipelineError(share_problem)
    return {"dossiers_changed": int(len(changed)), "quarantine_rows": int(len(quarantine))}


def _advance_watermark(conn: sa.Connection, run: Run, extracted: dict, records: pd.DataFrame) -> None:
    mark = extracted.get("source_max_updated")
    if not mark and not records.empty and records["updated_at"].notna().any():
        mark = records["updated_at"].max().strftime("%Y%m%d%H%M%S")
    if not mark:
        return
    t = schema.source_state
    name = extracted["source_name"]
    old = conn.execute(sa.select(t.c.watermark).where(t.c.source == name)).scalar()
    if old and old >= mark:
        return
    conn.execute(t.delete().where(t.c.source == name))
    conn.execute(t.insert().values(source=name, watermark=mark, updated_at=dt.datetime.now(), run_id=run.run_id))


def read_watermark(settings: Settings, source: str) -> str | None:
    engine = make_engine(settings.warehouse_url)
    try:
        create_schema(engine)
        with engine.connect() as conn:
            t = schema.source_state
            return conn.execute(sa.select(t.c.watermark).where(t.c.source == source_name(source))).scalar()
    finally:
        engine.dispose()


def _record_run(conn: sa.Connection, run: Run, status: str, message: str | None = None) -> None:
    t = schema.run
    conn.execute(t.delete().where(t.c.run_id == run.run_id))
    conn.execute(t.insert().values(
        run_id=run.run_id, flow="run", source=source_name(run.source), started_at=run.started_at,
        finished_at=dt.datetime.now(), status=status, records_read=run.counts.get("records_read"),
        records_loaded=run.counts.get("records_loaded"), records_quarantined=run.counts.get("records_quarantined"),
        dossiers_changed=run.counts.get("dossiers_changed"), message=message))


# --------------------------------------------------------------------------- marts
def read_core(conn: sa.Connection) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    fct = load.read_frame(conn, schema.fct_dossier)
    dim_proc = load.read_frame(conn, schema.dim_procedure)
    dim_ag = load.read_frame(conn, schema.dim_agency)
    for c in ("intake_at", "ended_at", "due_date", "resolved_at", "withdrawn_at", "updated_at"):
        fct[c] = pd.to_datetime(fct[c]).astype("datetime64[us]")
    for d in (dim_proc, dim_ag):
        for c in ("valid_from", "valid_to"):
            d[c] = pd.to_datetime(d[c]).astype("datetime64[us]")
    fct["end_kind"] = pd.Series(
        [("resolved" if pd.notna(r) else "withdrawn" if pd.notna(w) else None)
         for r, w in zip(fct["resolved_at"], fct["withdrawn_at"], strict=True)], dtype="object")
    return fct, dim_proc, dim_ag


def build_marts(run: Run, settings: Settings, validate: bool = True) -> dict:
    """Compute the marts from the core and audit them; nothing is published here."""
    engine = make_engine(settings.warehouse_url)
    try:
        with engine.connect() as conn:
            fct, dim_proc, dim_ag = read_core(conn)
    finally:
        engine.dispose()
    counts = mart_dossier_resolution.counts_all_periods(fct, mart_dossier_resolution.KEYS)
    resolution = mart_dossier_resolution.build(fct, dim_proc)
    intake = mart_dossier_intake.build(fct, dim_proc, counts=counts)
    indicators = mart_indicator.build(counts, fct, dim_ag, dim_proc)
    if validate:
        from expectations import mart_dossier_resolution as suite
        from expectations.runner import validate as run_suite

        outcome = run_suite(suite, resolution)
        if not outcome.success:
            first = list(outcome.errors.items())[:5]
            raise PipelineError(f"mart suite failed, nothing published: {outcome.summary()}; "
                                f"first failures: {first} {outcome.table_errors[:3]}")
    out_dir = _private_dir(run.run_dir / "marts")
    paths = {}
    for name, df in (("dossier_resolution", resolution), ("dossier_intake", intake), ("indicator", indicators)):
        p = out_dir / f"{name}.parquet"
        df.to_parquet(p, index=False)
        paths[name] = str(p)
    return {"marts": paths, "rows": {k: int(len(v)) for k, v in
                                      (("dossier_resolution", resolution), ("dossier_intake", intake), ("indicator", indicators))}}


def publish(run: Run, settings: Settings, built: dict) -> dict:
    """Replace the marts in one transaction, and record the run."""
    engine = make_engine(settings.warehouse_url)
    tables = {"dossier_resolution": schema.dossier_resolution, "dossier_intake": schema.dossier_intake,
              "indicator": schema.indicator}
    try:
        with engine.begin() as conn:
            for name, path in built["marts"].items():
                load.replace_all(conn, tables[name], pd.read_parquet(path))
            _record_run(conn, run, "completed")
    finally:
        engine.dispose()
    return {"published": list(built["marts"])}
