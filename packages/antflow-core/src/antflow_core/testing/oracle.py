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
from antflow_core.testing.scenarios import Fault, Scenario, StageSpec

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
        item: Its number (its id and sequence id).
        priority: The priority it was fed with.
        value: Its result's value, or None when it must fail.
        failure: How it must fail, or None when it must end as a result.
        calls: How many times each task is called on it, by ``(stage, task)``.
    """

    item: int
    priority: int
    value: Any
    failure: ExpectedFailure | None
    calls: Mapping[tuple[int, int], int]


@dataclass(frozen=True)
class Expected:
    """What a run of a scenario must report.

    Attributes:
        items: Every item's expectation, by item number.
        stage_counts: Each stage's completed, failed, skipped and retried counts once
            every item has ended (nothing pending or in progress).
    """

    items: Mapping[int, ExpectedItem]
    stage_counts: tuple[StageCounts, ...]

    @property
    def results(self) -> int:
        """How many items must end as results."""
        return sum(1 for x in self.items.values() if x.failure is None)

    @property
    def failures(self) -> int:
        """How many items must end as failures."""
        return sum(1 for x in self.items.values() if x.failure is not None)


class _Stages:
    """The per-stage counters `expected` keeps."""

    def __init__(self, count: int) -> None:
        self.completed = [0] * count
        self.failed = [0] * count
        self.skipped = [0] * count
        self.retried = [0] * count

    def counts(self) -> tuple[StageCounts, ...]:
        return tuple(
            StageCounts(completed=c, failed=f, skipped=s, retried=r)
            for c, f, s, r in zip(
                self.completed, self.failed, self.skipped, self.retried, strict=True
            )
        )


def expected(scenario: Scenario) -> Expected:
    """Walk every item of ``scenario`` through its stages; return what must be reported."""
    counters = _Stages(len(scenario.stages))
    items: dict[int, ExpectedItem] = {}
    for feed in scenario.feeds:
        for item in feed.items:
            items[item] = _walk(scenario, counters, item, feed.priority, feed.target)
    return Expected(MappingProxyType(items), counters.counts())


def _walk(
    scenario: Scenario, counters: _Stages, item: int, priority: int, target: int
) -> ExpectedItem:
    value: Any = (item, ())
    calls: Counter[tuple[int, int]] = Counter()
    for index in range(target, len(scenario.stages)):
        spec = scenario.stages[index]
        if item in spec.skip:
            counters.skipped[index] += 1
            continue
        attempt = 1
        while True:  # one stage attempt per turn (per_task: always exactly one)
            output, failed = _attempt(scenario, calls, counters, item, index, value)
            if failed is None:
                counters.completed[index] += 1
                value = output
                break
            task, call, fault = failed
            if spec.retry == "per_stage" and fault.retryable and attempt < spec.stage_attempts:
                counters.retried[index] += 1
                attempt += 1
                continue
            counters.failed[index] += 1
            attempts = attempt if spec.retry == "per_stage" else call_count(spec, fault)
            failure = ExpectedFailure(
                index, attempts, fault.error, fault_message(item, index, task, call), value
            )
            return ExpectedItem(item, priority, None, failure, MappingProxyType(dict(calls)))
    return ExpectedItem(item, priority, value, None, MappingProxyType(dict(calls)))


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
