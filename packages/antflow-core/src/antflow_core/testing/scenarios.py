"""Scenarios: a pipeline, its items, how they are fed and which task calls fail, as data.

A `Scenario` says everything about a run before it happens: the stages (`StageSpec`:
workers, tasks, retry strategy, attempts, queue capacity, the items ``skip_if`` lets
through, flow control: a pull stage, a call rate, call concurrency; whether it fans out
or calls its tasks in batches), the feeds (`FeedSpec`: consecutive item numbers, a
priority, a target stage), the faults (`Fault`: the first ``fails`` calls of task ``t``
of stage ``s`` on item ``i`` raise ``error``) and, for a fan-out stage, how many
children each item makes. Items are numbered in feeding order, so an item's number is
also its id and its sequence id in any runtime that numbers items by position, as the
model's `prepare_payload` does. The ``k``-th child of item ``i`` is numbered
`child_number` ``(i, k)`` (faults name children by it); its id in the runtime is
``(i, k)``.

A generator is a function ``(rng, supports) -> Scenario``: it draws from a
`random.Random` (so a seed reproduces a scenario exactly) and stays within what the
runtime under test `Supports`. Generators compose: `scenarios` cycles through any of
them, and a new generator is one more function: `pull_scenario` and
`rate_limit_scenario` are the flow-control ones, `fan_out_scenario` and
`batch_scenario` those of fan-out and batches (they draw a `mixed_scenario` instead for
a runtime that does not support them).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final, TypeAlias

from antflow_core.model import DEFAULT_PRIORITY, RETRY_STRATEGIES, RetryStrategy

__all__ = [
    "CHILD_BASE",
    "DEFAULT_GENERATORS",
    "ERRORS",
    "RETRYABLE_ERRORS",
    "Fault",
    "FeedSpec",
    "Generator",
    "Scenario",
    "StageSpec",
    "Supports",
    "Unretryable",
    "batch_scenario",
    "child_number",
    "fan_out_scenario",
    "mixed_scenario",
    "per_stage_scenario",
    "per_task_scenario",
    "priority_scenario",
    "pull_scenario",
    "rate_limit_scenario",
    "scenarios",
    "skip_scenario",
]


class Unretryable(BaseException):
    """An error that is not an `Exception`: the model fails the item at once, never retries."""


ERRORS: Final[Mapping[str, type[BaseException]]] = MappingProxyType(
    {
        "ConnectionError": ConnectionError,
        "TimeoutError": TimeoutError,
        "ValueError": ValueError,
        "RuntimeError": RuntimeError,
        "Unretryable": Unretryable,
    }
)
"""The errors a scenario's faults raise, by name."""

RETRYABLE_ERRORS: Final = ("ConnectionError", "TimeoutError", "ValueError", "RuntimeError")
"""The names in `ERRORS` of the errors a retry strategy retries (`Exception` subclasses)."""


@dataclass(frozen=True)
class Supports:
    """What a runtime under test supports; generators stay within it, checks read it.

    Attributes:
        target_stage: Feeding items into a later stage (``feed(..., target_stage=...)``).
        async_tasks: ``async def`` tasks.
        sync_tasks: Plain-function tasks.
        unretryable_errors: Tasks raising a `BaseException` that is not an `Exception`
            (the item must fail at once).
        ordered_results: The runtime reports results and failures in input order.
        stats: The runtime reports `PipelineStats`.
        pull_stages: Pull stages (``Stage(pull=True)``), with ``per_stage`` retries in them.
        rate_limits: ``Stage(call_rate=..., call_rate_period=...)``: the kit then checks
            the times the calls started (`check_rate_limits`).
        call_concurrency: ``Stage(call_concurrency=...)``.
        fan_out: Stages with ``fan_out=True``: an item's children go on as items, the
            item ends as expanded.
        batches: Stages with ``batch_size``: tasks called with lists of values.
    """

    target_stage: bool = True
    async_tasks: bool = True
    sync_tasks: bool = True
    unretryable_errors: bool = True
    ordered_results: bool = True
    stats: bool = True
    pull_stages: bool = True
    rate_limits: bool = True
    call_concurrency: bool = True
    fan_out: bool = True
    batches: bool = True

    def __post_init__(self) -> None:
        if not (self.async_tasks or self.sync_tasks):
            raise ValueError("a runtime must support async tasks, sync tasks or both")


