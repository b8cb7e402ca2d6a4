"""antflow-core: typed multi-stage asyncio pipelines.

* `antflow_core.model`: the side-effect-free core (stages, payloads, decisions, events,
  results, stats). Importing it never imports asyncio.
* `antflow_core.runtime`: the asyncio `Pipeline` that executes the model.

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
        BaseDashboard,
        ConcurrencyLimiter,
        Pipeline,
        RateLimiter,
        StageQueue,
        call_rate_has_capacity,
        combine_observers,
        concurrency_limit,
        rate_limit,
        set_task_status,
    )

__version__ = "0.1.0"

__all__ = [
    "AntFlowError",
    "AntflowError",
    "BaseDashboard",
    "BatchResultError",
    "Child",
    "ConcurrencyLimiter",
    "DashboardProtocol",
    "DashboardSnapshot",
    "ErrorSummary",
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
    "call_rate_has_capacity",
    "combine_observers",
    "concurrency_limit",
    "rate_limit",
    "set_task_status",
]

_RUNTIME_NAMES = frozenset(
    {
        "BaseDashboard",
        "ConcurrencyLimiter",
        "Pipeline",
        "RateLimiter",
        "StageQueue",
        "call_rate_has_capacity",
        "combine_observers",
        "concurrency_limit",
        "rate_limit",
        "set_task_status",
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
