"""The pipeline's validation gates: which suites run where, on what, with what context.

* records (:func:`check_batch`), per raw batch inside ``stage``: ``raw_snapshot`` on
  the batch as read, ``int_dossier_record`` on the records the domain rules left
  alone; critical failures become quarantine reasons (``expectation: …``), warnings
  flag the record (``records_flagged``);
* core, in ``build_marts`` before any mart is computed: ``dim_procedure``,
  ``dim_agency``, ``fct_dossier`` (:func:`check_facts`, with the dimensions for the
  relationship checks) and ``fct_dossier_event`` (:func:`check_events`, read in large
  chunks with the warehouse's answer to "is its dossier in the facts?");
* marts (:func:`check_marts`): ``mart_dossier_resolution``, ``mart_dossier_intake``
  (with the resolution mart) and ``mart_indicator``.

A critical failure at the core or mart gate stops the run before anything is
published (:func:`failures` says why). Every gate keeps its validation results (for
records: the first batch's), with per-row lists cut short, in ``<run_dir>/validation``;
:func:`build_docs` renders GX data docs from them under ``<run_dir>/data_docs``:
bounded, whatever the size of the log, and without validating anything twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from expectations import (
    dim_agency,
    dim_procedure,
    fct_dossier,
    fct_dossier_event,
    int_dossier_record,
    mart_dossier_intake,
    mart_dossier_resolution,
    mart_indicator,
    raw_snapshot,
)
from expectations.runner import Outcome, build_data_docs, result_for_docs, validate

log = logging.getLogger("motcua")

RESULTS_DIR = "validation"
EVENT_CHUNK_ROWS = 500_000
"""Events validated at a time (a suite's cost is mostly per batch: large batches)."""
SUITES: dict[str, ModuleType] = {m.SUITE_NAME: m for m in (
    raw_snapshot, int_dossier_record, dim_procedure, dim_agency, fct_dossier, fct_dossier_event,
    mart_dossier_resolution, mart_dossier_intake, mart_indicator)}


def _day(run_time: Any) -> pd.Timestamp:
    """The run's day: plausible-date bounds depend on it, not on the second."""
    return pd.Timestamp(run_time if run_time is not None else pd.Timestamp.now()).normalize()


def save_result(results_dir: Path | None, outcome: Outcome, overwrite: bool = True) -> None:
    """Keep ``outcome``'s validation result (lists cut short) for the data docs."""
    if results_dir is None or outcome.result is None:
        return
    path = results_dir / f"{outcome.suite}.json"
    if path.exists() and not overwrite:
        return
    results_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result_for_docs(outcome.result), ensure_ascii=False), encoding="utf-8")


def _kept(results_dir: Path | None, suite: ModuleType) -> bool:
    """Whether this run already keeps a whole-batch result of ``suite`` for its data
    docs: later batches are screened (see :mod:`expectations.screen`), the first is not."""
    return results_dir is not None and (results_dir / f"{suite.SUITE_NAME}.json").exists()


def check_batch(raw: pa.Table, records: pd.DataFrame, run_time: Any = None,
                results_dir: Path | None = None) -> tuple[pd.DataFrame, int, list[str]]:
    """Validate one raw batch and its records (same order, one record per raw row).

    The run's first batch goes to GX whole (its results are the data docs'); later
    ones are screened: GX sees the rows :mod:`expectations.screen` flags and an audit
    sample. Returns the records with ``quarantine_reason`` set where a critical expectation
    failed (records already quarantined by the domain rules keep their reason), the
    number of loaded records flagged with warnings, and table-level errors (a suite
    that could not run: the caller stops)."""
    ctx = {"run_time": _day(run_time)}
    records = records.copy()
    reason = records["quarantine_reason"].astype(object)
    raw_out = validate(raw_snapshot, raw, ctx, screen=_kept(results_dir, raw_snapshot))
    save_result(results_dir, raw_out, overwrite=False)
    for (row,), reasons in raw_out.errors.items():
        if pd.isna(reason.iloc[row]):
            reason.iloc[row] = "expectation: " + "; ".join(reasons)
    records["quarantine_reason"] = pd.array(reason, dtype="string")
    ok = records["quarantine_reason"].isna()
    rec_out = validate(int_dossier_record, records[ok], ctx, screen=_kept(results_dir, int_dossier_record))
    save_result(results_dir, rec_out, overwrite=False)
    if rec_out.errors:
        ids = pd.Series({rid: "expectation: " + "; ".join(rs) for (rid,), rs in rec_out.errors.items()})
        hit = records["record_id"].map(ids)
        records["quarantine_reason"] = records["quarantine_reason"].fillna(hit.astype("string"))
    flagged_ids = {rid for (rid,) in rec_out.warnings}
    flagged_ids |= {int(records["record_id"].iloc[row]) for (row,) in raw_out.warnings}
    loaded = records.loc[records["quarantine_reason"].isna(), "record_id"]
    flagged = int(loaded.isin(flagged_ids).sum())
    return records, flagged, raw_out.table_errors + rec_out.table_errors


def _merge(outcomes: list[Outcome]) -> Outcome:
    first = outcomes[0]
    out = Outcome(suite=first.suite, success=all(o.success for o in outcomes),
                  rows=sum(o.rows for o in outcomes), checked=sum(o.checked for o in outcomes),
                  result=first.result)
    for o in outcomes:
        out.errors.update(o.errors)
        out.warnings.update(o.warnings)
        out.table_errors.extend(o.table_errors)
        out.table_warnings.extend(o.table_warnings)
    return out


