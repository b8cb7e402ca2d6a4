"""Per-stage Ray options, and which `Stage` options the Ray runtime honours.

`RayStageOptions` says how a stage becomes Ray actors: how many, and what each one
reserves (CPUs, GPUs, memory, custom resources). `unsupported_options` compares a stage's
fields with their defaults against the list of options this runtime implements, so an
option it does not know, including one added to `Stage` after this package was written,
is refused with its name instead of being silently ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias

from antflow_core.model import Stage

from antflow_ray.connection import dumps
from antflow_ray.errors import TaskNotSerializableError, UnsupportedStageOptionError

__all__ = [
    "SUPPORTED_STAGE_OPTIONS",
    "RayStageOptions",
    "SyncTasks",
    "check_stage",
    "unsupported_options",
]

SyncTasks: TypeAlias = Literal["threads", "inline"]
"""Where an actor runs plain-function tasks: in its threads, or inline on its event loop."""

SUPPORTED_STAGE_OPTIONS: Final[frozenset[str]] = frozenset(
    {
        "name",
        "workers",
        "tasks",
        "retry",
        "task_attempts",
        "stage_attempts",
        "task_wait_seconds",
        "task_concurrency_limits",
        "unpack_args",
        "on_success",
        "on_failure",
        "skip_if",
        "queue_capacity",
        "task_timeout",
        "on_skip",
        "retry_on",
        "retry_if",
        "backoff",
        "max_wait_seconds",
        "jitter",
    }
)
"""The `Stage` fields `RayPipeline` implements; any other field must keep its default."""


def unsupported_options(stage: Stage) -> list[str]:
    """Return the names of the options ``stage`` sets that `RayPipeline` does not implement.

    An option counts as set when its value differs from the field's default. Every field
    of `Stage` not in `SUPPORTED_STAGE_OPTIONS` is checked, so new `Stage` options are
    refused until this runtime learns them.
    """
    found = []
    for field in dataclasses.fields(stage):
        if field.name in SUPPORTED_STAGE_OPTIONS or not field.init:
            continue  # (fields not given to __init__ are derived, such as on_success_form)
        if field.default is not dataclasses.MISSING:
            default: Any = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:  # a required field this runtime does not know: it is always set
            found.append(field.name)
            continue
        value = getattr(stage, field.name)
        if value is not default and value != default:
            found.append(field.name)
    return found


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class RayStageOptions:
    """How one stage runs on Ray: its actors and what each reserves.

    The stage's ``workers`` are spread over ``actors`` Ray actors (worker ``i`` calls
    actor ``i % actors``); each actor runs up to ``ceil(workers / actors)`` calls at once
    on its own event loop (``async def`` tasks) and in its own threads (plain functions).
    A CPU-bound plain function therefore scales with ``actors``, not ``workers``.

    Args:
        actors: How many actors (processes, possibly on different machines) run the
            stage; from 1 to the stage's ``workers``.
        num_cpus: CPUs each actor reserves while it lives. ``None`` keeps Ray's default
            for actors (1 CPU to be placed, none held while running), which lets any number
            of actors share a machine; give ``1.0`` to a CPU-bound stage so each actor gets
            a core of its own.
        num_gpus: GPUs each actor reserves (fractions share a GPU), or ``None``.
        memory: Bytes of memory each actor reserves for scheduling, or ``None``.
        resources: Custom Ray resources each actor needs, e.g. ``{"ssd": 1}``.
        runtime_env: A Ray runtime environment for the stage's actors, e.g.
            ``{"pip": ["pillow"]}``; ``None`` uses the job's.
        sync_tasks: Where an actor runs the stage's plain (non-``async``) functions.
            ``"threads"`` (the default, as the asyncio runtime does): in a thread each, so
            blocking I/O overlaps. ``"inline"``: one call at a time, for CPU-bound work:
            threads would only take the GIL from each other. When no task and no
            ``skip_if`` of the stage is ``async``, the actor is a threaded Ray actor of
            one call at a time, which runs each call on the thread that received it
            (about 1 ms of CPU less per call than an event loop); otherwise the plain
            functions run on the actor's event loop. Needs the stage's ``task_timeout``
            unset (an inline call cannot be interrupted).

    Raises:
        ValueError: If a field is invalid; the message says what to change.

    Example:
        ```python
        RayPipeline(stages, options={"Resize": RayStageOptions(actors=4, num_cpus=1)})
        ```
    """

    actors: int = 1
    num_cpus: float | None = None
    num_gpus: float | None = None
    memory: int | None = None
    resources: Mapping[str, float] | None = None
    runtime_env: Mapping[str, Any] | None = None
    sync_tasks: SyncTasks = "threads"

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.actors, int) or isinstance(self.actors, bool) or self.actors < 1:
            problems.append(f"actors must be an integer of at least 1, got {self.actors!r}")
        for name in ("num_cpus", "num_gpus"):
            value = getattr(self, name)
            if value is not None and (not _is_number(value) or value < 0):
                problems.append(f"{name} must be None or a number >= 0, got {value!r}")
        memory = self.memory
        if memory is not None and (
            not isinstance(memory, int) or isinstance(memory, bool) or memory <= 0
        ):
            problems.append(f"memory must be None or a number of bytes > 0, got {memory!r}")
        if self.resources is not None:
            if not isinstance(self.resources, Mapping) or not all(
                isinstance(k, str) and _is_number(v) and v >= 0 for k, v in self.resources.items()
            ):
                problems.append(
                    "resources must be a dict of resource name to amount >= 0, "
                    f"e.g. {{'ssd': 1}}, got {self.resources!r}"
                )
            else:
                object.__setattr__(self, "resources", MappingProxyType(dict(self.resources)))
        runtime_env: object = self.runtime_env
        if runtime_env is not None and not isinstance(runtime_env, Mapping):
            problems.append(f"runtime_env must be None or a dict, got {runtime_env!r}")
        if self.sync_tasks not in ("threads", "inline"):
            problems.append(f"sync_tasks must be 'threads' or 'inline', got {self.sync_tasks!r}")
        if problems:
            raise ValueError("RayStageOptions: " + "; ".join(problems))

    def actor_options(self, max_concurrency: int) -> dict[str, Any]:
        """Return the keyword arguments for Ray's ``ActorClass.options(...)``."""
        options: dict[str, Any] = {"max_concurrency": max_concurrency}
        if self.num_cpus is not None:
            options["num_cpus"] = self.num_cpus
        if self.num_gpus is not None:
            options["num_gpus"] = self.num_gpus
        if self.memory is not None:
            options["memory"] = self.memory
        if self.resources:
            options["resources"] = dict(self.resources)
        if self.runtime_env is not None:
            options["runtime_env"] = dict(self.runtime_env)
        return options


