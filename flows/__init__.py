"""motcua's Prefect flows. motcua's own loggers (``motcua`` and its children) log at INFO
unless configured otherwise, and reach a flow run's logs in the Prefect UI when
``PREFECT_LOGGING_EXTRA_LOGGERS`` names ``motcua`` (the CLI sets it; prefect.yaml sets it
for the workers' deployments)."""

import logging

_motcua = logging.getLogger("motcua")
if _motcua.level == logging.NOTSET:
    _motcua.setLevel(logging.INFO)
