"""What both builders share: the stages so far, the pipeline's options, a new stage's checks.

Theory of operation
-------------------
A builder is immutable: a tuple of validated `Stage` objects plus the options of the
pipeline to build (its class, its tracker, whether it keeps results). `_Builder` holds
them and the one place a stage is added: ``_added()`` builds the `Stage` at once (so a bad
stage raises `StageValidationError` at the ``add()`` that wrote it), checks its name
against the stages so far and returns a new `PipelineBuilder` ending with it.

The public ``add()`` methods that call ``_added()`` are typed by generated overloads
(``antflow_builders._generated``); the builders the user sees (`EmptyPipelineBuilder`,
`PipelineBuilder`, in ``builder.py``) subclass those. This module sits below both, so
neither imports the other at import time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, Self

from antflow_core import PipelineObserver, Stage, StageValidationError
from antflow_core.model import SkipPredicate, SuccessCallback, TaskFunc, validate_stages

if TYPE_CHECKING:
    from antflow_builders.builder import PipelineBuilder
    from antflow_builders.pipeline import Pipeline

__all__ = ["DEFAULT_WORKERS", "attempts_from_retries"]

DEFAULT_WORKERS: Final = 5
"""The workers of a stage that ``add()`` or ``Pipeline.quick()`` builds without ``workers=``."""


def attempts_from_retries(retries: object, label: str) -> int:
    """Return the ``task_attempts`` that ``retries=`` means: that many attempts per task.

    ``retries`` is antflow 0.10's option of ``add()`` and ``Pipeline.quick()``: the number
    of attempts, so ``retries=3`` calls a failing task at most 3 times. ``retries=0`` makes
    one attempt, as ``retries=1`` does.

    Raises:
        StageValidationError: If ``retries`` is not an integer >= 0.
    """
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise StageValidationError(
            f"{label}: retries must be an integer of at least 0 (the attempts per task: "
            f"retries=3 tries a failing task 3 times), got {retries!r}"
        )
    return max(1, retries)


class _Builder:
    """What both builders hold: the stages so far and the options of the pipeline to build."""

    __slots__ = ("_collect", "_pipeline_class", "_stages", "_tracker")

    def __init__(
        self,
        pipeline_class: type[Pipeline[Any, Any]],
        stages: tuple[Stage, ...] = (),
        tracker: PipelineObserver | None = None,
        collect: bool = True,
    ) -> None:
        self._pipeline_class = pipeline_class
        self._stages = stages
        self._tracker = tracker
        self._collect = collect

    def __repr__(self) -> str:
        names = ", ".join(stage.name for stage in self._stages)
        return f"<{type(self).__name__} [{names}]>"

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages added so far, in order."""
        return self._stages

    @property
    def status_tracker(self) -> PipelineObserver | None:
        """The tracker the built pipeline will report to (see `with_tracker`)."""
        return self._tracker

    @property
    def collects_results(self) -> bool:
        """Whether the built pipeline keeps its results (see `collect_results`)."""
        return self._collect

    def with_tracker(self, tracker: PipelineObserver | None) -> Self:
        """Return a builder whose pipeline reports every event to ``tracker``.

        Args:
            tracker: A `StatusTracker` (``from antflow import StatusTracker``) or any object
                implementing `PipelineObserver`; None removes the tracker.

        Raises:
            TypeError: If ``tracker`` is neither None nor a `PipelineObserver`.
        """
        if tracker is not None and not isinstance(tracker, PipelineObserver):
            raise TypeError(
                "with_tracker() takes an object with on_status_event, on_task_event and "
                f"on_item_finished (e.g. antflow.StatusTracker()), got {tracker!r}"
            )
        return type(self)(self._pipeline_class, self._stages, tracker, self._collect)

    def collect_results(self, collect: bool = True) -> Self:
        """Return a builder whose pipeline keeps (True) or drops (False) its results.

        Dropping them keeps memory flat when results are consumed some other way
        (``stream()``, ``on_success``, a tracker); ``run()`` then returns an empty list.

        Raises:
            TypeError: If ``collect`` is not a bool.
        """
        if not isinstance(collect, bool):
            raise TypeError(f"collect_results() takes True or False, got {collect!r}")
        return type(self)(self._pipeline_class, self._stages, self._tracker, collect)

    def _added(
        self,
        name: str,
        given: tuple[TaskFunc | Sequence[TaskFunc], ...],
        unpack_args: bool,
        skip_if: SkipPredicate | None,
        on_success: SuccessCallback | None,
        options: dict[str, Any],
    ) -> PipelineBuilder[Any, Any]:
        """Validate a new stage now and return a builder that ends with it."""
        label = f"Stage {name!r}" if isinstance(name, str) else "Stage"
        first: object = given[0] if len(given) == 1 else None
        # .add("S", [fetch, parse]): a list (or tuple) of tasks, as antflow 0.10 took them.
        # Anything else not callable (a string too) is reported by Stage, which checks
        # every task.
        tasks: tuple[Any, ...] = given
        if isinstance(first, Sequence) and not isinstance(first, str | bytes):
            tasks = tuple(first)
        if not tasks:
            raise StageValidationError(
                f"{label}: has no tasks: pass at least one function after the name, "
                f"e.g. .add({name!r}, my_task)"
            )
        options.setdefault("workers", DEFAULT_WORKERS)
        if "retries" in options:
            if "task_attempts" in options:
                raise StageValidationError(
                    f"{label}: retries and task_attempts say the same thing (the attempts per "
                    "task): pass only one of them"
                )
            options["task_attempts"] = attempts_from_retries(options.pop("retries"), label)
        stage = Stage(
            name,
            tasks=tasks,
            unpack_args=unpack_args,
            skip_if=skip_if,
            on_success=on_success,
            **options,
        )
        if any(existing.name == stage.name for existing in self._stages):
            raise StageValidationError(
                f"two stages are named {stage.name!r}: stage names must be unique, "
                "rename one of them"
            )
        if not self._stages:
            validate_stages([stage])  # a first stage cannot be a pull stage: say so now
        # builder.py subclasses this module's class: import the builder it returns here.
        from antflow_builders.builder import PipelineBuilder

        return PipelineBuilder(
            self._pipeline_class, (*self._stages, stage), self._tracker, self._collect
        )
