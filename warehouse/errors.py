"""The pipeline's own error, in the lowest layer that raises it (the warehouse's write
lock, :mod:`warehouse.locks`), so that every layer above it (the stages in
:mod:`flows.stages`, the flows, the commands) raises and catches the one class without
importing each other, and :mod:`warehouse` never imports :mod:`flows`."""

from __future__ import annotations


class PipelineError(RuntimeError):
    """The run could not complete; nothing was published. ``exit_code``: what the
    ``motcua`` commands exit with (the README's table; :func:`motcua.errors.exit_code`)."""

    exit_code = 1


class QuarantineThresholdExceeded(PipelineError):
    """More of the records read were quarantined than the threshold allows: nothing loaded."""

    exit_code = 4


class ValidationFailed(PipelineError):
    """A critical expectation failed: the core or the marts as they were, nothing published."""

    exit_code = 5


class SourceFaults(PipelineError):
    """The run completed -- what was read is loaded and published -- but part of the
    source could not be read (a file cut off or vanished mid-run); ``result`` is the
    run's summary, its ``source_faults`` the faults. Commands exit 3 on it."""

    exit_code = 3

    def __init__(self, message: str, result: dict) -> None:
        super().__init__(message)
        self.result = result

    def __reduce__(self) -> tuple:  # Prefect pickles a failed flow's exception
        return (type(self), (str(self), self.result))


class StepFailed(PipelineError):
    """The run loaded and published the marts, but a step after them failed (the BI
    snapshot, the run's artifacts): named in ``audit.run.message.failed_steps``."""

    exit_code = 8


class WarehouseUnavailable(PipelineError):
    """The warehouse's server cannot be reached, or refuses the URL's user, password or
    database: one line naming the server and what to check."""

    exit_code = 7
