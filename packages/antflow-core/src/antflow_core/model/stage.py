"""`Stage`: the configuration of one processing step, validated at construction.

A stage is pure data: a name, a pool size, the tasks each item goes through in
order, and the policies (retry, limits, callbacks, queue capacity) the runtime
applies. Constructing one checks every field and raises
[`StageValidationError`][antflow_core.errors.StageValidationError] that lists each problem and
how to fix it, so a mistake surfaces where it was written, not minutes into a run.

Callbacks come in two forms (``(payload)``, or antflow 0.10's ``(item_id, value,
metadata)``), decided once per callback when the stage is built, never per call: see
`antflow_core.model.callables`. The checks themselves are in
`antflow_core.model.stage_checks`; this module keeps the class, its typed signatures,
and the check of a pipeline's list of stages (`validate_stages`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import FrozenInstanceError, dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, overload

from typing_extensions import TypeVar

from antflow_core.errors import StageValidationError
from antflow_core.model.callables import (
    CallbackForm,
    FailureCallback,
    OnFailure,
    OnSkip,
    OnSuccess,
    SkipCallback,
    SkipPredicate,
    SuccessCallback,
    TaskFunc,
    call_with_failure,
    call_with_payload,
    callback_form,
    is_async_callable,
    is_async_generator_callable,
    task_name,
)
from antflow_core.model.items import InT, OutT
from antflow_core.model.limits import RateLimit
from antflow_core.model.retries import (
    RETRY_STRATEGIES,
    Backoff,
    RetryOn,
    RetryPolicy,
    RetryPredicate,
    RetryStrategy,
)
from antflow_core.model.stage_checks import (
    CALLBACKS,
    as_rate_limit,
    format_problems,
    stage_problems,
)

__all__ = [
    "DEFAULT_PRIORITY",
    "RETRY_STRATEGIES",
    "CallbackForm",
    "FailureCallback",
    "OnFailure",
    "OnSkip",
    "OnSuccess",
    "RetryStrategy",
    "SkipCallback",
    "SkipPredicate",
    "Stage",
    "SuccessCallback",
    "TaskFunc",
    "call_with_failure",
    "call_with_payload",
    "callback_form",
    "default_queue_capacity",
    "effective_queue_capacity",
    "is_async_callable",
    "is_async_generator_callable",
    "stage_problems",
    "task_name",
    "validate_stages",
]

_A = TypeVar("_A")  # a stage's input, in Stage's typed signatures
_B = TypeVar("_B")  # a stage's output

DEFAULT_PRIORITY: Final = 100
"""The priority of an item fed without one; lower numbers are processed first."""


def default_queue_capacity(workers: int) -> int:
    """Return the input-queue capacity a stage gets when it sets none: ``max(1, workers * 10)``."""
    return max(1, workers * 10)


def effective_queue_capacity(stage: Stage) -> int:
    """Return the capacity of ``stage``'s input queue; ``0`` means unbounded.

    A pull stage has no queue: items are handed to its free workers, so at most its
    ``workers`` are handed over at once, and that is its capacity.
    """
    if stage.pull:
        return stage.workers
    if stage.queue_capacity is None:
        return default_queue_capacity(stage.workers)
    return stage.queue_capacity


@dataclass(frozen=True, slots=True)
class Stage(Generic[InT, OutT]):
    """One step of a pipeline: a pool of ``workers`` that run ``tasks`` in order on each item.

    For a type checker a stage is ``Stage[InT, OutT]``: what its tasks take and what they
    return, inferred from ``tasks`` when they are a list of one task (or of tasks of one
    type); an ``async def`` task's output is what its coroutine returns. With ``skip_if``
    a skipped item leaves unchanged, so the output is ``InT | OutT``. Tasks of different
    types in one list, ``unpack_args=True``, ``fan_out=True`` or ``batch_size`` give
    ``Stage[Any, Any]`` (the builder's ``add()`` types fan-out and batch stages of one
    task). The types are annotations only: at run time a stage is the same object
    whatever they are.

    Args:
        name: Unique name of the stage, used in events, stats and ``target_stage``.
        workers: How many items the stage processes at once (at least 1).
        tasks: The functions each item goes through, in order; each gets the previous one's
            return value. ``async def`` functions run on the event loop, plain functions in
            a worker thread.
        retry: ``"per_task"`` retries a failing task in place up to ``task_attempts`` times;
            ``"per_stage"`` re-queues the item at the first task up to ``stage_attempts`` times.
        task_attempts: Attempts per task with ``retry="per_task"`` (1 means no retry).
        stage_attempts: Attempts of the whole stage with ``retry="per_stage"``.
        task_wait_seconds: Seconds to wait before each retry; with
            ``backoff="exponential"``, before the first retry (later waits double).
        task_concurrency_limits: Maximum concurrent calls of named tasks, for example
            ``{"upload": 2}`` with ``workers=50``; keys are task names (see `task_name`).
        unpack_args: Call the first task with ``*value`` when the value is a tuple or a list,
            or ``**value`` when it is a mapping.
        on_success: Called when an item completes the stage, as ``on_success(item_id, result,
            metadata)`` (antflow 0.10's form) or ``on_success(payload)`` with the item's
            `Payload` (the stage's output as ``value``); which one is decided from its
            signature here (see `callback_form`). May be ``async``. Errors it raises are
            logged.
        on_failure: Called when the item fails the stage for good, as ``on_failure(item_id,
            error, metadata)`` or ``on_failure(failed_item)`` with the `FailedItem`. May be
            ``async``. Errors it raises are logged.
        skip_if: Predicate on the item's value; when it returns true the item skips the stage
            entirely (its status goes from ``queued`` to ``skipped``, ``on_success`` is not
            called) and moves on unchanged. It may be ``async``: then the pipeline's
            ``callback_timeout`` bounds it, and one that takes longer fails the item.
        queue_capacity: Size of the stage's input queue. ``None`` gives
            ``max(1, workers * 10)``; ``0`` means unbounded. A full queue blocks the stage
            before it (or ``feed()``), which is how backpressure travels upstream.
        task_timeout: Seconds one task call may take; a call that takes longer fails with
            `TaskTimeoutError` and is retried like any other failure. ``None`` for no limit.
        on_skip: Called when ``skip_if`` skips an item, as ``on_skip(item_id, value,
            metadata)`` or ``on_skip(payload)``. May be ``async``. Errors it raises are
            logged.
        call_rate: At most this many task calls of the stage start in any window of
            ``call_rate_period`` seconds, across all its workers (retries count); ``None``
            for no rate limit. A worker whose call would exceed it waits, holding its item.
        call_rate_period: The window of ``call_rate``, in seconds (default 1.0: "per
            second"; 60 for "per minute").
        task_rate_limits: The same per task name: ``{"upload": RateLimit(10, 1.0)}`` or
            ``{"upload": (10, 1.0)}`` (calls, period in seconds); keys are task names (see
            `task_name`). A call of a task named here counts against both its own limit and
            ``call_rate``.
        call_concurrency: At most this many task calls of the stage run at once, across its
            workers; ``None`` for no limit beyond ``workers``. Applies to every task, where
            ``task_concurrency_limits`` applies to named tasks.
        pull: A pull stage has no queue: an item enters it only when one of its workers is
            free to take it, so the worker of the stage before it (or ``feed()``) waits,
            holding the item, until then. At most ``workers`` items are ever inside the
            stage. The first stage cannot be a pull stage, and a pull stage has no
            ``queue_capacity``.
        retry_on: Retry only these exception types, e.g. ``(TimeoutError,
            ConnectionError)`` (one class is accepted too); any other error fails the item
            at once, after one attempt, with its own error. None (the default) retries
            every `Exception`. A task can always give up at once by raising
            `PermanentError`.
        retry_if: Retry only errors for which ``retry_if(error)`` is true, e.g. ``lambda
            exc: exc.status >= 500``; with ``retry_on`` too, an error must pass both.
        backoff: ``"fixed"`` waits ``task_wait_seconds`` before every retry;
            ``"exponential"`` doubles the wait after each failed attempt (1, 2, 4, 8...
            times ``task_wait_seconds``).
        max_wait_seconds: The longest wait between two attempts (None: no cap).
        jitter: The fraction of each wait that is random, from 0 to 1 (a wait ``w``
            becomes anywhere between ``w * (1 - jitter)`` and ``w``), so that items that
            failed together do not retry together. None: 0 with ``"fixed"``, 0.5 with
            ``"exponential"``.
        fan_out: The stage's (last) task returns an iterable or async iterable, and each
            of its elements goes on as an item of its own (its id is ``(parent_id, n)``);
            the item itself ends there, as *expanded*. See the fan-out guide.
        batch_size: Call the stage's tasks with a list of up to this many values at once
            (one call per batch); each task returns one result per value, in order. None
            (the default): one value per call.
        batch_timeout: With ``batch_size``, call the tasks with a partial batch once its
            first item has waited this many seconds. None: wait until the batch is full
            or the input has ended.

    Attributes:
        on_success_form: How ``on_success`` is called (None without one), decided at
            construction by `callback_form`.
        on_failure_form: How ``on_failure`` is called.
        on_skip_form: How ``on_skip`` is called.
        retry_policy: The stage's retry settings as one `RetryPolicy` (its ``attempts``
            are ``task_attempts`` with ``"per_task"``, ``stage_attempts`` with
            ``"per_stage"``), built at construction.

    Raises:
        StageValidationError: If any field is invalid; the message says what to change.

    Example:
        ```python
        Stage("Upload", workers=2, tasks=[upload])
        Stage(name="Fetch", workers=10, tasks=[fetch], retry="per_task", task_attempts=5)
        Stage("Ask", workers=20, tasks=[ask_llm], call_rate=500, call_rate_period=60)
        Stage("Poll", workers=50, tasks=[poll_until_done], pull=True)
        Stage("Call", tasks=[call_api], retry_on=(TimeoutError, ConnectionError),
              backoff="exponential", max_wait_seconds=30)
        ```
    """

    name: str
    workers: int = 1
    tasks: Sequence[TaskFunc] = field(default=())
    retry: RetryStrategy = "per_task"
    task_attempts: int = 3
    stage_attempts: int = 3
    task_wait_seconds: float = 1.0
    task_concurrency_limits: Mapping[str, int] | None = None
    unpack_args: bool = False
    on_success: SuccessCallback | None = None
    on_failure: FailureCallback | None = None
    skip_if: SkipPredicate | None = None
    queue_capacity: int | None = None
    task_timeout: float | None = None
    on_skip: SkipCallback | None = None
    call_rate: int | None = None
    call_rate_period: float = 1.0
    task_rate_limits: Mapping[str, RateLimit | tuple[int, float]] | None = None
    call_concurrency: int | None = None
    pull: bool = False
    retry_on: RetryOn | None = None
    retry_if: RetryPredicate | None = None
    backoff: Backoff = "fixed"
    max_wait_seconds: float | None = None
    jitter: float | None = None
    fan_out: bool = False
    batch_size: int | None = None
    batch_timeout: float | None = None
    on_success_form: CallbackForm | None = field(
        init=False, default=None, repr=False, compare=False
    )
    on_failure_form: CallbackForm | None = field(
        init=False, default=None, repr=False, compare=False
    )
    on_skip_form: CallbackForm | None = field(init=False, default=None, repr=False, compare=False)
    retry_policy: RetryPolicy = field(init=False, default=RetryPolicy(), repr=False, compare=False)

    if TYPE_CHECKING:  # typed signatures; at run time the dataclass's own __init__ is used
        # Keep in step with the fields above (tests/core/test_stage_typing.py checks it).

        @overload
        def __init__(
            self: Stage[_A, _B],
            name: str,
            workers: int = 1,
            tasks: Sequence[Callable[[_A], Awaitable[_B]]] = (),
            retry: RetryStrategy = "per_task",
            task_attempts: int = 3,
            stage_attempts: int = 3,
            task_wait_seconds: float = 1.0,
            task_concurrency_limits: Mapping[str, int] | None = None,
            unpack_args: Literal[False] = False,
            on_success: OnSuccess[_B] | None = None,
            on_failure: OnFailure[_A] | None = None,
            skip_if: None = None,
            queue_capacity: int | None = None,
            task_timeout: float | None = None,
            on_skip: None = None,
            call_rate: int | None = None,
            call_rate_period: float = 1.0,
            task_rate_limits: Mapping[str, RateLimit | tuple[int, float]] | None = None,
            call_concurrency: int | None = None,
            pull: bool = False,
            retry_on: RetryOn | None = None,
            retry_if: RetryPredicate | None = None,
            backoff: Backoff = "fixed",
            max_wait_seconds: float | None = None,
            jitter: float | None = None,
            fan_out: Literal[False] = False,
            batch_size: None = None,
            batch_timeout: float | None = None,
        ) -> None: ...

        @overload
        def __init__(
            self: Stage[_A, _B],
            name: str,
            workers: int = 1,
            tasks: Sequence[Callable[[_A], _B]] = (),
            retry: RetryStrategy = "per_task",
            task_attempts: int = 3,
            stage_attempts: int = 3,
            task_wait_seconds: float = 1.0,
            task_concurrency_limits: Mapping[str, int] | None = None,
            unpack_args: Literal[False] = False,
            on_success: OnSuccess[_B] | None = None,
            on_failure: OnFailure[_A] | None = None,
            skip_if: None = None,
            queue_capacity: int | None = None,
            task_timeout: float | None = None,
            on_skip: None = None,
            call_rate: int | None = None,
            call_rate_period: float = 1.0,
            task_rate_limits: Mapping[str, RateLimit | tuple[int, float]] | None = None,
            call_concurrency: int | None = None,
            pull: bool = False,
            retry_on: RetryOn | None = None,
            retry_if: RetryPredicate | None = None,
            backoff: Backoff = "fixed",
            max_wait_seconds: float | None = None,
            jitter: float | None = None,
            fan_out: Literal[False] = False,
            batch_size: None = None,
            batch_timeout: float | None = None,
        ) -> None: ...

        @overload
        def __init__(
            self: Stage[_A, _A | _B],
            name: str,
            workers: int = 1,
            tasks: Sequence[Callable[[_A], Awaitable[_B]]] = (),
            retry: RetryStrategy = "per_task",
            task_attempts: int = 3,
            stage_attempts: int = 3,
            task_wait_seconds: float = 1.0,
            task_concurrency_limits: Mapping[str, int] | None = None,
            unpack_args: Literal[False] = False,
            on_success: OnSuccess[_B] | None = None,
            on_failure: OnFailure[_A] | None = None,
            skip_if: Callable[[_A], object] = ...,
            queue_capacity: int | None = None,
            task_timeout: float | None = None,
            on_skip: OnSkip[_A] | None = None,
            call_rate: int | None = None,
            call_rate_period: float = 1.0,
            task_rate_limits: Mapping[str, RateLimit | tuple[int, float]] | None = None,
            call_concurrency: int | None = None,
            pull: bool = False,
            retry_on: RetryOn | None = None,
            retry_if: RetryPredicate | None = None,
            backoff: Backoff = "fixed",
            max_wait_seconds: float | None = None,
            jitter: float | None = None,
            fan_out: Literal[False] = False,
            batch_size: None = None,
            batch_timeout: float | None = None,
        ) -> None: ...

        @overload
        def __init__(
            self: Stage[_A, _A | _B],
            name: str,
            workers: int = 1,
            tasks: Sequence[Callable[[_A], _B]] = (),
            retry: RetryStrategy = "per_task",
            task_attempts: int = 3,
            stage_attempts: int = 3,
            task_wait_seconds: float = 1.0,
            task_concurrency_limits: Mapping[str, int] | None = None,
            unpack_args: Literal[False] = False,
            on_success: OnSuccess[_B] | None = None,
            on_failure: OnFailure[_A] | None = None,
            skip_if: Callable[[_A], object] = ...,
            queue_capacity: int | None = None,
            task_timeout: float | None = None,
            on_skip: OnSkip[_A] | None = None,
            call_rate: int | None = None,
            call_rate_period: float = 1.0,
            task_rate_limits: Mapping[str, RateLimit | tuple[int, float]] | None = None,
            call_concurrency: int | None = None,
            pull: bool = False,
            retry_on: RetryOn | None = None,
            retry_if: RetryPredicate | None = None,
            backoff: Backoff = "fixed",
            max_wait_seconds: float | None = None,
            jitter: float | None = None,
            fan_out: Literal[False] = False,
            batch_size: None = None,
            batch_timeout: float | None = None,
        ) -> None: ...

        @overload
        def __init__(
            self: Stage[Any, Any],
            name: str,
            workers: int = 1,
            tasks: Sequence[TaskFunc] = (),
            retry: RetryStrategy = "per_task",
            task_attempts: int = 3,
            stage_attempts: int = 3,
            task_wait_seconds: float = 1.0,
            task_concurrency_limits: Mapping[str, int] | None = None,
            unpack_args: bool = False,
            on_success: SuccessCallback | None = None,
            on_failure: FailureCallback | None = None,
            skip_if: SkipPredicate | None = None,
            queue_capacity: int | None = None,
            task_timeout: float | None = None,
            on_skip: SkipCallback | None = None,
            call_rate: int | None = None,
            call_rate_period: float = 1.0,
            task_rate_limits: Mapping[str, RateLimit | tuple[int, float]] | None = None,
            call_concurrency: int | None = None,
            pull: bool = False,
            retry_on: RetryOn | None = None,
            retry_if: RetryPredicate | None = None,
            backoff: Backoff = "fixed",
            max_wait_seconds: float | None = None,
            jitter: float | None = None,
            fan_out: bool = False,
            batch_size: int | None = None,
            batch_timeout: float | None = None,
        ) -> None: ...

        def __init__(
            self,
            name: str,
            workers: int = 1,
            tasks: Sequence[TaskFunc] = (),
            retry: RetryStrategy = "per_task",
            task_attempts: int = 3,
            stage_attempts: int = 3,
            task_wait_seconds: float = 1.0,
            task_concurrency_limits: Mapping[str, int] | None = None,
            unpack_args: bool = False,
            on_success: SuccessCallback | None = None,
            on_failure: FailureCallback | None = None,
            skip_if: SkipPredicate | None = None,
            queue_capacity: int | None = None,
            task_timeout: float | None = None,
            on_skip: SkipCallback | None = None,
            call_rate: int | None = None,
            call_rate_period: float = 1.0,
            task_rate_limits: Mapping[str, RateLimit | tuple[int, float]] | None = None,
            call_concurrency: int | None = None,
            pull: bool = False,
            retry_on: RetryOn | None = None,
            retry_if: RetryPredicate | None = None,
            backoff: Backoff = "fixed",
            max_wait_seconds: float | None = None,
            jitter: float | None = None,
            fan_out: bool = False,
            batch_size: int | None = None,
            batch_timeout: float | None = None,
        ) -> None: ...

    def __post_init__(self) -> None:
        tasks = self.tasks
        if isinstance(tasks, Iterable) and not isinstance(tasks, str | bytes | Mapping):
            object.__setattr__(self, "tasks", tuple(tasks))
        elif callable(tasks):
            # Stage("S", tasks=fn): accepted with the same meaning as tasks=[fn].
            object.__setattr__(self, "tasks", (tasks,))
        limits = self.task_concurrency_limits
        if isinstance(limits, Mapping):
            object.__setattr__(self, "task_concurrency_limits", MappingProxyType(dict(limits)))
        rates = self.task_rate_limits
        if isinstance(rates, Mapping):
            # (calls, period) pairs become RateLimits; anything else is left for the checks.
            object.__setattr__(
                self,
                "task_rate_limits",
                MappingProxyType({name: as_rate_limit(v) for name, v in rates.items()}),
            )
        for attr in CALLBACKS:
            callback = getattr(self, attr)
            form = callback_form(callback) if callable(callback) else None
            object.__setattr__(self, f"{attr}_form", form)
        retry_on: object = self.retry_on
        if isinstance(retry_on, type):  # retry_on=TimeoutError: one class
            object.__setattr__(self, "retry_on", (retry_on,))
        elif isinstance(retry_on, list | set | frozenset):
            object.__setattr__(self, "retry_on", tuple(retry_on))
        problems = stage_problems(self)
        if problems:
            raise StageValidationError(format_problems(self, problems))
        per_task = self.retry == "per_task"
        policy = RetryPolicy(
            attempts=self.task_attempts if per_task else self.stage_attempts,
            wait_seconds=self.task_wait_seconds,
            backoff=self.backoff,
            max_wait_seconds=self.max_wait_seconds,
            jitter=self.jitter,
            retry_on=self.retry_on,
            retry_if=self.retry_if,
        )
        object.__setattr__(self, "retry_policy", policy)

    @property
    def task_names(self) -> tuple[str, ...]:
        """The names of this stage's tasks, in order (see `task_name`)."""
        return tuple(task_name(t) for t in self.tasks)

    @property
    def capacity(self) -> int:
        """The capacity of this stage's input queue; ``0`` means unbounded.

        A pull stage has no queue: its capacity is its ``workers``, the most items handed
        to it at once.
        """
        return effective_queue_capacity(self)

    @property
    def call_rate_limit(self) -> RateLimit | None:
        """``call_rate`` per ``call_rate_period`` as a `RateLimit`, None without ``call_rate``."""
        if self.call_rate is None:
            return None
        return RateLimit(self.call_rate, self.call_rate_period)


def _refuse_assignment(stage: Stage, name: str, value: object = None) -> None:
    raise FrozenInstanceError(
        f"cannot assign to field {name!r}: a Stage does not change once built (pipelines "
        f"may share it); make a changed copy with dataclasses.replace(stage, {name}=...)"
    )


def _refuse_deletion(stage: Stage, name: str) -> None:
    _refuse_assignment(stage, name)


# The frozen dataclass's own error says only "cannot assign to field"; say what to do.
setattr(Stage, "__setattr__", _refuse_assignment)  # noqa: B010 - not allowed in the body
setattr(Stage, "__delattr__", _refuse_deletion)  # noqa: B010


def validate_stages(stages: object) -> tuple[Stage, ...]:
    """Check a pipeline's list of stages and return it as a tuple.

    Raises:
        StageValidationError: If the list is empty, holds something that is not a
            `Stage`, repeats a stage name, or starts with a pull stage.
    """
    if isinstance(stages, Stage):
        raise StageValidationError(
            f"stages must be a list of Stage objects, got the single Stage {stages.name!r}: "
            "pass stages=[stage]"
        )
    if not isinstance(stages, Iterable) or isinstance(stages, str | bytes | Mapping):
        raise StageValidationError(
            f"stages must be a list of Stage objects, got {type(stages).__name__}"
        )
    result = tuple(stages)
    if not result:
        raise StageValidationError(
            "a pipeline needs at least one stage: "
            "pass stages=[Stage('Work', workers=1, tasks=[fn])]"
        )
    seen: set[str] = set()
    for index, stage in enumerate(result):
        if not isinstance(stage, Stage):
            raise StageValidationError(
                f"stages[{index}] is {stage!r} of type {type(stage).__name__}, not a Stage"
            )
        if stage.name in seen:
            raise StageValidationError(
                f"two stages are named {stage.name!r}: stage names must be unique, "
                "rename one of them"
            )
        seen.add(stage.name)
    first = result[0]
    if first.pull:
        raise StageValidationError(
            f"stage {first.name!r} is the first stage and a pull stage (pull=True), but a "
            "pull stage takes its items from the workers of the stage before it, and the "
            "first stage has none (feed() puts items into its queue): remove pull=True, or "
            "put another stage before it"
        )
    return result
