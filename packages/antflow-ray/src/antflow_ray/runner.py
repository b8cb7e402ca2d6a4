"""`StageRunner`: one stage on the driver: its queue, its workers, and what they decide.

Theory of operation
-------------------
Each stage keeps, on the driver, a bounded priority queue of ``(priority, sequence_id,
(payload, attempt))`` entries and ``workers`` worker coroutines. A worker takes the
smallest entry and walks the item through the stage's tasks, each task one call on its
actor (`antflow_ray.actor`, called through `antflow_ray.calls`). The driver awaits only
each call's small report; the output stays in Ray's object store and the next call (or
the next stage) receives its reference (`Stored`), so values flow from actor to actor.

Every decision is the model's, taken here on the driver: `decide_retry` after a failed
call (call the task again or not, and how long to wait: the stage's retry policy, with a
random draw for its jitter), `stage_failure` once a task failed for good
(re-queue at the start of the stage, or give up), `skip_check_failed` when ``skip_if``
raised, `call_attempt` and the metadata functions for what events report, and the
stage's counters feed `stage_counts`. A plan's ``next_index`` says where an item goes.
A Ray failure counts as a failed call like any exception a task raises: an actor that
died is replaced and the call is retried as the stage's retry policy says, so an item in
flight on a killed actor is retried or fails, and is never lost.

Backpressure: a worker hands an item to the next stage's queue, waiting while it is
full, so a stage holds at most ``capacity`` queued items plus ``workers`` items in its
workers' hands: that bounds the objects alive per stage. ``feed()`` waits the same way
on the first stage.

Ownership (as in the asyncio runtime): an item is in exactly one place, a queue or a
worker's record (``WorkerRecord.payload``), which a worker clears only once the item is
safely elsewhere, so ``shutdown()`` finds every unfinished item.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from antflow_core.model import (
    CallbackForm,
    FailedItem,
    ItemStatus,
    Payload,
    PipelineResult,
    RequeueItem,
    RetryTask,
    StageCounts,
    StagePlan,
    TaskEventType,
    attempt_metadata,
    call_attempt,
    call_with_failure,
    call_with_payload,
    decide_retry,
    error_metadata,
    retry_metadata,
    skip_check_failed,
    stage_counts,
    stage_failure,
)
from antflow_core.runtime import QueueClosed, StageQueue
from antflow_core.runtime.invoke import is_own_cancellation
from antflow_core.runtime.task_calls import TaskFailed
from antflow_core.runtime.workers import WorkerRecord
from returns.result import Failure

from antflow_ray.calls import CannotSend, StageCalls
from antflow_ray.connection import (
    resolve,
)
from antflow_ray.emission import Emitter
from antflow_ray.options import RayStageOptions
from antflow_ray.outcomes import Outcomes
from antflow_ray.pool import ActorPool

__all__ = ["QueueEntry", "StageRunner"]

logger = logging.getLogger("antflow")

QueueEntry = tuple[int, int, tuple[Payload[Any], int]]


def _with_payload(
    callback: Callable[..., Any] | None, form: CallbackForm | None
) -> Callable[[Payload[Any]], Any] | None:
    if callback is None or form is None:
        return None
    return call_with_payload(callback, form)


class StageRunner:
    """The driver's side of one stage.

    Args:
        plan: The stage, compiled by the model.
        options: Its Ray options.
        outcomes: Where items end.
        emitter: Events and callbacks.
        crashed: Called when a worker dies of an error that is no item's fault.
    """

    def __init__(
        self,
        plan: StagePlan,
        options: RayStageOptions,
        outcomes: Outcomes,
        emitter: Emitter,
        crashed: Callable[[BaseException], None],
    ) -> None:
        stage = plan.stage
        self.plan = plan
        self.stage = stage
        self.name = stage.name
        self.queue: StageQueue[QueueEntry] = StageQueue(maxsize=plan.capacity)
        self.next: StageRunner | None = None
        self.pool = ActorPool(plan, options)
        self.outcomes = outcomes
        self.emitter = emitter
        self._crashed = crashed
        self.per_task = stage.retry == "per_task"
        self.records = tuple(
            WorkerRecord(name, stage.name, worker_id)
            for worker_id, name in enumerate(plan.worker_names)
        )
        # One semaphore per limited task name, shared by the stage's workers (on every actor).
        semaphores = {
            name: asyncio.Semaphore(limit)
            for name, limit in zip(plan.task_names, plan.task_limits, strict=True)
            if limit is not None
        }
        self.calls = StageCalls(plan, self.pool, emitter, semaphores)
        # Each callback as a function of one argument, in the form the stage decided.
        self.on_success = _with_payload(stage.on_success, stage.on_success_form)
        self.on_skip = _with_payload(stage.on_skip, stage.on_skip_form)
        self.on_failure = (
            None
            if stage.on_failure is None or stage.on_failure_form is None
            else call_with_failure(stage.on_failure, stage.on_failure_form)
        )
        self.failed = 0
        self.skipped = 0
        self.retried = 0
        self._workers: list[asyncio.Task[None]] = []

    def counts(self) -> StageCounts:
        """The stage's counters now."""
        return stage_counts(
            pending=self.queue.qsize(),
            held=sum(1 for r in self.records if r.payload is not None),
            handled=sum(r.items_processed for r in self.records),
            failed=self.failed,
            skipped=self.skipped,
            retried=self.retried,
        )

    # ------------------------------------------------------------------ lifecycle

    def start_workers(self) -> None:
        """Start one worker coroutine per worker of the stage."""
        loop = asyncio.get_running_loop()
        self._workers = [
            loop.create_task(self._worker(record), name=f"antflow:{record.name}")
            for record in self.records
        ]

    async def stop_workers(self) -> None:
        """Cancel the workers and wait for them to end."""
        workers, self._workers = self._workers, []
        for task in workers:
            task.cancel()
        if workers:
            await asyncio.gather(*workers, return_exceptions=True)

    def take_unfinished(self) -> list[Payload[Any]]:
        """Remove and return the items still queued or held by a worker."""
        left = [payload for _, _, (payload, _) in self.queue.drain()]
        for record in self.records:
            if record.payload is not None:
                left.append(record.payload)
                record.payload = None
            record.current_task = None
        return left

    # ------------------------------------------------------------------ the worker

    async def _worker(self, record: WorkerRecord) -> None:
        """Take an entry, run the stage on it, hand it on; until cancelled or closed."""
        get = self.queue.get
        try:
            while True:
                priority, seq, (payload, attempt) = await get()
                started = time.monotonic()
                record.payload = payload
                record.busy_since = started
                await self._process(record, priority, seq, payload, attempt)
                record.last_active = ended = time.monotonic()
                record.total_time += ended - started
        except QueueClosed:
            return
        except BaseException as exc:
            if is_own_cancellation(exc):
                raise
            logger.critical("antflow: worker %s crashed", record.name, exc_info=exc)
            self._crashed(exc)

    async def _process(
        self,
        record: WorkerRecord,
        priority: int,
        seq: int,
        payload: Payload[Any],
        attempt: int,
    ) -> None:
        """One item at this stage: skip check, tasks with retries, hand-off or failure.

        ``skip_if`` is asked first: a skipped item goes from ``queued`` to ``skipped``
        without being ``in_progress`` (and a ``skip_if`` that raises fails it there).
        """
        emitter = self.emitter
        if self.stage.skip_if is not None:
            try:
                skip = await self.calls.skip(record.worker_id, payload)
            except CannotSend as cannot:
                await self._fail_item(record, payload, cannot.error, 0, None)
                return
            except Exception as error:
                gave_up = skip_check_failed(error, stage_attempt=attempt)
                await self._fail_item(record, payload, error, gave_up.attempts, None)
                return
            if skip:
                await self._skipped(record, priority, seq, payload)
                return
        await emitter.status(
            payload.id,
            self.name,
            ItemStatus.IN_PROGRESS,
            record,
            attempt_metadata(attempt),
        )
        value = payload.value
        try:
            for index in range(len(self.plan.task_names)):
                value = await self._run_task(record, payload, attempt, index, value)
        except CannotSend as cannot:
            await self._fail_item(record, payload, cannot.error, 0, None)
            return
        except TaskFailed as failure:
            await self._stage_failed(record, priority, seq, payload, attempt, failure)
            return
        await self._complete(record, priority, seq, payload, value)

    async def _skipped(
        self, record: WorkerRecord, priority: int, seq: int, payload: Payload[Any]
    ) -> None:
        """``skip_if`` was true: the item passes the stage unchanged, ``on_skip`` is called."""
        self.skipped += 1
        record.items_processed += 1
        if self.on_skip is not None:
            await self._call_back(self.on_skip, payload, "on_skip")
        await self.emitter.status(payload.id, self.name, ItemStatus.SKIPPED, record)
        await self._forward(record, priority, seq, payload)

    async def _call_back(
        self, callback: Callable[[Payload[Any]], Any], payload: Payload[Any], what: str
    ) -> None:
        """Call ``on_success`` or ``on_skip`` on the driver with the item's value fetched."""
        try:
            fetched = await resolve(payload.value)
        except Exception:
            logger.exception(
                "antflow: the value of item %r at stage %r could not be fetched for %s; "
                "callback skipped",
                payload.id,
                self.name,
                what,
            )
            return
        await self.emitter.callback(callback, payload.with_value(fetched), what, self.name)

    async def _run_task(
        self,
        record: WorkerRecord,
        payload: Payload[Any],
        stage_attempt: int,
        index: int,
        value: Any,
    ) -> Any:
        """Run task ``index`` on ``value`` with its per-task retries; return its output.

        Raises:
            TaskFailed: When the task fails for good (``per_stage``: at its first failure).
            CannotSend: If the item cannot be serialised.
        """
        name = self.plan.task_names[index]
        emitter = self.emitter
        record.current_task = name
        task_attempt = 1
        while True:
            # A task event's attempt: the call's number (per_task) or the stage attempt.
            shown = call_attempt(self.stage, task_attempt=task_attempt, stage_attempt=stage_attempt)
            error, duration, output = await self.calls.call(record, payload, index, value, shown)
            if error is None:
                await emitter.task(
                    payload.id,
                    self.name,
                    name,
                    record,
                    TaskEventType.COMPLETE,
                    shown,
                    duration=duration,
                )
                return output
            decision = decide_retry(
                self.stage,
                task_attempt=task_attempt,
                stage_attempt=stage_attempt,
                error=error,
                draw=random.random(),  # the jitter of the wait, if the stage has one
            )
            retry = decision.value_or(None)
            if not isinstance(retry, RetryTask):
                # Give up here, or (RequeueItem, per_stage) let the stage re-queue the item.
                raise TaskFailed(error, name, task_attempt, duration, decision)
            self.retried += 1
            await emitter.task(
                payload.id,
                self.name,
                name,
                record,
                TaskEventType.RETRY,
                task_attempt,
                error=error,
                duration=duration,
            )
            await emitter.status(
                payload.id,
                self.name,
                ItemStatus.RETRYING,
                record,
                retry_metadata(error, retry.attempt, name),
            )
            if retry.wait_seconds > 0:
                await asyncio.sleep(retry.wait_seconds)
            task_attempt = retry.attempt

    # ------------------------------------------------------------------ after the tasks

    async def _complete(
        self, record: WorkerRecord, priority: int, seq: int, payload: Payload[Any], value: Any
    ) -> None:
        """The item completed the stage with output ``value``: count, call back, hand on."""
        record.items_processed += 1
        result = payload.with_value(value)
        if self.on_success is not None:
            await self._call_back(self.on_success, result, "on_success")
        await self.emitter.status(payload.id, self.name, ItemStatus.COMPLETED, record)
        await self._forward(record, priority, seq, result)

    async def _forward(
        self, record: WorkerRecord, priority: int, seq: int, payload: Payload[Any]
    ) -> None:
        """Hand the item to the next stage (waiting for room), or finish it."""
        following = self.next
        if following is None:
            await self._finish(record, payload)
            return
        await self.emitter.status(payload.id, following.name, ItemStatus.QUEUED, None)
        await following.queue.put((priority, seq, (payload, 1)))
        record.payload = None

    async def _finish(self, record: WorkerRecord, payload: Payload[Any]) -> None:
        """The item left the last stage: fetch its value, and it ends as a result."""
        outcomes = self.outcomes
        if not outcomes.wants_results and self.emitter.observer is None:
            # Nobody will see the result: count it without fetching its value.
            outcomes.processed += 1
            record.payload = None
            outcomes.ended()
            return
        try:
            value = await resolve(payload.value)
        except Exception as error:
            await self._fail_item(record, payload, error, 1, None)
            return
        result = PipelineResult.of(payload, value)
        await self.outcomes.succeed(result)
        record.payload = None
        await self.emitter.finished(result.id, result)
        self.outcomes.ended()

    async def _stage_failed(
        self,
        record: WorkerRecord,
        priority: int,
        seq: int,
        payload: Payload[Any],
        stage_attempt: int,
        failure: TaskFailed,
    ) -> None:
        """A task failed for good: re-queue the item (``per_stage``) or fail it.

        It fails with its last call's error, or with what the stage's ``retry_if`` raised.
        """
        decision = stage_failure(failure.decision, task_attempts=failure.attempts)
        if isinstance(decision, Failure):
            gave_up = decision.failure()
            error = failure.error if gave_up.error is None else gave_up.error
            await self._fail_item(record, payload, error, gave_up.attempts, failure)
            return
        requeue = decision.unwrap()
        await self._requeue(record, priority, seq, payload, stage_attempt, failure, requeue)

    async def _requeue(
        self,
        record: WorkerRecord,
        priority: int,
        seq: int,
        payload: Payload[Any],
        stage_attempt: int,
        failure: TaskFailed,
        requeue: RequeueItem,
    ) -> None:
        """``per_stage`` retry: wait, then put the item back at the start of its stage."""
        self.retried += 1
        emitter = self.emitter
        await emitter.task(
            payload.id,
            self.name,
            failure.task,
            record,
            TaskEventType.RETRY,
            stage_attempt,
            error=failure.error,
            duration=failure.duration,
        )
        await emitter.status(
            payload.id,
            self.name,
            ItemStatus.RETRYING,
            record,
            retry_metadata(failure.error, requeue.attempt, failure.task),
        )
        if requeue.wait_seconds > 0:
            await asyncio.sleep(requeue.wait_seconds)
        await emitter.status(
            payload.id, self.name, ItemStatus.QUEUED, None, attempt_metadata(requeue.attempt)
        )
        # Into its own queue without waiting for room: a full stage must not wait on itself.
        self.queue.force_put((priority, seq, (payload, requeue.attempt)))
        record.payload = None

    async def _fail_item(
        self,
        record: WorkerRecord,
        payload: Payload[Any],
        error: BaseException,
        attempts: int,
        failure: TaskFailed | None,
    ) -> None:
        """The item ends here as a `FailedItem` carrying the value the stage received."""
        try:
            value = await resolve(payload.value)
        except Exception:  # lost with its node: keep the reference
            value = payload.value
        failed = FailedItem(
            payload.id, value, error, self.name, attempts, payload.sequence_id, payload.metadata
        )
        await self.outcomes.fail(failed)
        self.failed += 1
        record.items_failed += 1
        record.payload = None
        emitter = self.emitter
        if self.on_failure is not None:
            await emitter.callback(self.on_failure, failed, "on_failure", self.name)
        if failure is not None:
            await emitter.task(
                payload.id,
                self.name,
                failure.task,
                record,
                TaskEventType.FAIL,
                attempts,
                error=error,
                duration=failure.duration,
            )
        await emitter.status(
            payload.id, self.name, ItemStatus.FAILED, record, error_metadata(error, attempts)
        )
        await emitter.finished(payload.id, failed)
        self.outcomes.ended()
