"""The conformance kit (`antflow_core.testing`) holds every runtime to the model.

Three runtimes pass it: the asyncio `Pipeline` (plain, and observed so that each of its
worker loops runs), the deterministic `StepRuntime` of ``test_custom_runtime.py`` and
the synchronous ``SyncRuntime`` of ``examples/custom_runtime.py`` (through the driver the
example itself defines). Deliberately broken
runtimes fail it, each with a message that names the item (or stage) at fault, which
shows that every check can fail. The oracle is checked on a scenario worked by hand.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import random
import subprocess
import sys
from collections.abc import Awaitable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from antflow_core import Pipeline
from antflow_core.model import (
    FailedItem,
    ItemFinished,
    Payload,
    PipelineResult,
    Stage,
    StageCounts,
    StatusEvent,
    TaskEvent,
)
from antflow_core.testing import (
    DEFAULT_GENERATORS,
    ConformanceError,
    Fault,
    FeedSpec,
    LocalProbe,
    Observed,
    Scenario,
    StageSpec,
    Supports,
    Trial,
    batch_scenario,
    build_trial,
    check_runtime,
    check_runtime_async,
    check_scenario,
    check_scenario_async,
    child_number,
    expected,
    fan_out_scenario,
    pipeline_driver,
    pull_scenario,
    rate_limit_scenario,
    scenarios,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]


def load(name: str, path: Path) -> ModuleType:
    """Import a file that is not on the import path (a test module, an example)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


step_module = load("antflow_step_runtime", ROOT / "tests" / "core" / "test_custom_runtime.py")
example = load("antflow_example_custom_runtime", ROOT / "examples" / "custom_runtime.py")
StepRuntime: Any = step_module.StepRuntime
SyncRuntime: Any = example.SyncRuntime


# ------------------------------------------------------------------------- drivers


def drive_step(trial: Trial, runtime_class: Any = StepRuntime) -> Observed:
    """The deterministic test runtime: feeds first, then runs every queue empty."""
    runtime = runtime_class(trial.stages)
    for feed in trial.feeds:
        runtime.feed(feed.items, priority=feed.priority, target_stage=feed.target_stage)
    trial.release()
    runtime.run()
    return Observed.read(runtime.results, runtime.failures, runtime.stats)


PLAIN_GENERATORS = tuple(
    g for g in DEFAULT_GENERATORS if g not in (fan_out_scenario, batch_scenario)
)
"""The generators of the scenarios without fan-out or batches."""

STEP_SUPPORTS = Supports(
    unretryable_errors=False,
    ordered_results=False,
    rate_limits=False,
    fan_out=False,
    batches=False,
)


class EveryEvent:
    """An observer that wants every event, returning coroutines: the general worker loop."""

    def __init__(self) -> None:
        self.events = 0

    async def _count(self) -> None:
        self.events += 1

    def on_status_event(self, event: StatusEvent) -> Awaitable[None]:
        return self._count()

    def on_task_event(self, event: TaskEvent) -> Awaitable[None]:
        return self._count()

    def on_item_finished(self, event: ItemFinished) -> Awaitable[None]:
        return self._count()


class StatusOnly:
    """An observer without task events and with the fast hooks: the observed loop."""

    observes_task_events = False

    def __init__(self) -> None:
        self.rows = 0

    def record_status(self, *fields: object) -> None:
        self.rows += 1

    def record_finished(self, *fields: object) -> None:
        self.rows += 1

    def on_status_event(self, event: StatusEvent) -> None:
        raise AssertionError("record_status is used instead")

    def on_task_event(self, event: TaskEvent) -> None:
        raise AssertionError("task events were declined")

    def on_item_finished(self, event: ItemFinished) -> None:
        raise AssertionError("record_finished is used instead")


# ------------------------------------------------------------- the three runtimes pass


async def test_the_asyncio_pipeline_conforms() -> None:
    report = await check_runtime_async(pipeline_driver(), count=150)
    assert report.scenarios == 150
    assert set(report.by_kind) == {g.__name__ for g in DEFAULT_GENERATORS}


@pytest.mark.parametrize("observer", [EveryEvent, StatusOnly])
async def test_the_asyncio_pipeline_conforms_while_observed(observer: Any) -> None:
    watching = observer()
    driver = pipeline_driver(lambda stages: Pipeline(stages, status_tracker=watching))
    await check_runtime_async(driver, seed=1, count=100)
    assert (watching.events if observer is EveryEvent else watching.rows) > 0


