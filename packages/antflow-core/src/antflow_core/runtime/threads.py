"""`TaskThreads`: the threads that run a pipeline's plain-function tasks.

Theory of operation
-------------------
A plain (non-async) task runs in a thread while its worker awaits an asyncio future. A
thread cannot be stopped, so a call that a ``task_timeout`` or a ``shutdown()`` stopped
waiting for goes on running: it is *abandoned*. Three things follow, and they are why
this is not a `concurrent.futures.ThreadPoolExecutor`:

* **Every call gets a thread at once**: an idle thread if there is one, otherwise a new
  one. A pool of fixed size would let abandoned calls keep every thread, so that later
  calls wait for a thread that never comes and their ``task_timeout`` measures that wait
  instead of the call. Here the threads are the calls running (workers' calls and
  abandoned ones); idle threads are kept for the next calls and end when the pipeline
  stops (`close`).
* **The threads are daemon threads**, so a call that never returns does not keep the
  process alive once the program is done: the interpreter does not wait for it at exit,
  and the call is abandoned there (it never finishes; its ``finally`` blocks do not run).
  A `ThreadPoolExecutor` joins its threads at exit, which hangs the process.
* **The outcome crosses as a value**: the thread hands the loop an ``(ok, value)`` pair as
  the future's result, and the awaiting coroutine raises the call's exception itself.
  asyncio refuses to put a ``StopIteration`` into a future (the worker would wait
  forever), and a ``GeneratorExit`` thrown out of a future's ``__await__`` breaks the
  coroutine awaiting it; raised by the coroutine, both behave as they do when an async
  task raises them.

A call is started with the caller's context variables (`set_task_status` works in it),
and a call whose worker stopped waiting before a thread took it is not started.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol, TypeAlias

__all__ = ["Held", "Outcome", "TaskThreads"]

Outcome: TypeAlias = tuple[bool, Any]
"""What a call gave: ``(True, value)`` or ``(False, the exception it raised)``."""


class Held(Protocol):
    """A slot a call holds while it runs (a semaphore, a call gate), given back on the loop."""

    def release(self) -> None:
        """Give the slot back."""


_Job: TypeAlias = tuple[
    contextvars.Context,
    Callable[..., Any],
    tuple[Any, ...],
    Mapping[str, Any],
    asyncio.AbstractEventLoop,
    "asyncio.Future[Outcome]",
    "Held | None",
]

_STOP: Final = None
_numbers = itertools.count()


class TaskThreads:
    """Runs plain-function calls in daemon threads, a thread for every call running.

    Args:
        name: Prefix of the threads' names.
    """

    __slots__ = ("_closed", "_idle", "_jobs", "_lock", "_name")

    def __init__(self, name: str = "antflow-task") -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a job and not yet promised one
        self._closed = False

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<TaskThreads idle={self._idle}{state}>"

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._closed

    def submit(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        held: Held | None = None,
    ) -> asyncio.Future[Outcome]:
        """Start ``fn(*args, **kwargs)`` in a thread; return a future of its `Outcome`.

        Call it from the event loop. ``held``, a concurrency slot the caller acquired, is
        released on the loop when the call ends, even if nobody waits for it any more.

        Raises:
            RuntimeError: If the threads were closed.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        job = (contextvars.copy_context(), fn, args, kwargs, loop, future, held)
        with self._lock:
            if self._closed:
                raise RuntimeError("the pipeline's task threads were closed: it stopped")
            spawn = not self._idle
            if not spawn:
                self._idle -= 1
        self._jobs.put(job)
        if spawn:
            threading.Thread(
                target=self._serve, name=f"{self._name}-{next(_numbers)}", daemon=True
            ).start()
        return future

    def close(self) -> None:
        """Let every thread end once its call (if any) returns; refuse new calls."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle, self._idle = self._idle, 0
        for _ in range(idle):
            self._jobs.put(_STOP)

    def _serve(self) -> None:
        jobs = self._jobs
        while True:
            job = jobs.get()
            if job is None:
                return
            context, fn, args, kwargs, loop, future, held = job
            del job
            outcome: Outcome
            if future.done():  # the worker stopped waiting before the call started
                outcome = (False, None)
            else:
                try:
                    outcome = (True, context.run(fn, *args, **kwargs))
                except BaseException as exc:  # whatever it raised is the call's outcome
                    outcome = (False, exc)
            # RuntimeError: the loop is closed, nobody waits for the call or its slot any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, outcome, held)
            del context, fn, args, kwargs, loop, future, held, outcome
            with self._lock:
                if self._closed:
                    return
                self._idle += 1


def _settle(future: asyncio.Future[Outcome], outcome: Outcome, held: Held | None) -> None:
    """On the loop: give the slot back and the outcome to whoever still waits."""
    if held is not None:
        held.release()
    if not future.done():
        future.set_result(outcome)
