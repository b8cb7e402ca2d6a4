"""antflow: typed multi-stage asyncio pipelines.

This umbrella package re-exports the public API of the antflow packages, so that
``from antflow import Pipeline, Stage, StatusTracker`` works as the guide shows. Each
section below comes from one distribution.
"""

# ------------------------------------------------------------- antflow-builders
# Pipeline is antflow_core's Pipeline plus create() and quick() (see antflow_builders).
from antflow_builders import (
    EmptyPipelineBuilder,
    Items,
    KeyedItem,
    Pipeline,
    PipelineBuilder,
    StageOptions,
)

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
from antflow_core.runtime import set_task_status

# -------------------------------------------------------------- antflow-tracker
from antflow_tracker import StatusTracker

__version__ = "0.1.0"

__all__ = [
    "AntflowError",
    "DashboardSnapshot",
    "EmptyPipelineBuilder",
    "ErrorSummary",
    "ExtensionNotInstalledError",
    "FailedItem",
    "FailureRecord",
    "FeedError",
    "ItemFinished",
    "ItemOutcome",
    "ItemStatus",
    "Items",
    "KeyedItem",
    "Payload",
    "Pipeline",
    "PipelineBuilder",
    "PipelineCrashedError",
    "PipelineObserver",
    "PipelineResult",
    "PipelineStateError",
    "PipelineStats",
    "ProgressDisplay",
    "Stage",
    "StageOptions",
    "StageStats",
    "StageValidationError",
    "StatusEvent",
    "StatusTracker",
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
