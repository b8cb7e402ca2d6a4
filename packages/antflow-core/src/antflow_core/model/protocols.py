"""Extension points: the Protocols other packages implement and the core calls.

The core never imports the packages that implement these (rule 3 of the design):
``antflow-tracker`` provides a `PipelineObserver`, ``antflow-rich`` provides
`ProgressDisplay` factories, and anyone can write their own. `DashboardProtocol` is
antflow 0.10's way to write a display, kept so that 0.10 dashboards run unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from antflow_core.model.events import ItemFinished, ItemStatus, StatusEvent, TaskEvent
from antflow_core.model.results import FailedItem, PipelineResult
from antflow_core.model.stats import DashboardSnapshot, ErrorSummary

__all__ = [
    "DashboardProtocol",
    "DisplayFactory",
    "FinishRecorder",
    "PipelineObserver",
    "ProgressDisplay",
    "StatusRecorder",
    "StatusSink",
]


@runtime_checkable
class PipelineObserver(Protocol):
    """Receives every event of a pipeline; pass one as ``Pipeline(status_tracker=...)``.

    Each method is called by the worker that caused the event, in the order things
    happened to the item. A method may return None, or an awaitable that the worker
    awaits before it goes on (so an async callback finishes before the item moves).
    Exceptions raised by a method are logged and otherwise ignored: an observer can
    never fail an item or stop a worker.

    Calls are synchronous and made from the worker's own asyncio task, whose context
    the task calls run in (a plain-function task runs in a thread with a copy of it). A
    task event ``start`` comes right before a task call and its ``complete``, ``retry``
    or ``fail`` after it, before the worker moves on; ``in_progress`` comes before the
    stage's first call and the stage's ``completed``, ``failed``, ``skipped`` (or, for a
    ``per_stage`` retry, ``queued``) from the same task. So an observer may set a context
    variable at one event and reset it at the closing one, and the task calls in between
    see it: antflow-otel makes its spans current this way. A custom runtime that wants
    such observers to work keeps this order.

    With no observer attached the runtime builds no event objects at all. Optional
    members let an observer say what it does not need, so none of it is built:

    * ``observes_task_events: bool``: when present and False, `on_task_event` is never
      called and no `TaskEvent` is built.
    * ``record_status(...)`` (see `StatusRecorder`): when present, the runtime passes each
      status change as plain fields to it instead of building a `StatusEvent` for
      `on_status_event`; the observer builds the event itself when it needs one.
    * ``record_finished(item_id, ended, timestamp)`` (see `FinishRecorder`): when present,
      the runtime calls it with the `PipelineResult` or `FailedItem` instead of building an
      `ItemFinished` and its ``Success``/``Failure`` for `on_item_finished`.
    * ``status_sink`` (see `StatusSink`): an attribute, None or a callable taking a status
      change as one tuple of fields. The runtime reads it at each ``queued``,
      ``in_progress`` or ``completed`` change of its hot path and, when it is not None,
      passes the change there instead of to ``record_status``; every other change goes to
      ``record_status`` (or `on_status_event`) as before. Being read at each change, it
      may be set or cleared at any time (a tracker clears it while a per-change callback
      is set).
    """

    def on_status_event(self, event: StatusEvent) -> Awaitable[None] | None:
        """An item changed status at a stage."""

    def on_task_event(self, event: TaskEvent) -> Awaitable[None] | None:
        """A task call started, completed, is being retried, or failed for good."""

    def on_item_finished(self, event: ItemFinished) -> Awaitable[None] | None:
        """An item left the pipeline as a result or a failure."""


class StatusRecorder(Protocol):
    """The fast form of `PipelineObserver.on_status_event`: a status change as plain fields.

    An observer that keeps many status changes and looks at few of them (a tracker
    with no per-event callback) implements this to spare the runtime building a
    `StatusEvent` per change; it calls ``StatusEvent(*fields)`` itself when it needs one.
    The arguments are the fields of `StatusEvent`, in order.
    """

    def __call__(
        self,
        item_id: Any,
        stage: str,
        status: ItemStatus,
        worker: str | None,
        worker_id: int | None,
        timestamp: float,
        metadata: Mapping[str, Any],
        /,
    ) -> Awaitable[None] | None:
        """Record one status change."""


class StatusSink(Protocol):
    """The fastest form of `StatusRecorder`: a status change as one tuple, to a built-in.

    The tuple holds the fields of `StatusEvent`, in order. An observer that only stores
    status changes offers a built-in callable here (a ``StatusTracker`` with no
    ``on_status_change`` offers its log's bound ``list.extend``), so a change costs the
    runtime one C call and no Python frame. A sink returns None and never raises: it has
    no awaitable to return and no error to log. Runtimes pass it only ``queued``,
    ``in_progress`` and ``completed`` changes, so a sink never has to act on the end of an
    item (``expanded``) or a failure.
    """

    def __call__(
        self,
        fields: tuple[Any, str, ItemStatus, str | None, int | None, float, Mapping[str, Any]],
        /,
    ) -> None:
        """Record one status change."""


class FinishRecorder(Protocol):
    """The fast form of `PipelineObserver.on_item_finished`: how an item ended, unwrapped.

    ``ended`` is the item's `PipelineResult` or its `FailedItem`; ``ItemFinished(item_id,
    Success(ended) or Failure(ended), timestamp)`` is the event it stands for.
    """

    def __call__(
        self, item_id: Any, ended: PipelineResult[Any] | FailedItem, timestamp: float, /
    ) -> Awaitable[None] | None:
        """Record that an item left the pipeline."""


@runtime_checkable
class ProgressDisplay(Protocol):
    """Shows a running pipeline; pass one as ``run(items, progress=display)``.

    The runtime calls `start` once, then `update` every `refresh_interval` seconds with a
    fresh snapshot, then `finish` once with the final snapshot, also after an error or
    cancellation. A display reads snapshots at its own pace and never slows the workers.
    Exceptions it raises are logged and the display is dropped; the run goes on.
    """

    @property
    def refresh_interval(self) -> float:
        """Seconds between two `update` calls."""

    def start(self, total: int | None, stage_names: Sequence[str]) -> None:
        """The run begins; ``total`` is the number of items, or None when it is not known."""

    def update(self, snapshot: DashboardSnapshot) -> None:
        """Show the pipeline as it is now."""

    def finish(self, snapshot: DashboardSnapshot) -> None:
        """The run ended; show the final state and summary, and release the terminal."""


@runtime_checkable
class DashboardProtocol(Protocol):
    """antflow 0.10's custom dashboard; pass one as ``run(items, custom_dashboard=obj)``.

    The runtime calls `on_start` once, `on_update` with a fresh snapshot at the refresh
    interval (``run(refresh_interval=...)``, else the object's own ``refresh_interval``
    attribute if it has one, else 0.5 s), then a last `on_update` with the final snapshot
    and `on_finish` once, also after an error or a cancellation. Exceptions are logged
    and the dashboard is dropped; the run goes on, as with a `ProgressDisplay` (which is
    this project's form of the same idea: either works).

    ``antflow_core.runtime.BaseDashboard`` implements it for you; subclass it and write
    only ``render(snapshot)``.
    """

    def on_start(self, pipeline: Any, total: int | None) -> None:
        """The run begins: ``pipeline`` is the `Pipeline`; ``total`` the items, None if unknown."""

    def on_update(self, snapshot: DashboardSnapshot) -> None:
        """Show the pipeline as it is now."""

    def on_finish(self, results: list[PipelineResult[Any]], summary: ErrorSummary) -> None:
        """The run ended: ``results`` are its results, ``summary`` its failures."""


class DisplayFactory(Protocol):
    """Makes a `ProgressDisplay`; what the ``antflow.displays`` entry points name."""

    def __call__(self, *, refresh_interval: float | None = None) -> ProgressDisplay:
        """Return a new display; ``refresh_interval`` None keeps the display's default."""