def test_the_deterministic_step_runtime_conforms() -> None:
    report = check_runtime(drive_step, supports=STEP_SUPPORTS, count=150)
    assert report.items > 150


def test_the_examples_sync_runtime_conforms_through_its_own_driver() -> None:
    report = check_runtime(example.drive, supports=example.SUPPORTS, count=150)
    assert report.scenarios == 150


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), generator=st.sampled_from(DEFAULT_GENERATORS))
def test_any_drawn_scenario_runs_the_same_on_the_pipeline_and_the_step_runtime(
    seed: int, generator: Any
) -> None:
    scenario = generator(random.Random(seed), STEP_SUPPORTS)
    problems = asyncio.run(check_scenario_async(pipeline_driver(), scenario))
    assert problems == [], scenario.describe()
    assert check_scenario(drive_step, scenario, supports=STEP_SUPPORTS) == []


# ------------------------------------------------------ broken runtimes fail, naming items


class DroppingRuntime(StepRuntime):  # type: ignore[misc]
    """Loses the first item that reaches the results."""

    dropped: Any = None

    def _route(self, outcome: Any, index: int, entry: Any, payload: Payload[Any]) -> None:
        last = index == len(self.plan.stages) - 1
        if last and type(self).dropped is None:
            type(self).dropped = payload.id
            return
        super()._route(outcome, index, entry, payload)


class DuplicatingRuntime(StepRuntime):  # type: ignore[misc]
    """Ends the first item that reaches the results twice."""

    doubled: Any = None

    def _route(self, outcome: Any, index: int, entry: Any, payload: Payload[Any]) -> None:
        super()._route(outcome, index, entry, payload)
        if index == len(self.plan.stages) - 1 and type(self).doubled is None:
            type(self).doubled = payload.id
            self.results.append(PipelineResult.from_payload(payload))


def test_a_runtime_that_drops_an_item_fails_naming_the_item() -> None:
    with pytest.raises(ConformanceError) as caught:
        check_runtime(lambda t: drive_step(t, DroppingRuntime), supports=STEP_SUPPORTS, count=5)
    lost = DroppingRuntime.dropped
    assert lost is not None
    assert f"item {lost} never ended: it should have ended as a result" in str(caught.value)


def test_a_runtime_that_duplicates_an_item_fails_naming_the_item() -> None:
    with pytest.raises(ConformanceError) as caught:
        check_runtime(lambda t: drive_step(t, DuplicatingRuntime), supports=STEP_SUPPORTS, count=5)
    twice = DuplicatingRuntime.doubled
    assert twice is not None
    assert f"item {twice} ended twice: as a result" in str(caught.value)
    assert "stats: reading them raised ValueError: inconsistent counters" in str(caught.value)


class FifoRuntime(StepRuntime):  # type: ignore[misc]
    """Ignores priorities: first in, first out."""

    def _push(self, index: int, entry: Any) -> None:
        super()._push(index, dataclasses.replace(entry, priority=0))


class NoSkipRuntime(StepRuntime):  # type: ignore[misc]
    """Ignores skip_if."""

    def __init__(self, stages: Iterable[Stage]) -> None:
        super().__init__([dataclasses.replace(s, skip_if=None) for s in stages])


class ForgetfulRuntime(StepRuntime):  # type: ignore[misc]
    """Counts no retries in its stats."""

    def stats(self) -> Any:
        for counter in self.counts:
            counter["retried"] = 0
        return super().stats()


class GenerousRuntime(StepRuntime):  # type: ignore[misc]
    """Gives every per_task stage one task attempt more than it has."""

    def __init__(self, stages: Iterable[Stage]) -> None:
        super().__init__(
            [dataclasses.replace(s, task_attempts=s.task_attempts + 1) for s in stages]
        )


@pytest.mark.parametrize(
    ("runtime", "says"),
    [
        (FifoRuntime, r"item \d+ \(priority \d+\) was taken at S0 before item \d+"),
        (NoSkipRuntime, r"item \d+: S\d\.t0 was called 1 time; S\d should have been skipped"),
        (ForgetfulRuntime, r"stats: stage S\d retried_items is 0, expected \d+"),
        (GenerousRuntime, r"item \d+: S\d\.t\d was called \d times; expected \d .retry='per_task'"),
    ],
)
def test_each_check_catches_the_runtime_that_breaks_its_rule(runtime: Any, says: str) -> None:
    with pytest.raises(ConformanceError, match=says):
        check_runtime(
            lambda t: drive_step(t, runtime),
            supports=STEP_SUPPORTS,
            generators=PLAIN_GENERATORS,  # its fan-out and batch scenarios would be mixed ones
            count=70,
        )