@dataclass(frozen=True)
class StageSpec:
    """One stage of a scenario (its tasks are built by `build_trial`).

    Attributes:
        workers: Workers of the stage.
        tasks: How many tasks it runs in turn (named ``t0``, ``t1``...).
        retry: Its retry strategy.
        task_attempts: Attempts per task (``per_task``).
        stage_attempts: Attempts of the stage (``per_stage``).
        queue_capacity: Its queue's capacity (None: the default; 0: unbounded; None for a
            pull stage, which has no queue).
        skip: The items its ``skip_if`` sends past it.
        pull: Whether it is a pull stage (never the first).
        call_rate: ``(calls, period)``: its ``call_rate`` and ``call_rate_period``, or None.
        call_concurrency: Its ``call_concurrency``, or None.
        fan_out: Its last task returns a list of children (``Scenario.children`` says
            how many for each item).
        batch_size: Its tasks are called with lists of up to this many values (None:
            one value per call).
    """

    workers: int = 1
    tasks: int = 1
    retry: RetryStrategy = "per_task"
    task_attempts: int = 3
    stage_attempts: int = 3
    queue_capacity: int | None = None
    skip: frozenset[int] = frozenset()
    pull: bool = False
    call_rate: tuple[int, float] | None = None
    call_concurrency: int | None = None
    fan_out: bool = False
    batch_size: int | None = None


@dataclass(frozen=True)
class FeedSpec:
    """One ``feed()`` call: consecutive items, their priority, the stage they enter at.

    Attributes:
        items: The item numbers, consecutive and in order.
        priority: Their priority (lower first).
        target: The index of the stage they enter at.
    """

    items: tuple[int, ...]
    priority: int = DEFAULT_PRIORITY
    target: int = 0


@dataclass(frozen=True)
class Fault:
    """The first ``fails`` calls of one task on one item raise ``error``.

    Attributes:
        fails: How many calls fail (then the task succeeds, if it is called again).
        error: A name in `ERRORS`.
    """

    fails: int
    error: str = "ConnectionError"

    @property
    def retryable(self) -> bool:
        """Whether a retry strategy retries this error."""
        return self.error in RETRYABLE_ERRORS


FaultKey: TypeAlias = tuple[int, int, int]
"""``(item, stage index, task index)``."""

CHILD_BASE: Final = 1000
"""Children are numbered from here on (fed items are numbered below it)."""


def child_number(parent: int, index: int) -> int:
    """The number of the ``index``-th child (from 0) of item ``parent``, for faults and calls."""
    return CHILD_BASE * (parent + 1) + index


@dataclass(frozen=True)
class Scenario:
    """A whole run, as data.

    Attributes:
        name: How reports name it; includes the generator and its seed.
        stages: The stages, in order (named ``S0``, ``S1``...).
        feeds: The feeds, in order; their items are numbered 0, 1, 2... across feeds.
        faults: Which task calls fail, by ``(item, stage, task)``.
        hold: Hold the first stage's first task until the driver has fed every item
            (`Trial.release`), so its single worker then takes the items in priority order.
        children: How many children the fan-out stage makes of each item, by item number
            (0 for an item not listed). At most one stage of a scenario fans out, and
            its children make no children of their own.
    """

    name: str
    stages: tuple[StageSpec, ...]
    feeds: tuple[FeedSpec, ...]
    faults: Mapping[FaultKey, Fault] = field(default_factory=dict)
    hold: bool = False
    children: Mapping[int, int] = field(default_factory=dict)

    @property
    def items(self) -> int:
        """How many items the scenario feeds."""
        return sum(len(feed.items) for feed in self.feeds)

    def describe(self) -> str:
        """The scenario in a few lines, for failure reports."""
        lines = [
            f"{self.name}: {_plural(len(self.stages), 'stage')}, {_plural(self.items, 'item')}"
        ]
        for index, spec in enumerate(self.stages):
            retry = (
                f"per_task x{spec.task_attempts}"
                if spec.retry == "per_task"
                else f"per_stage x{spec.stage_attempts}"
            )
            skip = f", skips {sorted(spec.skip)}" if spec.skip else ""
            queue = "pull" if spec.pull else f"capacity {spec.queue_capacity}"
            flow = ""
            if spec.call_rate is not None:
                flow += f", call_rate {spec.call_rate[0]} per {spec.call_rate[1]}s"
            if spec.call_concurrency is not None:
                flow += f", call_concurrency {spec.call_concurrency}"
            if spec.fan_out:
                flow += ", fans out"
            if spec.batch_size is not None:
                flow += f", batches of {spec.batch_size}"
            lines.append(
                f"  S{index}: {_plural(spec.workers, 'worker')}, {_plural(spec.tasks, 'task')}, "
                f"{retry}, {queue}{skip}{flow}"
            )
        for feed in self.feeds:
            lines.append(
                f"  feed items {feed.items[0]}..{feed.items[-1]} at S{feed.target}, "
                f"priority {feed.priority}"
            )
        if self.faults:
            faults = ", ".join(
                f"item {i} S{s}.t{t}: {f.fails}x {f.error}"
                for (i, s, t), f in sorted(self.faults.items())
            )
            lines.append(f"  faults: {faults}")
        if self.hold:
            lines.append("  S0 held until every item is fed")
        if any(self.children.values()):
            made = ", ".join(f"{i}: {n}" for i, n in sorted(self.children.items()) if n)
            lines.append(f"  children: {made}")
        return "\n".join(lines)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


