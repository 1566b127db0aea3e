"""Build the marts: the core this run changed validated, the marts counted from the facts
(a delta over the run's dossiers when the saved additive state allows:
:mod:`transforms.period_delta`), then validated; nothing is written to the warehouse here.
The marts' additive state is kept in the data folder between runs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd

from flows.stages.runs import Run, frame_private
from motcua.settings import Settings
from transforms import (
    mart_dossier_intake,
    mart_dossier_resolution,
    mart_indicator,
    period_delta,
)
from transforms.partitions import intervals_from_json, partition_mask, period_cover
from warehouse.audit import last_completed_run
from warehouse.engine import Connection, connected, duckdb_buffer_share
from warehouse.engine import private_dir as _private_dir
from warehouse.errors import ValidationFailed
from warehouse.reads import (
    FCT_CHUNK,
    MART_FCT_COLUMNS,
    agency_parents,
    coverage,
    grain_problem,
    iter_fct,
    iter_fct_of_run,
    iter_fct_open_at,
    procedure_names,
    read_dims,
    typed_fct,
    yearly_indicators,
)

DELTA_MAX_DOSSIERS = 200_000
"""A run that changes more dossiers than this recounts the marts instead of applying a delta."""


def state_dir(settings: Settings) -> Path:
    """Where the marts' additive state (counts, processing-day histograms) of a warehouse
    is kept between runs: under the data folder, one folder per warehouse URL."""
    key = hashlib.sha256(settings.warehouse_url.encode()).hexdigest()[:12]
    return Path(settings.data_dir) / "state" / f"marts-{key}"


def _read_state(settings: Settings, conn: Connection, plan: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict] | None:
    """The additive state saved by the last publish, if it is the state of the marts as
    published now (its run is the last completed one, same fingerprint) and no other run
    left the core changed without publishing; else None (recount)."""
    d = state_dir(settings)
    try:
        meta = json.loads((d / "state.json").read_text(encoding="utf-8"))
        if plan.get("stale_runs") or meta.get("fingerprint") != plan.get("fingerprint"):
            return None
        if meta.get("run_id") != last_completed_run(conn):
            return None
        counts = pd.read_parquet(d / "counts.parquet")
        days = pd.read_parquet(d / "days.parquet")
    except (OSError, ValueError, KeyError):
        return None
    return counts, days, meta


def _delta_counts(conn: Connection, run: Run, state: tuple[pd.DataFrame, pd.DataFrame, dict],
                  span: tuple[dt.date, dt.date], grid: pd.DataFrame,
                  chunk: int) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The counts and processing-day histograms of every period, from the saved state
    (:func:`transforms.period_delta.delta_counts`): minus the run's dossiers as they were
    before the load (saved by :func:`mark_marts_stale`), plus the same dossiers as they
    are now; periods new since the state (the coverage grew) are counted afresh over the
    dossiers that reach them. None when a delta cannot be used (the coverage shrank, the
    facts before were not saved)."""
    counts0, days0, meta = state
    before_path = run.run_dir / "marts" / "before.parquet"
    if not before_path.exists():
        return None
    old_first, old_last = (dt.date.fromisoformat(x) for x in meta["span"])
    if not period_delta.span_allows_delta((old_first, old_last), span):
        return None
    before = typed_fct(pd.read_parquet(before_path))
    now = pd.concat(list(iter_fct_of_run(conn, run.run_id, MART_FCT_COLUMNS, chunk=chunk)) or
                    [typed_fct(pd.DataFrame(columns=MART_FCT_COLUMNS))], ignore_index=True)
    return period_delta.delta_counts(counts0, days0, before, now, span, grid, old_last,
                                   lambda start: iter_fct_open_at(conn, start, MART_FCT_COLUMNS, chunk=chunk))


