"""The oracle: what every conforming runtime must report for a scenario.

A scenario fixes everything that decides an item's fate: which calls of which task fail
on it (faults count calls per item, stage and task, and an item is in one place at a
time), which stages skip it, and each stage's retry strategy and attempts. So its
outcome does not depend on timing or concurrency, and `expected` computes it by walking
each item through the stages one call at a time, following the model's retry table:

* ``per_task``: a failing task is called again until it succeeds or its
  ``task_attempts`` are used (an `Unretryable` error: at once); each call that is
  followed by another is one retry;
* ``per_stage``: a failing task sends the item back to the start of the stage (every task
  is called again) until its ``stage_attempts`` are used; each re-queue is one retry.

A fan-out stage ends an item as *expanded* once its tasks succeed; each of its children
(numbered by `child_number`, with the id ``(parent id, k)``) is then walked from the next
stage like any item. A batch stage (the first stage of a scenario whose items all enter
there with one priority: `batch_scenario`) is worked batch by batch first: its batches
are the items in feeding order, cut every ``batch_size``, skipped items left out; a call
is one call on every item of the batch, fails when the fault of one of them fires (the
first in the batch decides the error), and is retried as a batch, one retry per item.

A task appends ``"S<stage>.t<task>"`` to the value's trail, so a result's value says
exactly which calls succeeded, in order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from antflow_core.model import StageCounts
from antflow_core.testing.scenarios import Fault, Scenario, StageSpec, child_number

__all__ = [
    "Expected",
    "ExpectedFailure",
    "ExpectedItem",
    "call_count",
    "expected",
    "fault_message",
    "step",
]


def step(stage: int, task: int) -> str:
    """The mark task ``task`` of stage ``stage`` leaves in a value's trail: ``"S1.t0"``."""
    return f"S{stage}.t{task}"


def fault_message(item: int, stage: int, task: int, call: int) -> str:
    """The message of the error a faulty call raises."""
    return f"item {item} {step(stage, task)} call {call}"


@dataclass(frozen=True)
class ExpectedFailure:
    """How an item must fail.

    Attributes:
        stage: The index of the stage that gives up.
        attempts: The attempts the `FailedItem` reports.
        error: The error's name (see `ERRORS`).
        message: The error's message (it names the item, the task and the call).
        value: The value the failing stage received.
    """

    stage: int
    attempts: int
    error: str
    message: str
    value: Any


@dataclass(frozen=True)
class ExpectedItem:
    """What must happen to one item.

    Attributes:
        item: Its number (its id and sequence id for a fed item; `child_number` for a
            child), which its tasks record their calls under.
        priority: The priority it was fed with (a child: its parent's).
        value: Its result's value, or None when it must fail or expand.
        failure: How it must fail, or None when it must end as a result or expand.
        calls: How many times each task is called on it, by ``(stage, task)``.
        children: How many children it must fan out into (ending as expanded), or None
            when it must end as a result or a failure.
        id: The id the runtime gives it: its number for a fed item, ``(parent id, k)``
            for the ``k``-th child of an item.
    """

    item: int
    priority: int
    value: Any
    failure: ExpectedFailure | None
    calls: Mapping[tuple[int, int], int]
    children: int | None = None
    id: Any = None


@dataclass(frozen=True)
class Expected:
    """What a run of a scenario must report.

    Attributes:
        items: Every item's expectation (fed items and children), by id.
        stage_counts: Each stage's completed, failed, skipped, retried, expanded and
            spawned counts once every item has ended (nothing pending or in progress).
        fed: How many items are fed (the others are children).
    """

    items: Mapping[Any, ExpectedItem]
    stage_counts: tuple[StageCounts, ...]
    fed: int = 0

    @property
    def results(self) -> int:
        """How many items must end as results."""
        return sum(1 for x in self.items.values() if x.failure is None and x.children is None)

    @property
    def failures(self) -> int:
        """How many items must end as failures."""
        return sum(1 for x in self.items.values() if x.failure is not None)

    @property
    def expanded(self) -> int:
        """How many items must end as expanded (fanned out)."""
        return sum(1 for x in self.items.values() if x.children is not None)

    @property
    def spawned(self) -> int:
        """How many children must be made."""
        return sum(x.children or 0 for x in self.items.values())


