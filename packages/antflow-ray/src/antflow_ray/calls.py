"""`StageCalls`: one stage's calls to its actors, and what a Ray failure of a call means.

A task call is ``actor.call(index, value)``: the value is a fed item (serialised now) or
a reference to an earlier output (`Stored`), which Ray resolves from the object store.
The call's report says whether the task raised; a Ray failure while awaiting it is
turned into the call's error here: an actor that died is replaced (`ActorPool.replace`)
and the call failed with Ray's ``ActorDiedError``; an output Ray could not store is a
`ValueNotSerializableError` naming the task, the stage and the item; any other Ray error
is the call's error as it is. An item that cannot be serialised at all raises
`CannotSend`: it fails without an attempt. A stage's ``task_concurrency_limits`` are
semaphores held around each call, shared by every worker of the stage, so a limit holds
across all its actors.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from antflow_core.model import Payload, StagePlan, TaskEventType
from antflow_core.runtime.workers import WorkerRecord

from antflow_ray.connection import (
    RayErrorKind,
    Stored,
    call_argument,
    dumps,
    ray_error_kind,
    task_error_cause,
)
from antflow_ray.emission import Emitter
from antflow_ray.errors import ItemNotSerializableError, ValueNotSerializableError
from antflow_ray.pool import ActorPool

__all__ = ["CannotSend", "StageCalls"]


class CannotSend(Exception):
    """The item's value cannot be serialised for a call: it fails without an attempt."""

    def __init__(self, error: ItemNotSerializableError) -> None:
        super().__init__(error)
        self.error = error


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


class StageCalls:
    """Calls one stage's tasks (and ``skip_if``) on its actors.

    Args:
        plan: The stage, compiled.
        pool: Its actors.
        emitter: For the ``start`` task event, once a call is on its way.
        semaphores: The stage's concurrency limits, by task name.
    """

    def __init__(
        self,
        plan: StagePlan,
        pool: ActorPool,
        emitter: Emitter,
        semaphores: Mapping[str, asyncio.Semaphore],
    ) -> None:
        self._plan = plan
        self.name = plan.name
        self._pool = pool
        self._emitter = emitter
        self._limits = tuple(semaphores.get(name) for name in plan.task_names)

    async def skip(self, worker_id: int, payload: Payload[Any]) -> bool:
        """Ask the actor whether ``skip_if`` holds for the item.

        Raises:
            CannotSend: If the item cannot be serialised.
            Exception: What ``skip_if`` raised, or the Ray failure that stopped the call.
        """
        actor = self._pool.actor_for(worker_id)
        try:
            reply = actor.skip(call_argument(payload.value))
        except TypeError as error:
            raise CannotSend(self._not_serializable(payload, error)) from error
        try:
            skip, raised = await reply
        except Exception as failure:
            if ray_error_kind(failure) is RayErrorKind.ACTOR_DIED:
                self._pool.replace(actor)
            raise
        if raised is not None:
            raise raised
        return skip

    async def call(
        self, record: WorkerRecord, payload: Payload[Any], index: int, value: Any, shown: int
    ) -> tuple[BaseException | None, float, Stored | None]:
        """Call task ``index`` once on the worker's actor: ``(error, seconds, output)``.

        Raises:
            CannotSend: If ``value`` cannot be serialised (it was fed, not stored).
        """
        name = self._plan.task_names[index]
        limit = self._limits[index]
        if limit is not None:
            await limit.acquire()
        started = time.perf_counter()
        try:
            actor = self._pool.actor_for(record.worker_id)
            try:
                output, report = actor.call(index, call_argument(value))
            except TypeError as refused:
                raise CannotSend(self._not_serializable(payload, refused)) from refused
            await self._emitter.task(
                payload.id, self.name, name, record, TaskEventType.START, shown
            )
            try:
                failure, duration = await report
            except Exception as ray_failure:
                kind = ray_error_kind(ray_failure)
                if kind is None:
                    raise
                if kind is RayErrorKind.ACTOR_DIED:
                    self._pool.replace(actor)
                    return ray_failure, time.perf_counter() - started, None
                if kind is RayErrorKind.OUTPUT:
                    cause = task_error_cause(ray_failure)
                    unusable = ValueNotSerializableError(
                        f"task {name!r} of stage {self.name!r} returned a value for item "
                        f"{payload.id!r} that Ray cannot serialise to pass it on: "
                        f"{type(cause).__name__}: {_first_line(cause)}. Return plain data "
                        "(numbers, strings, lists, dicts, dataclasses, arrays), not open "
                        "files, locks, sockets or clients"
                    )
                    unusable.__cause__ = cause
                    return unusable, time.perf_counter() - started, None
                return ray_failure, time.perf_counter() - started, None
        finally:
            if limit is not None:
                limit.release()
        if failure is not None:
            return failure, duration, None
        return None, duration, Stored(output)

    def _not_serializable(
        self, payload: Payload[Any], error: TypeError
    ) -> ItemNotSerializableError:
        why = f"{type(error).__name__}: {_first_line(error)}"
        try:  # Ray's message is long: pickling the value again says why in one line
            dumps(payload.value)
        except Exception as reason:
            why = f"{type(reason).__name__}: {_first_line(reason)}"
        failed = ItemNotSerializableError(
            f"item {payload.id!r} cannot be sent to the Ray actors of stage {self.name!r}: "
            f"{why}. Items travel between processes: feed plain data (numbers, strings, "
            "lists, dicts, dataclasses), and open files, locks or connections inside the tasks"
        )
        failed.__cause__ = error
        return failed
