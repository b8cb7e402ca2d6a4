"""The worker loop of an `AsyncExecutor`: take a call, run it, settle its future, go on.

Theory of operation
-------------------
A worker (`work`) takes calls from its executor's queue, first in, first out. With the
queue empty it sleeps on a future of its own in the executor's idle list, which a new
call (or the shutdown) completes; once the executor is closing and the queue is empty
it ends. For each call it marks the future running, calls the function (awaited as it
is when the call's plan is *simple*, otherwise through the ``calls`` room's `run_call`:
a thread, a limit, retries), settles the future and takes the next call. It never ends
because of what a call did:

* a call that raises (anything, including a ``CancelledError`` the function raised on
  its own) fails its future with that exception;
* ``future.cancel()`` on a running call cancels the worker task where the call awaits;
  the worker recognises its own request (the future is cancelled), withdraws it
  (``Task.uncancel``, and absorbs it when the call cancelled its own future and ended
  before it could arrive) and goes on with the next call;
* a cancellation of the worker task itself (the executor stopping, the loop closing)
  cancels the future of the call it was running and ends the worker.

A worker makes the executor's named limits current (``antflow_core.runtime.limits``), so
``rate_limit("api", 500, 60)``, ``concurrency_limit(...)`` and
``call_rate_has_capacity(...)`` work inside its calls, shared by every call of the
executor; an executor used inside a pipeline's task shares the pipeline's instead.
"""

from __future__ import annotations

import asyncio
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from antflow_core.runtime.executor.calls import returned_coroutine, run_call
from antflow_core.runtime.executor.futures import FINISHED, RUNNING, AsyncFuture
from antflow_core.runtime.invoke import is_own_cancellation
from antflow_core.runtime.limits import current_limits

if TYPE_CHECKING:
    from antflow_core.runtime.executor.pool import AsyncExecutor

__all__ = ["work"]


async def work(executor: AsyncExecutor) -> None:
    """One worker: take calls from the queue and run them, until the executor stops."""
    queue = executor._queue
    idle = executor._idle
    loop = executor._loop
    assert loop is not None
    task = asyncio.current_task()
    assert task is not None
    if current_limits.get() is None:  # inside a pipeline's task: share the pipeline's
        current_limits.set(executor._named_limits)
    while True:
        if queue:
            future = queue.popleft()
        elif executor._closing:
            executor._retire(task)
            return
        else:
            waiter: asyncio.Future[None] = loop.create_future()
            idle.append(waiter)
            try:
                await waiter
            finally:
                if waiter in idle:  # cancelled while idle
                    idle.remove(waiter)
            continue
        inner = future._future
        if inner.done():  # cancelled before it started
            continue
        future._state = RUNNING
        future._runner = task
        fn = future._fn
        assert fn is not None
        try:
            if future._plan.simple:
                result = await fn(*future._args, **future._kwargs)
                if type(result) is CoroutineType:
                    returned_coroutine(fn, result)
            else:
                result = await run_call(future._plan, fn, future._args, future._kwargs, executor)
        except BaseException as error:
            if inner.cancelled():  # future.cancel() stopped it: whatever it raised, it is over
                await _withdraw_cancel(task)
            else:
                _settle_failure(task, future, error)
        else:
            if inner.done():  # cancelled while it ran, and it ended anyway
                await _withdraw_cancel(task)
            else:
                inner.set_result(result)
        finally:
            future._state = FINISHED
            future._runner = None
            future._release()


async def _withdraw_cancel(task: asyncio.Task[None]) -> None:
    """Take back the cancel request ``future.cancel()`` made; raise if another one remains.

    A call that cancelled its own future (``for f in futures: f.cancel()``, its own among
    them) and then ended without awaiting again left that request pending in the worker
    task, where it would strike the worker's next wait and end it: one step of the loop
    lets it arrive here, where it is absorbed.
    """
    if task.uncancel() > 0:
        raise asyncio.CancelledError  # the worker itself is being cancelled too
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        if task.cancelling() > 0:  # the worker was cancelled meanwhile: that one stands
            raise


def _settle_failure(
    task: asyncio.Task[None], future: AsyncFuture[Any], error: BaseException
) -> None:
    """End ``future`` with ``error``, or end the worker if the cancellation was the worker's."""
    inner = future._future
    if is_own_cancellation(error):
        inner.cancel()  # the worker is being stopped: its call ends cancelled
        raise error
    if isinstance(error, StopIteration):  # a Future refuses StopIteration
        wrapped = RuntimeError(f"the call raised StopIteration: {error!r}")
        wrapped.__cause__ = error
        error = wrapped
    inner.set_exception(error)
