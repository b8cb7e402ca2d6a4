"""Stopping the runtime's own tasks so that they have ended when the stop returns.

``task.cancel()`` followed by ``await asyncio.gather(*tasks)`` is not enough for a
runtime that promises that nothing is left running: if the task awaiting the gather is
cancelled again meanwhile (a second Ctrl-C, an outer timeout, the end of a ``stream()``
loop), the gather is abandoned, the stop returns early and whatever came after it (the
bookkeeping of what had not ended, closing the threads, stopping the display) never runs.

`stop_tasks` waits until every task has ended however often its caller is cancelled. A
cancellation that arrives meanwhile is passed on to the tasks still running (they are
cancelled again: "stop, and I mean it"), and re-raised once they have all ended, so the
caller still learns it was cancelled. A task that ignores every cancellation still holds
the stop up: nothing can end a coroutine that refuses to end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

__all__ = ["stop_tasks", "wait_ended"]


async def stop_tasks(tasks: Collection[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and wait until every one has ended (see `wait_ended`).

    Raises:
        asyncio.CancelledError: If the caller was cancelled meanwhile, once all have ended.
    """
    for task in tasks:
        task.cancel()
    await wait_ended(tasks)


async def wait_ended(tasks: Collection[asyncio.Task[Any]]) -> None:
    """Wait until every task of ``tasks`` has ended, however often the caller is cancelled.

    A cancellation of the caller meanwhile cancels the tasks still running and is
    re-raised once all have ended. The tasks' exceptions are retrieved (so asyncio does
    not log them as never retrieved) and not raised. ``tasks`` must not hold the caller.

    Raises:
        asyncio.CancelledError: If the caller was cancelled meanwhile, once all have ended.
    """
    pending = {task for task in tasks if not task.done()}
    interrupted: asyncio.CancelledError | None = None
    while pending:
        try:
            await asyncio.wait(pending)
        except asyncio.CancelledError as exc:
            interrupted = exc
            for task in pending:
                task.cancel()
        pending = {task for task in pending if not task.done()}
    for task in tasks:
        if not task.cancelled():
            task.exception()
    if interrupted is not None:
        raise interrupted
