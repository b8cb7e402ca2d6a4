"""`Stage`: the configuration of one processing step, validated at construction.

A stage is pure data: a name, a pool size, the tasks each item goes through in
order, and the policies (retry, limits, callbacks, queue capacity) the runtime
applies. Constructing one checks every field and raises
[`StageValidationError`][antflow_core.errors.StageValidationError] that lists each problem and
how to fix it, so a mistake surfaces where it was written, not minutes into a run.

Callbacks come in two forms, decided once per callback when the stage is built
(`callback_form`), never per call:

| callback     | one argument (``ONE_ARGUMENT``)  | three arguments (``THREE_ARGUMENTS``, 0.10's) |
|--------------|----------------------------------|-----------------------------------------------|
| `on_success` | ``(payload)``, the stage's output | ``(item_id, result, metadata)``              |
| `on_failure` | ``(failed_item)``                 | ``(item_id, error, metadata)``               |
| `on_skip`    | ``(payload)``, unchanged          | ``(item_id, value, metadata)``               |

``metadata`` is a new dict of the item's metadata (the extra keys of a dict item, see
`Payload.metadata`). `call_with_payload` and `call_with_failure` turn a callback and its
form into the one-argument function a runtime calls.
"""

from __future__ import annotations

import enum
import functools
import inspect
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import FrozenInstanceError, dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeAlias, overload

from typing_extensions import TypeVar

