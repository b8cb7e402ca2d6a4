"""The few calls into Ray's runtime that the driver makes, behind typed functions.

* `connect`: use the Ray session of this process, or start or join one.
* `ray_error_kind`: tell what a Ray exception means for the item that met it.
* `Stored` and `resolve`: a value that lives in Ray's object store, and fetching it.
* `remote_class`: the Ray actor class made from `StageActor` or `InlineStageActor`, made once.
"""

from __future__ import annotations

import enum
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, Final, cast

import ray
from ray import cloudpickle
from ray import exceptions as ray_errors

from antflow_ray.actor import InlineStageActor, StageActor

__all__ = [
    "RayErrorKind",
    "Stored",
    "connect",
    "dumps",
    "ray_error_kind",
    "remote_class",
    "resolve",
]

logger = logging.getLogger("antflow")

ADDRESS_VARIABLE: Final = "RAY_ADDRESS"

dumps = cast("Callable[[object], bytes]", cloudpickle.dumps)
"""Pickle a value as Ray does (cloudpickle): to check that it can travel."""


def connect(address: str | None, init_options: Mapping[str, Any]) -> bool:
    """Make sure this process is connected to Ray; return True if this call connected it.

    If Ray is already initialised (``ray.init()`` was called, by you or a previous
    pipeline), that session is used as it is. Otherwise ``ray.init(address=address,
    **init_options)`` is called: with no address and no ``RAY_ADDRESS`` in the
    environment, Ray starts a local instance using this machine's CPUs; ``address``
    (``"auto"``, ``"ray://head:10001"``, ...) or ``RAY_ADDRESS`` joins a cluster.
    """
    if ray.is_initialized():
        return False
    where = address or os.environ.get(ADDRESS_VARIABLE) or "a new local Ray instance"
    logger.info("antflow: connecting to %s", where)
    ray.init(address=address, **dict(init_options))
    return True


class RayErrorKind(enum.Enum):
    """What a Ray exception met while awaiting a call's report means."""

    ACTOR_DIED = "actor_died"
    """The actor is dead or unreachable: replace it; the call failed."""
    OUTPUT = "output"
    """The call ran but its output could not be stored (it cannot be serialised)."""
    OTHER = "other"
    """Any other Ray failure (an object lost with its node, ...): the call failed."""


def ray_error_kind(error: BaseException) -> RayErrorKind | None:
    """Classify ``error``; None if it is not a Ray exception."""
    if isinstance(error, ray_errors.RayActorError):
        return RayErrorKind.ACTOR_DIED
    if isinstance(error, ray_errors.RayTaskError):
        # The actor catches every error of the task itself, so a task error here is Ray's
        # own: storing the output failed.
        return RayErrorKind.OUTPUT
    if isinstance(error, ray_errors.RayError):
        return RayErrorKind.OTHER
    return None


def task_error_cause(error: BaseException) -> BaseException:
    """The exception inside a ``RayTaskError`` (itself for anything else)."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, BaseException) else error


class Stored:
    """A value that lives in Ray's object store: the output of a task call.

    Values move from stage to stage as these references; the driver fetches one only
    when it needs the value itself (a result, a failure, ``on_success``, a shutdown).
    """

    __slots__ = ("ref",)

    def __init__(self, ref: ray.ObjectRef[Any]) -> None:
        self.ref = ref

    def __repr__(self) -> str:
        return f"<value in Ray's object store {self.ref.hex()[:16]}…>"


def call_argument(value: Any) -> Any:
    """What to pass to an actor call for ``value``: the reference of a stored one."""
    return value.ref if type(value) is Stored else value


async def resolve(value: Any) -> Any:
    """Return the value itself: fetched from the object store if it is `Stored`.

    Raises:
        ray.exceptions.RayError: If the object cannot be fetched (lost with its node).
    """
    if type(value) is Stored:
        return await value.ref
    return value


_remote: dict[bool, Any] = {}


def remote_class(inline: bool = False) -> Any:
    """Ray's actor class for `StageActor` (or `InlineStageActor` if ``inline``), made once."""
    made = _remote.get(inline)
    if made is None:
        made = _remote[inline] = ray.remote(InlineStageActor if inline else StageActor)
    return made