async def test_a_runtime_that_ignores_rate_limits_is_caught() -> None:
    def unlimited(stages: Iterable[Stage]) -> Pipeline:
        return Pipeline(
            [dataclasses.replace(s, call_rate=None, call_rate_period=1.0) for s in stages]
        )

    with pytest.raises(ConformanceError, match=r"stage S\d started \d calls within 0\.0"):
        await check_runtime_async(
            pipeline_driver(unlimited), generators=[rate_limit_scenario], count=8
        )


def test_flow_control_scenarios_say_what_they_set_and_stay_within_supports() -> None:
    drawn = scenarios(count=20, generators=[pull_scenario, rate_limit_scenario])
    pulls = [s for s in drawn if s.name.startswith("pull_scenario")]
    rates = [s for s in drawn if s.name.startswith("rate_limit_scenario")]
    assert all(not s.stages[0].pull for s in pulls)
    assert any(spec.pull for s in pulls for spec in s.stages)
    assert any(spec.call_concurrency for s in pulls for spec in s.stages)
    assert all(any(spec.call_rate for spec in s.stages) for s in rates)
    assert "pull" in pulls[0].describe() or "capacity" in pulls[0].describe()
    assert "call_rate" in rates[0].describe()
    plain = Supports(pull_stages=False, rate_limits=False, call_concurrency=False)
    for s in scenarios(count=20, generators=[pull_scenario, rate_limit_scenario], supports=plain):
        assert not any(spec.pull or spec.call_rate or spec.call_concurrency for spec in s.stages)


async def test_a_driver_that_hangs_is_a_failure_not_a_hang() -> None:
    async def never(trial: Trial) -> Observed:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    scenario = scenarios(count=1)[0]
    assert await check_scenario_async(never, scenario, time_limit=0.01) == [
        "the driver did not finish within 0.01s: a hang (an item lost in flight?)"
    ]


def test_a_driver_that_raises_is_a_failure_of_its_scenario() -> None:
    def broken(trial: Trial) -> Observed:
        raise RuntimeError("runtime bug")

    with pytest.raises(ConformanceError, match="the driver raised RuntimeError: runtime bug"):
        check_runtime(broken, count=2)


# ------------------------------------------------------------------ the kit itself


def test_the_oracle_on_a_scenario_worked_by_hand() -> None:
    scenario = Scenario(
        "by hand",
        stages=(
            StageSpec(tasks=2, retry="per_task", task_attempts=3, skip=frozenset({2})),
            StageSpec(tasks=1, retry="per_stage", stage_attempts=2),
        ),
        feeds=(FeedSpec((0, 1, 2, 3)),),
        faults={
            (0, 0, 1): Fault(2),  # two retries of S0.t1, then success
            (1, 0, 0): Fault(5, "ValueError"),  # S0.t0 fails 3 times: gives up
            (2, 0, 0): Fault(9),  # skipped at S0: never fires
            (2, 1, 0): Fault(1, "TimeoutError"),  # re-queued once at S1
            (3, 1, 0): Fault(2),  # fails both stage attempts at S1
        },
    )
    outcome = expected(scenario)
    items = outcome.items
    assert items[0].value == (0, ("S0.t0", "S0.t1", "S1.t0"))
    assert items[0].calls == {(0, 0): 1, (0, 1): 3, (1, 0): 1}
    assert items[1].failure is not None
    assert (items[1].failure.stage, items[1].failure.attempts) == (0, 3)
    assert items[1].failure.message == "item 1 S0.t0 call 3"
    assert items[2].value == (2, ("S1.t0",))
    assert items[3].failure is not None
    assert (items[3].failure.stage, items[3].failure.attempts) == (1, 2)
    assert items[3].failure.value == (3, ("S0.t0", "S0.t1"))
    assert outcome.stage_counts == (
        StageCounts(completed=2, failed=1, skipped=1, retried=4),
        StageCounts(completed=2, failed=1, skipped=0, retried=2),
    )


