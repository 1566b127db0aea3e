"""Running a suite on a pandas batch with great_expectations 1.x.

Suites are defined in code (one module per table, named after it, each exposing
``SUITE_NAME``, ``ID_COLUMNS``, ``prepare(df)`` and ``expectations()``). A run returns,
per failing row, the failed expectations (with their offending values), split by
severity: ``critical`` failures are errors (records are quarantined, a fact or mart
that fails stops the run), ``warning`` failures flag rows and let them load.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

_CONTEXT: Any = None


def _context(docs_dir: Path | None = None) -> Any:
    global _CONTEXT
    import great_expectations as gx

    if docs_dir is not None:
        ctx = gx.get_context(mode="file", project_root_dir=str(docs_dir))
        ctx.variables.progress_bars = {"globally": False}
        return ctx
    if _CONTEXT is None:
        _CONTEXT = gx.get_context(mode="ephemeral")
        interactive = sys.stderr.isatty() and not os.environ.get("CI")
        _CONTEXT.variables.progress_bars = {"globally": interactive}
    return _CONTEXT


@dataclass
class Outcome:
    """What a suite found."""

    suite: str
    success: bool
    rows: int
    evaluated: int = 0
    # row id (tuple of ID_COLUMNS values) -> reasons
    errors: dict[tuple, list[str]] = field(default_factory=dict)
    warnings: dict[tuple, list[str]] = field(default_factory=dict)
    # expectations that failed without row indices (table-level), as text
    table_errors: list[str] = field(default_factory=list)
    table_warnings: list[str] = field(default_factory=list)
    result: Any = None

    def summary(self) -> str:
        return (f"{self.suite}: {'passed' if self.success else 'FAILED'} on {self.rows} rows "
                f"({len(self.errors)} rows with errors, {len(self.warnings)} with warnings, "
                f"{len(self.table_errors)} table-level errors)")


def _describe(cfg: Any) -> str:
    kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id", "result_format")}
    return f"{cfg.type}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def _jsonable(v: Any) -> Any:
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    return v


def validate(suite_module: ModuleType, df: pd.DataFrame, docs_dir: Path | None = None) -> Outcome:
    """Validate ``df`` (after the suite's ``prepare``) and collect failures per row."""
    import great_expectations as gx

    prepared = suite_module.prepare(df)
    ids = list(suite_module.ID_COLUMNS)
    ctx = _context(docs_dir)
    name = suite_module.SUITE_NAME
    try:
        ds = ctx.data_sources.get("motcua")
    except (KeyError, ValueError, Exception):  # noqa: BLE001 - GX raises several kinds
        ds = ctx.data_sources.add_pandas("motcua")
    try:
        asset = ds.get_asset(name)
    except (LookupError, Exception):  # noqa: BLE001
        asset = ds.add_dataframe_asset(name)
    try:
        bd = asset.get_batch_definition("whole")
    except (KeyError, Exception):  # noqa: BLE001
        bd = asset.add_batch_definition_whole_dataframe("whole")
    with contextlib.suppress(Exception):  # not there yet
        ctx.suites.delete(name)
    suite = ctx.suites.add(gx.ExpectationSuite(name=name))
    for exp in suite_module.expectations():
        suite.add_expectation(exp)
    with contextlib.suppress(Exception):
        ctx.validation_definitions.delete(name)
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=bd, suite=suite))
    result = vd.run(
        batch_parameters={"dataframe": prepared},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ids,
                       "return_unexpected_index_query": False},
    )
    out = Outcome(suite=name, success=True, rows=len(prepared), result=result)
    for r in result.results:
        cfg = r.expectation_config
        severity = str(getattr(cfg, "severity", "critical")).lower()
        critical = "warning" not in severity and "info" not in severity
        if r.success:
            continue
        if r.exception_info and r.exception_info.get("raised_exception"):
            msg = f"{_describe(cfg)} raised {r.exception_info.get('exception_message')}"
            (out.table_errors if critical else out.table_warnings).append(msg)
            out.success = out.success and not critical
            continue
        index_list = (r.result or {}).get("unexpected_index_list")
        if not index_list:
            msg = f"{_describe(cfg)} observed {json.dumps(_jsonable((r.result or {}).get('observed_value')), default=str)}"
            (out.table_errors if critical else out.table_warnings).append(msg)
            out.success = out.success and not critical
            continue
        target = out.errors if critical else out.warnings
        for item in index_list:
            key = tuple(_jsonable(item.get(c)) for c in ids)
            offending = {k: _jsonable(v) for k, v in item.items() if k not in ids}
            target.setdefault(key, []).append(f"{cfg.type} failed: {json.dumps(offending, ensure_ascii=False, default=str)}")
        if critical:
            out.success = False
    return out


def build_data_docs(docs_dir: Path, suite_modules: list[ModuleType], frames: list[pd.DataFrame]) -> Path | None:
    """Validate samples of ``frames`` in a file context under ``docs_dir`` and build GX
    data docs there; returns the index.html path."""
    import great_expectations as gx

    docs_dir.mkdir(parents=True, exist_ok=True)
    ctx = _context(docs_dir)
    for mod, df in zip(suite_modules, frames, strict=True):
        name = mod.SUITE_NAME
        ds = ctx.data_sources.add_or_update_pandas("motcua")
        try:
            asset = ds.get_asset(name)
        except Exception:  # noqa: BLE001
            asset = ds.add_dataframe_asset(name)
        try:
            bd = asset.get_batch_definition("whole")
        except Exception:  # noqa: BLE001
            bd = asset.add_batch_definition_whole_dataframe("whole")
        suite = ctx.suites.add_or_update(gx.ExpectationSuite(name=name, expectations=list(mod.expectations())))
        vd = ctx.validation_definitions.add_or_update(gx.ValidationDefinition(name=name, data=bd, suite=suite))
        cp = ctx.checkpoints.add_or_update(
            gx.Checkpoint(name=f"cp_{name}", validation_definitions=[vd],
                          actions=[gx.checkpoint.UpdateDataDocsAction(name="docs")])
        )
        cp.run(batch_parameters={"dataframe": mod.prepare(df)})
    index = next(iter(docs_dir.rglob("data_docs/local_site/index.html")), None)
    return index
