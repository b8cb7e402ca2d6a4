"""Generated (do not edit): ``EmptyPipelineBuilder.add()``, its typed overloads and implementation.

``EmptyPipelineBuilder`` (``builder.py``) subclasses ``EmptyBuilderAdd``; the implementation
hands the call to ``_Builder._added``.

Written by ``packages/antflow-builders/tools/generate_overloads.py``, whose docstring says
which overloads there are and why: change them there and run it. A test fails while this
file differs from what the generator writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from antflow_core.model import Child, SkipPredicate, SuccessCallback, TaskFunc
from typing_extensions import Unpack

from antflow_builders._builder_base import _Builder
from antflow_builders._types import (
    OnFailure,
    OnSkip,
    OnSuccess,
    StageInput,
    StageKeywords,
    Task1Output,
    Task2Output,
    Task3Output,
    Task4Output,
    TaskOutput,
)

if TYPE_CHECKING:
    from antflow_builders.builder import PipelineBuilder

__all__ = ["EmptyBuilderAdd"]


class EmptyBuilderAdd(_Builder):
    """`EmptyPipelineBuilder`'s ``add()``: its typed overloads and its implementation."""

    __slots__ = ()

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], TaskOutput],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Any] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Any]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], Awaitable[Task1Output]],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], Task1Output],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], Awaitable[Task1Output]],
        task2: Callable[[Task1Output], Awaitable[Task2Output]],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task2Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task2Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], Awaitable[Task1Output]],
        task2: Callable[[Task1Output], Task2Output],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task2Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task2Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], Task1Output],
        task2: Callable[[Task1Output], Awaitable[Task2Output]],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task2Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task2Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], Task1Output],
        task2: Callable[[Task1Output], Task2Output],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task2Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task2Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], object],
        task2: Callable[[Any], object],
        task3: Callable[[Any], Awaitable[Task3Output]],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task3Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task3Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], object],
        task2: Callable[[Any], object],
        task3: Callable[[Any], Task3Output],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task3Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task3Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], object],
        task2: Callable[[Any], object],
        task3: Callable[[Any], object],
        task4: Callable[[Any], Awaitable[Task4Output]],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task4Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task4Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], object],
        task2: Callable[[Any], object],
        task3: Callable[[Any], object],
        task4: Callable[[Any], Task4Output],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: None = None,
        on_success: OnSuccess[Task4Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task4Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], Awaitable[Task1Output]],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: Callable[[StageInput], object],
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, StageInput | Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], Task1Output],
        /,
        *,
        unpack_args: Literal[False] = False,
        skip_if: Callable[[StageInput], object],
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, StageInput | Task1Output]: ...

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
        on_skip: OnSkip[Any] | None = None,
        on_failure: OnFailure[Any] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[Any, Task1Output]: ...

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
        on_skip: OnSkip[Any] | None = None,
        on_failure: OnFailure[Any] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[Any, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], Awaitable[Iterable[Task1Output | Child[Any]]]],
        /,
        *,
        unpack_args: Literal[False] = False,
        fan_out: Literal[True],
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], AsyncIterable[Task1Output | Child[Any]]],
        /,
        *,
        unpack_args: Literal[False] = False,
        fan_out: Literal[True],
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], Iterable[Task1Output | Child[Any]]],
        /,
        *,
        unpack_args: Literal[False] = False,
        fan_out: Literal[True],
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[list[StageInput]], Awaitable[Sequence[Task1Output]]],
        /,
        *,
        batch_size: int,
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[list[StageInput]], Sequence[Task1Output]],
        /,
        *,
        batch_size: int,
        skip_if: None = None,
        on_success: OnSuccess[Task1Output] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Task1Output]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], object],
        task2: Callable[[Any], object],
        task3: Callable[[Any], object],
        task4: Callable[[Any], object],
        task5: Callable[[Any], object],
        /,
        *more_tasks: Callable[[Any], object],
        unpack_args: Literal[False] = False,
        skip_if: Callable[[StageInput], object] | None = None,
        on_success: OnSuccess[Any] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Any]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[StageInput], object],
        task2: Callable[[Any], object],
        /,
        *more_tasks: Callable[[Any], object],
        unpack_args: Literal[False] = False,
        skip_if: Callable[[StageInput], object],
        on_success: OnSuccess[Any] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Any]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[..., object],
        task2: Callable[[Any], object],
        /,
        *more_tasks: Callable[[Any], object],
        unpack_args: Literal[True],
        skip_if: Callable[[Any], object] | None = None,
        on_success: OnSuccess[Any] | None = None,
        on_skip: OnSkip[Any] | None = None,
        on_failure: OnFailure[Any] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[Any, Any]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[..., object],
        /,
        *more_tasks: Callable[[Any], object],
        unpack_args: bool = False,
        fan_out: Literal[True],
        skip_if: Callable[[Any], object] | None = None,
        on_success: OnSuccess[Any] | None = None,
        on_skip: OnSkip[Any] | None = None,
        on_failure: OnFailure[Any] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[Any, Any]: ...

    @overload
    def add(
        self,
        name: str,
        task: Callable[[list[StageInput]], object],
        /,
        *more_tasks: Callable[[list[Any]], object],
        batch_size: int,
        skip_if: Callable[[StageInput], object] | None = None,
        on_success: OnSuccess[Any] | None = None,
        on_skip: OnSkip[StageInput] | None = None,
        on_failure: OnFailure[StageInput] | None = None,
        **options: Unpack[StageKeywords],
    ) -> PipelineBuilder[StageInput, Any]: ...

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
    ) -> PipelineBuilder[Any, Any]: ...

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
        """Add the first stage: ``name``, its tasks in order, and any `Stage` option.

        Same as `PipelineBuilder.add`; the first task's parameter type becomes the
        pipeline's input type.

        Raises:
            StageValidationError: If the stage is invalid (no task, a task that is not
                callable, workers < 1, ...); the message says what to change.
        """
        return self._added(name, tasks, unpack_args, skip_if, on_success, options)
