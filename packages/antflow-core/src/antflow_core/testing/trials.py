"""Trials: a scenario made runnable (real `Stage` objects, items, a probe), and its report.

`build_trial` turns a `Scenario` into a `Trial`: stages named ``S0``, ``S1``... whose
tasks (``t0``, ``t1``...) record each call on the trial's `Probe`, raise the scenario's
faults, and append their mark to the value's trail; ``skip_if`` predicates for the
scenario's skips; and the feeds, whose items are ``(item number, ())`` tuples. The last
task of a fan-out stage returns its item's children, ``(child number, trail)`` each; a
batch stage's tasks take a list of values and return one result each (a batch larger
than the stage's ``batch_size`` raises ``ValueError``, and a failing call raises the
fault of the first item of the batch whose fault fires). Tasks are
``async def`` functions or plain functions (``task_kind``), as the runtime supports;
async ones yield once to the event loop (``await asyncio.sleep(0)``) so concurrent
workers interleave, which a runtime that steps coroutines by hand steps over.

A driver runs the trial on its runtime and returns an `Observed`: the results and
failures the runtime reported, its stats, and the items it left unfinished.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias

from antflow_core.model import FailedItem, Payload, PipelineResult, PipelineStats, Stage
from antflow_core.testing.oracle import fault_message, step
from antflow_core.testing.probe import LocalProbe, Probe
from antflow_core.testing.scenarios import ERRORS, Scenario, StageSpec, child_number

__all__ = [
    "Feed",
    "Observed",
    "PipelineLike",
    "TaskKind",
    "Trial",
    "build_trial",
    "stage_name",
]

TaskKind: TypeAlias = Literal["async", "sync"]
"""Whether a trial's tasks are ``async def`` functions or plain functions."""


def stage_name(index: int) -> str:
    """The name of a trial's stage ``index``: ``"S0"``."""
    return f"S{index}"


@dataclass(frozen=True)
class Feed:
    """One ``feed()`` call a driver makes.

    Attributes:
        items: The items to feed, in order.
        priority: Their priority.
        target_stage: The stage to enter at, or None for the first.
    """

    items: tuple[Any, ...]
    priority: int
    target_stage: str | None


@dataclass(frozen=True)
class Trial:
    """A scenario ready to run: stages, feeds, and the probe its tasks report to.

    Attributes:
        scenario: What it is built from.
        stages: The stages to construct the runtime with.
        feeds: The feeds to make, in order.
        probe: Where the tasks record their calls.
        task_kind: Whether the tasks are async or plain functions.
    """

    scenario: Scenario
    stages: tuple[Stage, ...]
    feeds: tuple[Feed, ...]
    probe: Probe
    task_kind: TaskKind

    def release(self) -> None:
        """Call after the last feed: a held scenario's first stage may go on."""
        self.probe.release()


class PipelineLike(Protocol):
    """What `Observed.from_pipeline` reads: the reporting surface of `Pipeline`."""

    @property
    def results(self) -> list[PipelineResult[Any]]:
        """The results."""

    @property
    def failures(self) -> list[FailedItem]:
        """The failures."""

    @property
    def unfinished_items(self) -> list[Payload[Any]]:
        """The items that had not ended at shutdown."""

    def get_stats(self) -> PipelineStats:
        """The counts."""


@dataclass(frozen=True)
class Observed:
    """What a runtime reported after a trial.

    Attributes:
        results: Its results (in the order it reports them).
        failures: Its failures.
        stats: Its stats, or None if it keeps none (or reading them raised).
        unfinished: Items it reports as not ended.
        stats_error: What reading the stats raised, if it did (see `Observed.read`).
    """

    results: Sequence[PipelineResult[Any]]
    failures: Sequence[FailedItem]
    stats: PipelineStats | None = None
    unfinished: Sequence[Payload[Any]] = ()
    stats_error: str | None = None

    @classmethod
    def read(
        cls,
        results: Sequence[PipelineResult[Any]],
        failures: Sequence[FailedItem],
        stats: Callable[[], PipelineStats] | None = None,
        unfinished: Sequence[Payload[Any]] = (),
    ) -> Observed:
        """Build a report, calling ``stats()`` to read the stats.

        A runtime whose counters disagree may raise when asked for stats (the model's
        `compute_pipeline_stats` refuses more ended items than fed); that is reported as
        a problem of the stats, and the results and failures are still checked.
        """
        if stats is None:
            return cls(results, failures, None, unfinished)
        try:
            read = stats()
        except Exception as exc:
            return cls(results, failures, None, unfinished, f"{type(exc).__name__}: {exc}")
        return cls(results, failures, read, unfinished)

    @classmethod
    def from_pipeline(cls, pipeline: PipelineLike) -> Observed:
        """Read a `Pipeline` (or anything with its reporting surface) after ``join()``."""
        return cls.read(
            pipeline.results, pipeline.failures, pipeline.get_stats, pipeline.unfinished_items
        )


