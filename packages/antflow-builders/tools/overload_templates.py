"""The fixed text of the modules ``generate_overloads.py`` writes.

Theory of operation
-------------------
A generated module is this fixed text around the overloads the generator computes: a
`HEADER` (its docstring, which says it is generated and by what), its imports
(`ADD_IMPORTS` with the `ADD_TYPES` it uses, or `QUICK_IMPORTS`), a class line, the
overloads, and then the method's implementation: `EMPTY_ADD_IMPL`, `BUILDER_ADD_IMPL` or
`QUICK_IMPL`. An implementation is written here whole, signature and docstring (what the
API reference shows for ``add()`` and ``quick()``) and the one call that hands the work
to hand-written code, so that the generated modules hold no logic of their own. Edit the
docstrings here, then run the generator.
"""

HEADER = '''\
"""Generated (do not edit): {summary}.

{job}

Written by ``packages/antflow-builders/tools/generate_overloads.py``, whose docstring says
which overloads there are and why: change them there and run it. A test fails while this
file differs from what the generator writes.
"""

from __future__ import annotations
'''

EMPTY_ADD_IMPL = '''\
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
'''

BUILDER_ADD_IMPL = '''\
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
'''

QUICK_IMPL = '''\
    @classmethod
    def quick(
        cls,
        items: Items[Any],
        task_or_tasks: TaskFunc | Sequence[TaskFunc],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = QUICK_STAGE_NAME,
        task_wait_seconds: float = 1.0,
        task_timeout: float | None = None,
        on_failure: OnFailure | None = None,
        call_rate: int | None = None,
        call_rate_period: float = 1.0,
        call_concurrency: int | None = None,
        dashboard: str | ProgressDisplay | None = None,
        refresh_interval: float | None = None,
        retry_on: RetryOn | None = None,
        retry_if: RetryPredicate | None = None,
        backoff: Backoff = "fixed",
        max_wait_seconds: float | None = None,
        jitter: float | None = None,
    ) -> Coroutine[Any, Any, list[PipelineResult[Any]]]:
        """Run ``items`` through one stage of ``task_or_tasks`` and return the results.

        One task gives a stage of that task; a list (or tuple) gives one stage running
        those tasks in order on each item, as ``Stage(tasks=[...])`` does. The stage is
        validated by this call; awaiting what it returns runs the pipeline::

            results = await Pipeline.quick(items, process, workers=5, progress=True)
            results = await Pipeline.quick(items, [fetch, process], workers=10)

        Args:
            items: Values for the first task, or `KeyedItem` dicts, in an iterable or an
                async iterable.
            task_or_tasks: A function, or a list or tuple of functions run in order. A tuple
                of up to 4 is type-checked task to task; a list is not (its results are
                ``Any``).
            workers: How many items are processed at once (default 5).
            retries: How many attempts a task gets, as in antflow 0.10 (default 3: a
                failing task is called at most 3 times). ``retries=r`` is the stage option
                ``task_attempts=r``; 1 (or 0) means a single attempt, no retry.
            progress: True for a live progress bar (needs antflow-rich), or your own
                `ProgressDisplay`.
            name: The stage's name (default ``"Quick"``).
            task_wait_seconds: Seconds to wait before each retry (default 1.0).
            task_timeout: Seconds one task call may take (default: no limit).
            on_failure: Called for each item that fails for good, as
                ``on_failure(item_id, error, metadata)`` or ``on_failure(failed_item)``;
                those items are not in the returned list.
            call_rate: At most this many task calls start per ``call_rate_period``
                seconds, across the workers (default: no rate limit).
            call_rate_period: The window of ``call_rate``, in seconds (default 1.0).
            call_concurrency: At most this many task calls at once (default: ``workers``).
            dashboard: ``"compact"``, ``"detailed"``, ``"full"`` or a `ProgressDisplay`.
            refresh_interval: Seconds between display refreshes.
            retry_on: Retry only these exception types (default: every `Exception`).
            retry_if: Retry only errors for which this returns true.
            backoff: ``"fixed"`` (default) or ``"exponential"`` waits between attempts.
            max_wait_seconds: The longest wait between two attempts (default: no cap).
            jitter: The fraction of each wait that is random (default: the backoff's).

        A stage that fans out or batches needs ``Pipeline.create().add(...)`` (or a
        `Stage`): ``quick()`` takes neither ``fan_out`` nor ``batch_size``.

        Returns:
            An awaitable of the results, in input order.

        Raises:
            StageValidationError: At the call, if there is no task, a task is not
                callable, ``workers`` < 1 or ``retries`` < 0; the message says what to
                change.
        """
        return run_quick(
            cls,
            items,
            task_or_tasks,
            workers=workers,
            retries=retries,
            progress=progress,
            name=name,
            task_wait_seconds=task_wait_seconds,
            task_timeout=task_timeout,
            on_failure=on_failure,
            call_rate=call_rate,
            call_rate_period=call_rate_period,
            call_concurrency=call_concurrency,
            dashboard=dashboard,
            refresh_interval=refresh_interval,
            retry_on=retry_on,
            retry_if=retry_if,
            backoff=backoff,
            max_wait_seconds=max_wait_seconds,
            jitter=jitter,
        )
'''

ADD_IMPORTS = """
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, {generic}Literal, overload

from antflow_core.model import Child, SkipPredicate, SuccessCallback, TaskFunc
from typing_extensions import Unpack

from antflow_builders._builder_base import _Builder
from antflow_builders._types import (
{types})

if TYPE_CHECKING:
    from antflow_builders.builder import PipelineBuilder

__all__ = ["{name}"]
"""

ADD_TYPES = [
    "OnFailure",
    "OnSkip",
    "OnSuccess",
    "StageKeywords",
    "Task1Output",
    "Task2Output",
    "Task3Output",
    "Task4Output",
    "TaskOutput",
]

QUICK_IMPORTS = """
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, overload

from antflow_core import PipelineResult, ProgressDisplay
from antflow_core.model import Backoff, RetryOn, RetryPredicate, TaskFunc
from antflow_core.runtime import Pipeline as _CorePipeline

from antflow_builders._types import (
    InT,
    Items,
    OnFailure,
    OutT,
    StageInput,
    Task1Output,
    Task2Output,
    Task3Output,
    Task4Output,
)
from antflow_builders.quick import QUICK_STAGE_NAME, run_quick

__all__ = ["QuickPipeline"]
"""

PACKAGE_DOC = '''\
"""Code written by ``tools/generate_overloads.py``: the typed overloads. Do not edit.

Each module holds one class: the overloads of one method (``add()`` of either builder,
``Pipeline.quick()``) and its implementation, which hands the call to hand-written code.
The public classes subclass these; the hand-written code lives outside this folder.
"""
'''