class _Stages:
    """The per-stage counters `expected` keeps."""

    def __init__(self, count: int) -> None:
        self.completed = [0] * count
        self.failed = [0] * count
        self.skipped = [0] * count
        self.retried = [0] * count
        self.expanded = [0] * count
        self.spawned = [0] * count

    def counts(self) -> tuple[StageCounts, ...]:
        return tuple(
            StageCounts(completed=c, failed=f, skipped=s, retried=r, expanded=e, spawned=n)
            for c, f, s, r, e, n in zip(
                self.completed,
                self.failed,
                self.skipped,
                self.retried,
                self.expanded,
                self.spawned,
                strict=True,
            )
        )


def expected(scenario: Scenario) -> Expected:
    """Walk every item of ``scenario`` through its stages; return what must be reported.

    Raises:
        ValueError: If a batch stage is not the first stage, or items enter it at another
            stage or with different priorities: its batches would depend on timing.
    """
    counters = _Stages(len(scenario.stages))
    items: dict[Any, ExpectedItem] = {}
    batched = _batches(scenario, counters)
    fed = 0
    for feed in scenario.feeds:
        for item in feed.items:
            fed += 1
            calls = batched.calls.get(item, Counter())
            walk = _Walk(scenario, counters, items, batched)
            walk.item(item, item, feed.priority, feed.target, (item, ()), calls)
    return Expected(MappingProxyType(items), counters.counts(), fed)


class _Batched:
    """What the batch stage (stage 0) does to each item it gets: its output or its failure."""

    def __init__(self) -> None:
        self.outcome: dict[int, Any] = {}  # item -> its value after the stage, or a failure
        self.calls: dict[int, Counter[tuple[int, int]]] = {}


def _batches(scenario: Scenario, counters: _Stages) -> _Batched:
    batched = _Batched()
    stages = scenario.stages
    if any(spec.batch_size is not None for spec in stages[1:]) or (
        stages[0].batch_size is not None
        and (
            any(feed.target != 0 for feed in scenario.feeds)
            or len({feed.priority for feed in scenario.feeds}) > 1
        )
    ):
        raise ValueError(
            "the oracle predicts batches of a first stage that every item enters with one "
            "priority (see batch_scenario): other batches depend on timing"
        )
    spec = stages[0]
    size = spec.batch_size
    if size is None:
        return batched
    order = [item for feed in scenario.feeds for item in feed.items if item not in spec.skip]
    for start in range(0, len(order), size):
        _batch(scenario, counters, batched, order[start : start + size])
    return batched


def _batch(scenario: Scenario, counters: _Stages, batched: _Batched, chunk: list[int]) -> None:
    """Work one batch of the first stage: its calls, retries, and each item's outcome."""
    spec = scenario.stages[0]
    calls = {item: Counter[tuple[int, int]]() for item in chunk}
    batched.calls.update(calls)
    made = [0] * spec.tasks  # calls of each task on this batch (the same for every item)
    attempt = 1
    while True:  # one stage attempt per turn (per_task: always exactly one)
        trail: tuple[str, ...] = ()
        failed: tuple[int, int, int, Fault] | None = None
        for task in range(spec.tasks):
            while True:  # the calls of one task in this attempt
                made[task] += 1
                call = made[task]
                for item in chunk:
                    calls[item][(0, task)] += 1
                hit = _first_fault(scenario, chunk, task, call)
                if hit is None:
                    trail = (*trail, step(0, task))
                    break
                item, fault = hit
                if spec.retry == "per_task" and fault.retryable and call < spec.task_attempts:
                    counters.retried[0] += len(chunk)
                    continue
                failed = (task, call, item, fault)
                break
            if failed is not None:
                break
        if failed is None:
            counters.completed[0] += len(chunk)
            for item in chunk:
                batched.outcome[item] = (item, trail)
            return
        task, call, culprit, fault = failed
        if spec.retry == "per_stage" and fault.retryable and attempt < spec.stage_attempts:
            counters.retried[0] += len(chunk)
            attempt += 1
            continue
        counters.failed[0] += len(chunk)
        attempts = attempt if spec.retry == "per_stage" else call
        message = fault_message(culprit, 0, task, call)
        for item in chunk:
            batched.outcome[item] = ExpectedFailure(0, attempts, fault.error, message, (item, ()))
        return


