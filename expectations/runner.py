"""Running a suite on a pandas batch with great_expectations 1.x.

Suites are defined in code: one module per table, named after it, each exposing
``SUITE_NAME``, ``ID_COLUMNS``, ``prepare(df, **context)`` and
``expectations(**context)``. ``context`` carries what a suite needs besides the table
itself: reference frames for relationship checks (``dim_procedure``, ``dim_agency``,
``fct_codes``, ``resolution`` …) and ``run_time`` (plausible dates are not after the
run). ``prepare`` adds the *check columns* (one value per row, ``"ok"`` or a short
description of what is wrong) that the expectations then test, so a cross-row or
cross-table rule still points at the rows that break it.

A run returns, per failing row, the failed expectations with their offending values,
split by severity: ``critical`` failures are errors (records are quarantined, a
dimension, fact or mart that fails stops the run before anything is published),
``warning`` failures flag rows and let them load.

:func:`build_data_docs` renders GX data docs (HTML) in a file context from the
validation results of a run, with per-row lists cut short (bounded).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

# never phone home from a pipeline run (set before great_expectations is imported)
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

log = logging.getLogger("motcua.expectations")
# GX logs every temporary directory and store it creates at INFO: quiet unless configured
if logging.getLogger("great_expectations").level == logging.NOTSET:
    logging.getLogger("great_expectations").setLevel(logging.WARNING)

OK = "ok"
_CONTEXT: Any = None
# suite name -> (signature of its expectations, validation definition)
_DEFINITIONS: dict[str, tuple[str, Any]] = {}


def interactive() -> bool:
    """True when progress bars make sense (a terminal, not CI)."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def _context() -> Any:
    """The process-wide ephemeral GX context (suites live in code, nothing on disk)."""
    global _CONTEXT
    import great_expectations as gx

    if _CONTEXT is None:
        _no_batch_fingerprint()
        _CONTEXT = gx.get_context(mode="ephemeral")
        _CONTEXT.variables.progress_bars = {"globally": interactive()}
    return _CONTEXT


def _no_batch_fingerprint() -> None:
    """Stop GX hashing every pandas batch it is given.

    GX's pandas engine fingerprints each batch under ``HASH_THRESHOLD`` bytes (1 GB) with
    ``pd.util.hash_pandas_object`` over every cell, only to write the hash into the
    result's batch markers: 40 % of a record suite's time on a 500k-record batch. Our
    batches are frames built for the run, never read again by GX, and the data docs
    do not show the hash; a threshold of 0 keeps GX's own code path and skips the hash."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


@dataclass
class Outcome:
    """What a suite found."""

    suite: str
    success: bool
    rows: int
    # rows great_expectations validated: ``rows``, or fewer on a screened batch
    checked: int = 0
    # row id (tuple of ID_COLUMNS values) -> reasons
    errors: dict[tuple, list[str]] = field(default_factory=dict)
    warnings: dict[tuple, list[str]] = field(default_factory=dict)
    # expectations that failed without row indices (table-level), as text
    table_errors: list[str] = field(default_factory=list)
    table_warnings: list[str] = field(default_factory=list)
    result: Any = None

    def summary(self) -> str:
        """One line: passed/FAILED and how many rows broke which severity."""
        screened = f", {self.checked} of them checked by great_expectations" if 0 < self.checked < self.rows else ""
        return (f"{self.suite}: {'passed' if self.success else 'FAILED'} on {self.rows} rows{screened} "
                f"({len(self.errors)} rows with errors, {len(self.warnings)} with warnings, "
                f"{len(self.table_errors)} table-level errors)")

    def first_failures(self, n: int = 5) -> list[str]:
        """Up to ``n`` failures as text (table-level first), for error messages."""
        out = list(self.table_errors[:n])
        for key, reasons in list(self.errors.items())[: max(0, n - len(out))]:
            out.append(f"{key}: {'; '.join(reasons)}")
        return out


def plain(df: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A copy of ``df`` (or of its ``columns``) with numpy/object dtypes GX handles:
    nullable integers -> float64, nullable booleans and strings -> object with None."""
    cols = list(columns) if columns is not None else list(df.columns)
    out = pd.DataFrame(index=df.index)
    for c in cols:
        s = df[c]
        if isinstance(s.dtype, pd.BooleanDtype):
            out[c] = s.astype(object).where(s.notna(), None)
        elif pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_float_dtype(s.dtype):
            out[c] = s.astype("float64")
        elif pd.api.types.is_bool_dtype(s.dtype):
            out[c] = s.astype(bool)
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[c] = s.astype("datetime64[us]")
        else:
            obj = s.astype(object)
            out[c] = obj.where(s.notna(), None)
    return out


