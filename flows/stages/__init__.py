"""The pipeline's stages as plain functions, one module per layer (the Prefect tasks in
:mod:`flows.tasks` wrap them). Between stages only paths, table names and counts travel;
the data lives in Parquet files under the run's folder and in the warehouse.

:mod:`~flows.stages.extract` -> :mod:`~flows.stages.stage` (parse, rules, validate:
records loaded or quarantined) -> :mod:`~flows.stages.load_core` (quarantine, then
fct_dossier and events one committed step a bucket, then dimensions and watermark) ->
:mod:`~flows.stages.marts` (+ mart suite: write, audit) -> :mod:`~flows.stages.publish`
(the mart partitions rebuilt, period x agency, replaced in one transaction). A run's
folder, audit row and failure note are :mod:`~flows.stages.runs`'.
"""
