"""Calling a stage's tasks on one item, with task events and per-task retries.

Theory of operation
-------------------
`run_tasks` calls the stage's tasks in order, each on the previous one's output, and
tells an observer that wants task events about each call (``start``, ``complete``).
When a call raises, `retry_task` takes over for that task: the model decides
(`decide_retry`) and tenacity executes. Tenacity's ``stop`` and ``wait`` ask the model;
the first call, which already failed, is replayed into tenacity as its attempt 1, so
that tenacity owns the whole sequence of waits and no retry machinery is built for a
call that succeeds at once.

A task that fails for good (its per-task attempts used, an error that is not
retryable, or any failure with ``per_stage``) raises `TaskFailed` to the stage's
general path, which asks the model what the stage does next (``handoff``).
"""

from __future__ import annotations

import time
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from returns.result import Failure
from tenacity import AsyncRetrying, RetryCallState

from antflow_core.model import (
    ItemStatus,
    Payload,
    RequeueItem,
    RetryTask,
    TaskEventType,
    call_attempt,
    decide_retry,
    is_retryable,
    retry_metadata,
)
from antflow_core.runtime.invoke import TaskSpec, invoke, is_own_cancellation, returned_coroutine
from antflow_core.runtime.workers import WorkerRecord

if TYPE_CHECKING:
    from antflow_core.runtime.stage_runner import StageRunner

__all__ = ["TaskFailed", "retry_task", "run_tasks"]


class TaskFailed(Exception):
    """A task of the stage failed for good (after its per-task retries).

    Attributes:
        error: What its last call raised.
        task: The task's name.
        attempts: How many times it was called.
        duration: Seconds its last call took (measured only when task events are observed).
    """

    def __init__(self, error: BaseException, task: str, attempts: int, duration: float) -> None:
        super().__init__(error)
        self.error = error
        self.task = task
        self.attempts = attempts
        self.duration = duration


async def run_tasks(
    runner: StageRunner,
    record: WorkerRecord,
    payload: Payload[Any],
    attempt: int,
    start: int,
    value: Any,
) -> Any:
    """Run the stage's tasks from index ``start`` on ``value``; return the last output.

    Raises:
        TaskFailed: When a task fails for good (after its per-task retries).
    """
    specs = runner.specs
    emitter = runner.emitter
    observed = emitter.on_task is not None
    started = 0.0
    # The attempt a first call's events carry (the model's call_attempt): 1 per_task,
    # the stage attempt per_stage, as its retry and fail events.
    first = call_attempt(runner.stage, task_attempt=1, stage_attempt=attempt) if observed else 0
    for index in range(start, len(specs)):
        spec = specs[index]
        record.current_task = spec.name
        if observed:
            pending = emitter.task_event(
                payload.id, runner.name, spec.name, record, TaskEventType.START, first
            )
            if pending is not None:
                await emitter.settle(pending)
            started = time.perf_counter()
        try:
            value = await (spec.fn(value) if spec.simple else invoke(spec, value))
            if type(value) is CoroutineType:
                returned_coroutine(spec, value)
        except BaseException as exc:
            if is_own_cancellation(exc):
                raise
            took = time.perf_counter() - started if observed else 0.0
            value = await retry_task(runner, record, spec, value, payload, attempt, exc, took)
            continue
        if observed:
            pending = emitter.task_event(
                payload.id,
                runner.name,
                spec.name,
                record,
                TaskEventType.COMPLETE,
                first,
                duration=time.perf_counter() - started,
            )
            if pending is not None:
                await emitter.settle(pending)
    return value


async def retry_task(
    runner: StageRunner,
    record: WorkerRecord,
    spec: TaskSpec,
    value: Any,
    payload: Payload[Any],
    stage_attempt: int,
    first_error: BaseException,
    first_duration: float,
) -> Any:
    """Handle a failed first call: per-task retries through tenacity, or give up.

    Returns:
        The output of the call that succeeded.

    Raises:
        TaskFailed: When the task fails for good.
    """
    stage = runner.stage
    decision = decide_retry(stage, task_attempt=1, stage_attempt=stage_attempt, error=first_error)
    if not isinstance(decision.value_or(None), RetryTask):
        # Give up here, or (RequeueItem, per_stage) let the stage re-queue the item.
        raise TaskFailed(first_error, spec.name, 1, first_duration)
    emitter = runner.emitter
    observed_calls = emitter.on_task is not None
    observing = emitter.observer is not None
    attempts = 1
    replayed = False
    last_duration = first_duration

    def verdict(state: RetryCallState) -> Any:
        return decide_retry(
            stage,
            task_attempt=state.attempt_number,
            stage_attempt=stage_attempt,
            error=_outcome_error(state),
        )

    def stop(state: RetryCallState) -> bool:
        return isinstance(verdict(state), Failure)

    def wait(state: RetryCallState) -> float:
        chosen = verdict(state).value_or(None)
        return chosen.wait_seconds if isinstance(chosen, RetryTask | RequeueItem) else 0.0

    async def before_sleep(state: RetryCallState) -> None:
        runner.retried += 1
        error = _outcome_error(state)
        if observed_calls:
            pending = emitter.task_event(
                payload.id,
                runner.name,
                spec.name,
                record,
                TaskEventType.RETRY,
                state.attempt_number,
                error=error,
                duration=last_duration,
            )
            if pending is not None:
                await emitter.settle(pending)
        if observing:
            pending = emitter.status(
                payload.id,
                runner.name,
                ItemStatus.RETRYING,
                record,
                retry_metadata(error, state.attempt_number + 1, spec.name),
            )
            if pending is not None:
                await emitter.settle(pending)

    async def attempt_call() -> Any:
        nonlocal attempts, replayed, last_duration
        if not replayed:
            # Tenacity's first attempt is the call that already failed.
            replayed = True
            raise first_error
        attempts += 1
        if observed_calls:
            pending = emitter.task_event(
                payload.id, runner.name, spec.name, record, TaskEventType.START, attempts
            )
            if pending is not None:
                await emitter.settle(pending)
        call_started = time.perf_counter()
        try:
            output = await invoke(spec, value)
        finally:
            last_duration = time.perf_counter() - call_started
        if observed_calls:
            pending = emitter.task_event(
                payload.id,
                runner.name,
                spec.name,
                record,
                TaskEventType.COMPLETE,
                attempts,
                duration=last_duration,
            )
            if pending is not None:
                await emitter.settle(pending)
        return output

    retrying = AsyncRetrying(
        stop=stop,
        wait=wait,
        retry=_retry_if_retryable,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return await retrying(attempt_call)
    except BaseException as exc:
        if is_own_cancellation(exc):
            raise
        raise TaskFailed(exc, spec.name, attempts, last_duration) from None


def _outcome_error(state: RetryCallState) -> BaseException:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if error is None:  # pragma: no cover - tenacity only consults us after a failure
        raise RuntimeError("tenacity consulted the retry policy without a failed attempt")
    return error


def _retry_if_retryable(state: RetryCallState) -> bool:
    outcome = state.outcome
    return outcome is not None and outcome.failed and is_retryable(_outcome_error(state))