def build_marts(run: Run, settings: Settings, validate: bool = True, plan: dict | None = None,
                chunk: int = FCT_CHUNK) -> dict:
    """Compute the marts and validate them (the core was validated before it was written:
    :func:`flows.stages.load_core.load_core`; here the facts' grain is checked once
    more); a critical failure stops the run here, before anything is published. Data
    docs of everything the run validated go to ``<run_dir>/data_docs``.

    The facts are read ``chunk`` rows at a time and the marts added up from the chunks
    (counts and processing-day histograms are additive), so memory does not grow with
    the warehouse. With a partial ``plan`` (see :func:`plan_rebuild`) only the periods to
    publish are built, and when the additive state kept by the last publish is still the
    published one, they come from it by a delta over this run's dossiers alone
    (:func:`_delta_counts`: a nightly run reads thousands of facts, not millions); else
    every fact is read again."""
    from expectations import gate

    outcomes: list = []
    partial = plan is not None and not plan.get("all")
    intervals = intervals_from_json(plan["intervals"]) if partial else [(None, None)]
    keys = mart_dossier_resolution.KEYS
    with connected(settings.warehouse_url) as conn, duckdb_buffer_share(conn):
        dim_proc, dim_ag = read_dims(conn)
        # the core suites ran on what the load was about to write (load_core: write, audit,
        # publish); here only the grain of what it wrote, once in the warehouse
        problem = grain_problem(conn) if validate else None
        span = coverage(conn)
        count_parts: list[pd.DataFrame] = []
        hist_parts: list[pd.DataFrame] = []
        grid = None
        method = "recount"
        if problem is None and span is not None:
            grid = mart_dossier_resolution.mart_grid(span)
            state = _read_state(settings, conn, plan) if partial else None
            delta = _delta_counts(conn, run, state, span, grid, chunk) if state is not None else None
            if delta is not None:
                method = "delta"
                count_parts, hist_parts = [delta[0]], [delta[1]]
            else:  # every dossier, every period (the state for the next run's delta)
                for fct in iter_fct(conn, MART_FCT_COLUMNS, chunk=chunk):
                    count_parts = [mart_dossier_resolution.add_counts(
                        [*count_parts, mart_dossier_resolution.counts_all_periods(fct, keys, span=span)], keys)]
                    hist_parts = [mart_indicator.add_histograms(
                        [*hist_parts, mart_indicator.processing_days_histogram(fct, grid)])]
            names = procedure_names(conn)
        else:
            names = pd.DataFrame(columns=["procedure_code", "procedure_name_recorded", "n"])
    if problem is None:
        counts = mart_dossier_resolution.add_counts(count_parts, keys)
        hist = mart_indicator.add_histograms(hist_parts)
        resolution = mart_dossier_resolution.build(names, dim_proc, counts=counts)
        intake = mart_dossier_intake.build(names, dim_proc, counts=counts)
        indicators = mart_indicator.build(counts, None, dim_ag, dim_proc, days_histogram=hist)
        if partial:  # whole years (with their months), so the year-vs-months checks hold
            cover = period_cover(intervals)
            resolution, intake, indicators = (df[partition_mask(df, cover)].reset_index(drop=True)
                                              for df in (resolution, intake, indicators))
        if validate:
            outcomes += gate.check_marts(resolution, intake, indicators, run.started_at)
            problem = gate.failures(outcomes)
    docs = gate.build_docs(run.run_dir, outcomes, run.started_at) if validate else None
    if problem is not None:
        raise ValidationFailed(f"validation failed, nothing published: {problem} (data docs: {docs})")
    out_dir = _private_dir(run.run_dir / "marts")
    paths = {}
    for name, df in (("dossier_resolution", resolution), ("dossier_intake", intake), ("indicator", indicators)):
        p = out_dir / f"{name}.parquet"
        frame_private(df, p)
        paths[name] = str(p)
    state_paths = None
    if span is not None:  # the additive state of every period, kept for the next run's delta
        frame_private(counts, out_dir / "state-counts.parquet")
        frame_private(hist if hist is not None else mart_indicator.processing_days_histogram(None, grid),
                       out_dir / "state-days.parquet")
        state_paths = {"counts": str(out_dir / "state-counts.parquet"), "days": str(out_dir / "state-days.parquet"),
                       "span": [span[0].isoformat(), span[1].isoformat()]}
    return {"marts": paths, "rows": {k: int(len(v)) for k, v in
                                      (("dossier_resolution", resolution), ("dossier_intake", intake), ("indicator", indicators))},
            "data_docs": str(docs) if docs else None, "validation": gate.summaries(outcomes),
            "partial": partial, "method": method, "state": state_paths}


def save_state(settings: Settings, run: Run, built: dict, fingerprint: str) -> None:
    """After a publish committed: keep the marts' additive state for the next run (swapped
    in whole; a run that dies before this leaves a state the next run will not trust)."""
    st = built.get("state")
    d = state_dir(settings)
    if st is None:
        shutil.rmtree(d, ignore_errors=True)
        return
    tmp = d.with_name(d.name + f".{run.run_id}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    _private_dir(tmp)
    shutil.copyfile(st["counts"], tmp / "counts.parquet")
    shutil.copyfile(st["days"], tmp / "days.parquet")
    (tmp / "state.json").write_text(json.dumps({"run_id": run.run_id, "span": st["span"],
                                                "fingerprint": fingerprint}), encoding="utf-8")
    old = d.with_name(d.name + f".{run.run_id}.old")
    if d.exists():
        d.rename(old)
    tmp.rename(d)
    shutil.rmtree(old, ignore_errors=True)


HEADLINE_INDICATORS = ("on_time_rate", "early_rate", "online_intake_rate", "overdue_open", "satisfaction_rate",
                       "processing_days_median")


def headline_indicators(settings: Settings, year: int | None = None, limit: int = 12) -> dict:
    """The headline indicators of the latest calendar year in the marts (or ``year``),
    for the top-level agencies: aggregates only, no personal data."""
    with connected(settings.warehouse_url) as conn:
        rows = yearly_indicators(conn, HEADLINE_INDICATORS)
        ag = agency_parents(conn)
    starts = pd.to_datetime(rows["period_start"])
    if year is None and rows.empty:
        return {"year": None, "rows": []}
    start = pd.Timestamp(year, 1, 1) if year is not None else starts.max()
    rows = rows[starts == start]
    children = set(ag.loc[ag["parent_code"].fillna("").astype(str) != "", "agency_code"])
    top = rows[~rows["agency_code"].isin(children)] if len(children) else rows
    codes = sorted(top["agency_code"].dropna().unique())[:limit]
    top = top[top["agency_code"].isin(codes)].sort_values(["agency_code", "indicator_code"])
    out = [{"agency_code": r.agency_code, "indicator_code": r.indicator_code,
            "numerator": None if pd.isna(r.numerator) else float(r.numerator),
            "denominator": None if pd.isna(r.denominator) else float(r.denominator),
            "value": None if pd.isna(r.value) else float(r.value)} for r in top.itertuples()]
    return {"year": start.year, "rows": out}
