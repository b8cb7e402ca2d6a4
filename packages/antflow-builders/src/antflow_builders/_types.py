"""The types the builders' signatures are written in: items, stage options, type variables.

`Items`, `KeyedItem`, the callback types and the pipeline's ``InT``/``OutT`` are
antflow-core's (`antflow_core.model.items`), re-exported here: ``run()``, ``stream()``
and ``Pipeline.quick()`` accept for a pipeline whose first task takes ``T`` an iterable
or async iterable of ``T`` values, or of `KeyedItem` dicts that give each value its own
id. `StageOptions` are the keyword options of ``add()`` that do not depend on the
stage's types, as a TypedDict, for options kept in a variable:
``.add("Fetch", fetch, **options)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import final

from antflow_core.model import (
    Backoff,
    InT,
    Items,
    KeyedItem,
    OnFailure,
    OnSkip,
    OnSuccess,
    OutT,
    RateLimit,
    RetryOn,
    RetryPredicate,
    RetryStrategy,
)
from typing_extensions import TypedDict, TypeVar

__all__ = [
    "InT",
    "Items",
    "KeyedItem",
    "OnFailure",
    "OnSkip",
    "OnSuccess",
    "OutT",
    "StageInput",
    "StageKeywords",
    "StageOptions",
    "T",
    "Task1Output",
    "Task2Output",
    "Task3Output",
    "Task4Output",
    "TaskOutput",
]

T = TypeVar("T")
"""An item's value type."""

# The value types along one stage, named for what they are: mypy's messages name them.
StageInput = TypeVar("StageInput")
"""What the first task of a pipeline's first stage takes (in ``add()`` and ``quick()``)."""
Task1Output = TypeVar("Task1Output")
"""What a stage's first task returns (awaited, for an ``async def`` task)."""
Task2Output = TypeVar("Task2Output")
"""What a stage's second task returns."""
Task3Output = TypeVar("Task3Output")
"""What a stage's third task returns."""
Task4Output = TypeVar("Task4Output")
"""What a stage's fourth task returns."""


@final
class TaskOutput:
    """What a task returns, as mypy's messages about ``add()`` say it.

    ``expected "Callable[[bytes], TaskOutput]"`` reads: a function of one argument that
    takes ``bytes`` (the previous stage's output), returning anything; ``async def`` or
    plain. No function returns this class: it only names the output in that message.
    """


class StageKeywords(TypedDict, total=False):
    """The keyword options of ``add()`` that do not depend on the stage's value types.

    Each is the `Stage` parameter of the same name, with the same default; see
    `antflow_core.Stage`. `StageOptions` adds ``on_failure``.

    Attributes:
        workers: How many items the stage processes at once (default 5 in a builder, as in
            antflow 0.10).
        retry: ``"per_task"`` (default) or ``"per_stage"``.
        task_attempts: Attempts per task with ``retry="per_task"`` (default 3; 1 means no
            retry).
        stage_attempts: Attempts of the whole stage with ``retry="per_stage"`` (default 3).
        task_wait_seconds: Seconds to wait before each retry (default 1.0).
        task_concurrency_limits: Maximum concurrent calls of named tasks, e.g.
            ``{"upload": 2}``.
        queue_capacity: Size of the stage's input queue: None for ``workers * 10``, 0 for
            unbounded.
        task_timeout: Seconds one task call may take (None for no limit).
        retries: Attempts per task, antflow 0.10's name for ``task_attempts`` (give one
            of the two).
        call_rate: At most this many task calls of the stage start per
            ``call_rate_period`` seconds, across its workers.
        call_rate_period: The window of ``call_rate`` in seconds (default 1.0).
        task_rate_limits: The same per task name: ``{"upload": (10, 1.0)}`` or a
            `RateLimit`.
        call_concurrency: At most this many task calls of the stage at once.
        pull: A pull stage: no queue, an item enters only when a worker is free (not for
            the first stage).
        retry_on: Retry only these exception types (None: every `Exception`).
        retry_if: Retry only errors for which this returns true.
        backoff: ``"fixed"`` (default) or ``"exponential"`` waits between attempts.
        max_wait_seconds: The longest wait between two attempts (None: no cap).
        jitter: The fraction of each wait that is random (None: the backoff's default).
        batch_timeout: With ``batch_size``, call a partial batch once its first item has
            waited this many seconds.

    ``fan_out`` and ``batch_size`` are options of ``add()`` too, but not of this dict: they
    change the stage's value types, which ``add()`` follows.
    """

    workers: int
    retry: RetryStrategy
    task_attempts: int
    stage_attempts: int
    task_wait_seconds: float
    task_concurrency_limits: Mapping[str, int] | None
    queue_capacity: int | None
    task_timeout: float | None
    retries: int
    call_rate: int | None
    call_rate_period: float
    task_rate_limits: Mapping[str, RateLimit | tuple[int, float]] | None
    call_concurrency: int | None
    pull: bool
    retry_on: RetryOn | None
    retry_if: RetryPredicate | None
    backoff: Backoff
    max_wait_seconds: float | None
    jitter: float | None
    batch_timeout: float | None


class StageOptions(StageKeywords, total=False):
    """The keyword options of ``add()`` that do not depend on the stage's value types.

    For options kept in a variable: ``.add("Fetch", fetch, **options)``. They are
    `StageKeywords` and ``on_failure``.

    Attributes:
        on_failure: Called when the stage gives up on an item, as ``(failed_item)`` or
            ``(item_id, error, metadata)``; may be ``async``. Kept apart from the stage,
            it must take a failure of any stage: ``FailedItem[object]`` (or a bare
            ``FailedItem``).
    """

    on_failure: OnFailure[object] | None