def event_frames(conn: sa.Connection, run_id: str | None, chunk: int | None = None) -> Iterator[pd.DataFrame]:
    """core.fct_dossier_event in frames of at most ``chunk`` rows (default
    :data:`EVENT_CHUNK_ROWS`), each event with ``in_fct``: whether its dossier is in
    core.fct_dossier (one join in the warehouse, no list of codes in Python).
    ``run_id``: only the events of the facts that run wrote (their dossiers are in the
    facts by construction); None: every event, so that events of dossiers missing from
    the facts are found. Unordered on DuckDB (one streamed query); keyset pages over the
    primary key elsewhere."""
    from warehouse import load, schema

    chunk = chunk or EVENT_CHUNK_ROWS
    e, f = schema.fct_dossier_event, schema.fct_dossier
    in_fct = f.c.dossier_code.is_not(None).label("in_fct")
    if run_id is None:
        q = sa.select(*e.c, in_fct).select_from(e.outerjoin(f, f.c.dossier_code == e.c.dossier_code))
    else:
        q = sa.select(*e.c, in_fct).select_from(e.join(f, f.c.dossier_code == e.c.dossier_code)).where(
            f.c.run_id == run_id)
    if conn.dialect.name == "duckdb":
        yield from load.iter_frames_duckdb(conn, q, chunk)
        return
    last: tuple | None = None
    while True:
        page = q.order_by(e.c.dossier_code, e.c.seq).limit(chunk)
        if last is not None:
            page = page.where(sa.tuple_(e.c.dossier_code, e.c.seq) > sa.tuple_(*last))
        df = load.read_frame(conn, page)
        if df.empty:
            return
        last = (df["dossier_code"].iloc[-1], int(df["seq"].iloc[-1]))
        yield df
        if len(df) < chunk:
            return


def merge_outcomes(groups: list[list[Outcome]]) -> list[Outcome]:
    """One outcome per suite from the outcomes of several chunks (suites in the order
    they first appear)."""
    by_suite: dict[str, list[Outcome]] = {}
    for group in groups:
        for o in group:
            by_suite.setdefault(o.suite, []).append(o)
    return [_merge(v) for v in by_suite.values()]


def check_facts(fct: pd.DataFrame, dim_proc: pd.DataFrame, dim_ag: pd.DataFrame, run_time: Any = None,
                dims: bool = True, screen: bool = False) -> list[Outcome]:
    """Validate the dimensions (unless ``dims`` is false) and the dossier facts ``fct``
    (every fact, or a chunk of them, in any order; with ``screen``, GX sees the facts
    :mod:`expectations.screen` flags and an audit sample)."""
    ctx: dict[str, Any] = {"run_time": _day(run_time)}
    outs = [validate(dim_procedure, dim_proc, ctx), validate(dim_agency, dim_ag, ctx)] if dims else []
    outs.append(validate(fct_dossier, fct, {**ctx, "dim_procedure": dim_proc, "dim_agency": dim_ag},
                         screen=screen))
    return outs


def check_events(frames: Iterable[pd.DataFrame], run_time: Any = None) -> Outcome:
    """Validate core.fct_dossier_event from :func:`event_frames` (one outcome for all;
    GX sees the first frame whole and the screened rows of the others)."""
    ctx: dict[str, Any] = {"run_time": _day(run_time)}
    outs = [validate(fct_dossier_event, df, ctx, screen=n > 0) for n, df in enumerate(frames)]
    # no event at all passes, as an empty frame does in validate
    return _merge(outs) if outs else Outcome(suite=fct_dossier_event.SUITE_NAME, success=True, rows=0)


def check_marts(resolution: pd.DataFrame, intake: pd.DataFrame, indicators: pd.DataFrame,
                run_time: Any = None) -> list[Outcome]:
    """Validate the marts built from the core (nothing is published yet)."""
    ctx: dict[str, Any] = {"run_time": _day(run_time)}
    return [
        validate(mart_dossier_resolution, resolution, ctx),
        validate(mart_dossier_intake, intake, {**ctx, "resolution": resolution}),
        validate(mart_indicator, indicators, ctx),
    ]


def failures(outcomes: list[Outcome]) -> str | None:
    """Why the run must stop (None when every suite passed its critical expectations)."""
    failed = [o for o in outcomes if not o.success]
    if not failed:
        return None
    return "; ".join(f"{o.summary()}, first failures: {o.first_failures(3)}" for o in failed)


def summaries(outcomes: list[Outcome]) -> dict[str, dict[str, int | bool]]:
    """Per suite: passed, rows, rows with errors, rows with warnings (for the run summary)."""
    return {o.suite: {"passed": o.success, "rows": o.rows, "rows_with_errors": len(o.errors),
                      "rows_with_warnings": len(o.warnings),
                      "table_warnings": len(o.table_warnings)} for o in outcomes}


def build_docs(run_dir: Path, outcomes: list[Outcome], run_time: Any = None) -> Path | None:
    """Render GX data docs under ``<run_dir>/data_docs`` from the validation results kept
    in ``<run_dir>/validation`` (by the record gate, and here from ``outcomes``); None
    when they could not be built (the run goes on: docs are a report, not a gate)."""
    rdir = run_dir / RESULTS_DIR
    for o in outcomes:
        save_result(rdir, o)
    try:
        results = [(SUITES[name], json.loads((rdir / f"{name}.json").read_text(encoding="utf-8")))
                   for name in SUITES if (rdir / f"{name}.json").exists()]
        return build_data_docs(run_dir / "data_docs", results, run_dir.name, {"run_time": _day(run_time)})
    except Exception as exc:  # noqa: BLE001 - docs must never fail a run
        log.warning("data docs could not be built: %s", exc)
        return None
