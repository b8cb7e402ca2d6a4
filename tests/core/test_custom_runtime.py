"""A second, deterministic runtime composed from `antflow_core.model` alone (design rule 4).

`StepRuntime` below uses no asyncio, no threads and no clock: stage queues are heaps,
a "worker turn" is one function call, and every decision (payload preparation, queue
order, retry, routing, stats) comes from the model. The tests show it agrees with the
asyncio `Pipeline` on the same input, so the model's documented contracts are enough to
build a runtime on.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from antflow_core import Pipeline
from antflow_core.model import (
    DEFAULT_PRIORITY,
    Destination,
    FailedItem,
    HeapItem,
    ItemOutcome,
    ItemStatus,
    Payload,
    PipelineResult,
    PipelineStats,
    QueueEntry,
    RequeueItem,
    RetryTask,
    Stage,
    StageCounts,
    StageOutcome,
    StatusEvent,
    compute_pipeline_stats,
    decide_retry,
    failed_outcome,
    is_async_callable,
    order_by_sequence,
    plan_pipeline,
    prepare_payload,
    resolve_stage,
    route,
    succeeded_outcome,
)
from returns.result import Failure, Success


class _GaveUp(Exception):
    def __init__(self, error: BaseException, attempts: int) -> None:
        super().__init__(error)
        self.error = error
        self.attempts = attempts


def _call(task: Callable[[Any], Any], value: Any) -> Any:
    """Call a task without an event loop.

    An async task is driven by hand: bare yields (``await asyncio.sleep(0)``) are stepped
    over; awaiting real I/O (a future) is refused.
    """
    if not is_async_callable(task):
        return task(value)
    coroutine = task(value)
    try:
        while True:
            if coroutine.send(None) is not None:
                coroutine.close()
                raise RuntimeError("StepRuntime runs only tasks that await no I/O")
    except StopIteration as done:
        return done.value


class StepRuntime:
    """Runs stages step by step; `events` records what an observer would receive."""

    def __init__(self, stages: Iterable[Stage]) -> None:
        self.plan = plan_pipeline(stages)
        self.heaps: list[list[HeapItem]] = [[] for _ in self.plan.stages]
        self.sequence = 0
        self.results: list[PipelineResult[Any]] = []
        self.failures: list[FailedItem] = []
        self.outcomes: list[ItemOutcome] = []
        self.counts = [Counter[str]() for _ in self.plan.stages]
        self.events: list[StatusEvent] = []
        self.waits: list[float] = []
        self.clock = 0.0

    def _emit(self, payload: Payload[Any], index: int, status: ItemStatus) -> None:
        self.clock += 1.0  # a logical clock: time is passed in, never read
        name = self.plan.stages[index].name
        self.events.append(StatusEvent(payload.id, name, status, None, None, self.clock))

    def feed(
        self,
        items: Iterable[Any],
        *,
        priority: int = DEFAULT_PRIORITY,
        target_stage: str | None = None,
    ) -> None:
        index = 0
        if target_stage is not None:
            index = resolve_stage(self.plan, target_stage).unwrap()
        for item in items:
            payload = prepare_payload(item, self.sequence)
            self.sequence += 1
            self._push(index, QueueEntry(priority, payload.sequence_id, payload))

    def _push(self, index: int, entry: QueueEntry) -> None:
        self._emit(entry.payload, index, ItemStatus.QUEUED)
        heapq.heappush(self.heaps[index], entry.to_heap_item())

    def run(self) -> None:
        """Process until every queue is empty: later stages first, one entry per turn."""
        while any(self.heaps):
            index = max(i for i, heap in enumerate(self.heaps) if heap)
            self._turn(index, QueueEntry.from_heap_item(heapq.heappop(self.heaps[index])))

    def _turn(self, index: int, entry: QueueEntry) -> None:
        plan = self.plan.stages[index]
        stage = plan.stage
        payload = entry.payload
        if stage.skip_if is not None and stage.skip_if(payload.value):
            # A skipped item is never in_progress at the stage it skips: queued -> skipped.
            self.counts[index]["skipped"] += 1
            self._emit(payload, index, ItemStatus.SKIPPED)
            self._route(StageOutcome.SKIPPED, index, entry, payload)
            return
        self._emit(payload, index, ItemStatus.IN_PROGRESS)
        value = payload.value
        try:
            for task in stage.tasks:
                value = self._call_with_retries(stage, task, value, entry.attempt)
        except _GaveUp as gave_up:
            decision = decide_retry(
                stage, task_attempt=1, stage_attempt=entry.attempt, error=gave_up.error
            )
            if stage.retry == "per_stage" and isinstance(decision, Success):
                requeue = decision.unwrap()
                assert isinstance(requeue, RequeueItem)
                self.counts[index]["retried"] += 1
                self.waits.append(requeue.wait_seconds)
                self._emit(payload, index, ItemStatus.RETRYING)
                self._push(
                    index, QueueEntry(entry.priority, entry.sequence_id, payload, requeue.attempt)
                )
                return
            attempts = gave_up.attempts
            if isinstance(decision, Failure) and stage.retry == "per_stage":
                attempts = decision.failure().attempts
            self._fail(index, payload, gave_up.error, attempts)
            return
        self.counts[index]["completed"] += 1
        self._emit(payload, index, ItemStatus.COMPLETED)
        self._route(StageOutcome.COMPLETED, index, entry, payload.with_value(value))

    def _call_with_retries(
        self, stage: Stage, task: Callable[[Any], Any], value: Any, stage_attempt: int
    ) -> Any:
        attempt = 1
        while True:
            try:
                return _call(task, value)
            except Exception as error:
                if stage.retry == "per_stage":
                    raise _GaveUp(error, 1) from error
                decision = decide_retry(
                    stage, task_attempt=attempt, stage_attempt=stage_attempt, error=error
                )
                if isinstance(decision, Failure):
                    raise _GaveUp(error, decision.failure().attempts) from error
                retry = decision.unwrap()
                assert isinstance(retry, RetryTask)
                self.waits.append(retry.wait_seconds)
                self.counts[self.plan.stage_names.index(stage.name)]["retried"] += 1
                attempt = retry.attempt

    def _route(
        self, outcome: StageOutcome, index: int, entry: QueueEntry, payload: Payload[Any]
    ) -> None:
        destination = route(outcome, index, len(self.plan.stages))
        if destination is Destination.NEXT_STAGE:
            self._push(index + 1, QueueEntry(entry.priority, entry.sequence_id, payload))
        else:
            assert destination is Destination.RESULT
            result = PipelineResult.from_payload(payload)
            self.results.append(result)
            self.outcomes.append(succeeded_outcome(result))

    def _fail(self, index: int, payload: Payload[Any], error: BaseException, attempts: int) -> None:
        assert route(StageOutcome.FAILED, index, len(self.plan.stages)) is Destination.FAILURE
        self.counts[index]["failed"] += 1
        self._emit(payload, index, ItemStatus.FAILED)
        failed = FailedItem(
            payload.id,
            payload.value,
            error,
            self.plan.stages[index].name,
            attempts,
            payload.sequence_id,
        )
        self.failures.append(failed)
        self.outcomes.append(failed_outcome(failed))

    def stats(self) -> PipelineStats:
        return compute_pipeline_stats(
            self.plan.stage_names,
            [
                StageCounts(
                    pending=len(heap),
                    completed=c["completed"],
                    failed=c["failed"],
                    skipped=c["skipped"],
                    retried=c["retried"],
                )
                for heap, c in zip(self.heaps, self.counts, strict=True)
            ],
            fed=self.sequence,
            processed=len(self.results),
            failed=len(self.failures),
        )


def make_stages(flaky: dict[Any, int], strategy: Any) -> list[Stage]:
    """Three stages; the middle one fails its first ``flaky[v]`` calls on value ``v``.

    Parse adds 1, so item ``i`` reaches Enrich as ``i + 1``; Parse skips the value 4.
    """
    calls: Counter[Any] = Counter()

    def parse(x: int) -> int:
        return x + 1

    async def enrich(x: int) -> int:
        calls[x] += 1
        if calls[x] <= flaky.get(x, 0):
            raise ConnectionError(f"flaky {x}")
        return x * 10

    def label(x: int) -> str:
        return f"item-{x}"

    return [
        Stage("Parse", workers=2, tasks=[parse], skip_if=lambda x: x == 4),
        Stage(
            "Enrich",
            workers=3,
            tasks=[enrich],
            retry=strategy,
            task_attempts=3,
            stage_attempts=2,
            task_wait_seconds=0,
        ),
        Stage("Label", workers=1, tasks=[label]),
    ]


def _summary(results: list[PipelineResult[Any]], failures: list[FailedItem]) -> Any:
    return (
        [(r.id, r.value) for r in order_by_sequence(results)],
        [(f.id, f.stage, f.attempts, type(f.error)) for f in order_by_sequence(failures)],
    )


def test_the_step_runtime_runs_a_pipeline_without_an_event_loop() -> None:
    runtime = StepRuntime(make_stages({1: 1, 2: 5}, "per_task"))
    runtime.feed(range(6))
    runtime.run()
    assert _summary(runtime.results, runtime.failures) == (
        [(0, "item-10"), (2, "item-30"), (3, "item-40"), (4, "item-40"), (5, "item-60")],
        [(1, "Enrich", 3, ConnectionError)],
    )
    stats = runtime.stats()
    assert (stats.items_processed, stats.items_failed, stats.items_in_flight) == (5, 1, 0)
    assert stats.stage_stats["Parse"].skipped_items == 1
    assert stats.stage_stats["Enrich"].retried_items == 3
    assert runtime.waits == [0.0, 0.0, 0.0]


def test_priorities_and_target_stage_follow_the_model() -> None:
    runtime = StepRuntime(make_stages({}, "per_task"))
    runtime.feed([10, 11], priority=500)
    runtime.feed([20], priority=1)
    runtime.feed([7], target_stage="Label")
    runtime.run()
    order = [e.item_id for e in runtime.events if e.status == "completed" and e.stage == "Parse"]
    assert order == [2, 0, 1]  # priority 1 first, then FIFO among priority 500
    assert runtime.results[0] == PipelineResult(3, "item-7", 3)  # injected at the last stage


def test_every_status_transition_is_allowed_by_the_models_table() -> None:
    from antflow_core.model import ALLOWED_TRANSITIONS

    runtime = StepRuntime(make_stages({1: 1, 2: 9}, "per_stage"))
    runtime.feed(range(5))
    runtime.run()
    last: dict[tuple[Any, str], ItemStatus | None] = {}
    for event in runtime.events:
        key = (event.item_id, event.stage)
        assert event.status in ALLOWED_TRANSITIONS[last.get(key)], (key, last.get(key), event)
        last[key] = event.status


async def _asyncio_run(stages: list[Stage], items: list[int]) -> Pipeline:
    pipeline = Pipeline(stages=stages)
    await pipeline.run(items)
    return pipeline


def test_both_runtimes_agree_on_every_outcome_under_both_retry_strategies() -> None:
    flaky = {1: 1, 2: 2, 3: 5, 6: 1}
    for strategy in ("per_task", "per_stage"):
        step = StepRuntime(make_stages(flaky, strategy))
        step.feed(range(8))
        step.run()
        pipeline = asyncio.run(_asyncio_run(make_stages(flaky, strategy), list(range(8))))
        assert _summary(pipeline.results, pipeline.failures) == _summary(
            step.results, step.failures
        ), strategy
        ours, theirs = pipeline.get_stats(), step.stats()
        for name in step.plan.stage_names:
            mine = ours.stage_stats[name]
            other = theirs.stage_stats[name]
            assert (mine.completed_items, mine.failed_items, mine.skipped_items) == (
                other.completed_items,
                other.failed_items,
                other.skipped_items,
            ), (strategy, name)
            assert mine.retried_items == other.retried_items, (strategy, name)
        assert (ours.items_processed, ours.items_failed) == (
            theirs.items_processed,
            theirs.items_failed,
        )


# --------------------------------------------------------------- property: same outcomes

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ERRORS: list[type[Exception]] = [ValueError, KeyError, TimeoutError, ConnectionError, OSError]


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A random pipeline, failure plan, skips, priorities and injections."""
    stage_count = draw(st.integers(1, 3))
    stages = [
        {
            "workers": draw(st.integers(1, 4)),
            "tasks": draw(st.integers(1, 2)),
            "retry": draw(st.sampled_from(["per_task", "per_stage"])),
            "task_attempts": draw(st.integers(1, 3)),
            "stage_attempts": draw(st.integers(1, 3)),
            "capacity": draw(st.sampled_from([None, 0, 1, 2])),
            "skip": draw(st.frozensets(st.integers(0, 11), max_size=3)),
        }
        for _ in range(stage_count)
    ]
    items = draw(st.integers(1, 12))
    failures = draw(
        st.dictionaries(
            st.tuples(
                st.integers(0, items - 1), st.integers(0, stage_count - 1), st.integers(0, 1)
            ),
            st.tuples(st.integers(1, 4), st.integers(0, len(ERRORS) - 1)),
            max_size=10,
        )
    )
    batches = draw(
        st.lists(
            st.tuples(st.integers(0, 3), st.integers(0, stage_count - 1)), min_size=1, max_size=3
        )
    )
    return {"stages": stages, "items": items, "failures": failures, "batches": batches}


