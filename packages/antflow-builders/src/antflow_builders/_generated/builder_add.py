"""Generated (do not edit): ``PipelineBuilder.add()``, its typed overloads and implementation.

``PipelineBuilder`` (``builder.py``) subclasses ``PipelineBuilderAdd``; the implementation
hands the call to ``_Builder._added``.

Written by ``packages/antflow-builders/tools/generate_overloads.py``, whose docstring says
which overloads there are and why: change them there and run it. A test fails while this
file differs from what the generator writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, overload

from antflow_core.model import Child, SkipPredicate, SuccessCallback, TaskFunc
from typing_extensions import Unpack

from antflow_builders._builder_base import _Builder
from antflow_builders._types import (
    InT,
    OnFailure,
    OnSkip,
    OnSuccess,
    OutT,
    StageKeywords,
    Task1Output,
    Task2Output,
    Task3Output,
    Task4Output,
    TaskOutput,
)

if TYPE_CHECKING:
    from antflow_builders.builder import PipelineBuilder

__all__ = ["PipelineBuilderAdd"]


class PipelineBuilderAdd(_Builder, Generic[InT, OutT]):
    """`PipelineBuilder`'s ``add()``: its typed overloads and its implementation."""

    __slots__ = ()

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], TaskOutput],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Any] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Any]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], Awaitable[Task1Output]],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], Task1Output],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], Awaitable[Task1Output]],
        task2: Callable[[Task1Output], Awaitable[Task2Output]],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task2Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task2Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], Awaitable[Task1Output]],
        task2: Callable[[Task1Output], Task2Output],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task2Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task2Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], Task1Output],
        task2: Callable[[Task1Output], Awaitable[Task2Output]],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task2Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task2Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], Task1Output],
        task2: Callable[[Task1Output], Task2Output],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task2Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task2Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], object],
        task2: Callable[[Any], object],
        task3: Callable[[Any], Awaitable[Task3Output]],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task3Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task3Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], object],
        task2: Callable[[Any], object],
        task3: Callable[[Any], Task3Output],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task3Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task3Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], object],
        task2: Callable[[Any], object],
        task3: Callable[[Any], object],
        task4: Callable[[Any], Awaitable[Task4Output]],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task4Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task4Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], object],
        task2: Callable[[Any], object],
        task3: Callable[[Any], object],
        task4: Callable[[Any], Task4Output],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task4Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task4Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], Awaitable[Task1Output]],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: Callable[[OutT], object],
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, OutT | Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], Task1Output],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: Callable[[OutT], object],
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, OutT | Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[..., Awaitable[Task1Output]],
        /,
        *,
        unpack_args: Literal[True],
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[..., Task1Output],
        /,
        *,
        unpack_args: Literal[True],
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], Awaitable[Iterable[Task1Output | Child[Any]]]],
        /,
        *,
        unpack_args: Literal[False] = False,
        fan_out: Literal[True],
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], AsyncIterable[Task1Output | Child[Any]]],
        /,
        *,
        unpack_args: Literal[False] = False,
        fan_out: Literal[True],
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], Iterable[Task1Output | Child[Any]]],
        /,
        *,
        unpack_args: Literal[False] = False,
        fan_out: Literal[True],
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[list[OutT]], Awaitable[Sequence[Task1Output]]],
        /,
        *,
        batch_size: int,
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[list[OutT]], Sequence[Task1Output]],
        /,
        *,
        batch_size: int,
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], object],
        task2: Callable[[Any], object],
        task3: Callable[[Any], object],
        task4: Callable[[Any], object],
        task5: Callable[[Any], object],
        /,
        *more_tasks: Callable[[Any], object],
        unpack_args: Literal[False] = False,
        skip_if: Callable[[OutT], object] | None = None,
        on_success: OnSuccess[Any] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Any]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[OutT], object],
        task2: Callable[[Any], object],
        /,
        *more_tasks: Callable[[Any], object],
        unpack_args: Literal[False] = False,
        skip_if: Callable[[OutT], object],
        on_success: OnSuccess[Any] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Any]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[..., object],
        task2: Callable[[Any], object],
        /,
        *more_tasks: Callable[[Any], object],
        unpack_args: Literal[True],
        skip_if: Callable[[OutT], object] | None = None,
        on_success: OnSuccess[Any] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Any]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[..., object],
        /,
        *more_tasks: Callable[[Any], object],
        unpack_args: bool = False,
        fan_out: Literal[True],
        skip_if: Callable[[OutT], object] | None = None,
        on_success: OnSuccess[Any] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Any]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[list[OutT]], object],
        /,
        *more_tasks: Callable[[list[Any]], object],
        batch_size: int,
        skip_if: Callable[[OutT], object] | None = None,
        on_success: OnSuccess[Any] | None = None,
        on_skip: OnSkip[OutT] | None = None,
        on_failure: OnFailure[OutT] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Any]: ...

    @overload
    def add(
        self,
        name: str,
        tasks: Sequence[Callable[..., Any]],
        /,
        *,
        unpack_args: bool = False,
        fan_out: bool = False,
        batch_size: int | None = None,
        skip_if: Callable[[Any], object] | None = None,
        on_success: OnSuccess[Any] | None = None,
        on_skip: OnSkip[Any] | None = None,
        on_failure: OnFailure[Any] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[InT, Any]: ...

    def add(
        self,
        name: str,
        /,
        *tasks: TaskFunc | Sequence[TaskFunc],
        unpack_args: bool = False,
        skip_if: SkipPredicate | None = None,
        on_success: SuccessCallback | None = None,
        **options: Any,
    ) -> PipelineBuilder[Any, Any]:
        """Return a builder with one more stage: ``name``, its tasks in order, its options.

        The first task must take the previous stage's output; each next task takes the
        one before's output (``async def`` tasks: what the coroutine returns).

        Args:
            name: The stage's name, unique in the pipeline.
            *tasks: One or more functions run in order on each item, ``async def`` or
                plain (plain functions run in a worker thread); a single list of functions
                is accepted too, as antflow 0.10 took it (its stage is typed ``Any``).
            unpack_args: Call the first task with ``*value`` (tuple) or ``**value``
                (mapping). Such a stage is typed as taking any input.
            skip_if: Predicate on the stage's input; when true the item passes the stage
                unchanged, so the stage's output type becomes ``input | output``.
            on_success: Called when an item completes the stage, as ``on_success(item_id,
                result, metadata)`` or ``on_success(payload)``; may be ``async``.
            **options: Any other `Stage` option, with the `Stage` default when left out
                except ``workers``: ``workers`` (5, as in antflow 0.10), ``retry``
                (``"per_task"``), ``task_attempts`` (3) or ``retries`` (the same: the
                attempts per task), ``stage_attempts`` (3), ``task_wait_seconds`` (1.0),
                ``task_concurrency_limits``, ``on_failure``, ``on_skip``, ``queue_capacity``,
                ``task_timeout``, ``retry_on``, ``retry_if``, ``backoff``,
                ``max_wait_seconds``, ``jitter``, ``batch_timeout`` (see `StageOptions`),
                and ``fan_out`` and ``batch_size``, which change the stage's types (see
                this module's docstring).

        Returns:
            A new builder; this one is unchanged.

        Raises:
            StageValidationError: If the stage is invalid (no task, a task that is not
                callable, workers < 1, ...) or its name is already taken; the message says
                what to change.
        """
        return self._added(name, tasks, unpack_args, skip_if, on_success, options)