def test_a_seed_draws_the_same_scenarios_and_names_how_to_draw_each_again() -> None:
    assert scenarios(seed=7, count=10) == scenarios(seed=7, count=10)
    assert scenarios(seed=7, count=10) != scenarios(seed=8, count=10)
    again = scenarios(seed=7, count=10)[3]
    assert again.name == "priority_scenario(seed=7000003)"
    drawn = DEFAULT_GENERATORS[3](random.Random(7000003), Supports())
    assert dataclasses.replace(drawn, name=again.name) == again


def test_scenarios_stay_within_what_a_runtime_supports() -> None:
    limited = Supports(target_stage=False, unretryable_errors=False)
    for scenario in scenarios(count=100, supports=limited):
        assert all(feed.target == 0 for feed in scenario.feeds)
        assert all(fault.error != "Unretryable" for fault in scenario.faults.values())
    drawn = scenarios(count=100)
    assert any(feed.target > 0 for s in drawn for feed in s.feeds)
    assert any(f.error == "Unretryable" for s in drawn for f in s.faults.values())
    assert any(spec.fan_out for s in drawn for spec in s.stages)
    assert any(spec.batch_size for s in drawn for spec in s.stages)
    plain = Supports(fan_out=False, batches=False)
    for scenario in scenarios(count=70, supports=plain):
        assert not any(spec.fan_out or spec.batch_size for spec in scenario.stages)


def test_a_held_trial_waits_for_release_and_says_so_when_never_released() -> None:
    trial = build_trial(scenarios(count=5)[3], task_kind="sync", probe=LocalProbe(0.01))
    assert trial.scenario.hold
    first_task = trial.stages[0].tasks[0]
    with pytest.raises(Exception, match=r"driver must call trial.release\(\)"):
        first_task((0, ()))
    trial.release()
    assert first_task((0, ())) == (0, ("S0.t0",))