def build(scenario: dict[str, Any]) -> list[Stage]:
    """Stages whose tasks fail as the scenario's plan says, counting calls per item."""
    calls: Counter[tuple[int, int, int]] = Counter()

    def make_task(stage_index: int, task_index: int) -> Callable[[Any], Any]:
        async def task(value: tuple[int, int]) -> tuple[int, int]:
            item, hops = value
            key = (item, stage_index, task_index)
            calls[key] += 1
            await asyncio.sleep(0)  # let other workers interleave
            planned = scenario["failures"].get(key)
            if planned is not None and calls[key] <= planned[0]:
                raise ERRORS[planned[1]](f"item {item} stage {stage_index} call {calls[key]}")
            return (item, hops + 1)

        task.__name__ = f"task{task_index}"
        return task

    return [
        Stage(
            f"S{i}",
            workers=spec["workers"],
            tasks=[make_task(i, t) for t in range(spec["tasks"])],
            retry=spec["retry"],
            task_attempts=spec["task_attempts"],
            stage_attempts=spec["stage_attempts"],
            task_wait_seconds=0,
            queue_capacity=spec["capacity"],
            skip_if=skipper(spec["skip"]),
        )
        for i, spec in enumerate(scenario["stages"])
    ]


def skipper(skip: frozenset[int]) -> Callable[[tuple[int, int]], bool]:
    """``skip_if`` for a stage that skips the items in ``skip``."""

    def skip_if(value: tuple[int, int]) -> bool:
        return value[0] in skip

    return skip_if


