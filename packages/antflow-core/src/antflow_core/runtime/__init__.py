"""The asyncio runtime of antflow: `Pipeline` executes what `antflow_core.model` decides.

It waits, schedules and calls; every decision (retry, routing, ordering, capacity,
stats) is a model function. The runtime is split into rooms, one module each:

| module | holds |
|---|---|
| ``pipeline`` | `Pipeline`, the facade: wires the rooms, its state-changing methods |
| ``lifecycle`` | `Lifecycle`: ``start()``, ``join()``, ``shutdown()``, the event loop |
| ``queries`` | `PipelineQueries`: results, failures, stats, worker states (read only) |
| ``intake`` | ``feed()``: payloads, ids, priorities, ``target_stage``, backpressure |
| ``stage_runner`` | `StageRunner`: one stage's queue and workers, the general path |
| ``fast_paths`` | the two worker loops that inline the common hop |
| ``task_calls`` | calling a stage's tasks; per-task retries through tenacity |
| ``handoff`` | after a stage: next stage, result, re-queue or failure |
| ``fan_out`` | a fan-out stage's children: ids, sequence ids, routes; the parent expanded |
| ``batches`` | a batch stage's workers: collecting, calling and retrying batches |
| ``outcomes`` | results in order, failures, unfinished items, the stream channel |
| ``emission`` | events to the observer, stage callbacks, ``callback_timeout`` |
| ``run_state`` | the phase, items in flight, what ``join()`` waits on, a crash |
| ``supervisor`` | every task and thread the pipeline starts, and their stopping |
| ``threads`` | `TaskThreads`: a thread for every plain-function call, at once |
| ``stopping`` | stopping tasks so that they have ended, even if the stop is cancelled |
| ``runs`` | `PipelineRuns`: ``run()`` and ``stream()``, a batch of items from start to end |
| ``monitoring`` | stats, worker states and metrics, dashboard snapshots |
| ``queues`` | `StageQueue`, the bounded priority queue in front of a stage |
| ``rendezvous`` | `Rendezvous`: a pull stage's hand-over point (and ``stream(buffer_size=0)``'s) |
| ``limits`` | `RateLimiter`, `ConcurrencyLimiter`, a stage's `CallGate`, the named limits |
| ``invoke`` | calling one task: sync or async, limits, timeout |
| ``workers`` | per-worker records, `set_task_status` |
| ``display``, ``extensions`` | refreshing a display; finding displays, telemetry, the builders |
| ``observers`` | `combine_observers`: several observers on one pipeline |
| ``dashboards`` | antflow 0.10's custom dashboards, run as displays; `BaseDashboard` |
| ``interrupts`` | what ``run()`` does on Ctrl-C and SIGTERM |
| ``executor`` | `AsyncExecutor`, `concurrent.futures` for coroutines (a subpackage of rooms) |

Each module opens with its theory of operation.
"""

from antflow_core.runtime.dashboards import BaseDashboard, DashboardDisplay
from antflow_core.runtime.display import DisplayDriver
from antflow_core.runtime.executor import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    AsyncExecutor,
    AsyncFuture,
    as_completed,
    wait,
)
from antflow_core.runtime.extensions import (
    DISPLAY_ENTRY_POINT_GROUP,
    TELEMETRY_ENTRY_POINT_GROUP,
    available_displays,
    load_display_factory,
    load_telemetry_observer,
    resolve_display,
    with_telemetry,
)
from antflow_core.runtime.interrupts import SIGTERM_EXIT_STATUS, interrupt_guard
from antflow_core.runtime.limits import (
    ConcurrencyLimiter,
    NamedLimits,
    RateLimiter,
    call_rate_has_capacity,
    concurrency_limit,
    rate_limit,
)
from antflow_core.runtime.observers import combine_observers
from antflow_core.runtime.pipeline import Pipeline
from antflow_core.runtime.queues import QueueClosed, StageQueue
from antflow_core.runtime.rendezvous import Rendezvous
from antflow_core.runtime.workers import set_task_status

__all__ = [
    "ALL_COMPLETED",
    "DISPLAY_ENTRY_POINT_GROUP",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "SIGTERM_EXIT_STATUS",
    "TELEMETRY_ENTRY_POINT_GROUP",
    "AsyncExecutor",
    "AsyncFuture",
    "BaseDashboard",
    "ConcurrencyLimiter",
    "DashboardDisplay",
    "DisplayDriver",
    "NamedLimits",
    "Pipeline",
    "QueueClosed",
    "RateLimiter",
    "Rendezvous",
    "StageQueue",
    "as_completed",
    "available_displays",
    "call_rate_has_capacity",
    "combine_observers",
    "concurrency_limit",
    "interrupt_guard",
    "load_display_factory",
    "load_telemetry_observer",
    "rate_limit",
    "resolve_display",
    "set_task_status",
    "wait",
    "with_telemetry",
]