def _first_fault(
    scenario: Scenario, chunk: list[int], task: int, call: int
) -> tuple[int, Fault] | None:
    for item in chunk:
        fault = scenario.faults.get((item, 0, task))
        if fault is not None and call <= fault.fails:
            return item, fault
    return None


class _Walk:
    """Walks one item (and, through a fan-out stage, its children) through the stages."""

    def __init__(
        self,
        scenario: Scenario,
        counters: _Stages,
        out: dict[Any, ExpectedItem],
        batched: _Batched,
    ) -> None:
        self.scenario = scenario
        self.counters = counters
        self.out = out
        self.batched = batched

    def item(
        self,
        key: Any,
        number: int,
        priority: int,
        start: int,
        value: Any,
        calls: Counter[tuple[int, int]],
    ) -> None:
        scenario, counters = self.scenario, self.counters
        for index in range(start, len(scenario.stages)):
            spec = scenario.stages[index]
            if number in spec.skip:
                counters.skipped[index] += 1
                continue
            if spec.batch_size is not None:  # worked out batch by batch beforehand
                outcome = self.batched.outcome[number]
                if isinstance(outcome, ExpectedFailure):
                    self.end(key, number, priority, None, outcome, calls)
                    return
                value = outcome
                continue
            attempt = 1
            while True:  # one stage attempt per turn (per_task: always exactly one)
                output, failed = _attempt(scenario, calls, counters, number, index, value)
                if failed is None:
                    break
                task, call, fault = failed
                if spec.retry == "per_stage" and fault.retryable and attempt < spec.stage_attempts:
                    counters.retried[index] += 1
                    attempt += 1
                    continue
                counters.failed[index] += 1
                attempts = attempt if spec.retry == "per_stage" else call_count(spec, fault)
                failure = ExpectedFailure(
                    index, attempts, fault.error, fault_message(number, index, task, call), value
                )
                self.end(key, number, priority, None, failure, calls)
                return
            if spec.fan_out:
                self.expand(key, number, priority, index, output, calls)
                return
            counters.completed[index] += 1
            value = output
        self.end(key, number, priority, value, None, calls)

    def expand(
        self,
        key: Any,
        number: int,
        priority: int,
        index: int,
        output: tuple[int, tuple[str, ...]],
        calls: Counter[tuple[int, int]],
    ) -> None:
        made = self.scenario.children.get(number, 0)
        self.counters.expanded[index] += 1
        self.counters.spawned[index] += made
        self.out[key] = ExpectedItem(
            number, priority, None, None, MappingProxyType(dict(calls)), made, key
        )
        for k in range(made):
            child = child_number(number, k)
            self.item((key, k), child, priority, index + 1, (child, output[1]), Counter())

    def end(
        self,
        key: Any,
        number: int,
        priority: int,
        value: Any,
        failure: ExpectedFailure | None,
        calls: Counter[tuple[int, int]],
    ) -> None:
        self.out[key] = ExpectedItem(
            number, priority, value, failure, MappingProxyType(dict(calls)), None, key
        )


def call_count(spec: StageSpec, fault: Fault) -> int:
    """How many calls a ``per_task`` task gets when it fails for good under ``fault``."""
    return spec.task_attempts if fault.retryable else 1


def _attempt(
    scenario: Scenario,
    calls: Counter[tuple[int, int]],
    counters: _Stages,
    item: int,
    index: int,
    value: Any,
) -> tuple[Any, tuple[int, int, Fault] | None]:
    """One stage attempt: each task in turn; returns the output, or the failing task."""
    spec = scenario.stages[index]
    trail: tuple[str, ...] = value[1]
    for task in range(spec.tasks):
        fault = scenario.faults.get((item, index, task))
        while True:  # the calls of one task in this attempt
            calls[(index, task)] += 1
            call = calls[(index, task)]
            if fault is None or call > fault.fails:
                trail = (*trail, step(index, task))
                break
            # per_task: an item visits the stage once, so ``call`` counts this task's
            # attempts; another call follows while attempts remain.
            if spec.retry == "per_task" and fault.retryable and call < spec.task_attempts:
                counters.retried[index] += 1
                continue
            return value, (task, call, fault)
    return (item, trail), None
