"""Calling a stage's tasks on one item, with task events and per-task retries.

Theory of operation
-------------------
`run_tasks` calls the stage's tasks in order, each on the previous one's output, and
tells an observer that wants task events about each call (``start``, ``complete``).
When a call raises, `retry_task` takes over for that task: the model decides
(`decide_retry`, once per failed call: whether the error is retried, and the wait, from
a random draw the runner makes with ``runner.draw()``) and tenacity executes. Tenacity's
``retry``, ``stop`` and ``wait`` read that decision and it sleeps with ``runner.sleep``;
the first call, which already failed, is replayed into tenacity as its attempt 1, so
that tenacity owns the whole sequence of waits and no retry machinery is built for a
call that succeeds at once. A batch stage's calls go through the same machinery
(`retry_call`, with the ids of every item of the batch for the events).

A task that fails for good (its per-task attempts used, an error that is not
retryable, or any failure with ``per_stage``) raises `TaskFailed`, carrying the decision
on its last call, to the stage's general path, which asks the model what the stage does
next (``handoff``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from returns.result import Failure, Success
from tenacity import AsyncRetrying, RetryCallState

from antflow_core.model import (
    Payload,
    RequeueItem,
    RetryDecision,
    RetryTask,
    TaskEventType,
    call_attempt,
    decide_retry,
)
from antflow_core.runtime.invoke import TaskSpec, invoke, is_own_cancellation, returned_coroutine
from antflow_core.runtime.workers import WorkerRecord

if TYPE_CHECKING:
    from antflow_core.runtime.stage_runner import StageRunner

__all__ = ["TaskFailed", "retry_call", "retry_task", "run_tasks"]


class TaskFailed(Exception):
    """A task of the stage failed for good (after its per-task retries).

    Attributes:
        error: What its last call raised.
        task: The task's name.
        attempts: How many times it was called.
        duration: Seconds its last call took (measured only when task events are observed).
        decision: The model's decision on its last call (`decide_retry`).
    """

    def __init__(
        self,
        error: BaseException,
        task: str,
        attempts: int,
        duration: float,
        decision: RetryDecision,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.task = task
        self.attempts = attempts
        self.duration = duration
        self.decision = decision


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
    return await retry_call(
        runner, record, spec, value, (payload.id,), stage_attempt, first_error, first_duration
    )


async def retry_call(
    runner: StageRunner,
    record: WorkerRecord,
    spec: TaskSpec,
    value: Any,
    ids: Sequence[Any],
    stage_attempt: int,
    first_error: BaseException,
    first_duration: float,
) -> Any:
    """`retry_task` for the items ``ids`` (one item, or a batch) whose call on ``value`` failed.

    Task and status events are emitted for each of ``ids``.

    Returns:
        The output of the call that succeeded.

    Raises:
        TaskFailed: When the task fails for good.
    """
    stage = runner.stage
    draw = runner.draw
    decision = decide_retry(
        stage, task_attempt=1, stage_attempt=stage_attempt, error=first_error, draw=draw()
    )
    if not isinstance(decision.value_or(None), RetryTask):
        # Give up here, or (RequeueItem, per_stage) let the stage re-queue the item.
        raise TaskFailed(first_error, spec.name, 1, first_duration, decision)
    emitter = runner.emitter
    observed_calls = emitter.on_task is not None
    observing = emitter.observer is not None
    attempts = 1
    replayed = False
    last_duration = first_duration
    # The decision on each failed attempt, made once (retry_if is asked once per failure).
    decided: dict[int, RetryDecision] = {1: decision}

    def verdict(state: RetryCallState) -> RetryDecision:
        number = state.attempt_number
        found = decided.get(number)
        if found is None:
            found = decided[number] = decide_retry(
                stage,
                task_attempt=number,
                stage_attempt=stage_attempt,
                error=_outcome_error(state),
                draw=draw(),
            )
        return found

    def retry(state: RetryCallState) -> bool:
        outcome = state.outcome
        return outcome is not None and outcome.failed and isinstance(verdict(state), Success)

    def stop(state: RetryCallState) -> bool:
        return isinstance(verdict(state), Failure)

    def wait(state: RetryCallState) -> float:
        chosen = verdict(state).value_or(None)
        return chosen.wait_seconds if isinstance(chosen, RetryTask | RequeueItem) else 0.0

    async def before_sleep(state: RetryCallState) -> None:
        runner.retried += len(ids)
        if observing:
            await emitter.retrying(
                ids,
                runner.name,
                spec.name,
                record,
                state.attempt_number,
                state.attempt_number + 1,
                _outcome_error(state),
                last_duration,
            )

    async def attempt_call() -> Any:
        nonlocal attempts, replayed, last_duration
        if not replayed:
            # Tenacity's first attempt is the call that already failed.
            replayed = True
            raise first_error
        attempts += 1
        if observed_calls:
            await emitter.task_events(
                ids, runner.name, spec.name, record, TaskEventType.START, attempts
            )
        call_started = time.perf_counter()
        try:
            output = await invoke(spec, value)
        finally:
            last_duration = time.perf_counter() - call_started
        if observed_calls:
            await emitter.task_events(
                ids,
                runner.name,
                spec.name,
                record,
                TaskEventType.COMPLETE,
                attempts,
                duration=last_duration,
            )
        return output

    retrying = AsyncRetrying(
        stop=stop,
        wait=wait,
        retry=retry,
        before_sleep=before_sleep,
        sleep=runner.sleep,
        reraise=True,
    )
    try:
        return await retrying(attempt_call)
    except BaseException as exc:
        if is_own_cancellation(exc):
            raise
        last = decided.get(attempts)
        if last is None:  # a BaseException tenacity does not catch: decide on it now
            last = decide_retry(
                stage, task_attempt=attempts, stage_attempt=stage_attempt, error=exc, draw=0.0
            )
        raise TaskFailed(exc, spec.name, attempts, last_duration, last) from None


def _outcome_error(state: RetryCallState) -> BaseException:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if error is None:  # pragma: no cover - tenacity only consults us after a failure
        raise RuntimeError("tenacity consulted the retry policy without a failed attempt")
    return error
