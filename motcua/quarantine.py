"""Working from the quarantine (``audit.quarantine``): list it, show records, retry them.

A quarantined record is a raw record (line, row, API item) that could not be placed,
kept with its reason and counted nowhere. After a fix (a code change, a catalogue
entry, or a corrected line) :func:`retry` sends open records through the same path a
run uses — :func:`transforms.stg_dossier_snapshot.build`, then
:func:`transforms.int_dossier_record.build` with the catalogue from
``core.dim_procedure``, then the record suites — loads those that now pass into
``core.fct_dossier`` (newest-wins merge against the rows already there, events too),
marks them resolved (``resolved_run_id``) and rebuilds and publishes the marts with a
new run, so a fixed record is counted once and leaves the quarantine. Records that
still fail stay, with their new reason.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from motcua.settings import Settings, pseudonym_key
from warehouse import load, schema
from warehouse.engine import create_schema, make_engine

Q = schema.quarantine


class QuarantineError(ValueError):
    """The request cannot be carried out as asked (nothing was changed)."""


def reason_prefix(reason: str | None) -> str:
    """The reason's kind: the text before its first ``:`` (``invalid_json``,
    ``due_not_computable``, ``expectation`` …)."""
    if reason is None:
        return ""
    return str(reason).split(":", 1)[0].strip()


def _read(warehouse_url: str, query: sa.Select) -> pd.DataFrame:
    engine = make_engine(warehouse_url)
    try:
        create_schema(engine)
        with engine.connect() as conn:
            return load.read_frame(conn, query)
    finally:
        engine.dispose()


def counts(warehouse_url: str, include_resolved: bool = False) -> pd.DataFrame:
    """Quarantined records by reason kind and source: ``reason, source, open`` (and
    ``resolved``, ``total`` with ``include_resolved``), largest first."""
    q = sa.select(Q.c.reason, Q.c.source, Q.c.resolved_run_id)
    if not include_resolved:
        q = q.where(Q.c.resolved_run_id.is_(None))
    df = _read(warehouse_url, q)
    cols = ["reason", "source", "open", *(["resolved", "total"] if include_resolved else [])]
    if df.empty:
        return pd.DataFrame({c: [] for c in cols})
    df["reason"] = df["reason"].map(reason_prefix)
    df["open"] = df["resolved_run_id"].isna().astype(int)
    df["resolved"] = 1 - df["open"]
    df["total"] = 1
    out = df.groupby(["reason", "source"], as_index=False)[["open", "resolved", "total"]].sum()
    out = out.sort_values(["total", "reason", "source"], ascending=[False, True, True])
    return out[cols].reset_index(drop=True)


def find(warehouse_url: str, id_prefix: str | None = None, reason: str | None = None,
         limit: int | None = 20, include_resolved: bool = True) -> pd.DataFrame:
    """Quarantine rows whose id starts with ``id_prefix`` and/or whose reason starts
    with ``reason``, oldest first (all columns, the raw record included)."""
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
    return _read(warehouse_url, q)


def read_corrections(path: Path) -> list[str]:
    """Corrected records from a JSONL file: one snapshot a line (blank lines skipped;
    UTF-8, a BOM tolerated)."""
    text = Path(path).read_bytes().decode("utf-8-sig")
    return [ln.rstrip("\r") for ln in text.split("\n") if ln.strip()]


def _dossier_code(line: str) -> str | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict) or obj.get("MaHoSo") in (None, ""):
        return None
    return str(obj["MaHoSo"]).strip()


def assign_corrections(open_rows: pd.DataFrame, lines: list[str], ids: list[str] | None = None) -> pd.DataFrame:
    """The open rows the corrected ``lines`` replace, with ``record`` set to them.

    With ``ids`` (quarantine id prefixes), line *i* replaces the record of id *i* (as
    many lines as ids). Otherwise each line replaces the one open record with the same
    ``MaHoSo``; a line whose code matches none, or several, is an error."""
    rows = open_rows.copy()
    out = []
    if ids:
        if len(ids) != len(lines):
            raise QuarantineError(f"{len(ids)} id(s) given for {len(lines)} corrected line(s): give one id per line")
        for prefix, line in zip(ids, lines, strict=True):
            hit = rows[rows["quarantine_id"].str.startswith(prefix.lower())]
            if len(hit) != 1:
                raise QuarantineError(f"id {prefix!r} matches {len(hit)} open quarantined records")
            out.append(hit.assign(record=line))
    else:
        for n, line in enumerate(lines, 1):
            code = _dossier_code(line)
            if code is None:
                raise QuarantineError(f"corrected line {n} has no MaHoSo (or is not a JSON object): pass --id")
            hit = rows[rows["dossier_code"].fillna("").astype(str).str.strip() == code]
            if len(hit) != 1:
                raise QuarantineError(f"corrected line {n}: MaHoSo {code!r} matches {len(hit)} open quarantined "
                                      "records (pass --id to choose)")
            out.append(hit.assign(record=line))
    if not out:
        return rows.iloc[0:0]
    result = pd.concat(out, ignore_index=True)
    dup = result["quarantine_id"].duplicated()
    if dup.any():
        raise QuarantineError(f"several corrected lines replace the same record {result.loc[dup, 'quarantine_id'].iloc[0][:12]}")
    return result


@dataclass
class RetryResult:
    """What a retry did."""

    run_id: str | None
    retried: int = 0
    resolved: int = 0
    still_quarantined: int = 0
    flagged: int = 0
    dossiers_changed: int = 0
    marts: dict[str, int] | None = None
    data_docs: str | None = None
    # quarantine_id -> "resolved" or the new reason
    outcome: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {k: getattr(self, k) for k in ("run_id", "retried", "resolved", "still_quarantined", "flagged",
                                              "dossiers_changed", "marts", "data_docs", "outcome")}


def _calendars(settings: Settings) -> tuple[Any, Any]:
    from transforms.workdays import calendars_from_overrides

    overrides = None
    if settings.calendar_overrides:
        overrides = pd.read_csv(settings.calendar_overrides, dtype=str, keep_default_na=False)
    return calendars_from_overrides(overrides)


def process(rows: pd.DataFrame, dim_proc: pd.DataFrame, agency_codes: set[str], settings: Settings,
            run_id: str, run_time: dt.datetime) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int]:
    """Send quarantine ``rows`` through parse, rules and record suites, as a run would.

    Returns ``(records, history, raw, flagged)``: one record per row (same order),
    ``quarantine_reason`` null for those that now pass."""
    from expectations import gate
    from motcua.sources.base import make_batch
    from transforms import int_dossier_record, stg_dossier_snapshot

    raw = make_batch(rows["locator"].fillna("").astype(str).tolist(), rows["record"].astype(str).tolist())
    raw = raw.append_column("run_id", pa.array([run_id] * raw.num_rows, pa.string()))
    raw = raw.append_column("source", pa.array(rows["source"].astype(str).tolist(), pa.string()))
    staged, history = stg_dossier_snapshot.build(raw, first_record_id=0)
    cal, per_agency = _calendars(settings)
    records = int_dossier_record.build(staged, history, dim_proc, agency_codes, cal, per_agency)
    records, flagged, table_errors = gate.check_batch(raw, records, run_time)
    if table_errors:
        raise QuarantineError(f"record suites could not run: {table_errors}")
    return records, history, raw.to_pandas(), flagged


def _existing(conn: sa.Connection, codes: list[str]) -> pd.DataFrame:
    t = schema.fct_dossier
    parts = [load.read_frame(conn, sa.select(t.c.dossier_code, t.c.updated_at, t.c.record_hash)
                             .where(t.c.dossier_code.in_(codes[i:i + 5000]))) for i in range(0, len(codes), 5000)]
    if not parts:
        return pd.DataFrame(columns=["dossier_code", "updated_at", "record_hash"])
    out = pd.concat(parts, ignore_index=True)
    out["updated_at"] = pd.to_datetime(out["updated_at"]).astype("datetime64[us]")
    return out


def _open_rows(conn: sa.Connection, reason: str | None) -> pd.DataFrame:
    q = sa.select(Q).where(Q.c.resolved_run_id.is_(None))
    if reason:
        q = q.where(Q.c.reason.like(f"{reason}%"))
    return load.read_frame(conn, q.order_by(Q.c.quarantined_at, Q.c.source, Q.c.locator))


def _select(open_rows: pd.DataFrame, ids: list[str] | None, from_file: Path | None) -> pd.DataFrame:
    if from_file is not None:
        return assign_corrections(open_rows, read_corrections(from_file), ids).reset_index(drop=True)
    if ids:
        mask = pd.Series(False, index=open_rows.index)
        for prefix in ids:
            mask |= open_rows["quarantine_id"].str.startswith(prefix.lower())
        return open_rows[mask].reset_index(drop=True)
    return open_rows.reset_index(drop=True)


def _placeholder_agencies(codes: set[str]) -> pd.DataFrame:
    """dim_agency rows (``is_known`` False) for agency codes seen only on dossiers."""
    from transforms import dim_agency

    empty = pd.DataFrame({c: pd.Series(dtype="string") for c in
                          ("MaDonVi", "TenDonVi", "MaDonViCha", "HieuLucTu", "HieuLucDen", "ThayTheBoi")})
    return dim_agency.build(empty, codes)


def retry(warehouse_url: str, reason: str | None = None, ids: list[str] | None = None,
          from_file: Path | None = None, data_dir: Path | str | None = None) -> RetryResult:
    """Re-process open quarantined records (all, those whose reason starts with
    ``reason``, those whose id starts with one of ``ids``, or those that the corrected
    lines of ``from_file`` replace) and load the ones that now pass; see the module
    docstring.

    Runs as the pipeline's write section does, under the warehouse write lock: when the
    fact table changes, the run is first recorded ``marts_stale`` in ``audit.run``, then
    the core is loaded and the quarantine rows updated in one transaction, then the
    touched mart partitions are rebuilt, validated and published (a failure there leaves
    the run ``marts_stale``: the next run rebuilds those periods). When nothing in the
    fact changes (nothing passed, or only snapshots older than the current ones), the
    quarantine rows are updated and the run recorded ``completed`` without touching the
    marts."""
    from flows.stages.marts import build_marts
    from flows.stages.publish import mark_marts_stale, plan_rebuild, publish
    from flows.stages.runs import new_run, note_failure
    from transforms import fct_dossier, fct_dossier_event
    from warehouse import locks
    from warehouse.locks import warehouse_lock

    settings = Settings.from_env(warehouse_url=warehouse_url, data_dir=data_dir)
    engine = make_engine(settings.warehouse_url)
    create_schema(engine)
    engine.dispose()
    run = new_run(settings, "quarantine-retry")
    result = RetryResult(run_id=None)
    with warehouse_lock(settings, f"quarantine retry {run.run_id}"):
        engine = make_engine(settings.warehouse_url)
        try:
            with engine.connect() as conn:
                rows = _select(_open_rows(conn, reason), ids, from_file)
                dim_proc = load.read_frame(conn, schema.dim_procedure)
                dim_ag = load.read_frame(conn, schema.dim_agency)
        finally:
            engine.dispose()
        if rows.empty:
            return result
        sources = sorted(set(rows["source"].astype(str)))
        known = set(dim_ag.loc[dim_ag["is_known"].fillna(False).astype(bool), "agency_code"].dropna())
        records, history, _, flagged = process(rows, dim_proc, known, settings, run.run_id, run.started_at)
        passed = records["quarantine_reason"].isna().to_numpy()
        result = RetryResult(run_id=run.run_id, retried=len(rows), resolved=int(passed.sum()),
                             still_quarantined=int((~passed).sum()), flagged=flagged)
        run.counts.update(records_read=len(rows), records_loaded=result.resolved,
                          records_quarantined=result.still_quarantined, records_flagged=flagged)
        good = records[passed]
        key = pseudonym_key()
        cands = []
        for src, idx in good.groupby(rows.loc[passed, "source"].to_numpy()).groups.items():
            part = fct_dossier.from_records(good.loc[idx], key, str(src), run.run_id)
            part["_record_id"] = good.loc[idx, "record_id"].to_numpy()
            cands.append(part)
        changed = pd.DataFrame()
        if cands:
            candidates = pd.concat(cands, ignore_index=True)
            engine = make_engine(settings.warehouse_url)
            try:
                with engine.connect() as conn:
                    existing = _existing(conn, candidates["dossier_code"].dropna().unique().tolist())
            finally:
                engine.dispose()
            changed = fct_dossier.build(candidates, existing)
        result.dossiers_changed = int(len(changed))
        run.counts["dossiers_changed"] = result.dossiers_changed
        try:
            if not changed.empty:
                part = _with_parent(run.run_dir / "records" / "retry-records.parquet")
                changed[["dossier_code"]].to_parquet(part, index=False)
                mark_marts_stale(run, settings, {"record_parts": [str(part)], **run.counts},
                                        flow="quarantine-retry", source=",".join(sources))
            engine = make_engine(settings.warehouse_url)
            try:
                with locks.write_transaction(engine, "quarantine retry") as conn:
                    if not changed.empty:
                        new_agencies = set(changed["agency_code"].dropna()) - {""} - set(dim_ag["agency_code"].dropna())
                        if new_agencies:  # as a run does: every fact finds its agency
                            load.insert(conn, schema.dim_agency, _placeholder_agencies(new_agencies))
                        winners = changed[["_record_id", "dossier_code"]].rename(columns={"_record_id": "record_id"})
                        codes = changed["dossier_code"].tolist()
                        load.delete_keys(conn, schema.fct_dossier, "dossier_code", codes)
                        load.insert(conn, schema.fct_dossier, changed.drop(columns="_record_id"))
                        load.delete_keys(conn, schema.fct_dossier_event, "dossier_code", codes)
                        load.insert(conn, schema.fct_dossier_event, fct_dossier_event.build(history, winners))
                    else:
                        _record_unchanged_run(conn, run, ",".join(sources))
                    _update_rows(conn, rows, records, run.run_id, result)
            finally:
                engine.dispose()
            if not changed.empty:
                plan = plan_rebuild(run, settings)
                built = build_marts(run, settings)
                publish(run, settings, built, plan)
                result.marts = built["rows"]
                result.data_docs = built.get("data_docs")
        except BaseException as exc:
            note_failure(run, settings, exc, "quarantine-retry", ",".join(sources))
            raise
    return result


def _with_parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _update_rows(conn: sa.Connection, rows: pd.DataFrame, records: pd.DataFrame, run_id: str,
                 result: RetryResult) -> None:
    """Resolve the rows whose record now loads; give the others their new reason (and,
    with corrections, the corrected record)."""
    for i, row in rows.iterrows():
        new_reason = records["quarantine_reason"].iloc[i]
        values: dict[str, Any] = {"record": row["record"]}
        if pd.isna(new_reason):
            values["resolved_run_id"] = run_id
            result.outcome[row["quarantine_id"]] = "resolved"
        else:
            values["reason"] = str(new_reason)
            result.outcome[row["quarantine_id"]] = str(new_reason)
        conn.execute(Q.update().where(Q.c.quarantine_id == row["quarantine_id"]).values(**values))


def _record_unchanged_run(conn: sa.Connection, run: Any, source: str) -> None:
    """audit.run row for a retry that changed no fact (the marts stay as published)."""
    t = schema.run
    now = dt.datetime.now()
    conn.execute(t.delete().where(t.c.run_id == run.run_id))
    conn.execute(t.insert().values(
        run_id=run.run_id, flow="quarantine-retry", source=source, started_at=run.started_at, finished_at=now,
        status="completed", records_read=run.counts.get("records_read"),
        records_loaded=run.counts.get("records_loaded"), records_quarantined=run.counts.get("records_quarantined"),
        dossiers_changed=0, message=json.dumps({"marts": "unchanged: no dossier fact changed"})))
