"""The types the builders' signatures are written in: items, stage options, type variables.

`Items` is what ``run()``, ``stream()`` and ``Pipeline.quick()`` accept for a pipeline
whose first task takes ``T``: an iterable or async iterable of ``T`` values, or of
`KeyedItem` dicts that give each value its own id. `StageOptions` are the keyword
options of ``add()`` that do not depend on the stage's types, as a TypedDict, for
options kept in a variable: ``.add("Fetch", fetch, **options)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import Any, Generic, TypeAlias

from antflow_core import FailedItem, Payload
from antflow_core.model import RetryStrategy
from typing_extensions import TypedDict, TypeVar

__all__ = [
    "InT",
    "Items",
    "KeyedItem",
    "OnFailure",
    "OnSkip",
    "OnSuccess",
    "OutT",
    "StageOptions",
    "T",
]

T = TypeVar("T")
"""An item's value type."""

InT = TypeVar("InT", default=Any)
"""What a pipeline's first task takes: the type of the items' values."""

OutT = TypeVar("OutT", default=Any)
"""What a pipeline's last task returns: the type of its results' ``value``."""

# The value types along one stage: _T0 is the stage's input, _Ti the output of task i.
_T0 = TypeVar("_T0")
_T1 = TypeVar("_T1")
_T2 = TypeVar("_T2")
_T3 = TypeVar("_T3")
_T4 = TypeVar("_T4")


class KeyedItem(TypedDict, Generic[T]):
    """An item that carries its own id: ``{"id": "user_1", "value": {"name": "Alice"}}``.

    The pipeline's tasks receive ``value``; results and events carry ``id``.

    Attributes:
        id: The item's id, used in results, failures and status events.
        value: The value the first task receives.
    """

    id: Any
    value: T


Items: TypeAlias = Iterable[T | KeyedItem[T]] | AsyncIterable[T | KeyedItem[T]]
"""Items for a pipeline whose first task takes ``T``: values, or `KeyedItem` dicts, in an
iterable or an async iterable."""

OnSuccess: TypeAlias = Callable[[Payload[T]], object] | Callable[[Any, T, dict[str, Any]], object]
"""An ``on_success`` for a stage whose output is ``T``: ``(payload)`` or antflow 0.10's
``(item_id, result, metadata)``; plain or ``async``."""

OnSkip: TypeAlias = Callable[[Payload[T]], object] | Callable[[Any, T, dict[str, Any]], object]
"""An ``on_skip`` for a stage whose input is ``T``: ``(payload)`` or
``(item_id, value, metadata)``; plain or ``async``."""

OnFailure: TypeAlias = Callable[[FailedItem], object] | Callable[[Any, Any, dict[str, Any]], object]
"""An ``on_failure``: ``(failed_item)`` or antflow 0.10's ``(item_id, error, metadata)``; plain
or ``async``."""


class StageOptions(TypedDict, total=False):
    """The keyword options of ``add()`` that do not depend on the stage's value types.

    Each is the `Stage` parameter of the same name, with the same default; see
    `antflow_core.Stage`.

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
        on_failure: Called when the stage gives up on an item, as ``(failed_item)`` or
            ``(item_id, error, metadata)``; may be ``async``.
        queue_capacity: Size of the stage's input queue: None for ``workers * 10``, 0 for
            unbounded.
        task_timeout: Seconds one task call may take (None for no limit).
        retries: Attempts per task, antflow 0.10's name for ``task_attempts`` (give one
            of the two).
    """

    workers: int
    retry: RetryStrategy
    task_attempts: int
    stage_attempts: int
    task_wait_seconds: float
    task_concurrency_limits: Mapping[str, int] | None
    on_failure: OnFailure | None
    queue_capacity: int | None
    task_timeout: float | None
    retries: int
