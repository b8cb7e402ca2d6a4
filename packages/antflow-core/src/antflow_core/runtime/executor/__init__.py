"""`AsyncExecutor`: `concurrent.futures` for coroutines, with retries; `Pipeline`'s small sibling.

Not every job is a pipeline. "Run this function over 10,000 inputs, 20 at a time, with
retries, and give me the results as they finish" is one step: an `AsyncExecutor` runs
it with the same retry decisions as a stage (a `RetryPolicy`, decided by the model and
executed by tenacity) and the same rules: nothing polls, every task it starts is owned and
awaited, a worker survives whatever a call raises.

It is split into rooms, one module each, opening with its theory of operation:

| module | holds |
|---|---|
| ``pool`` | `AsyncExecutor`: its life (loop, queue, workers, threads, ``shutdown``) |
| ``submitter`` | `Submitter`: ``submit``, ``map``, ``map_iter``, ``with_options`` |
| ``worker`` | the worker loop: take a call, run it, settle its future |
| ``futures`` | `AsyncFuture`: one call's outcome, its cancellation |
| ``calls`` | calling one function: async or in a thread, a limit, retries; `CallOptions` |
| ``mapping`` | `MapResults`: the results of ``map()`` and ``map_iter()`` in input order |
| ``waiting`` | `as_completed`, `wait` |

The decisions it executes (the retry policy of a call's options, when ``wait()``
returns, the checks of the options) are in `antflow_core.model.calls` and
`antflow_core.model.retries`.
"""

from antflow_core.model.calls import ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, ReturnWhen
from antflow_core.runtime.executor.calls import CallOptions
from antflow_core.runtime.executor.futures import AsyncFuture
from antflow_core.runtime.executor.mapping import MapResults
from antflow_core.runtime.executor.pool import DEFAULT_MAX_WORKERS, AsyncExecutor
from antflow_core.runtime.executor.submitter import Submitter
from antflow_core.runtime.executor.waiting import (
    AsCompleted,
    DoneAndNotDone,
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
    "MapResults",
    "ReturnWhen",
    "Submitter",
    "as_completed",
    "wait",
]
