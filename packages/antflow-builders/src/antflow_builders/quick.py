"""``Pipeline.quick()`` at run time: one validated stage of the given tasks, then ``run()``.

Theory of operation
-------------------
``Pipeline.quick(items, task_or_tasks, ...)`` is a one-stage pipeline. Its typed
signature (an overload per mix of ``async`` and plain tasks) is generated into
``antflow_builders._generated.pipeline_quick``, whose one implementation hands every
argument to `run_quick` here. `run_quick` reads ``task_or_tasks`` (one function, or a
list or tuple of them), turns antflow 0.10's ``retries=`` into ``task_attempts``, builds
the `Stage` at once (so a bad stage raises `StageValidationError` at the call, before
anything is awaited) and returns the coroutine of ``run()`` on a new pipeline of the
calling class.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from antflow_core import PipelineResult, ProgressDisplay, Stage, StageValidationError
from antflow_core.model import Backoff, RetryOn, RetryPredicate, TaskFunc
from antflow_core.runtime import Pipeline as _CorePipeline

from antflow_builders._builder_base import attempts_from_retries
from antflow_builders._types import Items, OnFailure

__all__ = ["QUICK_STAGE_NAME", "run_quick"]

QUICK_STAGE_NAME = "Quick"
"""The name of the one stage of ``Pipeline.quick()`` unless ``name=`` says otherwise."""


def run_quick(
    pipeline_class: type[_CorePipeline[Any, Any]],
    items: Items[Any],
    task_or_tasks: TaskFunc | Sequence[TaskFunc],
    *,
    workers: int,
    retries: int,
    progress: bool | ProgressDisplay,
    name: str,
    task_wait_seconds: float,
    task_timeout: float | None,
    on_failure: OnFailure | None,
    call_rate: int | None,
    call_rate_period: float,
    call_concurrency: int | None,
    dashboard: str | ProgressDisplay | None,
    refresh_interval: float | None,
    retry_on: RetryOn | None,
    retry_if: RetryPredicate | None,
    backoff: Backoff,
    max_wait_seconds: float | None,
    jitter: float | None,
) -> Coroutine[Any, Any, list[PipelineResult[Any]]]:
    """Validate the one stage of ``Pipeline.quick()`` and return the coroutine of its run.

    Takes ``Pipeline.quick()``'s arguments (see it for each one), all given, and the class
    it was called on, whose pipeline runs ``items``.

    Raises:
        StageValidationError: If there is no task, a task is not callable, ``workers`` < 1
            or ``retries`` < 0; the message says what to change.
    """
    stage = Stage(
        name,
        workers=workers,
        tasks=_quick_tasks(task_or_tasks),
        task_attempts=attempts_from_retries(retries, "Pipeline.quick()"),
        task_wait_seconds=task_wait_seconds,
        task_timeout=task_timeout,
        on_failure=on_failure,
        call_rate=call_rate,
        call_rate_period=call_rate_period,
        call_concurrency=call_concurrency,
        retry_on=retry_on,
        retry_if=retry_if,
        backoff=backoff,
        max_wait_seconds=max_wait_seconds,
        jitter=jitter,
    )
    pipeline = pipeline_class(stages=[stage])
    return pipeline.run(
        items, progress=progress, dashboard=dashboard, refresh_interval=refresh_interval
    )


def _quick_tasks(task_or_tasks: object) -> tuple[Callable[..., Any], ...]:
    """The tasks of ``Pipeline.quick()``: one function, or a list or tuple of them."""
    if isinstance(task_or_tasks, Sequence) and not isinstance(task_or_tasks, str | bytes):
        if not task_or_tasks:
            raise StageValidationError(
                f"Pipeline.quick() needs at least one task, got an empty "
                f"{type(task_or_tasks).__name__}: pass a function or a non-empty list, e.g. "
                "Pipeline.quick(items, process) or Pipeline.quick(items, [fetch, process])"
            )
        return tuple(task_or_tasks)
    if callable(task_or_tasks):
        return (task_or_tasks,)
    raise StageValidationError(
        f"Pipeline.quick() takes a function or a list of functions, got {task_or_tasks!r} of "
        f"type {type(task_or_tasks).__name__}: pass the function itself, e.g. "
        "Pipeline.quick(items, process), not Pipeline.quick(items, process())"
    )
