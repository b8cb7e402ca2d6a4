"""The tracker's callbacks: their types, their checks, and calling them safely.

Theory of operation
-------------------
A user callback is a plain function or an ``async`` one. `call` calls it from the worker
that caused the event and returns its awaitable, wrapped so that awaiting it never
raises, or None when there is nothing to wait for; the worker awaits it before the item
moves on. Whatever a callback raises (a BaseException too: it is user code, not the
cancellation of the worker) is logged on the ``"antflow"`` logger and ignored, so it
never fails an item, stops a worker, or keeps the tracker's other duties from
happening. Only the cancellation of the awaiting task itself goes through. `chain` joins
two such awaitables when one event calls two callbacks (a final status added by the
tracker, then ``on_success``).

``on_success`` and ``on_failure`` take one argument (the `PipelineResult` or the
`FailedItem`) or three (``item_id, value or error, metadata``), decided once from the
signature when the callback is set: `item_callback` returns it as a function of the
ended item either way, so the hot path never looks at the form again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeAlias, TypeVar

from antflow_core.model import (
    CallbackForm,
    FailedItem,
    PipelineResult,
    StatusEvent,
    TaskEvent,
    TaskEventType,
    callback_form,
)

__all__ = [
    "TASK_CALLBACK_NAMES",
    "FailedItemCallback",
    "ResultCallback",
    "StatusCallback",
    "TaskCallback",
    "call",
    "chain",
    "check_callback",
    "item_callback",
]

logger = logging.getLogger("antflow")

StatusCallback: TypeAlias = Callable[[StatusEvent], Awaitable[None] | None]
"""``on_status_change``: called with each `StatusEvent`; a plain or ``async`` function."""

TaskCallback: TypeAlias = Callable[[TaskEvent], Awaitable[None] | None]
"""``on_task_start`` and the other task callbacks: called with a `TaskEvent`."""

ResultCallback: TypeAlias = (
    Callable[[PipelineResult[Any]], Awaitable[None] | None]
    | Callable[[Any, Any, dict[str, Any]], Awaitable[None] | None]
)
"""``on_success``: ``(result)`` with the item's `PipelineResult` when it leaves the last
stage, or ``(item_id, value, metadata)`` as a stage's 0.10-form callback."""

FailedItemCallback: TypeAlias = (
    Callable[[FailedItem], Awaitable[None] | None]
    | Callable[[Any, Any, dict[str, Any]], Awaitable[None] | None]
)
"""``on_failure``: ``(failed_item)`` with the `FailedItem` when a stage gives up on the item,
or ``(item_id, error, metadata)``."""

TASK_CALLBACK_NAMES: Final = {
    TaskEventType.START: "on_task_start",
    TaskEventType.COMPLETE: "on_task_complete",
    TaskEventType.RETRY: "on_task_retry",
    TaskEventType.FAIL: "on_task_fail",
}
"""The tracker's attribute for the callback of each kind of task event."""

_E = TypeVar("_E")
_C = TypeVar("_C")


def call(
    callback: Callable[[_E], Awaitable[None] | None], event: _E, what: str
) -> Awaitable[None] | None:
    """Call a user callback; return its awaitable, guarded, if it is ``async``.

    Whatever a plain callback raises (a BaseException too: it is user code, not the
    cancellation of a worker) is logged and ignored, so that the tracker's other duties
    (recording, ``on_success``, ``on_failure``) still happen for this item and the next.
    """
    try:
        pending: object = callback(event)  # a sloppy sync callback may return anything
    except BaseException:
        logger.exception("antflow: the tracker's %s callback raised; ignored", what)
        return None
    if pending is None:
        return None
    if isinstance(pending, Awaitable):
        return _guarded(pending, what)
    return None


async def _guarded(pending: Awaitable[None], what: str) -> None:
    try:
        await pending
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is None or task.cancelling():
            raise  # the worker itself is being cancelled
        logger.exception("antflow: the tracker's %s callback was cancelled; ignored", what)
    except BaseException:
        logger.exception("antflow: the tracker's %s callback raised; ignored", what)


def chain(first: Awaitable[None] | None, second: Awaitable[None] | None) -> Awaitable[None] | None:
    """Return one awaitable that awaits ``first`` then ``second`` (either may be None)."""
    if first is None:
        return second
    if second is None:
        return first
    return _both(first, second)


async def _both(first: Awaitable[None], second: Awaitable[None]) -> None:
    await first
    await second


def check_callback(name: str, callback: _C | None) -> _C | None:
    """Return ``callback`` if it is None or callable.

    Raises:
        TypeError: If it is neither.
    """
    if callback is not None and not callable(callback):
        raise TypeError(
            f"{name} must be a function or an async function taking the event, got {callback!r}"
        )
    return callback


def item_callback(name: str, callback: Callable[..., Any] | None, single: str, second: str) -> Any:
    """Return ``callback`` as a function of the result or failed item, in its decided form.

    ``single`` names what a one-argument callback gets; ``second`` the attribute a
    three-argument one gets second (``"value"`` or ``"error"``).

    Raises:
        TypeError: If the callback can take neither one nor three positional arguments.
    """
    if callback is None:
        return None
    form = callback_form(callback)
    if form is CallbackForm.ONE_ARGUMENT:
        return callback
    if form is None:
        raise TypeError(
            f"{name} must take one argument (the {single}) or three, as "
            f"{name}(item_id, {second}, metadata)"
        )

    def in_three_arguments(ended: Any) -> Any:
        return callback(ended.id, getattr(ended, second), dict(ended.metadata))

    return in_three_arguments
