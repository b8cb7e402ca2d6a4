"""antflow-core: typed multi-stage asyncio pipelines.

* `antflow_core.model`: the side-effect-free core (stages, payloads, decisions, events,
  results, stats). Importing it never imports asyncio.
* `antflow_core.runtime`: the asyncio `Pipeline` that executes the model, and
  `AsyncExecutor`, its small sibling for one-step jobs (`concurrent.futures` for
  coroutines).

The names most programs need are available here directly::

    from antflow_core import Pipeline, Stage

Runtime names (`Pipeline`, `set_task_status`, `combine_observers`, ...) are loaded on first use, so
``import antflow_core.model`` stays free of asyncio.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
from antflow_core.model import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    Child,
    DashboardProtocol,
    DashboardSnapshot,
    ErrorSummary,
    FailedItem,
    FailureRecord,
    ItemFinished,
    ItemOutcome,
    Items,
    ItemStatus,
    KeyedItem,
    Payload,
    PipelineObserver,
    PipelineResult,
    PipelineStats,
    ProgressDisplay,
    RateLimit,
    RetryPolicy,
    Stage,
    StageStats,
    StatusEvent,
    TaskEvent,
    TaskEventType,
    WorkerMetrics,
    WorkerState,
    WorkerStatus,
)

if TYPE_CHECKING:
    from antflow_core.runtime import (
        AsyncExecutor,
        AsyncFuture,
        BaseDashboard,
        ConcurrencyLimiter,
        Pipeline,
        RateLimiter,
        StageQueue,
        as_completed,
        call_rate_has_capacity,
        combine_observers,
        concurrency_limit,
        rate_limit,
        set_task_status,
        wait,
    )

__version__ = "0.1.0"

__all__ = [
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "AntFlowError",
    "AntflowError",
    "AsyncExecutor",
    "AsyncFuture",
    "BaseDashboard",
    "BatchResultError",
    "Child",
    "ConcurrencyLimiter",
    "DashboardProtocol",
    "DashboardSnapshot",
    "ErrorSummary",
    "ExecutorShutdownError",
    "ExtensionNotInstalledError",
    "FailedItem",
    "FailureRecord",
    "FanOutError",
    "FeedError",
    "ItemFinished",
    "ItemOutcome",
    "ItemStatus",
    "Items",
    "KeyedItem",
    "Payload",
    "PermanentError",
    "Pipeline",
    "PipelineCrashedError",
    "PipelineError",
    "PipelineObserver",
    "PipelineResult",
    "PipelineStateError",
    "PipelineStats",
    "ProgressDisplay",
    "RateLimit",
    "RateLimiter",
    "RetryPolicy",
    "Stage",
    "StageQueue",
    "StageStats",
    "StageValidationError",
    "StatusEvent",
    "TaskEvent",
    "TaskEventType",
    "TaskReturnedCoroutineError",
    "TaskTimeoutError",
    "UnknownStageError",
    "WorkerMetrics",
    "WorkerState",
    "WorkerStatus",
    "__version__",
    "as_completed",
    "call_rate_has_capacity",
    "combine_observers",
    "concurrency_limit",
    "rate_limit",
    "set_task_status",
    "wait",
]

_RUNTIME_NAMES = frozenset(
    {
        "AsyncExecutor",
        "AsyncFuture",
        "BaseDashboard",
        "ConcurrencyLimiter",
        "Pipeline",
        "RateLimiter",
        "StageQueue",
        "as_completed",
        "call_rate_has_capacity",
        "combine_observers",
        "concurrency_limit",
        "rate_limit",
        "set_task_status",
        "wait",
    }
)


def __getattr__(name: str) -> Any:
    if name in _RUNTIME_NAMES:
        value = getattr(importlib.import_module("antflow_core.runtime"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'antflow_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
