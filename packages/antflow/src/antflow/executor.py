"""``antflow.executor``: `AsyncExecutor`, `concurrent.futures` for coroutines (as in antflow 0.10).

``from antflow.executor import AsyncExecutor`` works as in antflow 0.10; so does
``from antflow import AsyncExecutor``. The executor is antflow-core's
(`antflow_core.runtime.executor`): the same retry decisions as a `Stage`, on a pool of
owned worker tasks. See the guide page "One-step jobs: AsyncExecutor".
"""

from __future__ import annotations

from antflow_core.errors import ExecutorShutdownError
from antflow_core.runtime.executor import (
    ALL_COMPLETED,
    DEFAULT_MAX_WORKERS,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    AsCompleted,
    AsyncExecutor,
    AsyncFuture,
    CallOptions,
    DoneAndNotDone,
    MapResults,
    ReturnWhen,
    Submitter,
    as_completed,
    wait,
)

__all__ = [
    "ALL_COMPLETED",
    "DEFAULT_MAX_WORKERS",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "AsCompleted",
    "AsyncExecutor",
    "AsyncFuture",
    "CallOptions",
    "DoneAndNotDone",
    "ExecutorShutdownError",
    "MapResults",
    "ReturnWhen",
    "Submitter",
    "as_completed",
    "wait",
]