def batches_of(scenario: dict[str, Any]) -> list[tuple[list[tuple[int, int]], int, str]]:
    """Split the items into the scenario's feeds: (items, priority, target stage)."""
    items = [(i, 0) for i in range(scenario["items"])]
    count = len(scenario["batches"])
    return [
        (items[k::count], priority, f"S{target}")
        for k, (priority, target) in enumerate(scenario["batches"])
    ]


async def run_asyncio(scenario: dict[str, Any]) -> Pipeline:
    pipeline = Pipeline(stages=build(scenario))
    await pipeline.start()
    for items, priority, target in batches_of(scenario):
        await pipeline.feed(items, priority=priority, target_stage=target)
    await pipeline.join()
    leftover = [t for t in asyncio.all_tasks() if t.get_name().startswith("antflow:")]
    assert not leftover, leftover
    return pipeline


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_item_ends_exactly_once_and_both_runtimes_agree(scenario: dict[str, Any]) -> None:
    pipeline = asyncio.run(run_asyncio(scenario))
    step = StepRuntime(build(scenario))
    for items, priority, target in batches_of(scenario):
        step.feed(items, priority=priority, target_stage=target)
    step.run()

    ids = [r.id for r in pipeline.results] + [f.id for f in pipeline.failures]
    assert sorted(ids) == list(range(scenario["items"]))  # each item ends exactly once
    assert _summary(pipeline.results, pipeline.failures) == _summary(step.results, step.failures)

    stats = pipeline.get_stats()
    assert (stats.items_fed, stats.items_in_flight, stats.items_unfinished) == (
        scenario["items"],
        0,
        0,
    )
    assert (stats.items_processed, stats.items_failed) == (
        len(pipeline.results),
        len(pipeline.failures),
    )
    expected = step.stats()
    for name, stage in stats.stage_stats.items():
        other = expected.stage_stats[name]
        assert (stage.completed_items, stage.failed_items, stage.skipped_items) == (
            other.completed_items,
            other.failed_items,
            other.skipped_items,
        )
        assert stage.retried_items == other.retried_items
        assert (stage.pending_items, stage.in_progress_items) == (0, 0)
