"""antflow: typed multi-stage asyncio pipelines.

This umbrella package re-exports the public API of the antflow packages, so that
``from antflow import Pipeline, Stage, StatusTracker`` works as the guide shows. Each
section below comes from one distribution.
"""

# ----------------------------------------------------------------- antflow-core
from antflow_core import (
    AntflowError,
    DashboardSnapshot,
    ErrorSummary,
    ExtensionNotInstalledError,
    FailedItem,
    FailureRecord,
    FeedError,
    ItemFinished,
    ItemOutcome,
    ItemStatus,
    Payload,
    PipelineCrashedError,
    PipelineObserver,
    PipelineResult,
    PipelineStateError,
    PipelineStats,
    ProgressDisplay,
    Stage,
    StageStats,
    StageValidationError,
    StatusEvent,
    TaskEvent,
    TaskEventType,
    TaskTimeoutError,
    UnknownStageError,
    WorkerMetrics,
    WorkerState,
    WorkerStatus,
)
from antflow_core.runtime import Pipeline, set_task_status

__version__ = "0.1.0"

__all__ = [
    "AntflowError",
    "DashboardSnapshot",
    "ErrorSummary",
    "ExtensionNotInstalledError",
    "FailedItem",
    "FailureRecord",
    "FeedError",
    "ItemFinished",
    "ItemOutcome",
    "ItemStatus",
    "Payload",
    "Pipeline",
    "PipelineCrashedError",
    "PipelineObserver",
    "PipelineResult",
    "PipelineStateError",
    "PipelineStats",
    "ProgressDisplay",
    "Stage",
    "StageStats",
    "StageValidationError",
    "StatusEvent",
    "TaskEvent",
    "TaskEventType",
    "TaskTimeoutError",
    "UnknownStageError",
    "WorkerMetrics",
    "WorkerState",
    "WorkerStatus",
    "__version__",
    "set_task_status",
]