from antflow_core.errors import StageValidationError
from antflow_core.model.batches import shape_problems
from antflow_core.model.items import InT, OutT
from antflow_core.model.limits import RateLimit, rate_limit_problems
from antflow_core.model.payload import Payload
from antflow_core.model.results import FailedItem
from antflow_core.model.retries import (
    Backoff,
    RetryOn,
    RetryPolicy,
    RetryPredicate,
    retry_policy_problems,
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

TaskFunc: TypeAlias = Callable[..., Any]
"""A task: an ``async def`` function (or any callable); plain functions run in a thread."""

SuccessCallback: TypeAlias = Callable[..., Any]
"""``on_success(payload)`` or ``on_success(item_id, result, metadata)``, sync or async."""

FailureCallback: TypeAlias = Callable[..., Any]
"""``on_failure(failed_item)`` or ``on_failure(item_id, error, metadata)``, sync or async."""

SkipCallback: TypeAlias = Callable[..., Any]
"""``on_skip(payload)`` or ``on_skip(item_id, value, metadata)``, sync or async."""

SkipPredicate: TypeAlias = Callable[[Any], Any]
"""``skip_if(value) -> bool``: when true the item passes the stage untouched."""

_T = TypeVar("_T", default=Any)
_A = TypeVar("_A")  # a stage's input, in Stage's typed signatures
_B = TypeVar("_B")  # a stage's output

OnSuccess: TypeAlias = Callable[[Payload[_T]], object] | Callable[[Any, _T, dict[str, Any]], object]
"""An ``on_success`` for a stage whose output is ``T``: ``(payload)`` or antflow 0.10's
``(item_id, result, metadata)``; plain or ``async``."""

OnSkip: TypeAlias = Callable[[Payload[_T]], object] | Callable[[Any, _T, dict[str, Any]], object]
"""An ``on_skip`` for a stage whose input is ``T``: ``(payload)`` or
``(item_id, value, metadata)``; plain or ``async``."""

OnFailure: TypeAlias = (
    Callable[[FailedItem[_T]], object] | Callable[[Any, Any, dict[str, Any]], object]
)
"""An ``on_failure`` for a stage whose input is ``T``: ``(failed_item)`` (a
``FailedItem[T]``) or antflow 0.10's ``(item_id, error, metadata)``; plain or ``async``."""

RetryStrategy: TypeAlias = Literal["per_task", "per_stage"]
"""``"per_task"``: retry the failing task in place; ``"per_stage"``: restart the stage."""

RETRY_STRATEGIES: Final[tuple[RetryStrategy, ...]] = ("per_task", "per_stage")
"""The accepted values of `Stage.retry`."""

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


def task_name(task: Callable[..., Any]) -> str:
    """Return the name a task is known by in events and in ``task_concurrency_limits``.

    A function or bound method gives its ``__name__``; a `functools.partial` the name of
    the function it wraps; any other callable object the name of its class.
    """
    while isinstance(task, functools.partial):
        task = task.func
    name = getattr(task, "__name__", None)
    if isinstance(name, str):
        return name
    return type(task).__name__


def is_async_callable(task: Callable[..., Any]) -> bool:
    """Tell whether calling ``task`` returns a coroutine (an ``async def`` function or method).

    Sees through `functools.partial` and callable objects whose ``__call__`` is async.
    Anything else is treated as a plain function, which the runtime runs in a thread.
    """
    while isinstance(task, functools.partial):
        task = task.func
    if inspect.iscoroutinefunction(task):
        return True
    call = getattr(type(task), "__call__", None)  # noqa: B004 - the class attribute, on purpose
    return call is not None and not inspect.isroutine(task) and inspect.iscoroutinefunction(call)


class CallbackForm(enum.Enum):
    """How a stage calls one of its callbacks (see the table in this module's docstring)."""

    ONE_ARGUMENT = "one_argument"
    """``callback(payload)`` or ``callback(failed_item)``."""
    THREE_ARGUMENTS = "three_arguments"
    """``callback(item_id, value_or_error, metadata)``: antflow 0.10's form."""


def _positional_range(callback: Callable[..., Any]) -> tuple[int, float] | None:
    """Return how many positional arguments ``callback`` needs and accepts at most.

    None if it has a required keyword-only parameter (no positional call can work);
    ``(0, inf)`` if its signature cannot be read.
    """
    try:
        signature = inspect.signature(callback)
    except (TypeError, ValueError):  # some builtins have no readable signature
        return (0, float("inf"))
    required = 0
    accepted: float = 0
    for parameter in signature.parameters.values():
        kind = parameter.kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            accepted = float("inf")
        elif kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            accepted += 1
            if parameter.default is inspect.Parameter.empty:
                required += 1
        elif (
            kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is inspect.Parameter.empty
        ):
            return None
    return (required, accepted)


def callback_form(callback: Callable[..., Any]) -> CallbackForm | None:
    """Decide how a stage callback is called, from its signature; None if it cannot be called.

    The rule: a callback that can be called with three positional arguments gets the
    three-argument form (antflow 0.10's, so a 0.10 program keeps working); otherwise one
    that can be called with one gets the one-argument form. A callback whose signature
    cannot be read (some builtins) gets the three-argument form.

    So ``def on_success(item_id, result, metadata)``, ``def on_success(item_id, *rest)``
    and ``lambda *args: ...`` get the 0.10 form; ``def on_success(payload)`` and
    ``def on_success(payload, *, verbose=False)`` the one-argument form. A callback that
    needs a keyword-only argument, or can take neither one nor three positional
    arguments, cannot be called (None), and `Stage` rejects it.
    """
    bounds = _positional_range(callback)
    if bounds is None:
        return None
    required, accepted = bounds
    if required <= 3 <= accepted:
        return CallbackForm.THREE_ARGUMENTS
    if required <= 1 <= accepted:
        return CallbackForm.ONE_ARGUMENT
    return None


def call_with_payload(
    callback: Callable[..., Any], form: CallbackForm
) -> Callable[[Payload[Any]], Any]:
    """Return a function of a `Payload` that calls ``callback`` in its ``form``.

    For ``on_success`` (the payload carries the stage's output) and ``on_skip``.
    """
    if form is CallbackForm.ONE_ARGUMENT:
        return callback

    def call(payload: Payload[Any]) -> Any:
        return callback(payload.id, payload.value, dict(payload.metadata))

    return call


def call_with_failure(
    callback: Callable[..., Any], form: CallbackForm
) -> Callable[[FailedItem], Any]:
    """Return a function of a `FailedItem` that calls an ``on_failure`` in its ``form``."""
    if form is CallbackForm.ONE_ARGUMENT:
        return callback

    def call(failed: FailedItem) -> Any:
        return callback(failed.id, failed.error, dict(failed.metadata))

    return call


def is_async_generator_callable(fn: Callable[..., Any]) -> bool:
    """Tell whether calling ``fn`` returns an async generator (an ``async def`` with ``yield``).

    Sees through `functools.partial` and callable objects, as `is_async_callable` does. Such
    a function runs nothing when called, so it cannot be a task or a callback.
    """
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.isasyncgenfunction(fn):
        return True
    call = getattr(type(fn), "__call__", None)  # noqa: B004 - the class attribute, on purpose
    return call is not None and not inspect.isroutine(fn) and inspect.isasyncgenfunction(call)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    """A finite int or float: NaN and infinities would make every comparison lie."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


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
                MappingProxyType({name: _as_rate_limit(v) for name, v in rates.items()}),
            )
        for attr in _CALLBACKS:
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
            raise StageValidationError(_format_problems(self, problems))
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


def _format_problems(stage: Stage, problems: Sequence[str]) -> str:
    label = f"Stage {stage.name!r}" if isinstance(stage.name, str) else "Stage"
    if len(problems) == 1:
        return f"{label}: {problems[0]}"
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"{label} has {len(problems)} problems:\n{lines}"


def stage_problems(stage: Stage) -> list[str]:
    """Return every problem with ``stage``'s fields, each saying what to change; empty when valid.

    `Stage` calls this at construction; a custom runtime may call it to validate
    stages it receives from elsewhere.
    """
    problems: list[str] = []
    if not isinstance(stage.name, str) or not stage.name.strip():
        problems.append(f"name must be a non-empty string, got {stage.name!r}")
    if not _is_int(stage.workers) or stage.workers < 1:
        problems.append(f"workers must be an integer of at least 1, got {stage.workers!r}")
    if not isinstance(stage.tasks, tuple):
        problems.append(
            f"tasks must be a list of functions, got {type(stage.tasks).__name__}: "
            "pass tasks=[my_task]"
        )
    elif not stage.tasks:
        problems.append("has no tasks: pass tasks=[my_task] with at least one function")
    else:
        for index, task in enumerate(stage.tasks):
            if not callable(task):
                problems.append(
                    f"tasks[{index}] is {task!r} of type {type(task).__name__}, which is not "
                    "callable: pass the function itself, e.g. tasks=[fetch], not tasks=[fetch()]"
                )
            elif is_async_generator_callable(task) and not (
                stage.fan_out is True and index == len(stage.tasks) - 1
            ):
                problems.append(
                    f"tasks[{index}] {task_name(task)!r} is an async generator function (an "
                    "`async def` with `yield`): a task returns its result instead of yielding "
                    "it; collect what it yields (`return [x async for x in ...]`) or replace "
                    "`yield` with `return`, or make it the last task of a fan_out=True "
                    "stage, whose yielded values each travel on as their own item"
                )
    if stage.retry not in RETRY_STRATEGIES:
        problems.append(
            f"unknown retry strategy {stage.retry!r}: use retry='per_task' or retry='per_stage'"
        )
    for attr in ("task_attempts", "stage_attempts"):
        value = getattr(stage, attr)
        if not _is_int(value) or value < 1:
            problems.append(
                f"{attr} must be an integer of at least 1 (1 means no retry), got {value!r}"
            )
    problems.extend(
        retry_policy_problems(
            attempts=1,  # task_attempts and stage_attempts are checked above
            wait_seconds=stage.task_wait_seconds,
            backoff=stage.backoff,
            max_wait_seconds=stage.max_wait_seconds,
            jitter=stage.jitter,
            retry_on=stage.retry_on,
            retry_if=stage.retry_if,
            wait_name="task_wait_seconds",
        )
    )
    problems.extend(
        shape_problems(
            fan_out=stage.fan_out,
            batch_size=stage.batch_size,
            batch_timeout=stage.batch_timeout,
            unpack_args=stage.unpack_args,
            pull=stage.pull,
        )
    )
    if stage.queue_capacity is not None and (
        not _is_int(stage.queue_capacity) or stage.queue_capacity < 0
    ):
        problems.append(
            f"queue_capacity must be None (default: workers * 10), 0 (unbounded) or a positive "
            f"integer, got {stage.queue_capacity!r}"
        )
    if stage.task_timeout is not None and (
        not _is_number(stage.task_timeout) or stage.task_timeout <= 0
    ):
        problems.append(
            "task_timeout must be None (no limit) or a finite number of seconds > 0, "
            f"got {stage.task_timeout!r}"
        )
    for attr in ("on_success", "on_failure", "on_skip", "skip_if"):
        value = getattr(stage, attr)
        if value is not None and not callable(value):
            problems.append(f"{attr} must be a function or None, got {value!r}")
        elif value is not None and is_async_generator_callable(value):
            problems.append(
                f"{attr} {task_name(value)!r} is an async generator function (an `async def` "
                "with `yield`), which runs nothing when called: use a function without `yield`"
            )
        elif attr in _CALLBACKS and value is not None and callback_form(value) is None:
            problems.append(
                f"{attr}={_callable_name(value)} cannot be called with the arguments it gets: "
                f"write it as {attr}({_CALLBACKS[attr]}) (antflow 0.10's form) or "
                f"{attr}({_SINGLE_ARGUMENT[attr]})"
            )
    unpack: object = stage.unpack_args
    if not isinstance(unpack, bool):
        problems.append(f"unpack_args must be True or False, got {unpack!r}")
    problems.extend(_limit_problems(stage))
    problems.extend(_flow_problems(stage))
    return problems


_CALLBACKS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "on_success": "item_id, result, metadata",
        "on_failure": "item_id, error, metadata",
        "on_skip": "item_id, value, metadata",
    }
)
_SINGLE_ARGUMENT: Final[Mapping[str, str]] = MappingProxyType(
    {"on_success": "payload", "on_failure": "failed_item", "on_skip": "payload"}
)


def _callable_name(callback: Callable[..., Any]) -> str:
    name = getattr(callback, "__qualname__", None)
    return name if isinstance(name, str) else repr(callback)


def _limit_problems(stage: Stage) -> list[str]:
    limits: object = stage.task_concurrency_limits
    if limits is None:
        return []
    if not isinstance(limits, Mapping):
        return [
            "task_concurrency_limits must be a dict of task name to limit, "
            f"e.g. {{'upload': 2}}, got {limits!r}"
        ]
    known = (
        [task_name(t) for t in stage.tasks if callable(t)] if isinstance(stage.tasks, tuple) else []
    )
    problems: list[str] = []
    for name, limit in limits.items():
        if name not in known:
            listed = ", ".join(repr(k) for k in known) or "none"
            problems.append(
                f"task_concurrency_limits names {name!r}, which is not a task of this stage; "
                f"its tasks are: {listed}"
            )
        if not _is_int(limit) or limit < 1:
            problems.append(
                f"task_concurrency_limits[{name!r}] must be an integer of at least 1, got {limit!r}"
            )
    return problems


def _as_rate_limit(value: object) -> object:
    """A valid ``(calls, period)`` pair as a `RateLimit`; anything else unchanged."""
    if isinstance(value, tuple) and len(value) == 2 and not rate_limit_problems(value[0], value[1]):
        return RateLimit(value[0], value[1])
    return value


def _flow_problems(stage: Stage) -> list[str]:
    """The problems of the flow-control options: rates, call concurrency, pull."""
    problems: list[str] = []
    if stage.call_rate is not None:
        calls_wrong, period_wrong = (
            bool(rate_limit_problems(stage.call_rate, 1.0)),
            bool(rate_limit_problems(1, stage.call_rate_period)),
        )
        if calls_wrong:
            problems.append(
                "call_rate must be None (no rate limit) or an integer of at least 1 (the most "
                f"task calls that may start per call_rate_period), got {stage.call_rate!r}"
            )
        if period_wrong:
            problems.append(
                "call_rate_period must be a finite number of seconds > 0 (1.0 for 'per "
                f"second', 60 for 'per minute'), got {stage.call_rate_period!r}"
            )
    elif stage.call_rate_period != 1.0:
        problems.append(
            f"call_rate_period={stage.call_rate_period!r} has no effect without call_rate: "
            "set call_rate=N as well (N calls per call_rate_period seconds), or remove it"
        )
    concurrency = stage.call_concurrency
    if concurrency is not None and (not _is_int(concurrency) or concurrency < 1):
        problems.append(
            "call_concurrency must be None (no limit) or an integer of at least 1 (the most "
            f"task calls of the stage at once), got {concurrency!r}"
        )
    pull: object = stage.pull
    if not isinstance(pull, bool):
        problems.append(f"pull must be True or False, got {pull!r}")
    elif pull and stage.queue_capacity is not None:
        problems.append(
            f"a pull stage has no queue, so queue_capacity={stage.queue_capacity!r} cannot "
            "apply: remove queue_capacity, or remove pull=True to give the stage a queue"
        )
    rates: object = stage.task_rate_limits
    if rates is None:
        return problems
    if not isinstance(rates, Mapping):
        problems.append(
            "task_rate_limits must be a dict of task name to RateLimit or (calls, "
            f"period_seconds), e.g. {{'upload': (10, 1.0)}}, got {rates!r}"
        )
        return problems
    known = (
        [task_name(t) for t in stage.tasks if callable(t)] if isinstance(stage.tasks, tuple) else []
    )
    for name, limit in rates.items():
        if name not in known:
            listed = ", ".join(repr(k) for k in known) or "none"
            problems.append(
                f"task_rate_limits names {name!r}, which is not a task of this stage; "
                f"its tasks are: {listed}"
            )
        if isinstance(limit, RateLimit):
            continue
        if isinstance(limit, tuple) and len(limit) == 2:
            problems.extend(
                rate_limit_problems(limit[0], limit[1], what=f"task_rate_limits[{name!r}]")
            )
        else:
            problems.append(
                f"task_rate_limits[{name!r}] must be a RateLimit or a (calls, period_seconds) "
                f"pair, e.g. (10, 1.0) for 10 calls per second, got {limit!r}"
            )
    return problems


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