def checks(index: pd.Index, problems: Iterable[tuple[Any, Any]]) -> pd.Series:
    """A check column: ``"ok"``, or the description of each problem whose mask is True
    on that row (joined with ``; ``).

    Each problem is ``(mask, text)``; ``text`` is a string, a Series (aligned on
    ``index``), or a callable given the labels of the failing rows and returning their
    descriptions, so that text is only built for the rows that fail."""
    out = pd.Series(OK, index=index, dtype=object)
    for mask, text in problems:
        m = pd.Series(mask, index=index).fillna(False).astype(bool)
        if not m.any():
            continue
        rows = m.index[m.to_numpy()]
        if isinstance(text, str):
            add: Any = text
        elif callable(text):
            add = np.asarray(pd.Series(text(rows)).astype(str), dtype=object)
        else:
            add = np.asarray(text.loc[rows].astype(str), dtype=object)
        cur = out.loc[rows].to_numpy(dtype=object)
        out.loc[rows] = np.where(cur == OK, add, cur + "; " + add)
    return out


def plausible_bounds(run_time: Any = None, ahead_days: int = 1) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Dates are plausible from 2000-01-01 to ``ahead_days`` after the run's day."""
    day = pd.Timestamp(run_time if run_time is not None else pd.Timestamp.now()).normalize()
    return pd.Timestamp("2000-01-01"), day + pd.Timedelta(days=ahead_days)


def dates_check(df: pd.DataFrame, columns: Iterable[str], run_time: Any = None,
                ahead: Mapping[str, int] | None = None) -> pd.Series:
    """Check column for plausible dates, vectorised (GX tests datetime ranges value by
    value in Python, which costs seconds per 100k rows): ``"ok"``, or which of
    ``columns`` is before 2000-01-01 or after the run's day (plus ``ahead[column]``
    days, e.g. a due date may lie ahead)."""
    problems = []
    for c in columns:
        earliest, latest = plausible_bounds(run_time, ahead_days=(ahead or {}).get(c, 1))
        v = pd.to_datetime(df[c])
        bad = v.notna() & ((v < earliest) | (v > latest))
        span = f" outside {earliest.date()}..{latest.date()}"
        problems.append((bad, lambda rows, v=v, c=c, span=span: c + " " + v.loc[rows].astype(str) + span))
    return checks(df.index, problems)


def _jsonable(v: Any) -> Any:
    if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    return v


def _describe(suite: str, cfg: Any) -> str:
    kw = cfg.kwargs
    target = kw.get("column") or kw.get("column_list") or (
        f"{kw.get('column_A')},{kw.get('column_B')}" if "column_A" in kw else "")
    if isinstance(target, list):
        target = ",".join(target)
    return f"{suite}.{cfg.type}({target})"


def _signature(exps: list) -> str:
    return json.dumps([[type(e).__name__, repr(e)] for e in exps], default=str)


def _definition(ctx: Any, name: str, exps: list) -> Any:
    """The validation definition for ``name``, reused while its expectations are the same."""
    import great_expectations as gx

    sig = _signature(exps)
    cached = _DEFINITIONS.get(name)
    if cached is not None and cached[0] == sig:
        return cached[1]
    try:
        ds = ctx.data_sources.get("motcua")
    except Exception:  # noqa: BLE001 - GX raises several kinds for "not there"
        ds = ctx.data_sources.add_pandas("motcua")
    try:
        asset = ds.get_asset(name)
    except Exception:  # noqa: BLE001
        asset = ds.add_dataframe_asset(name)
    try:
        bd = asset.get_batch_definition("whole")
    except Exception:  # noqa: BLE001
        bd = asset.add_batch_definition_whole_dataframe("whole")
    with contextlib.suppress(Exception):  # not there yet
        ctx.validation_definitions.delete(name)
    with contextlib.suppress(Exception):
        ctx.suites.delete(name)
    suite = ctx.suites.add(gx.ExpectationSuite(name=name, expectations=exps))
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=bd, suite=suite))
    _DEFINITIONS[name] = (sig, vd)
    return vd


