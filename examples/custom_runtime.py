"""A custom runtime composed from ``antflow_core.model`` alone: synchronous, no asyncio.

``SyncRuntime`` runs plain functions one call at a time in the calling thread, which is
handy in a script, a notebook or a test. Every decision comes from the model: the stages
are validated and compiled by ``plan_pipeline``, items are wrapped by
``prepare_payload``, queues are heaps of ``QueueEntry.to_heap_item()`` tuples, failures go
through ``decide_retry``, items move on as ``route`` says, and ``compute_pipeline_stats``
does the arithmetic. The runtime only loops, calls and sleeps.

It supports priorities, ``skip_if`` and both retry strategies (with the stage's retry
policy: ``retry_on``, ``retry_if``, backoff). It has no use for ``workers`` or
``task_concurrency_limits`` (it makes one call at a time), and leaves out
``unpack_args``, the callbacks, ``task_timeout``, fan-out and batches to stay short: it
refuses a stage that fans out or batches.

At the end, ``drive`` holds it to antflow's conformance kit (``antflow_core.testing``):
100 drawn scenarios of random failures under both retry strategies, priorities and
``skip_if``, each compared item by item with what the model says must happen.

    python examples/custom_runtime.py
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from antflow_core.model import (
    DEFAULT_PRIORITY,
    Destination,
    FailedItem,
    HeapItem,
    ItemOutcome,
    Payload,
    PipelineResult,
    PipelineStats,
    QueueEntry,
    RequeueItem,
    RetryStrategy,
    Stage,
    StageCounts,
    StageOutcome,
    compute_pipeline_stats,
    decide_retry,
    failed_outcome,
    order_by_sequence,
    plan_pipeline,
    prepare_payload,
    route,
    succeeded_outcome,
)
from antflow_core.testing import Observed, Supports, Trial, check_runtime
from returns.result import Failure, Success


class SyncRuntime:
    """Runs a pipeline's stages in the calling thread, one task call at a time."""

    def __init__(self, stages: Iterable[Stage], *, sleep: Callable[[float], None] = time.sleep):
        self.plan = plan_pipeline(stages)  # validates the stages, raises StageValidationError
        if any(any(p.task_is_async) for p in self.plan.stages):
            raise TypeError("SyncRuntime runs plain functions only, not async def tasks")
        if any(p.stage.fan_out or p.stage.batch_size is not None for p in self.plan.stages):
            raise ValueError("SyncRuntime does not fan out or batch: use antflow's Pipeline")
        self.queues: list[list[HeapItem]] = [[] for _ in self.plan.stages]
        self.counts = [Counter[str]() for _ in self.plan.stages]
        self.results: list[PipelineResult[Any]] = []
        self.failures: list[FailedItem] = []
        self.fed = 0
        self.sleep = sleep

    def feed(self, items: Iterable[Any], *, priority: int = DEFAULT_PRIORITY) -> None:
        """Queue items at the first stage."""
        for item in items:
            payload = prepare_payload(item, self.fed)
            self.fed += 1
            self._push(0, QueueEntry(priority, payload.sequence_id, payload))

    def run(self) -> list[ItemOutcome]:
        """Process every queued item; return each item's outcome in feeding order."""
        while any(self.queues):
            index = max(i for i, queue in enumerate(self.queues) if queue)  # finish items first
            self._process(index, QueueEntry.from_heap_item(heapq.heappop(self.queues[index])))
        ended: list[PipelineResult[Any] | FailedItem] = [*self.results, *self.failures]
        ended = order_by_sequence(ended)
        return [
            succeeded_outcome(x) if isinstance(x, PipelineResult) else failed_outcome(x)
            for x in ended
        ]

    def stats(self) -> PipelineStats:
        """The model's statistics, from this runtime's counters."""
        counts = [
            StageCounts(pending=len(queue), **counter)
            for queue, counter in zip(self.queues, self.counts, strict=True)
        ]
        return compute_pipeline_stats(
            self.plan.stage_names,
            counts,
            fed=self.fed,
            processed=len(self.results),
            failed=len(self.failures),
        )

    def _push(self, index: int, entry: QueueEntry) -> None:
        heapq.heappush(self.queues[index], entry.to_heap_item())

    def _process(self, index: int, entry: QueueEntry) -> None:
        stage, payload, counts = self.plan.stages[index].stage, entry.payload, self.counts[index]
        if stage.skip_if is not None and stage.skip_if(payload.value):
            counts["skipped"] += 1
            self._move_on(StageOutcome.SKIPPED, index, entry, payload)
            return
        value = payload.value
        for task in stage.tasks:
            attempt = 1
            while True:
                try:
                    value = task(value)
                    break
                except Exception as error:
                    decision = decide_retry(
                        stage, task_attempt=attempt, stage_attempt=entry.attempt, error=error
                    )
                    match decision:  # a Success or a Failure: exhaustive for a type checker
                        case Failure(gave_up):
                            counts["failed"] += 1
                            self.failures.append(
                                FailedItem(
                                    payload.id,
                                    payload.value,
                                    error if gave_up.error is None else gave_up.error,
                                    stage.name,
                                    gave_up.attempts,
                                    payload.sequence_id,
                                )
                            )
                            return
                        case Success(again):  # a RetryTask or a RequeueItem
                            counts["retried"] += 1
                            self.sleep(again.wait_seconds)
                            if isinstance(again, RequeueItem):  # the whole stage, from its queue
                                requeued = QueueEntry(
                                    entry.priority, entry.sequence_id, payload, again.attempt
                                )
                                self._push(index, requeued)
                                return
                            attempt = again.attempt  # RetryTask: call the same task again
        counts["completed"] += 1
        self._move_on(StageOutcome.COMPLETED, index, entry, payload.with_value(value))

    def _move_on(
        self, outcome: StageOutcome, index: int, entry: QueueEntry, payload: Payload[Any]
    ) -> None:
        destination = route(outcome, index, len(self.plan.stages))
        if destination is Destination.NEXT_STAGE:
            self._push(index + 1, QueueEntry(entry.priority, entry.sequence_id, payload))
        elif destination is Destination.RESULT:
            self.results.append(PipelineResult.from_payload(payload))


