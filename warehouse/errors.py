"""The pipeline's own error, in the lowest layer that raises it (the warehouse's write
lock, :mod:`warehouse.locks`), so that every layer above it (the stages in
:mod:`flows.stages`, the flows, the commands) raises and catches the one class without
importing each other, and :mod:`warehouse` never imports :mod:`flows`."""

from __future__ import annotations


class PipelineError(RuntimeError):
    """The run could not complete; nothing was published."""
