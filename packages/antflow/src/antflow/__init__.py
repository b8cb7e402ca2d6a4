"""antflow: typed multi-stage asyncio pipelines.

This umbrella package re-exports the public API of the antflow packages, so that
``from antflow import Pipeline, Stage, StatusTracker`` works as the guide shows. Each
section below comes from one distribution.

It is the successor of antflow 0.10: the submodules a 0.10 program imports from
(``antflow.pipeline``, ``antflow.types``, ``antflow.tracker``, ``antflow.exceptions``,
``antflow.context``, ``antflow.display``, ``antflow.executor``) re-export the same
objects under the same names. ``docs/migrating.md`` lists what differs.

The names of antflow-rich (``FullDashboard``, ``ProgressBarDisplay``, ...) and
``antflow.display`` are loaded on first use, so ``import antflow`` never imports rich;
``run(items, progress=True)`` finds the displays through their entry points without
touching these names at all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# ------------------------------------------------------------- antflow-builders
# Pipeline is antflow_core's Pipeline plus create() and quick() (see antflow_builders).
from antflow_builders import (
    QUICK_STAGE_NAME,
    EmptyPipelineBuilder,
    Items,
    KeyedItem,
    OnFailure,
    OnSkip,
    OnSuccess,
    Pipeline,
    PipelineBuilder,
    StageKeywords,
    StageOptions,
    TaskOutput,
)

# ----------------------------------------------------------------- antflow-core
from antflow_core import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    AntFlowError,
    AntflowError,
    AsyncExecutor,
    AsyncFuture,
    BaseDashboard,
    BatchResultError,
    Child,
    ConcurrencyLimiter,
    DashboardProtocol,
    DashboardSnapshot,
    ErrorSummary,
    ExecutorShutdownError,
    ExtensionNotInstalledError,
    FailedItem,
    FailureRecord,
    FanOutError,
    FeedError,
    ItemFinished,
    ItemOutcome,
    ItemStatus,
    Payload,
    PermanentError,
    PipelineCrashedError,
    PipelineError,
    PipelineObserver,
    PipelineResult,
    PipelineStateError,
    PipelineStats,
    ProgressDisplay,
    RateLimit,
    RateLimiter,
    RetryPolicy,
    Stage,
    StageQueue,
    StageStats,
    StageValidationError,
    StatusEvent,
    TaskEvent,
    TaskEventType,
    TaskReturnedCoroutineError,
    TaskTimeoutError,
    UnknownStageError,
    WorkerMetrics,
    WorkerState,
    WorkerStatus,
    as_completed,
    call_rate_has_capacity,
    combine_observers,
    concurrency_limit,
    rate_limit,
    set_task_status,
    wait,
)

# -------------------------------------------------------------- antflow-tracker
from antflow_tracker import (
    FailedItemCallback,
    HistoryLimit,
    ResultCallback,
    StatusCallback,
    StatusTracker,
    TaskCallback,
)

# ----------------------------------------------------------------- antflow-rich
if TYPE_CHECKING:
    from antflow_rich import (
        DEGRADATION_STEPS,
        BarCell,
        BarLine,
        CompactDashboard,
        DetailedDashboard,
        FittedDashboard,
        FullDashboard,
        LayoutPlan,
        PlainTable,
        ProgressBarDisplay,
        ProgressView,
        RichDisplay,
        StageBars,
        StageProgress,
        blank_snapshot,
        compact_panel,
        errors_line,
        errors_panel,
        format_count,
        format_duration,
        format_error_types,
        format_rate,
        log_above,
        plan_layout,
        progress_line,
        progress_row,
        share_rows,
        stage_progress,
        stage_table,
        summary_line,
        worker_table,
    )

_RICH_NAMES = frozenset(
    {
        "DEGRADATION_STEPS",
        "BarCell",
        "BarLine",
        "CompactDashboard",
        "DetailedDashboard",
        "FittedDashboard",
        "FullDashboard",
        "LayoutPlan",
        "PlainTable",
        "ProgressBarDisplay",
        "ProgressView",
        "RichDisplay",
        "StageBars",
        "StageProgress",
        "blank_snapshot",
        "compact_panel",
        "errors_line",
        "errors_panel",
        "format_count",
        "format_duration",
        "format_error_types",
        "format_rate",
        "log_above",
        "plan_layout",
        "progress_line",
        "progress_row",
        "share_rows",
        "stage_progress",
        "stage_table",
        "summary_line",
        "worker_table",
    }
)


def __getattr__(name: str) -> Any:
    if name in _RICH_NAMES:
        value = getattr(importlib.import_module("antflow_rich"), name)
        globals()[name] = value
        return value
    if name == "display":  # antflow 0.10's submodule; it imports rich
        return importlib.import_module("antflow.display")
    raise AttributeError(f"module 'antflow' has no attribute {name!r}")


__version__ = "0.11.0"

__all__ = [
    "ALL_COMPLETED",
    "DEGRADATION_STEPS",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "QUICK_STAGE_NAME",
    "AntFlowError",
    "AntflowError",
    "AsyncExecutor",
    "AsyncFuture",
    "BarCell",
    "BarLine",
    "BaseDashboard",
    "BatchResultError",
    "Child",
    "CompactDashboard",
    "ConcurrencyLimiter",
    "DashboardProtocol",
    "DashboardSnapshot",
    "DetailedDashboard",
    "EmptyPipelineBuilder",
    "ErrorSummary",
    "ExecutorShutdownError",
    "ExtensionNotInstalledError",
    "FailedItem",
    "FailedItemCallback",
    "FailureRecord",
    "FanOutError",
    "FeedError",
    "FittedDashboard",
    "FullDashboard",
    "HistoryLimit",
    "ItemFinished",
    "ItemOutcome",
    "ItemStatus",
    "Items",
    "KeyedItem",
    "LayoutPlan",
    "OnFailure",
    "OnSkip",
    "OnSuccess",
    "Payload",
    "PermanentError",
    "Pipeline",
    "PipelineBuilder",
    "PipelineCrashedError",
    "PipelineError",
    "PipelineObserver",
    "PipelineResult",
    "PipelineStateError",
    "PipelineStats",
    "PlainTable",
    "ProgressBarDisplay",
    "ProgressDisplay",
    "ProgressView",
    "RateLimit",
    "RateLimiter",
    "ResultCallback",
    "RetryPolicy",
    "RichDisplay",
    "Stage",
    "StageBars",
    "StageKeywords",
    "StageOptions",
    "StageProgress",
    "StageQueue",
    "StageStats",
    "StageValidationError",
    "StatusCallback",
    "StatusEvent",
    "StatusTracker",
    "TaskCallback",
    "TaskEvent",
    "TaskEventType",
    "TaskOutput",
    "TaskReturnedCoroutineError",
    "TaskTimeoutError",
    "UnknownStageError",
    "WorkerMetrics",
    "WorkerState",
    "WorkerStatus",
    "__version__",
    "as_completed",
    "blank_snapshot",
    "call_rate_has_capacity",
    "combine_observers",
    "compact_panel",
    "concurrency_limit",
    "errors_line",
    "errors_panel",
    "format_count",
    "format_duration",
    "format_error_types",
    "format_rate",
    "log_above",
    "plan_layout",
    "progress_line",
    "progress_row",
    "rate_limit",
    "set_task_status",
    "share_rows",
    "stage_progress",
    "stage_table",
    "summary_line",
    "wait",
    "worker_table",
]

# antflow 0.10's submodules, which re-export the names above; importing them here makes
# ``antflow.pipeline.Stage`` work after a bare ``import antflow``, as it did in 0.10.
from antflow import context as context  # noqa: E402
from antflow import exceptions as exceptions  # noqa: E402
from antflow import executor as executor  # noqa: E402
from antflow import pipeline as pipeline  # noqa: E402
from antflow import tracker as tracker  # noqa: E402
from antflow import types as types  # noqa: E402