Generator: TypeAlias = Callable[[random.Random, Supports], Scenario]
"""Draws one scenario within what a runtime supports."""


# --------------------------------------------------------------------------- drawing


def _stage(rng: random.Random, strategy: RetryStrategy | None = None) -> StageSpec:
    return StageSpec(
        workers=rng.randint(1, 4),
        tasks=rng.randint(1, 2),
        retry=strategy if strategy is not None else rng.choice(RETRY_STRATEGIES),
        task_attempts=rng.randint(1, 3),
        stage_attempts=rng.randint(1, 3),
        queue_capacity=rng.choice([None, 0, 1, 2]),
    )


def _feeds(
    rng: random.Random, items: int, stages: int, supports: Supports, *, targets: bool = True
) -> tuple[FeedSpec, ...]:
    """Split items 0..items-1 into 1-3 consecutive feeds with random priorities."""
    count = rng.randint(1, min(3, items))
    cuts = sorted(rng.sample(range(1, items), count - 1)) if count > 1 else []
    bounds = [0, *cuts, items]
    return tuple(
        FeedSpec(
            items=tuple(range(bounds[k], bounds[k + 1])),
            priority=rng.choice([1, 5, DEFAULT_PRIORITY, DEFAULT_PRIORITY]),
            target=rng.randrange(stages) if targets and supports.target_stage else 0,
        )
        for k in range(count)
    )


def _faults(
    rng: random.Random,
    items: int,
    stages: Sequence[StageSpec],
    supports: Supports,
    *,
    count: int,
    first_stage: int = 0,
) -> dict[FaultKey, Fault]:
    errors = [*RETRYABLE_ERRORS, *(["Unretryable"] if supports.unretryable_errors else [])]
    faults: dict[FaultKey, Fault] = {}
    if first_stage >= len(stages):
        return faults
    for _ in range(count):
        stage = rng.randrange(first_stage, len(stages))
        key = (rng.randrange(items), stage, rng.randrange(stages[stage].tasks))
        # Mostly retryable errors that stop failing in time; sometimes for good.
        error = rng.choice(errors) if rng.random() < 0.2 else rng.choice(RETRYABLE_ERRORS)
        faults[key] = Fault(fails=rng.randint(1, 4), error=error)
    return faults


def _skips(rng: random.Random, items: int, stages: Sequence[StageSpec]) -> tuple[StageSpec, ...]:
    return tuple(
        replace(spec, skip=frozenset(rng.sample(range(items), rng.randint(0, min(3, items)))))
        for spec in stages
    )


# ------------------------------------------------------------------------ generators


def mixed_scenario(rng: random.Random, supports: Supports) -> Scenario:
    """A bit of everything: 1-3 stages of either strategy, faults, skips, priorities, targets."""
    items = rng.randint(1, 12)
    stages = _skips(rng, items, [_stage(rng) for _ in range(rng.randint(1, 3))])
    return Scenario(
        name="mixed",
        stages=stages,
        feeds=_feeds(rng, items, len(stages), supports),
        faults=_faults(rng, items, stages, supports, count=rng.randint(0, 8)),
    )


