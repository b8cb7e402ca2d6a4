"""Generated (do not edit): ``Pipeline.quick()``, its typed overloads and implementation.

``Pipeline`` (``pipeline.py``) subclasses ``QuickPipeline``; the implementation hands the
call to ``quick.run_quick``.

Written by ``packages/antflow-builders/tools/generate_overloads.py``, whose docstring says
which overloads there are and why: change them there and run it. A test fails while this
file differs from what the generator writes.
"""

from __future__ import annotations

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


class QuickPipeline(_CorePipeline[InT, OutT]):
    """The core `Pipeline` with a typed ``quick()``; `antflow_builders.Pipeline` subclasses it."""

    @overload
    @classmethod
    def quick(
        cls,
        items: Items[StageInput],
        task_or_tasks: Callable[[StageInput], Awaitable[Task1Output]],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = ...,
        task_wait_seconds: float = ...,
        task_timeout: float | None = ...,
        on_failure: OnFailure[Any] | None = ...,
        call_rate: int | None = ...,
        call_rate_period: float = ...,
        call_concurrency: int | None = ...,
        dashboard: str | ProgressDisplay | None = ...,
        refresh_interval: float | None = ...,
        retry_on: RetryOn | None = ...,
        retry_if: RetryPredicate | None = ...,
        backoff: Backoff = ...,
        max_wait_seconds: float | None = ...,
        jitter: float | None = ...,
    ) -> Coroutine[Any, Any, list[PipelineResult[Task1Output]]]: ...

    @overload
    @classmethod
    def quick(
        cls,
        items: Items[StageInput],
        task_or_tasks: Callable[[StageInput], Task1Output],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = ...,
        task_wait_seconds: float = ...,
        task_timeout: float | None = ...,
        on_failure: OnFailure[Any] | None = ...,
        call_rate: int | None = ...,
        call_rate_period: float = ...,
        call_concurrency: int | None = ...,
        dashboard: str | ProgressDisplay | None = ...,
        refresh_interval: float | None = ...,
        retry_on: RetryOn | None = ...,
        retry_if: RetryPredicate | None = ...,
        backoff: Backoff = ...,
        max_wait_seconds: float | None = ...,
        jitter: float | None = ...,
    ) -> Coroutine[Any, Any, list[PipelineResult[Task1Output]]]: ...

    @overload
    @classmethod
    def quick(
        cls,
        items: Items[StageInput],
        task_or_tasks: tuple[Callable[[StageInput], Awaitable[Task1Output]]],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = ...,
        task_wait_seconds: float = ...,
        task_timeout: float | None = ...,
        on_failure: OnFailure[Any] | None = ...,
        call_rate: int | None = ...,
        call_rate_period: float = ...,
        call_concurrency: int | None = ...,
        dashboard: str | ProgressDisplay | None = ...,
        refresh_interval: float | None = ...,
        retry_on: RetryOn | None = ...,
        retry_if: RetryPredicate | None = ...,
        backoff: Backoff = ...,
        max_wait_seconds: float | None = ...,
        jitter: float | None = ...,
    ) -> Coroutine[Any, Any, list[PipelineResult[Task1Output]]]: ...

    @overload
    @classmethod
    def quick(
        cls,
        items: Items[StageInput],
        task_or_tasks: tuple[Callable[[StageInput], Task1Output]],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = ...,
        task_wait_seconds: float = ...,
        task_timeout: float | None = ...,
        on_failure: OnFailure[Any] | None = ...,
        call_rate: int | None = ...,
        call_rate_period: float = ...,
        call_concurrency: int | None = ...,
        dashboard: str | ProgressDisplay | None = ...,
        refresh_interval: float | None = ...,
        retry_on: RetryOn | None = ...,
        retry_if: RetryPredicate | None = ...,
        backoff: Backoff = ...,
        max_wait_seconds: float | None = ...,
        jitter: float | None = ...,
    ) -> Coroutine[Any, Any, list[PipelineResult[Task1Output]]]: ...

    @overload
    @classmethod
    def quick(
        cls,
        items: Items[StageInput],
        task_or_tasks: tuple[
            Callable[[StageInput], Awaitable[Task1Output]],
            Callable[[Task1Output], Awaitable[Task2Output]],
        ],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = ...,
        task_wait_seconds: float = ...,
        task_timeout: float | None = ...,
        on_failure: OnFailure[Any] | None = ...,
        call_rate: int | None = ...,
        call_rate_period: float = ...,
        call_concurrency: int | None = ...,
        dashboard: str | ProgressDisplay | None = ...,
        refresh_interval: float | None = ...,
        retry_on: RetryOn | None = ...,
        retry_if: RetryPredicate | None = ...,
        backoff: Backoff = ...,
        max_wait_seconds: float | None = ...,
        jitter: float | None = ...,
    ) -> Coroutine[Any, Any, list[PipelineResult[Task2Output]]]: ...

    @overload
    @classmethod
    def quick(
        cls,
        items: Items[StageInput],
        task_or_tasks: tuple[
            Callable[[StageInput], Awaitable[Task1Output]],
            Callable[[Task1Output], Task2Output],
        ],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = ...,
        task_wait_seconds: float = ...,
        task_timeout: float | None = ...,
        on_failure: OnFailure[Any] | None = ...,
        call_rate: int | None = ...,
        call_rate_period: float = ...,
        call_concurrency: int | None = ...,
        dashboard: str | ProgressDisplay | None = ...,
        refresh_interval: float | None = ...,
        retry_on: RetryOn | None = ...,
        retry_if: RetryPredicate | None = ...,
        backoff: Backoff = ...,
        max_wait_seconds: float | None = ...,
        jitter: float | None = ...,
    ) -> Coroutine[Any, Any, list[PipelineResult[Task2Output]]]: ...

    @overload
    @classmethod
    def quick(
        cls,
        items: Items[StageInput],
        task_or_tasks: tuple[
            Callable[[StageInput], Task1Output],
            Callable[[Task1Output], Awaitable[Task2Output]],
        ],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = ...,
        task_wait_seconds: float = ...,
        task_timeout: float | None = ...,
        on_failure: OnFailure[Any] | None = ...,
        call_rate: int | None = ...,
        call_rate_period: float = ...,
        call_concurrency: int | None = ...,
        dashboard: str | ProgressDisplay | None = ...,
        refresh_interval: float | None = ...,
        retry_on: RetryOn | None = ...,
        retry_if: RetryPredicate | None = ...,
        backoff: Backoff = ...,
        max_wait_seconds: float | None = ...,
        jitter: float | None = ...,
    ) -> Coroutine[Any, Any, list[PipelineResult[Task2Output]]]: ...

    @overload
    @classmethod
    def quick(
        cls,
        items: Items[StageInput],
        task_or_tasks: tuple[
            Callable[[StageInput], Task1Output],
            Callable[[Task1Output], Task2Output],
        ],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = ...,
        task_wait_seconds: float = ...,
        task_timeout: float | None = ...,
        on_failure: OnFailure[Any] | None = ...,
        call_rate: int | None = ...,
        call_rate_period: float = ...,
        call_concurrency: int | None = ...,
        dashboard: str | ProgressDisplay | None = ...,
        refresh_interval: float | None = ...,
        retry_on: RetryOn | None = ...,
        retry_if: RetryPredicate | None = ...,
        backoff: Backoff = ...,
        max_wait_seconds: float | None = ...,
        jitter: float | None = ...,
    ) -> Coroutine[Any, Any, list[PipelineResult[Task2Output]]]: ...

    @overload
    @classmethod
    def quick(
        cls,
        items: Items[StageInput],
        task_or_tasks: tuple[
            Callable[[StageInput], object],
            Callable[[Any], object],
            Callable[[Any], Awaitable[Task3Output]],
        ],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = ...,
        task_wait_seconds: float = ...,
        task_timeout: float | None = ...,
        on_failure: OnFailure[Any] | None = ...,
        call_rate: int | None = ...,
        call_rate_period: float = ...,
        call_concurrency: int | None = ...,
        dashboard: str | ProgressDisplay | None = ...,
        refresh_interval: float | None = ...,
        retry_on: RetryOn | None = ...,
        retry_if: RetryPredicate | None = ...,
        backoff: Backoff = ...,
        max_wait_seconds: float | None = ...,
        jitter: float | None = ...,
    ) -> Coroutine[Any, Any, list[PipelineResult[Task3Output]]]: ...

    @overload
    @classmethod
    def quick(
        cls,
        items: Items[StageInput],
        task_or_tasks: tuple[
            Callable[[StageInput], object],
            Callable[[Any], object],
            Callable[[Any], Task3Output],
        ],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = ...,
        task_wait_seconds: float = ...,
        task_timeout: float | None = ...,
        on_failure: OnFailure[Any] | None = ...,
        call_rate: int | None = ...,
        call_rate_period: float = ...,
        call_concurrency: int | None = ...,
        dashboard: str | ProgressDisplay | None = ...,
        refresh_interval: float | None = ...,
        retry_on: RetryOn | None = ...,
        retry_if: RetryPredicate | None = ...,
        backoff: Backoff = ...,
        max_wait_seconds: float | None = ...,
        jitter: float | None = ...,
    ) -> Coroutine[Any, Any, list[PipelineResult[Task3Output]]]: ...

    @overload
    @classmethod
    def quick(
        cls,
        items: Items[StageInput],
        task_or_tasks: tuple[
            Callable[[StageInput], object],
            Callable[[Any], object],
            Callable[[Any], object],
            Callable[[Any], Awaitable[Task4Output]],
        ],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = ...,
        task_wait_seconds: float = ...,
        task_timeout: float | None = ...,
        on_failure: OnFailure[Any] | None = ...,
        call_rate: int | None = ...,
        call_rate_period: float = ...,
        call_concurrency: int | None = ...,
        dashboard: str | ProgressDisplay | None = ...,
        refresh_interval: float | None = ...,
        retry_on: RetryOn | None = ...,
        retry_if: RetryPredicate | None = ...,
        backoff: Backoff = ...,
        max_wait_seconds: float | None = ...,
        jitter: float | None = ...,
    ) -> Coroutine[Any, Any, list[PipelineResult[Task4Output]]]: ...

    @overload
    @classmethod
    def quick(
        cls,
        items: Items[StageInput],
        task_or_tasks: tuple[
            Callable[[StageInput], object],
            Callable[[Any], object],
            Callable[[Any], object],
            Callable[[Any], Task4Output],
        ],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = ...,
        task_wait_seconds: float = ...,
        task_timeout: float | None = ...,
        on_failure: OnFailure[Any] | None = ...,
        call_rate: int | None = ...,
        call_rate_period: float = ...,
        call_concurrency: int | None = ...,
        dashboard: str | ProgressDisplay | None = ...,
        refresh_interval: float | None = ...,
        retry_on: RetryOn | None = ...,
        retry_if: RetryPredicate | None = ...,
        backoff: Backoff = ...,
        max_wait_seconds: float | None = ...,
        jitter: float | None = ...,
    ) -> Coroutine[Any, Any, list[PipelineResult[Task4Output]]]: ...

    @overload
    @classmethod
    def quick(
        cls,
        items: Items[Any],
        task_or_tasks: list[Callable[..., Any]],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = ...,
        task_wait_seconds: float = ...,
        task_timeout: float | None = ...,
        on_failure: OnFailure[Any] | None = ...,
        call_rate: int | None = ...,
        call_rate_period: float = ...,
        call_concurrency: int | None = ...,
        dashboard: str | ProgressDisplay | None = ...,
        refresh_interval: float | None = ...,
        retry_on: RetryOn | None = ...,
        retry_if: RetryPredicate | None = ...,
        backoff: Backoff = ...,
        max_wait_seconds: float | None = ...,
        jitter: float | None = ...,
    ) -> Coroutine[Any, Any, list[PipelineResult[Any]]]: ...

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