def test_the_kit_imports_without_pytest_or_hypothesis() -> None:
    code = (
        "import sys\n"
        "sys.modules['pytest'] = None\n"
        "sys.modules['hypothesis'] = None\n"
        "import antflow_core.testing as kit\n"
        "print(kit.check_runtime.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "check_runtime"


def test_failures_are_reported_with_the_scenario_that_reproduces_them() -> None:
    def lose_everything(trial: Trial) -> Observed:
        trial.release()
        return Observed(results=[], failures=[], stats=None)

    with pytest.raises(ConformanceError) as caught:
        check_runtime(lose_everything, count=3)
    message = str(caught.value)
    assert message.startswith("3 of 3 scenarios failed:")
    assert "mixed_scenario(seed=0)" in message
    assert "item 0 never ended" in message
    assert set(caught.value.problems) == {
        "mixed_scenario(seed=0) [async tasks]",
        "per_task_scenario(seed=1) [sync tasks]",
        "per_stage_scenario(seed=2) [async tasks]",
    }


def test_failed_items_are_compared_on_stage_attempts_error_and_value() -> None:
    scenario = Scenario(
        "one failure",
        stages=(StageSpec(task_attempts=2),),
        feeds=(FeedSpec((0,)),),
        faults={(0, 0, 0): Fault(5)},
    )

    def wrong_attempts(trial: Trial) -> Observed:
        error = ConnectionError("item 0 S0.t0 call 2")
        trial.probe.call(0, 0, 0)
        trial.probe.call(0, 0, 0)
        return Observed([], [FailedItem(0, (0, ()), error, "S0", 3, 0)])

    assert check_scenario(wrong_attempts, scenario, supports=Supports(stats=False)) == [
        "item 0 failed at S0 after 3 attempts with ConnectionError: item 0 S0.t0 call 2 on "
        "value (0, ()); expected S0 after 2 attempts with ConnectionError: item 0 S0.t0 "
        "call 2 on value (0, ())"
    ]


# ---------------------------------------------------------------- fan-out and batches


def test_the_oracle_on_a_fan_out_scenario_worked_by_hand() -> None:
    scenario = Scenario(
        "fan out by hand",
        stages=(StageSpec(tasks=1, fan_out=True), StageSpec(tasks=1, task_attempts=2)),
        feeds=(FeedSpec((0, 1, 2)),),
        faults={
            (1, 0, 0): Fault(1),  # the parent's call is retried once, then it fans out
            (child_number(1, 1), 1, 0): Fault(5, "ValueError"),  # its second child fails
        },
        children={0: 0, 1: 2, 2: 1},
    )
    outcome = expected(scenario)
    items = outcome.items
    assert (items[0].children, items[1].children, items[2].children) == (0, 2, 1)
    assert items[1].calls == {(0, 0): 2}
    assert items[(1, 0)].value == (child_number(1, 0), ("S0.t0", "S1.t0"))
    failure = items[(1, 1)].failure
    assert failure is not None
    assert (failure.stage, failure.attempts, failure.message) == (1, 2, "item 2001 S1.t0 call 2")
    assert items[(2, 0)].item == 3000
    assert (outcome.fed, outcome.expanded, outcome.spawned) == (3, 3, 3)
    assert (outcome.results, outcome.failures) == (2, 1)
    assert outcome.stage_counts == (
        StageCounts(retried=1, expanded=3, spawned=3),
        StageCounts(completed=2, failed=1, retried=1),
    )


def test_the_oracle_on_a_batch_scenario_worked_by_hand() -> None:
    scenario = Scenario(
        "batches by hand",
        stages=(StageSpec(tasks=1, batch_size=2, task_attempts=2, skip=frozenset({1})),),
        feeds=(FeedSpec((0, 1, 2)), FeedSpec((3, 4))),
        faults={
            (2, 0, 0): Fault(1),  # fails the batch [2, 3] once: retried as a batch
            (4, 0, 0): Fault(9, "TimeoutError"),  # fails the batch [4] for good
        },
    )
    outcome = expected(scenario)
    items = outcome.items
    # Batches: [0, 2] then [3, 4] (1 is skipped: it never joins one).
    assert items[0].value == (0, ("S0.t0",))
    assert items[0].calls == {(0, 0): 2}  # retried with 2, whose fault failed the batch
    assert items[1].value == (1, ())
    assert items[2].value == (2, ("S0.t0",))
    for item in (3, 4):  # 4's fault fails both calls of the batch [3, 4]
        failure = items[item].failure
        assert failure is not None
        assert (failure.attempts, failure.error) == (2, "TimeoutError")
        assert (failure.message, failure.value) == ("item 4 S0.t0 call 2", (item, ()))
    assert outcome.stage_counts == (StageCounts(completed=2, failed=2, skipped=1, retried=4),)
    with pytest.raises(ValueError, match="batches depend on timing"):
        expected(dataclasses.replace(scenario, feeds=(FeedSpec((0, 1)), FeedSpec((2,), 5))))


@pytest.mark.parametrize(
    ("generator", "says"),
    [
        (fan_out_scenario, r"item \d+ should have fanned out into \d+ children"),
        (batch_scenario, r"S0\.t0 was called with \(\d+, \(\)\): not a list"),
    ],
)
def test_a_runtime_that_ignores_fan_out_or_batches_fails_the_kit(generator: Any, says: str) -> None:
    claims = Supports(unretryable_errors=False, ordered_results=False)  # but it does not
    with pytest.raises(ConformanceError, match=says):
        check_runtime(drive_step, supports=claims, generators=[generator], count=10)


async def test_stats_that_forget_expanded_items_or_children_fail_the_kit() -> None:
    plain = pipeline_driver()

    async def forgetful(trial: Trial) -> Observed:
        observed = await plain(trial)
        assert observed.stats is not None
        stats = dataclasses.replace(observed.stats, items_expanded=0, items_spawned=0)
        return dataclasses.replace(observed, stats=stats)

    with pytest.raises(ConformanceError, match=r"stats: items_expanded is 0, expected [1-9]"):
        await check_runtime_async(forgetful, generators=[fan_out_scenario], count=5)


async def test_a_runtime_that_reports_a_parent_as_a_result_fails_naming_it() -> None:
    plain = pipeline_driver()

    async def parent_as_result(trial: Trial) -> Observed:
        observed = await plain(trial)
        parent = PipelineResult(0, "parent", 0)
        return dataclasses.replace(observed, results=[parent, *observed.results])

    scenario = Scenario(
        "one parent",
        stages=(StageSpec(fan_out=True),),
        feeds=(FeedSpec((0,)),),
        children={0: 2},
    )
    problems = await check_scenario_async(
        parent_as_result, scenario, supports=Supports(stats=False)
    )
    assert problems == [
        "item 0 should have fanned out into 2 children and ended as expanded, but it ended "
        "as a result 'parent'"
    ]
