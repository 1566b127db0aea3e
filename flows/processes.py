"""Staging shards (and extracting a bundle's files) on this machine's cores: a pool of
worker processes, the default when a run has more than one shard (a bundle more than one
dossier file) and the machine more than one core (``MOTCUA_WORKERS``: how many; 1 keeps
the work in the run's own process; ``--dask`` stages on a cluster).

Shards are independent by design (:func:`flows.stages.stage.plan_shards` fixes their record
ids; each writes only files named by its shard), so they give the same output in any
process, in any order. The workers are forked from a server process that has already
imported the pipeline and great_expectations (``forkserver`` with a preload): a worker
starts in milliseconds, not in the ~10 s those imports take, and is never forked from
the flow's own process, whose threads (Prefect's, the logging's) a fork would copy
mid-flight.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

PRELOAD = ["flows.stages.stage", "expectations.gate", "great_expectations"]


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover - Windows
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # no effect once the server runs (it has them then)
    return ctx


def warm_up() -> None:
    """Start the preloading server now (it imports in its own process, while the caller
    goes on extracting), so the pool's workers fork at once when staging begins."""
    ctx = _context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _call(item: tuple[str, dict]) -> object:
    import importlib

    target, kw = item
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(**kw)


def process_map(target: str, calls: list[dict], workers: int) -> list:
    """``target`` (``"module:function"``) called with each of ``calls`` on up to
    ``workers`` worker processes; the results in the order of the calls."""
    with ProcessPoolExecutor(max_workers=min(workers, len(calls)), mp_context=_context()) as pool:
        return list(pool.map(_call, [(target, kw) for kw in calls]))


def process_mapper(workers: int):  # noqa: ANN201 - a flows.stages.stage.Mapper
    """A :data:`flows.stages.stage.Mapper` that stages the shards on ``workers`` processes
    (results in the order of the calls; the first failure is raised)."""
    return lambda calls: process_map("flows.stages.stage:stage_shard", calls, workers)