def _one_strategy(rng: random.Random, supports: Supports, strategy: RetryStrategy) -> Scenario:
    items = rng.randint(4, 16)
    stages = tuple(_stage(rng, strategy) for _ in range(rng.randint(1, 3)))
    return Scenario(
        name=strategy,
        stages=stages,
        feeds=_feeds(rng, items, len(stages), supports),
        faults=_faults(rng, items, stages, supports, count=rng.randint(items // 2, items * 2)),
    )


def per_task_scenario(rng: random.Random, supports: Supports) -> Scenario:
    """Many failing calls, every stage ``per_task``: retries in place, exactly once."""
    return _one_strategy(rng, supports, "per_task")


def per_stage_scenario(rng: random.Random, supports: Supports) -> Scenario:
    """Many failing calls, every stage ``per_stage``: re-queues, exactly once."""
    return _one_strategy(rng, supports, "per_stage")


def priority_scenario(rng: random.Random, supports: Supports) -> Scenario:
    """Feeds of mixed priorities into a held first stage of one worker and no queue limit.

    The first stage's only worker is held until every item is fed, so its queue holds
    them all and it must then take them by priority, first-in first-out among equals.
    Later stages add faults and skips.
    """
    items = rng.randint(3, 14)
    first = StageSpec(workers=1, tasks=1, queue_capacity=0)
    later = _skips(rng, items, [_stage(rng) for _ in range(rng.randint(0, 2))])
    stages = (first, *later)
    return Scenario(
        name="priority",
        stages=stages,
        feeds=_feeds(rng, items, len(stages), supports, targets=False),
        faults=_faults(rng, items, stages, supports, count=rng.randint(0, 4), first_stage=1),
        hold=True,
    )


def skip_scenario(rng: random.Random, supports: Supports) -> Scenario:
    """Stages that skip many items, with faults on skipped stages that must never fire."""
    items = rng.randint(3, 12)
    stages = tuple(
        replace(_stage(rng), skip=frozenset(i for i in range(items) if rng.random() < 0.5))
        for _ in range(rng.randint(1, 3))
    )
    return Scenario(
        name="skip_if",
        stages=stages,
        feeds=_feeds(rng, items, len(stages), supports),
        faults=_faults(rng, items, stages, supports, count=rng.randint(0, items)),
    )


def pull_scenario(rng: random.Random, supports: Supports) -> Scenario:
    """Pull stages after the first, often ``per_stage`` and failing, some with call concurrency.

    A pull stage's ``per_stage`` retry must stay with its worker (handing the item back to
    its own stage, whose workers may all be doing the same, would never end); the
    outcome is the one of a queued stage. Falls back to `mixed_scenario` when pull stages
    are not supported.
    """
    if not supports.pull_stages:
        return mixed_scenario(rng, supports)
    items = rng.randint(3, 14)
    stages: list[StageSpec] = [_stage(rng)]
    for _ in range(rng.randint(1, 2)):
        spec = replace(_stage(rng), pull=rng.random() < 0.8)
        if spec.pull:
            spec = replace(spec, queue_capacity=None)
        if supports.call_concurrency and rng.random() < 0.4:
            spec = replace(spec, call_concurrency=rng.randint(1, spec.workers))
        stages.append(spec)
    drawn = _skips(rng, items, stages)
    return Scenario(
        name="pull",
        stages=drawn,
        feeds=_feeds(rng, items, len(drawn), supports),
        faults=_faults(rng, items, drawn, supports, count=rng.randint(items // 2, items * 2)),
    )


RATE_PERIODS: Final = (0.03, 0.04, 0.05)
"""The windows (seconds) of a rate-limit scenario: short, so a scenario takes a fraction
of a second, long enough that a runtime ignoring the limit is told from one keeping it."""


def rate_limit_scenario(rng: random.Random, supports: Supports) -> Scenario:
    """A stage with ``call_rate`` (2 to 4 calls per a few hundredths of a second), few items.

    `check_rate_limits` reads when the calls started. Falls back to `mixed_scenario` when
    rate limits are not supported.
    """
    if not supports.rate_limits:
        return mixed_scenario(rng, supports)
    items = rng.randint(2, 7)
    stages = [replace(_stage(rng), tasks=1) for _ in range(rng.randint(1, 2))]
    limited = rng.randrange(len(stages))
    stages[limited] = replace(
        stages[limited], call_rate=(rng.randint(2, 4), rng.choice(RATE_PERIODS))
    )
    return Scenario(
        name="rate_limit",
        stages=tuple(stages),
        feeds=_feeds(rng, items, len(stages), supports),
        faults=_faults(rng, items, stages, supports, count=rng.randint(0, items // 2)),
    )


def fan_out_scenario(rng: random.Random, supports: Supports) -> Scenario:
    """A stage that fans each item out into 0 to 3 children, with faults on parents and children.

    Draws a `mixed_scenario` for a runtime that does not support fan-out.
    """
    if not supports.fan_out:
        return mixed_scenario(rng, supports)
    items = rng.randint(1, 10)
    stages = list(_skips(rng, items, [_stage(rng) for _ in range(rng.randint(1, 3))]))
    at = rng.randrange(len(stages))
    stages[at] = replace(stages[at], fan_out=True)
    children = {item: rng.randint(0, 3) for item in range(items)}
    faults = _faults(rng, items, stages, supports, count=rng.randint(0, 6))
    born = [child_number(i, k) for i, n in children.items() for k in range(n)]
    later = range(at + 1, len(stages))
    if born and later:
        for _ in range(rng.randint(0, 6)):  # faults on the children, at the stages after
            stage = rng.choice(later)
            key = (rng.choice(born), stage, rng.randrange(stages[stage].tasks))
            faults[key] = Fault(fails=rng.randint(1, 4), error=rng.choice(RETRYABLE_ERRORS))
    return Scenario(
        name="fan_out",
        stages=tuple(stages),
        feeds=_feeds(rng, items, len(stages), supports),
        faults=faults,
        children=children,
    )


def batch_scenario(rng: random.Random, supports: Supports) -> Scenario:
    """A first stage that calls its tasks with batches, faults failing whole batches.

    The batch stage has one worker and no ``batch_timeout``, and every item enters it
    with the same priority: its batches are then the items in feeding order, cut every
    ``batch_size`` (skipped items left out), whatever the timing. A failing call fails
    for the whole batch (the first item's fault in the batch decides the error). Draws a
    `mixed_scenario` for a runtime that does not support batches.
    """
    if not supports.batches:
        return mixed_scenario(rng, supports)
    items = rng.randint(1, 14)
    batch = replace(_stage(rng), workers=1, batch_size=rng.randint(1, 5))
    stages = _skips(rng, items, [batch, *(_stage(rng) for _ in range(rng.randint(0, 2)))])
    priority = rng.choice([1, DEFAULT_PRIORITY])
    feeds = tuple(
        replace(feed, priority=priority)
        for feed in _feeds(rng, items, len(stages), supports, targets=False)
    )
    return Scenario(
        name="batch",
        stages=stages,
        feeds=feeds,
        faults=_faults(rng, items, stages, supports, count=rng.randint(0, 6)),
    )


DEFAULT_GENERATORS: Final[tuple[Generator, ...]] = (
    mixed_scenario,
    per_task_scenario,
    per_stage_scenario,
    priority_scenario,
    skip_scenario,
    pull_scenario,
    rate_limit_scenario,
    fan_out_scenario,
    batch_scenario,
)
"""The generators `scenarios` cycles through by default."""


def scenarios(
    seed: int = 0,
    count: int = 50,
    generators: Sequence[Generator] = DEFAULT_GENERATORS,
    supports: Supports = Supports(),
) -> list[Scenario]:
    """Draw ``count`` scenarios, cycling through ``generators``.

    Scenario ``k`` is drawn from ``random.Random(seed * 1_000_000 + k)``; its name says
    its generator and that seed, so ``generator(random.Random(that_seed), supports)``
    draws it again.
    """
    drawn: list[Scenario] = []
    for index in range(count):
        generator = generators[index % len(generators)]
        scenario_seed = seed * 1_000_000 + index
        scenario = generator(random.Random(scenario_seed), supports)
        drawn.append(replace(scenario, name=f"{generator.__name__}(seed={scenario_seed})"))
    return drawn
