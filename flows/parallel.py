"""Where the coarse partitions of a run (its staging shards: consecutive raw files of about
``MOTCUA_SHARD_RECORDS`` records each) are processed: in the flow's own process, one after
the other (the default), or on a Dask cluster through Prefect's Dask task runner
(``prefect-dask``), one Prefect task per shard.

A shard takes seconds to minutes, so Dask's per-task cost (~250 ms here) does not matter.
Loading, marts and publishing stay in the flow's process: they are the warehouse's
single writer.

``MOTCUA_DASK`` (or ``motcua run --dask``) chooses the cluster:

* ``local`` / ``local:N`` — a temporary ``distributed.LocalCluster`` of N worker
  processes (default: one per CPU), torn down after the stage;
* ``tcp://scheduler:8786`` — an existing cluster's scheduler. Its workers must have
  motcua installed (the same version), the pseudonymisation key in their environment
  (``MOTCUA_PSEUDONYM_KEY``), and the run folder (``MOTCUA_DATA_DIR``) on a shared
  file system at the same path, since shards read the raw zone and write their output
  there.
"""

from __future__ import annotations

import os

from prefect import flow

from flows import tasks
from flows.stages.stage import Mapper


def dask_task_runner(spec: str):  # noqa: ANN201 - prefect_dask is imported lazily
    """A :class:`prefect_dask.DaskTaskRunner` for ``spec`` (see the module docstring)."""
    from prefect_dask import DaskTaskRunner

    spec = spec.strip()
    if spec == "local" or spec.startswith("local:"):
        workers = int(spec.split(":", 1)[1]) if ":" in spec else (os.cpu_count() or 1)
        if workers < 1:
            raise ValueError(f"MOTCUA_DASK: at least one worker, got {spec!r}")
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None})
    if "://" not in spec:
        raise ValueError(f"MOTCUA_DASK must be local, local:N or a scheduler address like tcp://host:8786, got {spec!r}")
    return DaskTaskRunner(address=spec)


def shard_mapper(spec: str) -> Mapper:
    """A :data:`flows.stages.stage.Mapper` that stages the shards as Prefect tasks on Dask (a
    subflow ``motcua-stage-shards`` with the Dask task runner)."""

    @flow(name="motcua-stage-shards", task_runner=dask_task_runner(spec), validate_parameters=False)
    def stage_shards(calls: list[dict]) -> list[dict]:
        futures = [tasks.stage_shard.submit(**kw) for kw in calls]
        return [f.result() for f in futures]

    return stage_shards
