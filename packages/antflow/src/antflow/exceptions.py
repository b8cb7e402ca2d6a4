"""``antflow.exceptions``: the errors antflow raises, with antflow 0.10's hierarchy.

``AntFlowError`` is the base of all of them; ``PipelineError`` the base of those about a
pipeline and its stages (``StageValidationError``, ``UnknownStageError``, ...). Each also
derives from the built-in exception a caller would catch (``ValueError``,
``RuntimeError``, ...). See `antflow_core.errors`.
"""

from __future__ import annotations

from antflow_core.errors import (
    AntFlowError,
    AntflowError,
    BatchResultError,
    ExecutorShutdownError,
    ExtensionNotInstalledError,
    FanOutError,
    FeedError,
    PermanentError,
    PipelineCrashedError,
    PipelineError,
    PipelineStateError,
    StageValidationError,
    TaskReturnedCoroutineError,
    TaskTimeoutError,
    UnknownStageError,
)

__all__ = [
    "AntFlowError",
    "AntflowError",
    "BatchResultError",
    "ExecutorShutdownError",
    "ExtensionNotInstalledError",
    "FanOutError",
    "FeedError",
    "PermanentError",
    "PipelineCrashedError",
    "PipelineError",
    "PipelineStateError",
    "StageValidationError",
    "TaskReturnedCoroutineError",
    "TaskTimeoutError",
    "UnknownStageError",
]
