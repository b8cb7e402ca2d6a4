"""`StageActor`: the Ray actor that runs one stage's tasks, and `ActorRef`, its typed handle.

Theory of operation
-------------------
An actor is a dumb executor. ``call(index, value)`` runs task ``index`` of its stage once
on ``value`` and returns two objects: the task's output, and a small report (the error
the call raised, or None, and how long it took). The driver awaits only the report and
passes the output on by reference, so values travel from actor to actor through Ray's
object store without passing through the driver. The output comes first: when Ray cannot
serialise it, the report fails too, so the driver learns it from the same call.

The actor calls tasks the way the asyncio runtime does (`antflow_core.runtime.invoke`):
``async def`` tasks on the actor's event loop, plain functions in its threads, with
``unpack_args`` and ``task_timeout``. With ``threads=0`` (``sync_tasks="inline"``) plain
functions run on the event loop itself, one at a time: for CPU-bound work, where threads
would only take the GIL from each other and from the loop. It decides nothing: retries,
routing, limits and events belong to the driver.

`InlineStageActor` does the same for an inline stage with no ``async`` task or
``skip_if``: a threaded Ray actor of one call at a time, whose methods are plain
functions. Ray runs each call on the thread that received it, with no hop to an event
loop and back; on a 2-core machine that saved about 1 ms of the actor's CPU per call
(see docs/performance.md, "Ray").
"""

from __future__ import annotations

import asyncio
import inspect
import os
import pickle
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias, cast

import ray
from antflow_core.model import is_async_callable, task_name
from antflow_core.runtime.invoke import TaskSpec, invoke
from antflow_core.runtime.threads import TaskThreads
from ray import cloudpickle

from antflow_ray.errors import RemoteTaskError

__all__ = ["ActorRef", "InlineStageActor", "Report", "StageActor", "runs_inline"]

_dumps = cast("Callable[[object], bytes]", cloudpickle.dumps)

Report: TypeAlias = tuple[BaseException | None, float]
"""What an actor says about one call: the error it raised (None on success), and seconds."""


def portable(error: BaseException, stage: str) -> BaseException:
    """Return ``error`` if it survives pickling, else a `RemoteTaskError` describing it.

    The remote traceback is added to the exception as a note, so it shows where the
    driver prints the error.
    """
    where = traceback.format_exception(error)
    try:
        error.add_note(f"raised in a Ray actor of stage {stage!r} (pid {os.getpid()}):")
        error.add_note("".join(where).rstrip())
        copy = pickle.loads(_dumps(error))
        if type(copy) is not type(error):  # pragma: no cover - a broken __reduce__
            raise TypeError("the error does not unpickle as its own type")
    except Exception:
        return RemoteTaskError(
            f"{type(error).__name__}: {error} (the exception cannot be pickled back to the "
            f"driver; remote traceback:\n{''.join(where).rstrip()})",
            type(error).__name__,
        )
    return error


def _call_inline(spec: TaskSpec, value: Any) -> Any:
    """Call a plain-function task on this thread, unpacking ``value`` as the spec says."""
    if spec.unpack and isinstance(value, tuple):
        return spec.fn(*value)
    if spec.unpack and isinstance(value, Mapping):
        return spec.fn(**value)
    return spec.fn(value)


def runs_inline(
    tasks: Sequence[Callable[..., Any]], skip_if: Callable[[Any], Any] | None, inline: bool
) -> bool:
    """Tell whether a stage runs on `InlineStageActor`: inline, with no ``async`` function."""
    functions = [*tasks] if skip_if is None else [*tasks, skip_if]
    return inline and not any(is_async_callable(fn) for fn in functions)


class _StageTasks:
    """What both actor classes hold: the stage's compiled tasks and its ``skip_if``."""

    def __init__(
        self,
        stage: str,
        tasks: Sequence[Callable[..., Any]],
        unpack_args: bool,
        task_timeout: float | None,
        skip_if: Callable[[Any], Any] | None,
        threads: int,
    ) -> None:
        self._stage = stage
        # A thread for every call at once (its calls are bounded by max_concurrency, which
        # is ``threads``), so a call abandoned by task_timeout never starves the others.
        self._executor = TaskThreads(name=f"antflow-{stage}") if threads else None
        self._specs = tuple(
            TaskSpec(
                fn,
                name=task_name(fn),
                stage=stage,
                is_async=is_async_callable(fn),
                unpack=unpack_args and index == 0,
                semaphore=None,
                timeout=task_timeout,
            )
            for index, fn in enumerate(tasks)
        )
        for spec in self._specs:
            if not spec.is_async:
                spec.executor = self._executor
        # Which tasks run inline: plain functions when there are no threads.
        self._inline = tuple(not spec.is_async and self._executor is None for spec in self._specs)
        self._skip_if = skip_if


