"""What a stage's tasks and callbacks are: their names, whether they are async, how they are called.

Theory of operation
-------------------
A task or callback is any callable; what the runtime needs to know about it is decided
here once, when a `Stage` is built, never per call:

* its name (`task_name`), by which events and ``task_concurrency_limits`` know a task;
* whether calling it returns a coroutine (`is_async_callable`: otherwise the runtime
  runs it in a thread) or an async generator (`is_async_generator_callable`: it runs
  nothing when called, so only a fan-out stage's last task may be one);
* the form a stage callback is called in (`callback_form`), from its signature.

The type aliases a stage's fields are annotated with (`TaskFunc`, `OnSuccess`, ...) are
here too.

Callbacks come in two forms:

| callback     | one argument (``ONE_ARGUMENT``)  | three arguments (``THREE_ARGUMENTS``, 0.10's) |
|--------------|----------------------------------|-----------------------------------------------|
| `on_success` | ``(payload)``, the stage's output | ``(item_id, result, metadata)``              |
| `on_failure` | ``(failed_item)``                 | ``(item_id, error, metadata)``               |
| `on_skip`    | ``(payload)``, unchanged          | ``(item_id, value, metadata)``               |

``metadata`` is a new dict of the item's metadata (the extra keys of a dict item, see
`Payload.metadata`). `call_with_payload` and `call_with_failure` turn a callback and its
form into the one-argument function a runtime calls.

Everything here reads signatures and attributes only: nothing is called.
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeAlias

from typing_extensions import TypeVar

from antflow_core.model.payload import Payload
from antflow_core.model.results import FailedItem

__all__ = [
    "CallbackForm",
    "FailureCallback",
    "OnFailure",
    "OnSkip",
    "OnSuccess",
    "SkipCallback",
    "SkipPredicate",
    "SuccessCallback",
    "TaskFunc",
    "call_with_failure",
    "call_with_payload",
    "callback_form",
    "is_async_callable",
    "is_async_generator_callable",
    "task_name",
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