class _SkipItems:
    """A stage's ``skip_if``: true for the values of the given items (picklable)."""

    def __init__(self, items: Iterable[int]) -> None:
        self.items = frozenset(items)

    def __call__(self, value: tuple[int, tuple[str, ...]]) -> bool:
        return value[0] in self.items


def build_trial(
    scenario: Scenario,
    *,
    task_kind: TaskKind = "async",
    probe: Probe | None = None,
) -> Trial:
    """Build the stages, feeds and probe of ``scenario``.

    Args:
        scenario: The scenario.
        task_kind: ``"async"`` for ``async def`` tasks, ``"sync"`` for plain functions.
        probe: Where tasks record their calls (a fresh `LocalProbe` by default).
    """
    probe = probe if probe is not None else LocalProbe()
    stages = tuple(
        Stage(
            stage_name(index),
            workers=spec.workers,
            tasks=[
                _task(scenario, spec, probe, index, task, task_kind) for task in range(spec.tasks)
            ],
            retry=spec.retry,
            task_attempts=spec.task_attempts,
            stage_attempts=spec.stage_attempts,
            task_wait_seconds=0,
            queue_capacity=spec.queue_capacity,
            skip_if=_SkipItems(spec.skip) if spec.skip else None,
            **_flow_options(spec),
            fan_out=spec.fan_out,
            batch_size=spec.batch_size,
        )
        for index, spec in enumerate(scenario.stages)
    )
    feeds = tuple(
        Feed(
            items=tuple((item, ()) for item in feed.items),
            priority=feed.priority,
            target_stage=None if feed.target == 0 else stage_name(feed.target),
        )
        for feed in scenario.feeds
    )
    return Trial(scenario, stages, feeds, probe, task_kind)


def _flow_options(spec: StageSpec) -> dict[str, Any]:
    """The flow-control options of a stage, only those it sets (a runtime may not know them)."""
    options: dict[str, Any] = {}
    if spec.pull:
        options["pull"] = True
    if spec.call_rate is not None:
        options["call_rate"], options["call_rate_period"] = spec.call_rate
    if spec.call_concurrency is not None:
        options["call_concurrency"] = spec.call_concurrency
    return options


def _task(
    scenario: Scenario,
    spec: StageSpec,
    probe: Probe,
    stage: int,
    task: int,
    kind: TaskKind,
) -> Callable[[Any], Any]:
    faults = scenario.faults
    held = scenario.hold and stage == 0 and task == 0
    mark = step(stage, task)
    fans_out = spec.fan_out and task == spec.tasks - 1
    children = scenario.children
    size = spec.batch_size

    # A call is recorded as it starts (its time is when the runtime let it start), and
    # its fault decided after it yielded. A batch call is one call on each of its items.
    def record(value: Any) -> Any:
        if size is None:
            return probe.call(value[0], stage, task)
        if not isinstance(value, list) or len(value) > size:
            raise ValueError(f"{mark} was called with {value!r}: not a list of <= {size}")
        return [probe.call(item, stage, task) for item, _ in value]

    def fail_if_planned(item: int, call: int) -> None:
        fault = faults.get((item, stage, task))
        if fault is not None and call <= fault.fails:
            raise ERRORS[fault.error](fault_message(item, stage, task, call))

    def body(value: Any, call: Any) -> Any:
        if size is not None:  # the first item of the batch whose fault fires fails it
            for (item, _), made in zip(value, call, strict=True):
                fail_if_planned(item, made)
            return [(item, (*trail, mark)) for item, trail in value]
        item, trail = value
        fail_if_planned(item, call)
        if fans_out:
            return [(child_number(item, k), (*trail, mark)) for k in range(children.get(item, 0))]
        return (item, (*trail, mark))

    if kind == "sync":

        def sync_task(value: Any) -> Any:
            call = record(value)
            if held:
                probe.wait_released()
            return body(value, call)

        sync_task.__name__ = sync_task.__qualname__ = f"t{task}"
        return sync_task

    async def async_task(value: Any) -> Any:
        call = record(value)
        if held:
            await probe.wait_released_async()
        await asyncio.sleep(0)  # let other workers interleave
        return body(value, call)

    async_task.__name__ = async_task.__qualname__ = f"t{task}"
    return async_task