class StageActor(_StageTasks):
    """Runs the tasks of one stage in a Ray actor process.

    Args:
        stage: The stage's name, for messages.
        tasks: The stage's tasks, in order.
        unpack_args: Call the first task with ``*value`` / ``**value``.
        task_timeout: Seconds one call may take, or None.
        skip_if: The stage's ``skip_if`` predicate, or None.
        threads: Threads for plain-function tasks: the calls this actor runs at once; 0 runs
            them on the event loop, one at a time.
    """

    async def ready(self) -> int:
        """Return the actor's process id once it is constructed."""
        return os.getpid()

    @ray.method(num_returns=2)
    async def call(self, index: int, value: Any) -> tuple[Any, Report]:
        """Run task ``index`` once on ``value``; return its output and a `Report`."""
        started = time.perf_counter()
        try:
            spec = self._specs[index]
            if self._inline[index]:
                output = _call_inline(spec, value)
                if inspect.isawaitable(output):
                    output = await output
            else:
                output = await invoke(spec, value)
        except BaseException as error:  # the driver decides what an error means
            return None, (portable(error, self._stage), time.perf_counter() - started)
        return output, (None, time.perf_counter() - started)

    async def skip(self, value: Any) -> tuple[bool, BaseException | None]:
        """Evaluate ``skip_if`` on ``value``: ``(skip, None)``, or ``(False, error)``."""
        predicate = self._skip_if
        if predicate is None:
            return False, None
        try:
            verdict = predicate(value)
            if hasattr(verdict, "__await__"):
                verdict = await verdict
            return bool(verdict), None
        except BaseException as error:
            return False, portable(error, self._stage)


class InlineStageActor(_StageTasks):
    """Runs an inline stage of plain functions in a threaded Ray actor, one call at a time.

    Used instead of `StageActor` when ``sync_tasks="inline"`` and neither a task nor
    ``skip_if`` is ``async`` (`runs_inline`); created with ``max_concurrency=1``, so Ray
    queues the next calls and runs each on the thread that received it. A plain function
    that returns an awaitable has it run to completion on the actor's own event loop.
    Same arguments as `StageActor` (``threads`` is 0).
    """

    _loop: asyncio.AbstractEventLoop | None = None

    def _settle(self, awaitable: Any) -> Any:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.new_event_loop()
        return loop.run_until_complete(awaitable)

    def ready(self) -> int:
        """Return the actor's process id once it is constructed."""
        return os.getpid()

    @ray.method(num_returns=2)
    def call(self, index: int, value: Any) -> tuple[Any, Report]:
        """Run task ``index`` once on ``value``; return its output and a `Report`."""
        started = time.perf_counter()
        try:
            output = _call_inline(self._specs[index], value)
            if inspect.isawaitable(output):
                output = self._settle(output)
        except BaseException as error:  # the driver decides what an error means
            return None, (portable(error, self._stage), time.perf_counter() - started)
        return output, (None, time.perf_counter() - started)

    def skip(self, value: Any) -> tuple[bool, BaseException | None]:
        """Evaluate ``skip_if`` on ``value``: ``(skip, None)``, or ``(False, error)``."""
        predicate = self._skip_if
        if predicate is None:
            return False, None
        try:
            verdict = predicate(value)
            if inspect.isawaitable(verdict):
                verdict = self._settle(verdict)
            return bool(verdict), None
        except BaseException as error:
            return False, portable(error, self._stage)


class ActorRef:
    """The driver's typed handle on one `StageActor` (Ray's handles are untyped).

    Args:
        handle: The Ray actor handle.
    """

    __slots__ = ("_call", "_skip", "handle")

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self._call = handle.call.remote
        self._skip = handle.skip.remote

    def call(self, index: int, value: Any) -> tuple[ray.ObjectRef[Any], ray.ObjectRef[Report]]:
        """Start task ``index`` on ``value`` (a value, or an `ObjectRef` Ray resolves).

        Raises:
            TypeError: If ``value`` cannot be serialised (Ray's message says why).
        """
        output, report = self._call(index, value)
        return output, report

    def skip(self, value: Any) -> ray.ObjectRef[tuple[bool, BaseException | None]]:
        """Start evaluating ``skip_if`` on ``value``."""
        reply: ray.ObjectRef[tuple[bool, BaseException | None]] = self._skip(value)
        return reply

    def ready(self) -> ray.ObjectRef[int]:
        """Ask the actor for its process id; the reply comes once it is constructed."""
        reply: ray.ObjectRef[int] = self.handle.ready.remote()
        return reply

    def kill(self) -> None:
        """Kill the actor now; its running calls fail with ``ActorDiedError``."""
        ray.kill(self.handle)
