"""Checks: compare what a runtime reported with what the oracle expects, item by item.

A check is a function ``(case) -> problems``: it reads a `Case` (the trial, the
`Expected` outcome and the `Observed` report) and returns one message per problem, each
naming the item (or the stage) it is about, e.g. ``"item 17 ended twice: as a result
(17, ('S0.t0',)) and as a failure at S1"``. Checks are independent and composable: the
harness runs `DEFAULT_CHECKS` unless given others, and a new feature brings its own.

* `check_exactly_once`: every item fed, and every child a fan-out stage makes, ends
  exactly once, as a result or a failure, or (an item that fans out) as neither:
  expanded; nothing is unfinished, nothing unknown appears.
* `check_outcomes`: each item ends as the oracle says: its value, or the stage, attempts,
  error and value of its failure; its id and sequence id.
* `check_calls`: each task was called on each item as often as the retry strategy
  allows, and never on a stage ``skip_if`` skipped.
* `check_priorities`: a held stage took its items by priority, first-in first-out among
  equal priorities.
* `check_result_order`: results and failures are reported in input order (when the
  runtime promises it).
* `check_stats`: the stats agree with the outcomes and with the oracle's counts per stage.
* `check_rate_limits`: no window of a stage's ``call_rate_period`` saw more than its
  ``call_rate`` calls start (measured by the probe, with `RATE_SLACK`).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from antflow_core.model import FailedItem, PipelineResult
from antflow_core.testing.oracle import Expected, ExpectedItem, step
from antflow_core.testing.scenarios import ERRORS, StageSpec, Supports
from antflow_core.testing.trials import Observed, Trial, stage_name

__all__ = [
    "DEFAULT_CHECKS",
    "Case",
    "Check",
    "check_calls",
    "check_exactly_once",
    "check_outcomes",
    "check_priorities",
    "check_rate_limits",
    "check_result_order",
    "check_stats",
]


@dataclass(frozen=True)
class Case:
    """One trial run on one runtime: everything a check reads.

    Attributes:
        trial: The trial (its scenario, stages, feeds, and the probe's records).
        expected: What the oracle says must be reported.
        observed: What the runtime reported.
        supports: What the runtime supports.
    """

    trial: Trial
    expected: Expected
    observed: Observed
    supports: Supports


Check: TypeAlias = Callable[[Case], Iterable[str]]
"""A check: the problems it finds in a case, one message each."""


def _describe(ended: PipelineResult[Any] | FailedItem) -> str:
    if isinstance(ended, PipelineResult):
        return f"as a result {ended.value!r}"
    return f"as a failure at {ended.stage} ({ended.error_type}: {ended.error_message})"


def _ended_by_item(observed: Observed) -> dict[Any, list[PipelineResult[Any] | FailedItem]]:
    ended: dict[Any, list[PipelineResult[Any] | FailedItem]] = defaultdict(list)
    everything: list[PipelineResult[Any] | FailedItem] = [*observed.results, *observed.failures]
    for x in everything:
        ended[x.id].append(x)
    return ended


def _expected_end(item: ExpectedItem) -> str:
    if item.children is not None:
        return f"expanded into {item.children} children"
    failure = item.failure
    if failure is None:
        return f"a result {item.value!r}"
    return f"a failure at {stage_name(failure.stage)} ({failure.error}: {failure.message})"


def check_exactly_once(case: Case) -> list[str]:
    """Every item fed ends exactly once; no item is unfinished; nothing else appears.

    An item that fans out ends as neither a result nor a failure (expanded); each of its
    children must end once.
    """
    problems: list[str] = []
    ended = _ended_by_item(case.observed)
    unfinished = {payload.id for payload in case.observed.unfinished}
    for number, item in case.expected.items.items():
        ends = ended.get(number, [])
        if item.children is not None:
            if ends:
                how = " and ".join(_describe(x) for x in ends)
                problems.append(
                    f"item {number} should have fanned out into {item.children} children "
                    f"and ended as expanded, but it ended {how}"
                )
            elif number in unfinished:
                problems.append(f"item {number} is listed as unfinished; it should have expanded")
            continue
        if len(ends) > 1:
            how = " and ".join(_describe(x) for x in ends)
            problems.append(f"item {number} ended {_times(len(ends))}: {how}")
        elif not ends:
            where = "is listed as unfinished" if number in unfinished else "never ended"
            problems.append(
                f"item {number} {where}: it should have ended as {_expected_end(item)}, "
                "but it is neither among the results nor among the failures"
            )
        elif number in unfinished:
            problems.append(f"item {number} ended {_describe(ends[0])} but is also unfinished")
    for unknown in sorted(set(ended) - set(case.expected.items), key=repr):
        problems.append(f"item {unknown!r} ended {_describe(ended[unknown][0])} but was never fed")
    return problems


def _attempts(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


def _times(count: int) -> str:
    return "twice" if count == 2 else f"{count} times"


def check_outcomes(case: Case) -> list[str]:
    """Each item that ended once ended as the oracle says, with its id and sequence id.

    A fed item's sequence id is its number; with a fan-out stage, whose children take
    sequence ids too, fed items' sequence ids only have to follow their feeding order.
    """
    problems: list[str] = []
    ended = _ended_by_item(case.observed)
    positional = not any(spec.fan_out for spec in case.trial.scenario.stages)
    fed_sequences: list[tuple[int, int]] = []
    for number, item in case.expected.items.items():
        ends = ended.get(number, [])
        if len(ends) != 1 or item.children is not None:
            continue  # check_exactly_once reports it
        got = ends[0]
        if positional and got.sequence_id != number:
            problems.append(f"item {number} has sequence id {got.sequence_id}, expected {number}")
        if isinstance(number, int):
            fed_sequences.append((number, got.sequence_id))
        failure = item.failure
        if failure is None:
            if not isinstance(got, PipelineResult):
                problems.append(
                    f"item {number} should have ended as a result {item.value!r}, "
                    f"but ended {_describe(got)}"
                )
            elif got.value != item.value:
                problems.append(
                    f"item {number} ended with value {got.value!r}, expected {item.value!r}"
                )
            continue
        if not isinstance(got, FailedItem):
            problems.append(
                f"item {number} should have failed at {stage_name(failure.stage)} "
                f"({failure.error}: {failure.message}), but ended {_describe(got)}"
            )
            continue
        found = (got.stage, got.attempts, type(got.error), str(got.error), got.value)
        wanted = (
            stage_name(failure.stage),
            failure.attempts,
            ERRORS[failure.error],
            failure.message,
            failure.value,
        )
        if found != wanted:
            problems.append(
                f"item {number} failed at {got.stage} after {_attempts(got.attempts)} with "
                f"{got.error_type}: {got.error_message} on value {got.value!r}; expected "
                f"{wanted[0]} after {_attempts(failure.attempts)} with {failure.error}: "
                f"{failure.message} on value {failure.value!r}"
            )
    fed_sequences.sort()
    for (first, seq_first), (second, seq_second) in itertools.pairwise(fed_sequences):
        if seq_first >= seq_second:
            problems.append(
                f"item {first} has sequence id {seq_first} and item {second}, fed after it, "
                f"{seq_second}: sequence ids must increase in feeding order"
            )
            break
    return problems


def check_calls(case: Case) -> list[str]:
    """Each task ran on each item as often as the oracle says (retries, skips, give-ups)."""
    problems: list[str] = []
    calls = case.trial.probe.calls()
    scenario = case.trial.scenario
    for key, item in case.expected.items.items():
        number = item.item
        keys = {(s, t) for (i, s, t) in calls if i == number} | set(item.calls)
        for stage, task in sorted(keys):
            made = calls.get((number, stage, task), 0)
            wanted = item.calls.get((stage, task), 0)
            if made == wanted:
                continue
            spec = scenario.stages[stage]
            if wanted == 0 and number in spec.skip:
                why = f"{stage_name(stage)} should have been skipped (skip_if)"
            elif wanted == 0:
                why = f"{step(stage, task)} should not have been called"
            else:
                why = f"expected {wanted} ({_policy(spec)})"
            times = "1 time" if made == 1 else f"{made} times"
            problems.append(f"item {key}: {step(stage, task)} was called {times}; {why}")
    return problems


def _policy(spec: StageSpec) -> str:
    if spec.retry == "per_task":
        return f"retry='per_task', task_attempts={spec.task_attempts}"
    return f"retry='per_stage', stage_attempts={spec.stage_attempts}"


def check_priorities(case: Case) -> list[str]:
    """A held first stage took its items by (priority, feeding order)."""
    if not case.trial.scenario.hold:
        return []
    priority = {number: item.priority for number, item in case.expected.items.items()}
    seen: set[int] = set()
    order: list[int] = []
    for number in case.trial.probe.starts(0):
        if number not in seen:  # a per-task retry calls the first task again
            seen.add(number)
            order.append(number)
    # The worker may have taken one item before the feeds were done: the rest were all
    # waiting when it let go of it.
    waiting = order[1:]
    for earlier, later in itertools.pairwise(waiting):
        if (priority[earlier], earlier) > (priority[later], later):
            return [
                f"item {earlier} (priority {priority[earlier]}) was taken at S0 before item "
                f"{later} (priority {priority[later]}), which was waiting: lower priorities "
                "first, then feeding order"
            ]
    return []


def check_result_order(case: Case) -> list[str]:
    """Results and failures are reported in input order (if the runtime promises it)."""
    if not case.supports.ordered_results:
        return []
    problems: list[str] = []
    listed: tuple[tuple[str, Sequence[PipelineResult[Any] | FailedItem]], ...] = (
        ("results", case.observed.results),
        ("failures", case.observed.failures),
    )
    for what, ended in listed:
        for before, after in itertools.pairwise(ended):
            if before.sequence_id > after.sequence_id:
                problems.append(
                    f"{what} are not in input order: item {before.id} is listed before "
                    f"item {after.id}"
                )
                break
    return problems


def check_stats(case: Case) -> list[str]:
    """The stats count what ended, and each stage's counts match the oracle's."""
    if not case.supports.stats:
        return []
    if case.observed.stats_error is not None:
        return [f"stats: reading them raised {case.observed.stats_error}"]
    stats = case.observed.stats
    if stats is None:
        return ["stats: the runtime reported none (pass Supports(stats=False) if it keeps none)"]
    expected = case.expected
    problems: list[str] = []
    totals = {
        "items_fed": (stats.items_fed, expected.fed),
        "items_processed": (stats.items_processed, expected.results),
        "items_failed": (stats.items_failed, expected.failures),
        "items_expanded": (stats.items_expanded, expected.expanded),
        "items_spawned": (stats.items_spawned, expected.spawned),
        "items_in_flight": (stats.items_in_flight, 0),
        "items_unfinished": (stats.items_unfinished, 0),
    }
    reported = {
        "items_processed": len(case.observed.results),
        "items_failed": len(case.observed.failures),
    }
    for name, count in reported.items():
        if totals[name][0] != count:
            what = "results" if name == "items_processed" else "failures"
            problems.append(f"stats: {name} is {totals[name][0]} but {count} {what} were reported")
    for name, (got, wanted) in totals.items():
        if got != wanted:
            problems.append(f"stats: {name} is {got}, expected {wanted}")
    for index, counts in enumerate(expected.stage_counts):
        name = stage_name(index)
        stage = stats.stage_stats.get(name)
        if stage is None:
            problems.append(f"stats: no stage_stats for stage {name}")
            continue
        pairs = {
            "completed_items": (stage.completed_items, counts.completed),
            "failed_items": (stage.failed_items, counts.failed),
            "skipped_items": (stage.skipped_items, counts.skipped),
            "retried_items": (stage.retried_items, counts.retried),
            "expanded_items": (stage.expanded_items, counts.expanded),
            "spawned_items": (stage.spawned_items, counts.spawned),
            "pending_items": (stage.pending_items, 0),
            "in_progress_items": (stage.in_progress_items, 0),
        }
        for field, (got, wanted) in pairs.items():
            if got != wanted:
                problems.append(f"stats: stage {name} {field} is {got}, expected {wanted}")
    return problems


RATE_SLACK: Final = 0.5
"""How much of a period `check_rate_limits` forgives: a call's start is measured when its
task begins to run, a little after the runtime let it start (a thread may take
milliseconds to pick a plain function up), so the ``k``-th and the ``(k + calls)``-th
measured starts must be at least ``period * RATE_SLACK`` apart. A runtime that ignores the
limit starts them microseconds apart; a leaky bucket, ``period / calls`` apart."""


def check_rate_limits(case: Case) -> list[str]:
    """No window of a stage's ``call_rate_period`` saw more than its ``call_rate`` calls start."""
    if not case.supports.rate_limits:
        return []
    problems: list[str] = []
    for index, spec in enumerate(case.trial.scenario.stages):
        if spec.call_rate is None:
            continue
        calls, period = spec.call_rate
        times = case.trial.probe.call_times(index)
        for k in range(len(times) - calls):
            gap = times[k + calls] - times[k]
            if gap < period * RATE_SLACK:
                problems.append(
                    f"stage {stage_name(index)} started {calls + 1} calls within {gap:.4f}s "
                    f"(calls {k + 1} to {k + calls + 1}), but its call_rate allows {calls} "
                    f"per {period}s"
                )
                break
    return problems


DEFAULT_CHECKS: Final[tuple[Check, ...]] = (
    check_exactly_once,
    check_outcomes,
    check_calls,
    check_priorities,
    check_result_order,
    check_stats,
    check_rate_limits,
)
"""The checks the harness runs unless told otherwise."""
