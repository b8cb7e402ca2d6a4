"""The harness: run scenarios on a runtime through its driver, and report what is wrong.

A driver is the only code a runtime author writes: a function that takes a `Trial`,
runs it on the runtime (construct it with ``trial.stages``, make each of
``trial.feeds``, call ``trial.release()`` after the last feed, wait until every item
has ended) and returns an `Observed`. It is a plain function for a synchronous runtime
(`check_runtime`) and a coroutine function for an asynchronous one
(`check_runtime_async`). `pipeline_driver` is the driver of antflow's `Pipeline`, and
of any runtime with the same public surface (``start``, ``feed``, ``join``,
``shutdown``, ``results``, ``failures``, ``unfinished_items``, ``get_stats``).

For each scenario the harness builds a trial (tasks async or plain, alternating when
the runtime supports both), runs the driver, asks the oracle what must have happened
and runs the checks. A driver that raises, or an async one that does not finish within
``time_limit`` seconds, is a problem of that scenario too. When any scenario has
problems, `ConformanceError` lists them all, each scenario with its description and the
seed that reproduces it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from antflow_core.testing.checks import DEFAULT_CHECKS, Case, Check
from antflow_core.testing.oracle import expected
from antflow_core.testing.probe import LocalProbe, Probe
from antflow_core.testing.scenarios import (
    DEFAULT_GENERATORS,
    Generator,
    Scenario,
    Supports,
    Unretryable,
    scenarios,
)
from antflow_core.testing.trials import Observed, PipelineLike, TaskKind, Trial, build_trial

if TYPE_CHECKING:
    from antflow_core.model import Stage

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "AsyncDriver",
    "ConformanceError",
    "DrivablePipeline",
    "Driver",
    "Report",
    "check_runtime",
    "check_runtime_async",
    "check_scenario",
    "check_scenario_async",
    "pipeline_driver",
]

Driver: TypeAlias = Callable[[Trial], Observed]
"""Runs a trial on a synchronous runtime and returns what it reported."""

AsyncDriver: TypeAlias = Callable[[Trial], Awaitable[Observed]]
"""Runs a trial on an asynchronous runtime and returns what it reported."""

DEFAULT_TIME_LIMIT = 30.0
"""Seconds an async driver may take for one scenario before the harness calls it a hang."""

_MAX_PROBLEMS = 8  # per scenario, in a report


class ConformanceError(AssertionError):
    """A runtime does not conform: the message lists every problem, scenario by scenario.

    Attributes:
        problems: The problems of each failing scenario, by scenario name.
    """

    def __init__(self, message: str, problems: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class Report:
    """What a passing conformance run covered.

    Attributes:
        scenarios: How many scenarios ran.
        items: How many items they fed in all.
        by_kind: How many scenarios of each generator ran.
    """

    scenarios: int
    items: int
    by_kind: dict[str, int]

    def __str__(self) -> str:
        kinds = ", ".join(f"{count} {kind}" for kind, count in self.by_kind.items())
        return f"{self.scenarios} scenarios, {self.items} items ({kinds})"


def _task_kind(supports: Supports, index: int) -> TaskKind:
    if supports.async_tasks and supports.sync_tasks:
        return "async" if index % 2 == 0 else "sync"
    return "async" if supports.async_tasks else "sync"


def _problems(case: Case, checks: Sequence[Check]) -> list[str]:
    return [problem for check in checks for problem in check(case)]


def _crashed(exc: BaseException) -> list[str]:
    return [f"the driver raised {type(exc).__name__}: {exc}"]


def check_scenario(
    driver: Driver,
    scenario: Scenario,
    *,
    supports: Supports = Supports(),  # noqa: B008 - frozen, shared safely
    checks: Sequence[Check] = DEFAULT_CHECKS,
    task_kind: TaskKind | None = None,
    probe: Probe | None = None,
) -> list[str]:
    """Run one scenario through a synchronous driver; return its problems (empty: conforms).

    Args:
        driver: Runs a trial on the runtime.
        scenario: The scenario.
        supports: What the runtime supports.
        checks: The checks to run.
        task_kind: Async or plain tasks (default: async if supported).
        probe: Where tasks record their calls (default: a new `LocalProbe`).
    """
    trial = build_trial(scenario, task_kind=task_kind or _task_kind(supports, 0), probe=probe)
    try:
        observed = driver(trial)
    except (Exception, Unretryable) as exc:
        return _crashed(exc)
    finally:
        trial.release()
    return _problems(Case(trial, expected(scenario), observed, supports), checks)


async def check_scenario_async(
    driver: AsyncDriver,
    scenario: Scenario,
    *,
    supports: Supports = Supports(),  # noqa: B008 - frozen, shared safely
    checks: Sequence[Check] = DEFAULT_CHECKS,
    task_kind: TaskKind | None = None,
    probe: Probe | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> list[str]:
    """Like `check_scenario`, for an asynchronous driver, within ``time_limit`` seconds."""
    trial = build_trial(scenario, task_kind=task_kind or _task_kind(supports, 0), probe=probe)
    try:
        async with asyncio.timeout(time_limit):
            observed = await driver(trial)
    except TimeoutError:
        return [f"the driver did not finish within {time_limit}s: a hang (an item lost in flight?)"]
    except (Exception, Unretryable) as exc:
        return _crashed(exc)
    finally:
        trial.release()
    return _problems(Case(trial, expected(scenario), observed, supports), checks)


def _drawn(
    seed: int, count: int, generators: Sequence[Generator], supports: Supports
) -> list[Scenario]:
    return scenarios(seed, count, generators, supports)


def _verdict(
    drawn: Sequence[Scenario], kinds: Sequence[TaskKind], found: Sequence[list[str]]
) -> Report:
    failing = {
        f"{scenario.name} [{kind} tasks]": problems
        for scenario, kind, problems in zip(drawn, kinds, found, strict=True)
        if problems
    }
    if failing:
        blocks = []
        for scenario, kind, problems in zip(drawn, kinds, found, strict=True):
            if not problems:
                continue
            listed = [f"  - {p}" for p in problems[:_MAX_PROBLEMS]]
            if len(problems) > _MAX_PROBLEMS:
                listed.append(f"  - ... and {len(problems) - _MAX_PROBLEMS} more")
            blocks.append(f"[{kind} tasks] {scenario.describe()}\n" + "\n".join(listed))
        message = f"{len(failing)} of {len(drawn)} scenarios failed:\n\n" + "\n\n".join(blocks)
        raise ConformanceError(message, failing)
    by_kind: dict[str, int] = {}
    for scenario in drawn:
        generator = scenario.name.split("(")[0]
        by_kind[generator] = by_kind.get(generator, 0) + 1
    return Report(len(drawn), sum(s.items for s in drawn), by_kind)


def check_runtime(
    driver: Driver,
    *,
    supports: Supports = Supports(),  # noqa: B008 - frozen, shared safely
    seed: int = 0,
    count: int = 50,
    generators: Sequence[Generator] = DEFAULT_GENERATORS,
    checks: Sequence[Check] = DEFAULT_CHECKS,
    probe_factory: Callable[[], Probe] = LocalProbe,
) -> Report:
    """Run ``count`` scenarios through a synchronous driver; raise if any has a problem.

    Args:
        driver: Runs a trial on the runtime and returns what it reported.
        supports: What the runtime supports (scenarios stay within it).
        seed: Draws the scenarios (the same seed, the same scenarios).
        count: How many scenarios to run.
        generators: The kinds of scenario, cycled through.
        checks: The checks to run on each.
        probe_factory: Makes each trial's probe (a runtime whose tasks run in other
            processes passes one they can reach).

    Returns:
        What was covered.

    Raises:
        ConformanceError: If any scenario has a problem; every problem is listed.
    """
    drawn = _drawn(seed, count, generators, supports)
    kinds = [_task_kind(supports, i) for i in range(len(drawn))]
    found = [
        check_scenario(
            driver, s, supports=supports, checks=checks, task_kind=k, probe=probe_factory()
        )
        for s, k in zip(drawn, kinds, strict=True)
    ]
    return _verdict(drawn, kinds, found)


async def check_runtime_async(
    driver: AsyncDriver,
    *,
    supports: Supports = Supports(),  # noqa: B008 - frozen, shared safely
    seed: int = 0,
    count: int = 50,
    generators: Sequence[Generator] = DEFAULT_GENERATORS,
    checks: Sequence[Check] = DEFAULT_CHECKS,
    probe_factory: Callable[[], Probe] = LocalProbe,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> Report:
    """Like `check_runtime`, for an asynchronous driver; each scenario within ``time_limit`` s."""
    drawn = _drawn(seed, count, generators, supports)
    kinds = [_task_kind(supports, i) for i in range(len(drawn))]
    found = [
        await check_scenario_async(
            driver,
            s,
            supports=supports,
            checks=checks,
            task_kind=k,
            probe=probe_factory(),
            time_limit=time_limit,
        )
        for s, k in zip(drawn, kinds, strict=True)
    ]
    return _verdict(drawn, kinds, found)


class DrivablePipeline(PipelineLike, Protocol):
    """The public surface `pipeline_driver` drives: `Pipeline`'s, or a runtime's that copies it."""

    async def start(self) -> None:
        """Start the workers."""

    async def feed(
        self, items: Iterable[Any], *, target_stage: str | None = ..., priority: int = ...
    ) -> None:
        """Feed ``items`` (waiting while the target stage's queue is full)."""

    async def join(self) -> None:
        """Wait until every item fed has ended."""

    async def shutdown(self) -> None:
        """Stop for good."""


def pipeline_driver(
    factory: Callable[[Sequence[Stage]], DrivablePipeline] | None = None,
) -> AsyncDriver:
    """Return the driver of antflow's `Pipeline`, or of a runtime with its public surface.

    The driver constructs the runtime with ``factory(trial.stages)`` (default:
    ``Pipeline(stages)``), starts it, makes each feed, releases the trial, joins, shuts it
    down and reports what it holds (`Observed.from_pipeline`).

    Args:
        factory: Builds the runtime from the trial's stages, e.g.
            ``lambda stages: Pipeline(stages, status_tracker=StatusTracker())``.
    """
    if factory is None:
        from antflow_core.runtime import Pipeline

        factory = Pipeline

    make = factory

    async def drive(trial: Trial) -> Observed:
        pipeline = make(trial.stages)
        await pipeline.start()
        try:
            for feed in trial.feeds:
                await pipeline.feed(
                    feed.items, target_stage=feed.target_stage, priority=feed.priority
                )
            trial.release()
            await pipeline.join()
        finally:
            trial.release()  # never leave a held task waiting, whatever happened
            await pipeline.shutdown()
        return Observed.from_pipeline(pipeline)

    return drive
