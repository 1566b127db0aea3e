"""Prefect tasks: thin wrappers over :mod:`flows.stages`.

Only the extract task retries (reading a source twice is harmless); the tasks that
write to the warehouse do not, so a retry can never double-write. No task takes an
Engine or a DataFrame: they pass paths, names and counts (``NO_CACHE``).
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows import stages
from motcua.settings import Settings


@task(name="extract", retries=3, retry_delay_seconds=[5, 30, 120], cache_policy=NO_CACHE)
def extract(run: stages.Run, settings: Settings, since: str | None = None) -> dict:
    return stages.extract(run, settings, since)


@task(name="stage-and-validate", cache_policy=NO_CACHE)
def stage(run: stages.Run, settings: Settings, extracted: dict) -> dict:
    return stages.stage(run, settings, extracted)


@task(name="load-core", cache_policy=NO_CACHE)
def load_core(run: stages.Run, settings: Settings, extracted: dict, staged: dict) -> dict:
    return stages.load_core(run, settings, extracted, staged)


@task(name="build-marts", cache_policy=NO_CACHE)
def build_marts(run: stages.Run, settings: Settings) -> dict:
    return stages.build_marts(run, settings)


@task(name="publish", cache_policy=NO_CACHE)
def publish(run: stages.Run, settings: Settings, built: dict) -> dict:
    return stages.publish(run, settings, built)