def make_stages(retry: RetryStrategy) -> list[Stage]:
    """Parse -> Price; pricing fails once for some items, always for one, skips zero quantities."""
    calls: Counter[str] = Counter()

    def parse(line: str) -> tuple[str, int]:
        name, quantity = line.split(":")
        return name, int(quantity)

    def price(order: tuple[str, int]) -> str:
        name, quantity = order
        calls[name] += 1
        if name == "gadget" or (name.startswith("w") and calls[name] == 1):
            raise ConnectionError(f"price service failed for {name}")
        return f"{quantity} x {name} = {quantity * 3} EUR"

    return [
        Stage("Parse", tasks=[parse]),
        Stage(
            "Price",
            tasks=[price],
            retry=retry,
            task_attempts=2,
            stage_attempts=2,
            task_wait_seconds=0.001,
            skip_if=lambda order: order[1] == 0,  # nothing to price: passes unchanged
        ),
    ]


def summary(outcomes: list[ItemOutcome]) -> list[str]:
    """One line per item (exceptions compare by identity, so a failure shows its type)."""
    lines: list[str] = []
    for outcome in outcomes:
        match outcome:
            case Success(result):
                lines.append(f"#{result.id} {result.value}")
            case Failure(failed):
                lines.append(
                    f"#{failed.id} failed at {failed.stage} after {failed.attempts} attempts: "
                    f"{failed.error_type}: {failed.error_message}"
                )
    return lines


async def with_asyncio(stages: list[Stage], lines: list[str]) -> list[ItemOutcome]:
    from antflow import Pipeline  # the asyncio runtime, for comparison

    pipeline = Pipeline(stages=stages)
    await pipeline.run(lines)
    return pipeline.outcomes


SUPPORTS = Supports(
    target_stage=False,
    async_tasks=False,
    unretryable_errors=False,
    rate_limits=False,
    fan_out=False,
    batches=False,
)
"""What SyncRuntime does not do: feed into a later stage, run async tasks, survive a task
raising a BaseException that is not an Exception, keep a stage's call_rate, fan out and
batch. The kit draws no such scenario. (Pull stages and call_concurrency hold by
themselves in a runtime that makes one call at a time.)"""


def drive(trial: Trial) -> Observed:
    """Run one conformance trial on SyncRuntime and report what it did."""
    runtime = SyncRuntime(trial.stages, sleep=lambda seconds: None)
    for feed in trial.feeds:
        runtime.feed(feed.items, priority=feed.priority)
    trial.release()  # every item is fed: a held first stage may start
    outcomes = runtime.run()
    return Observed.read(
        results=[o.unwrap() for o in outcomes if isinstance(o, Success)],
        failures=[o.failure() for o in outcomes if isinstance(o, Failure)],
        stats=runtime.stats,
    )


def main() -> None:
    lines = ["widget:2", "bolt:10", "gadget:1", "nut:0", "washer:5"]
    strategies: tuple[RetryStrategy, ...] = ("per_task", "per_stage")
    for strategy in strategies:
        runtime = SyncRuntime(make_stages(strategy))
        runtime.feed(lines)
        outcomes = summary(runtime.run())
        stats = runtime.stats()
        print(
            f"SyncRuntime, retry={strategy!r}: {stats.items_processed} results, "
            f"{stats.items_failed} failed, {stats.stage_stats['Price'].retried_items} retries"
        )
        for line in outcomes:
            print(f"  {line}")
        same = outcomes == summary(asyncio.run(with_asyncio(make_stages(strategy), lines)))
        print(f"  same outcomes as antflow's asyncio Pipeline: {same}")
    report = check_runtime(drive, supports=SUPPORTS, count=100)  # raises if it does not conform
    print(f"conformance kit: passed {report}")


if __name__ == "__main__":
    main()
