"""The pipeline's own error (in a module of its own, so that :mod:`flows.locks` and
the stages in :mod:`flows.stages` can all raise it without importing each other)."""

from __future__ import annotations


class PipelineError(RuntimeError):
    """The run could not complete; nothing was published."""
