"""The pipeline's own error (in a module of its own, so that :mod:`flows.locks` and
:mod:`flows.stages` can both raise it; ``flows.stages.PipelineError`` is the same class)."""

from __future__ import annotations


class PipelineError(RuntimeError):
    """The run could not complete; nothing was published."""