def check_stage(stage: Stage, options: RayStageOptions) -> None:
    """Refuse what the Ray runtime cannot run with ``options``, before anything starts.

    Raises:
        UnsupportedStageOptionError: If the stage sets an option this runtime lacks.
        ValueError: If ``options`` does not fit the stage.
        TaskNotSerializableError: If a task or ``skip_if`` cannot be pickled.
    """
    unsupported = unsupported_options(stage)
    if unsupported:
        names = ", ".join(unsupported)
        raise UnsupportedStageOptionError(
            f"stage {stage.name!r} sets {names}, which RayPipeline does not support: "
            "remove it, or run this pipeline with the asyncio Pipeline"
        )
    if options.actors > stage.workers:
        raise ValueError(
            f"stage {stage.name!r} has {stage.workers} workers but RayStageOptions asks for "
            f"{options.actors} actors: each actor serves at least one worker, so give the "
            f"stage workers >= {options.actors} or fewer actors"
        )
    functions = [
        (f"task {name!r}", fn) for name, fn in zip(stage.task_names, stage.tasks, strict=True)
    ]
    if stage.skip_if is not None:
        functions.append(("skip_if", stage.skip_if))
    for label, fn in functions:
        try:
            dumps(fn)
        except Exception as error:
            raise TaskNotSerializableError(
                f"{label} of stage {stage.name!r} cannot be sent to Ray actors: "
                f"{type(error).__name__}: {error}. A task runs in another process: define "
                "it at module level or as a closure over picklable values, and create "
                "clients, locks and connections inside it instead of capturing them"
            ) from error
