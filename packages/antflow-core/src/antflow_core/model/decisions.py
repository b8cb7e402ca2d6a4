"""The decisions: what happens to an item after a task fails and after a stage ends.

Two tables decide everything a worker does besides calling tasks.

**Retry** (`decide_retry`), after a task call raised ``error``:

| retry       | error is retryable | attempts left                      | decision      |
|-------------|--------------------|------------------------------------|---------------|
| per_task    | yes                | task_attempt < task_attempts       | `RetryTask`   |
| per_stage   | yes                | stage_attempt < stage_attempts     | `RequeueItem` |
| either      | yes                | none                               | `GiveUp`      |
| either      | no                 | any                                | `GiveUp`      |

Whether an error is retryable is the stage's `RetryPolicy` (``stage.retry_policy``, see
`antflow_core.model.retries`): an `Exception` is, unless it is a `PermanentError`, is not
an instance of the stage's ``retry_on`` or fails its ``retry_if``; a `BaseException` that
is not an Exception (such as ``SystemExit`` raised by user code) never is. An error that
is not retryable fails the item at once. How long to wait (``wait_seconds``) is the
policy's too: fixed or exponential, capped, jittered by a random draw that the runtime
passes in (``draw``). The retry decision is a `returns` Result:
``Success(RetryTask | RequeueItem)`` or ``Failure(GiveUp)``.

When a task has failed for good at its own level (``per_task``: its attempts are used;
``per_stage``: its one call failed), `decide_stage_failure` says what the stage does:
re-queue the item (`RequeueItem`) or fail it (`GiveUp`, with the attempts to report). A
``skip_if`` that raises fails the item at once, never retried (`skip_check_failed`).
Events count attempts as the strategy does (`call_attempt`): the call's number with
``per_task``, the stage attempt with ``per_stage``.

**Routing** (`route`), after a stage ends for an item:

| stage outcome | last stage? | destination  |
|---------------|-------------|--------------|
| completed     | no          | next stage   |
| completed     | yes         | result       |
| skipped       | no          | next stage   |
| skipped       | yes         | result       |
| failed        | either      | failure      |

`plan_pipeline` compiles stages into a `PipelinePlan` once, so a runtime's hot path
reads precomputed fields (``next_index``, capacities, task flags) instead of deciding
again for every item.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, TypeAlias

from returns.result import Failure, Success

from antflow_core.errors import PermanentError, UnknownStageError
from antflow_core.model.limits import RateLimit
from antflow_core.model.protocols import PipelineObserver
from antflow_core.model.retries import GiveUp, RetryTask
from antflow_core.model.stage import (
    Stage,
    effective_queue_capacity,
    is_async_callable,
    task_name,
    validate_stages,
)

__all__ = [
    "ROUTING_TABLE",
    "Destination",
    "GiveUp",
    "PipelinePlan",
    "RequeueItem",
    "RetryDecision",
    "RetryTask",
    "StageOutcome",
    "StagePlan",
    "call_attempt",
    "decide_retry",
    "decide_stage_failure",
    "is_retryable",
    "plan_pipeline",
    "resolve_stage",
    "route",
    "skip_check_failed",
    "stage_failure",
    "validate_pipeline_options",
    "worker_name",
]


@dataclass(frozen=True, slots=True)
class RequeueItem:
    """Put the item back at the start of the stage (``per_stage``).

    Attributes:
        attempt: The stage attempt the re-queued entry is for, from 2.
        wait_seconds: How long to wait before re-queuing.
    """

    attempt: int
    wait_seconds: float


RetryDecision: TypeAlias = Success[RetryTask | RequeueItem] | Failure[GiveUp]
"""``Success(RetryTask | RequeueItem)`` to try again, ``Failure(GiveUp)`` to stop.

