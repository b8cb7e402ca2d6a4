"""``antflow.pipeline``: the pipeline and its stages, where antflow 0.10 defined them.

``from antflow.pipeline import Pipeline, Stage`` keeps working; these are the same
objects as ``antflow.Pipeline`` and ``antflow.Stage``.
"""

from __future__ import annotations

from antflow_builders import QUICK_STAGE_NAME, EmptyPipelineBuilder, Pipeline, PipelineBuilder
from antflow_core import (
    FailedItem,
    Payload,
    PipelineResult,
    PipelineStats,
    Stage,
    StageStats,
)

__all__ = [
    "QUICK_STAGE_NAME",
    "EmptyPipelineBuilder",
    "FailedItem",
    "Payload",
    "Pipeline",
    "PipelineBuilder",
    "PipelineResult",
    "PipelineStats",
    "Stage",
    "StageStats",
]