def validate(suite_module: ModuleType, df: pd.DataFrame,
             context: Mapping[str, Any] | None = None, screen: bool = False) -> Outcome:
    """Validate ``df`` (after the suite's ``prepare``) and collect failures per row.

    ``context`` is passed to the suite's ``prepare`` and ``expectations`` (reference
    frames for relationship checks, ``run_time``). An empty frame passes without calling GX.

    With ``screen``, GX sees only the rows :func:`expectations.screen.rows_to_check`
    says could fail, plus an audit sample of the others (its cost is per row); without
    it GX sees every row. Either way, a row GX fails that the screen passed is a
    table-level error: the screen is held to GX on every batch."""
    from expectations import screen as screening

    ctx_kw = dict(context or {})
    prepared = suite_module.prepare(df, **ctx_kw)
    ids = list(suite_module.ID_COLUMNS)
    name = suite_module.SUITE_NAME
    out = Outcome(suite=name, success=True, rows=len(prepared))
    if prepared.empty:
        return out
    exps = list(suite_module.expectations(**ctx_kw))
    flagged = screening.rows_to_check(exps, prepared)
    batch = prepared
    if screen and flagged is not None:
        batch = prepared.iloc[np.flatnonzero(flagged | screening.audit_sample(~flagged, screening.AUDIT_ROWS))]
    out.checked = len(batch)
    vd = _definition(_context(), name, exps)
    result = vd.run(
        batch_parameters={"dataframe": batch},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ids,
                       "return_unexpected_index_query": False},
    )
    out.result = result
    _forget_results(_context())
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        severity = str(getattr(cfg, "severity", "critical")).lower()
        critical = "warning" not in severity and "info" not in severity
        what = _describe(name, cfg)
        if r.exception_info and r.exception_info.get("raised_exception"):
            msg = f"{what} raised {r.exception_info.get('exception_message')}"
            (out.table_errors if critical else out.table_warnings).append(msg)
            out.success = out.success and not critical
            continue
        index_list = (r.result or {}).get("unexpected_index_list")
        if not index_list:
            observed = _jsonable((r.result or {}).get("observed_value"))
            msg = f"{what} failed: observed {json.dumps(observed, ensure_ascii=False, default=str)}"
            (out.table_errors if critical else out.table_warnings).append(msg)
            out.success = out.success and not critical
            continue
        target = out.errors if critical else out.warnings
        for item in index_list:
            key = tuple(_jsonable(item.get(c)) for c in ids)
            offending = {k: _jsonable(v) for k, v in item.items() if k not in ids}
            target.setdefault(key, []).append(
                f"{what} failed: {json.dumps(offending, ensure_ascii=False, default=str)}")
        if critical:
            out.success = False
    if flagged is not None:
        _hold_screen(out, prepared.loc[flagged, ids])
    return out


def _hold_screen(out: Outcome, flagged: pd.DataFrame) -> None:
    """A table-level error on ``out`` when GX failed a row the screen passed
    (``flagged``: the ID columns of the rows the screen flagged)."""
    if not (out.errors or out.warnings):
        return
    keys = {tuple(_jsonable(v) for v in row) for row in flagged.itertuples(index=False, name=None)}
    missed = [k for k in (*out.errors, *out.warnings) if k not in keys]
    if missed:
        out.table_errors.append(
            f"{out.suite}: the vectorised screen passed {len(missed)} row(s) that great_expectations failed "
            f"(first: {missed[0]}); this is a motcua bug, the run stops rather than trust the screen")
        out.success = False


def _forget_results(ctx: Any) -> None:
    """Drop the validation results the ephemeral context keeps in memory after each run
    (the caller has the result): else every batch's results pile up, tens of MB a batch."""
    store = ctx.validation_results_store
    for key in store.list_keys():
        store.remove_key(key)


def result_for_docs(result: Any, max_items: int = 20) -> dict:
    """A validation result as JSON, with every per-row list cut to ``max_items`` (the
    docs show counts over the whole batch and a few examples: bounded whatever the
    size of the log)."""
    d = result.to_json_dict() if hasattr(result, "to_json_dict") else dict(result)
    d = json.loads(json.dumps(d, default=str))
    for r in d.get("results", []):
        res = r.get("result") or {}
        for k, v in list(res.items()):
            if isinstance(v, list) and k != "unexpected_index_column_names":
                res[k] = v[:max_items]
        res.pop("unexpected_index_query", None)
    return d


def build_data_docs(docs_dir: Path, results: list[tuple[ModuleType, dict]], run_name: str,
                    context: Mapping[str, Any] | None = None) -> Path | None:
    """Render GX data docs under ``docs_dir`` (a GX file context) from validation
    results already computed by :func:`validate` (as :func:`result_for_docs` dicts),
    with a page per suite (its expectations) and per result; returns ``index.html``.

    The run's suites are not validated a second time for the docs: re-validating even
    a small sample costs GX's per-expectation overhead again (about a second per suite),
    while storing the results and rendering them costs a fraction of that."""
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    if not results:
        return None
    docs_dir.mkdir(parents=True, exist_ok=True)
    ctx = gx.get_context(mode="file", project_root_dir=str(docs_dir))
    ctx.variables.progress_bars = {"globally": False}
    ctx_kw = dict(context or {})
    schema = ExpectationSuiteValidationResultSchema()
    run_time = pd.Timestamp.now(tz="UTC").to_pydatetime()
    for mod, data in results:
        name = mod.SUITE_NAME
        ctx.suites.add_or_update(gx.ExpectationSuite(name=name, expectations=list(mod.expectations(**ctx_kw))))
        loaded = schema.load(data)
        ident = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
            run_id=RunIdentifier(run_name=run_name, run_time=run_time),
            batch_identifier=name,
        )
        ctx.validation_results_store.set(ident, loaded)
    ctx.build_data_docs()
    return next(iter(docs_dir.rglob("data_docs/local_site/index.html")), None)