A `returns` Result, written as the union of its two cases so that a ``match`` with a
``case`` for each is exhaustive to a type checker."""


def is_retryable(error: BaseException) -> bool:
    """Tell whether ``error`` may ever be retried.

    Any `Exception` may, except a `PermanentError`; other BaseExceptions never are. A
    stage's ``retry_on`` and ``retry_if`` narrow this further (`RetryPolicy.refusal`).
    """
    return isinstance(error, Exception) and not isinstance(error, PermanentError)


def decide_retry(
    stage: Stage,
    *,
    task_attempt: int,
    stage_attempt: int,
    error: BaseException,
    draw: float = 0.0,
) -> RetryDecision:
    """Decide what follows a failed task call (the retry table in this module's docstring).

    Args:
        stage: The stage the call belongs to.
        task_attempt: The number of the call that failed, from 1 (per task).
        stage_attempt: The stage attempt the item is on, from 1.
        error: What the call raised.
        draw: A random number in ``[0, 1)`` for the wait's jitter, drawn by the runtime
            (the model draws none); it matters only when the stage has jitter.
    """
    per_task = stage.retry == "per_task"
    made = task_attempt if per_task else stage_attempt
    policy = stage.retry_policy
    refused = policy.refusal(error)
    if refused is not None:
        return Failure(GiveUp(made, refused.reason, refused.error))
    if per_task:
        if task_attempt < stage.task_attempts:
            return Success(RetryTask(task_attempt + 1, policy.wait(task_attempt, draw)))
        return Failure(GiveUp(made, f"{task_attempt} of {stage.task_attempts} task attempts used"))
    if stage_attempt < stage.stage_attempts:
        return Success(RequeueItem(stage_attempt + 1, policy.wait(stage_attempt, draw)))
    return Failure(GiveUp(made, f"{stage_attempt} of {stage.stage_attempts} stage attempts used"))


def decide_stage_failure(
    stage: Stage,
    *,
    task_attempts: int,
    stage_attempt: int,
    error: BaseException,
    draw: float = 0.0,
) -> Success[RequeueItem] | Failure[GiveUp]:
    """Decide what the stage does when one of its tasks failed for good.

    "For good" means at the task's own level: with ``per_task`` its ``task_attempts`` are
    used (or the error is not retryable); with ``per_stage`` its one call failed.

    Args:
        stage: The stage.
        task_attempts: How many times the task was called for this stage attempt.
        stage_attempt: The stage attempt the item is on, from 1.
        error: What the last call raised.
        draw: A random number in ``[0, 1)`` for the wait's jitter (see `decide_retry`).

    Returns:
        ``Success(RequeueItem)`` to put the item back at the start of the stage
        (``per_stage``, attempts left), or ``Failure(GiveUp)`` whose ``attempts`` is what
        the `FailedItem` reports: task calls with ``per_task``, stage attempts with
        ``per_stage``.
    """
    decision = decide_retry(
        stage, task_attempt=task_attempts, stage_attempt=stage_attempt, error=error, draw=draw
    )
    return stage_failure(decision, task_attempts=task_attempts)


def stage_failure(
    decision: RetryDecision, *, task_attempts: int
) -> Success[RequeueItem] | Failure[GiveUp]:
    """What the stage does, given the retry decision on the last failed call of a task.

    `decide_stage_failure` is this applied to `decide_retry`; a runtime that already holds
    the decision on the last call (it decided whether to call again) passes it here instead
    of deciding again, so a stage's ``retry_if`` is asked once per failed call.
    """
    if isinstance(decision, Failure):
        return Failure(decision.failure())
    chosen = decision.unwrap()
    if isinstance(chosen, RequeueItem):
        return Success(chosen)
    # RetryTask: the runtime stopped calling the task while the table allowed another
    # call; the calls it made are the attempts.
    return Failure(GiveUp(task_attempts, f"the task's calls ended after {task_attempts}"))


def skip_check_failed(error: BaseException, *, stage_attempt: int) -> GiveUp:
    """Decide what follows when a stage's ``skip_if`` raised: the item fails, never retried.

    A predicate that raises says nothing about the item's tasks, so no retry strategy
    applies; the `FailedItem` reports the stage attempt the item was on.
    """
    return GiveUp(stage_attempt, f"skip_if raised {type(error).__name__}")


def call_attempt(stage: Stage, *, task_attempt: int, stage_attempt: int) -> int:
    """Return the attempt number events report for a task call.

    ``per_task`` counts the calls of the task (``task_attempt``, from 1); ``per_stage``
    counts the stage attempts (``stage_attempt``), since each one calls the task once.
    """
    return task_attempt if stage.retry == "per_task" else stage_attempt


class StageOutcome(enum.Enum):
    """How a stage ended for an item."""

    COMPLETED = "completed"
    SKIPPED = "skipped"
    FAILED = "failed"


class Destination(enum.Enum):
    """Where an item goes after a stage."""

    NEXT_STAGE = "next_stage"
    RESULT = "result"
    FAILURE = "failure"


ROUTING_TABLE: Final[Mapping[tuple[StageOutcome, bool], Destination]] = MappingProxyType(
    {
        # (outcome, is the last stage) -> destination
        (StageOutcome.COMPLETED, False): Destination.NEXT_STAGE,
        (StageOutcome.COMPLETED, True): Destination.RESULT,
        (StageOutcome.SKIPPED, False): Destination.NEXT_STAGE,
        (StageOutcome.SKIPPED, True): Destination.RESULT,
        (StageOutcome.FAILED, False): Destination.FAILURE,
        (StageOutcome.FAILED, True): Destination.FAILURE,
    }
)
"""The routing table in this module's docstring, as data."""


def route(outcome: StageOutcome, stage_index: int, stage_count: int) -> Destination:
    """Return where an item goes when stage ``stage_index`` (of ``stage_count``) ends so."""
    return ROUTING_TABLE[(outcome, stage_index == stage_count - 1)]


def worker_name(stage_name: str, worker_id: int) -> str:
    """Return the name of worker ``worker_id`` of a stage: ``"Fetch-W0"``."""
    return f"{stage_name}-W{worker_id}"


@dataclass(frozen=True, slots=True)
class StagePlan:
    """A stage compiled for execution: everything a worker reads, decided once.

    Attributes:
        index: Position of the stage in the pipeline.
        stage: The stage itself.
        capacity: Its input queue's capacity; 0 means unbounded.
        next_index: The stage completed or skipped items go to; None when results leave here.
        task_names: Name of each task.
        task_is_async: Whether each task is a coroutine function (others run in threads).
        task_limits: The concurrency limit of each task, None where it has none.
        worker_names: Name of each worker, index = worker id.
        pull: Whether the stage is a pull stage: no queue, an item is handed to a free
            worker (``capacity`` is then its workers).
        call_rate: The rate limit over every task call of the stage, or None.
        task_rates: The rate limit of each task (by its name), None where it has none.
        call_concurrency: The most task calls of the stage at once, or None.
    """

    index: int
    stage: Stage
    capacity: int
    next_index: int | None
    task_names: tuple[str, ...]
    task_is_async: tuple[bool, ...]
    task_limits: tuple[int | None, ...]
    worker_names: tuple[str, ...]
    pull: bool = False
    call_rate: RateLimit | None = None
    task_rates: tuple[RateLimit | None, ...] = ()
    call_concurrency: int | None = None

    @property
    def limits_calls(self) -> bool:
        """Whether any rate limit or ``call_concurrency`` applies to the stage's calls."""
        return (
            self.call_rate is not None
            or self.call_concurrency is not None
            or any(rate is not None for rate in self.task_rates)
        )

    @property
    def name(self) -> str:
        """The stage's name."""
        return self.stage.name


@dataclass(frozen=True, slots=True)
class PipelinePlan:
    """The compiled form of a pipeline's stages, in order."""

    stages: tuple[StagePlan, ...]

    @property
    def stage_names(self) -> tuple[str, ...]:
        """The stage names, in order."""
        return tuple(p.name for p in self.stages)


def plan_pipeline(stages: Iterable[object]) -> PipelinePlan:
    """Validate ``stages`` and compile them into a `PipelinePlan`.

    Raises:
        StageValidationError: If the list is empty, holds a non-Stage or repeats a name.
    """
    checked = validate_stages(stages)
    count = len(checked)
    plans = []
    for index, stage in enumerate(checked):
        names = tuple(task_name(t) for t in stage.tasks)
        limits = stage.task_concurrency_limits or {}
        rates = stage.task_rate_limits or {}
        next_destination = route(StageOutcome.COMPLETED, index, count)
        plans.append(
            StagePlan(
                index=index,
                stage=stage,
                capacity=effective_queue_capacity(stage),
                next_index=index + 1 if next_destination is Destination.NEXT_STAGE else None,
                task_names=names,
                task_is_async=tuple(is_async_callable(t) for t in stage.tasks),
                task_limits=tuple(limits.get(name) for name in names),
                worker_names=tuple(worker_name(stage.name, i) for i in range(stage.workers)),
                pull=stage.pull,
                call_rate=stage.call_rate_limit,
                task_rates=tuple(_rate_of(rates.get(name)) for name in names),
                call_concurrency=stage.call_concurrency,
            )
        )
    return PipelinePlan(tuple(plans))


def _rate_of(value: object) -> RateLimit | None:
    # Stage normalized every (calls, period) pair into a RateLimit when it was built.
    return value if isinstance(value, RateLimit) else None


def resolve_stage(plan: PipelinePlan, name: str) -> Success[int] | Failure[UnknownStageError]:
    """Return the index of the stage called ``name``, or an error listing the valid names."""
    for stage_plan in plan.stages:
        if stage_plan.name == name:
            return Success(stage_plan.index)
    valid = ", ".join(repr(n) for n in plan.stage_names)
    return Failure(UnknownStageError(f"stage {name!r} not found; the stages are: {valid}"))


def validate_pipeline_options(
    *, collect_results: object, status_tracker: object, callback_timeout: object
) -> None:
    """Check the options a pipeline is constructed with (besides its stages).

    Raises:
        TypeError: If ``collect_results`` is not a bool, or ``status_tracker`` does not
            implement `PipelineObserver`.
        ValueError: If ``callback_timeout`` is neither None nor a finite number of
            seconds > 0.
    """
    if callback_timeout is not None and (
        isinstance(callback_timeout, bool)
        or not isinstance(callback_timeout, int | float)
        or not math.isfinite(callback_timeout)
        or callback_timeout <= 0
    ):
        raise ValueError(
            "callback_timeout must be None (no limit) or a finite number of seconds > 0, "
            f"got {callback_timeout!r}"
        )
    if status_tracker is not None and not isinstance(status_tracker, PipelineObserver):
        raise TypeError(
            "status_tracker must implement on_status_event, on_task_event and "
            f"on_item_finished (e.g. antflow.StatusTracker), got {status_tracker!r}"
        )
    if not isinstance(collect_results, bool):
        raise TypeError(f"collect_results must be True or False, got {collect_results!r}")
