"""What a worker does with an item once a stage is over for it.

Theory of operation
-------------------
A stage ends for an item in one of these ways, and each has one function here:

* `complete`: the tasks succeeded. Count it, call ``on_success``, then `forward` the new
  value with ``completed``.
* `forward`: emit the stage's last status, then hand the item to the next stage's queue
  (waiting for room there, which is how backpressure travels upstream), or, after the
  last stage, out as a result (`Outcomes.finish`, which emits the status once the item
  has ended).
* `skip_stage`: ``skip_if`` was true. Count it, call ``on_skip``, then `forward` the
  item unchanged with ``skipped``.
* `stage_failed`: a task failed for good; the model decides (`stage_failure`, from its
  decision on the task's last call) between `requeue` (``per_stage``, attempts left) and
  `fail_item`.
* `requeue`: wait, then put the item back into this stage's own queue with the next
  stage attempt. It never waits for room there: a full stage whose workers all re-queue
  would otherwise wait on itself forever. A pull stage has no queue to put it back in,
  and handing it over to itself would wait for a free worker while every worker may be
  doing the same: its worker keeps the item and runs the stage again (`requeue` returns
  the attempt to run, and `StageRunner.process` runs it).
* `fail_item`: the item ends as a `FailedItem` (`Outcomes.add_failure`), the observer is
  told at once, then ``on_failure`` is called and the observer's coroutines awaited.

The observer hears that an item ended only once the pipeline has counted it ended, and
before anything is awaited, so a stop at any await never leaves the two disagreeing.

Each function clears the worker's record (``record.payload = None``) only once the item
is safely elsewhere: in a queue, or ended. The fast loops do the common case of
`complete` and `forward` inline and come here for everything else.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from returns.result import Success

from antflow_core.model import (
    FailedItem,
    ItemStatus,
    Payload,
    PipelineResult,
    RequeueItem,
    TaskEventType,
    attempt_metadata,
    error_metadata,
    stage_failure,
)
from antflow_core.runtime.task_calls import TaskFailed
from antflow_core.runtime.workers import WorkerRecord

if TYPE_CHECKING:
    from antflow_core.runtime.stage_runner import StageRunner

__all__ = ["complete", "fail_item", "forward", "requeue", "skip_stage", "stage_failed"]


async def complete(
    runner: StageRunner,
    record: WorkerRecord,
    priority: int,
    seq: int,
    payload: Payload[Any],
    value: Any,
) -> None:
    """The item completed the stage with output ``value``: count, call back, hand on."""
    record.items_processed += 1
    result = payload.with_value(value)
    if runner.on_success is not None:
        await runner.emitter.callback(runner.on_success, result, "on_success", runner.name)
    await forward(runner, record, priority, seq, result, ItemStatus.COMPLETED)


async def skip_stage(
    runner: StageRunner,
    record: WorkerRecord,
    priority: int,
    seq: int,
    payload: Payload[Any],
) -> None:
    """``skip_if`` was true: the item passes the stage unchanged, ``on_skip`` is called."""
    runner.skipped += 1
    record.items_processed += 1
    if runner.on_skip is not None:
        await runner.emitter.callback(runner.on_skip, payload, "on_skip", runner.name)
    await forward(runner, record, priority, seq, payload, ItemStatus.SKIPPED)


async def forward(
    runner: StageRunner,
    record: WorkerRecord,
    priority: int,
    seq: int,
    payload: Payload[Any],
    status: ItemStatus,
) -> None:
    """Tell the observer the stage ended (``status``), and hand the item on.

    To the next stage (``queued`` there, then waiting for room), or, after the last
    stage, out as a result: then ``status`` is told once the item has ended
    (`Outcomes.finish`), so an observer never sees an item end that the pipeline lists
    unfinished.
    """
    following = runner.next
    if following is None:
        result = PipelineResult.from_payload(payload)
        await runner.outcomes.finish(record, result, runner.name, status)
        return
    emitter = runner.emitter
    if emitter.observer is not None:
        pending = emitter.status(payload.id, runner.name, status, record)
        if pending is not None:
            await emitter.settle(pending)
        pending = emitter.status(payload.id, following.name, ItemStatus.QUEUED, None)
        if pending is not None:
            await emitter.settle(pending)
    item = (priority, seq, (payload, 1))
    if not following.queue.try_put(item):
        await following.queue.put(item)
    record.payload = None


async def stage_failed(
    runner: StageRunner,
    record: WorkerRecord,
    priority: int,
    seq: int,
    payload: Payload[Any],
    stage_attempt: int,
    failure: TaskFailed,
) -> int | None:
    """A task failed for good: re-queue the item (``per_stage``) or fail it, as the model says.

    The item fails with the error of the task's last call, or with what the stage's
    ``retry_if`` raised on it (`GiveUp.error`).

    Returns:
        The stage attempt the worker must run now, keeping the item (a pull stage's
        ``per_stage`` retry), or None.
    """
    decision = stage_failure(failure.decision, task_attempts=failure.attempts)
    if isinstance(decision, Success):
        return await requeue(
            runner, record, priority, seq, payload, stage_attempt, failure, decision.unwrap()
        )
    gave_up = decision.failure()
    error = failure.error if gave_up.error is None else gave_up.error
    await fail_item(runner, record, payload, error, gave_up.attempts, failure)
    return None


async def requeue(
    runner: StageRunner,
    record: WorkerRecord,
    priority: int,
    seq: int,
    payload: Payload[Any],
    stage_attempt: int,
    failure: TaskFailed,
    decision: RequeueItem,
) -> int | None:
    """``per_stage`` retry: wait, then put the item back at the start of its stage.

    Returns:
        None once the item is back in the queue; in a pull stage, the attempt the worker
        runs now with the item it keeps.
    """
    runner.retried += 1
    emitter = runner.emitter
    await emitter.retrying(
        (payload.id,),
        runner.name,
        failure.task,
        record,
        stage_attempt,
        decision.attempt,
        failure.error,
        failure.duration,
    )
    if decision.wait_seconds > 0:
        await runner.sleep(decision.wait_seconds)
    if emitter.observer is not None:
        pending = emitter.status(
            payload.id, runner.name, ItemStatus.QUEUED, None, attempt_metadata(decision.attempt)
        )
        if pending is not None:
            await emitter.settle(pending)
    if runner.pull:  # no queue to go back to: this worker runs the stage again
        return decision.attempt
    # Into its own stage's queue: never wait for room there (see the module's docstring).
    runner.queue.force_put((priority, seq, (payload, decision.attempt)))
    record.payload = None
    return None


async def fail_item(
    runner: StageRunner,
    record: WorkerRecord,
    payload: Payload[Any],
    error: BaseException,
    attempts: int,
    failure: TaskFailed | None,
) -> None:
    """The item ends here as a `FailedItem` (``failure`` is None when ``skip_if`` raised)."""
    failed = FailedItem(
        payload.id, payload.value, error, runner.name, attempts, payload.sequence_id
    )
    await runner.outcomes.add_failure(failed)
    runner.failed += 1
    record.items_failed += 1
    record.payload = None
    # The observer hears of the failure now, before anything is awaited: a stop while
    # the callbacks below run cannot leave a failure it does not know of.
    emitter = runner.emitter
    told: list[Awaitable[None]] = []
    if failure is not None and emitter.on_task is not None:
        pending = emitter.task_event(
            payload.id,
            runner.name,
            failure.task,
            record,
            TaskEventType.FAIL,
            attempts,
            error=error,
            duration=failure.duration,
        )
        if pending is not None:
            told.append(pending)
    if emitter.observer is not None:
        pending = emitter.status(
            payload.id, runner.name, ItemStatus.FAILED, record, error_metadata(error, attempts)
        )
        if pending is not None:
            told.append(pending)
        pending = emitter.item_finished(payload.id, failed)
        if pending is not None:
            told.append(pending)
    if runner.on_failure is not None:
        await emitter.callback(runner.on_failure, failed, "on_failure", runner.name)
    for pending in told:
        await emitter.settle(pending)
    runner.run_state.end_item()
