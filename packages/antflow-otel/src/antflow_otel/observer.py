"""`TelemetryObserver`: a pipeline's events as OpenTelemetry spans and metrics.

Theory of operation
-------------------
The observer is a `PipelineObserver`: the pipeline calls it synchronously from the worker
(or the feeder) that caused each event, and it returns None, so it never makes a worker
wait. It keeps one small record per item in flight and turns the events into:

Spans, one trace per item::

    antflow.item                  fed -> left the pipeline (a root span, linked to the
    │                             span that was current where the item was fed)
    ├── antflow.stage Fetch       queued at the stage -> completed, failed or skipped there
    │   ├── antflow.task fetch    one task call (one per attempt)
    │   └── antflow.task fetch    its retry
    └── antflow.stage Parse
        └── antflow.task parse

Context. When a worker takes the item (``in_progress``) the stage span becomes the
current span of that worker's context, and when a task call starts (a ``start`` task
event) the task span does, until the call ends (``complete``, ``retry`` or ``fail``) and
the stage ends. Both events are emitted by the worker itself right before and after it
calls the task, and a plain-function task runs in a thread with a copy of the worker's
context, so a span the task opens (an instrumented HTTP client, a database driver, your
own ``tracer.start_as_current_span``) is a child of the task span.

Sampling: the sampler's decision on an item's span holds for the whole item. When the
item span is not recorded (sampled out, or OpenTelemetry's no-op API), no stage or task
span is made for it; the item span's context (when valid) is still made current around
its tasks, so the spans they open follow the same decision.

Metrics: counters of stage outcomes and retries, a histogram of task call durations, and
up-down counters of the items in flight, queued and held per stage (see
`antflow_otel.names`). The observer counts in plain dictionaries that the instruments
read when metrics are collected (`antflow_otel.instruments`); only the histogram is
recorded per task call.

Times come from the events (seconds since the epoch) so that spans and the pipeline's
own records agree. Item ids are assumed unique among the items in flight, as the
default ids are; two items in flight with one id would share their spans.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Mapping
from contextvars import Token
from typing import Any, Final

from antflow_core.model import (
    FailedItem,
    ItemFinished,
    ItemStatus,
    PipelineResult,
    StatusEvent,
    TaskEvent,
    TaskEventType,
    describe_error,
)
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Link, Span, Status, StatusCode, TracerProvider

from antflow_otel import names
from antflow_otel.config import configured_providers, get_tracer
from antflow_otel.instruments import AttributeKey, Counts, counts_for

__all__ = ["TelemetryObserver"]

_ROOT: Final = Context()  # an empty context: a span started in it begins a new trace

# Where an item is, for the live counts.
_NOWHERE: Final = 0
_QUEUED: Final = 1
_HELD: Final = 2

_TASK_OUTCOMES: Final = {
    TaskEventType.COMPLETE: "completed",
    TaskEventType.RETRY: "retried",
    TaskEventType.FAIL: "failed",
}
_STAGE_ENDS: Final = {
    ItemStatus.COMPLETED: "completed",
    ItemStatus.SKIPPED: "skipped",
    ItemStatus.FAILED: "failed",
    ItemStatus.EXPANDED: "expanded",
}


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


def _attribute(value: Any) -> str | int | float | bool:
    """An item id as an attribute value: OpenTelemetry takes str, int, float and bool."""
    if isinstance(value, str | int | float):  # bool is an int
        return value
    return str(value)


def _add(counts: dict[AttributeKey, int], key: AttributeKey, amount: int) -> None:
    counts[key] = counts.get(key, 0) + amount


class _Item:
    """What the observer holds for one item in flight."""

    __slots__ = (
        "context",
        "place",
        "recording",
        "retries",
        "span",
        "stage",
        "stage_context",
        "stage_span",
        "stage_token",
        "task_span",
        "task_start",
        "task_token",
    )

    def __init__(self, span: Span, context: Context | None, recording: bool) -> None:
        self.span = span
        # Holds the item span (None when it is not valid): the parent of its stage spans.
        self.context = context
        self.recording = recording  # whether stage and task spans are made for it
        self.stage: str | None = None  # the stage it is at
        self.stage_span: Span | None = None
        self.stage_context: Context | None = None  # holds the stage span
        self.stage_token: Token[Context] | None = None  # the stage (or item) span made current
        self.task_span: Span | None = None
        self.task_start = 0
        self.task_token: Token[Context] | None = None
        self.retries = 0  # at the current stage
        self.place = _NOWHERE


class TelemetryObserver:
    """Turns a pipeline's events into OpenTelemetry traces and metrics.

    The quickest way to use it is ``Pipeline(stages, telemetry=True)``, which builds one
    with the defaults. Build one yourself to choose its options, and pass it as
    ``Pipeline(stages, telemetry=observer)``; either way it can sit beside a
    `StatusTracker` (``Pipeline(stages, status_tracker=tracker, telemetry=observer)``).
    Use one observer per pipeline.

    Without an OpenTelemetry SDK configured (only the API installed, or no provider set),
    every span and instrument is OpenTelemetry's no-op and nothing is recorded.

    Args:
        tracer_provider: Where the spans go; by default the provider chosen with
            `configure_telemetry`, else the global one.
        meter_provider: Where the metrics go; same default.
        traces: Record spans.
        metrics: Record metrics.
        task_spans: Record a span per task call under each stage span. Without them,
            a user's span inside a task is a child of the stage span.
        pipeline_name: A name to put on every span and metric as ``antflow.pipeline``, to
            tell pipelines apart.

    Raises:
        TypeError: If an option has the wrong type.

    Example:
        ```python
        observer = TelemetryObserver(pipeline_name="crawler", task_spans=False)
        pipeline = Pipeline(stages, status_tracker=tracker, telemetry=observer)
        ```
    """

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        traces: bool = True,
        metrics: bool = True,
        task_spans: bool = True,
        pipeline_name: str | None = None,
    ) -> None:
        for option, value in (("traces", traces), ("metrics", metrics), ("task_spans", task_spans)):
            if not isinstance(value, bool):
                raise TypeError(f"{option} must be True or False, got {value!r}")
        if pipeline_name is not None and not isinstance(pipeline_name, str):
            raise TypeError(f"pipeline_name must be a string or None, got {pipeline_name!r}")
        self._traces = traces
        self._task_spans = traces and task_spans
        self._tracer = get_tracer(tracer_provider)
        self._common: dict[str, Any] = (
            {} if pipeline_name is None else {names.PIPELINE: pipeline_name}
        )
        self._common_key: AttributeKey = tuple(self._common.items())
        self._items: dict[Any, _Item] = {}
        self._counts: Counts | None = None
        if metrics:
            self._counts = counts_for(
                meter_provider if meter_provider is not None else configured_providers()[1]
            )
        # Attribute keys and mappings, made once per stage (and task, outcome, error type).
        self._stage_keys: dict[str, AttributeKey] = {}
        self._failure_keys: dict[tuple[str, str], AttributeKey] = {}
        self._task_attributes: dict[tuple[str, str, str], Mapping[str, Any]] = {}

    def __repr__(self) -> str:
        return (
            f"<TelemetryObserver traces={self._traces} metrics={self._counts is not None} "
            f"task_spans={self._task_spans} in_flight={len(self._items)}>"
        )

    @property
    def observes_task_events(self) -> bool:
        """Whether the pipeline should send task events (for task spans and durations)."""
        return self._task_spans or self._counts is not None

    @property
    def items_in_flight(self) -> int:
        """How many items the observer holds spans for (fed, not yet ended)."""
        return len(self._items)

    # --------------------------------------------------------------------- status events

    def record_status(
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
        """Record one status change given as plain fields (the pipeline's fast path)."""
        item = self._items.get(item_id)
        if item is None:  # (a fan-out stage's child links to its parent's stage span)
            item = self._begin_item(item_id, timestamp)
        if status is ItemStatus.QUEUED:
            if item.stage_token is not None:  # re-queued (per_stage) by the worker holding it
                otel_context.detach(item.stage_token)
                item.stage_token = None
            if item.stage != stage:
                self._begin_stage(item, item_id, stage, timestamp)
            self._move(item, stage, _QUEUED)
        elif status is ItemStatus.IN_PROGRESS:
            if item.stage != stage:
                self._begin_stage(item, item_id, stage, timestamp)
            span = item.stage_span
            if span is not None:
                span.set_attribute(names.WORKER, worker or "")
            elif item.context is not None:  # not recorded: its tasks follow the item span
                span = item.span
            if span is not None:
                context = trace.set_span_in_context(span)  # on the worker's own context
                item.stage_context = context
                item.stage_token = otel_context.attach(context)
            self._move(item, stage, _HELD)
        elif status is ItemStatus.RETRYING:
            item.retries += 1
            if self._counts is not None:
                _add(self._counts.retried, self._stage_key(stage), 1)
            span = item.stage_span
            if span is not None:
                span.add_event(
                    names.RETRY_EVENT,
                    {
                        # "attempt" is the one about to be made; name the one that failed.
                        names.ATTEMPT: int(metadata.get("attempt", item.retries + 1)) - 1,
                        names.TASK: str(metadata.get("task", "")),
                        names.EXCEPTION_TYPE: str(metadata.get("error_type", "")),
                        names.EXCEPTION_MESSAGE: str(metadata.get("error", "")),
                    },
                    _ns(timestamp),
                )
        else:
            outcome = _STAGE_ENDS.get(status)
            if outcome is not None:
                span = item.stage_span
                if status is ItemStatus.SKIPPED and span is not None and worker is not None:
                    # A skipped item goes queued -> skipped: no in_progress named its worker.
                    span.set_attribute(names.WORKER, worker)
                self._end_stage(item, stage, outcome, timestamp, metadata)
                if status is ItemStatus.EXPANDED:  # it ends here: its children go on
                    self._end_expanded(item_id, metadata, timestamp)
        return None

    def _end_expanded(self, item_id: Any, metadata: Mapping[str, Any], timestamp: float) -> None:
        """End the span of an item that a fan-out stage turned into children."""
        item = self._items.pop(item_id, None)
        if item is None:
            return
        if self._counts is not None:
            _add(self._counts.in_flight, self._common_key, -1)
        if item.recording:
            item.span.set_attributes(
                {names.OUTCOME: "expanded", names.CHILDREN: int(metadata.get("children", 0))}
            )
        item.span.end(_ns(timestamp))

    def on_status_event(self, event: StatusEvent) -> Awaitable[None] | None:
        """Record one `StatusEvent` (for runtimes that build events; see `record_status`)."""
        return self.record_status(
            event.item_id,
            event.stage,
            event.status,
            event.worker,
            event.worker_id,
            event.timestamp,
            event.metadata,
        )

    def _begin_item(self, item_id: Any, timestamp: float) -> _Item:
        if self._counts is not None:
            _add(self._counts.in_flight, self._common_key, 1)
        if not self._traces:
            item = _Item(trace.INVALID_SPAN, None, False)
        else:
            feeder = trace.get_current_span().get_span_context()
            span = self._tracer.start_span(
                names.ITEM_SPAN,
                context=_ROOT,
                attributes={**self._common, names.ITEM_ID: _attribute(item_id)},
                links=[Link(feeder)] if feeder.is_valid else None,
                start_time=_ns(timestamp),
            )
            valid = span.get_span_context().is_valid
            item = _Item(
                span,
                trace.set_span_in_context(span, _ROOT) if valid else None,
                span.is_recording(),
            )
        self._items[item_id] = item
        return item

    def _begin_stage(self, item: _Item, item_id: Any, stage: str, timestamp: float) -> None:
        if item.stage_span is not None:  # not ended: the runtime skipped an event
            self._end_stage(item, item.stage or stage, "unfinished", timestamp, {})
        item.stage = stage
        item.retries = 0
        if item.recording:
            item.stage_span = self._tracer.start_span(
                names.STAGE_SPAN_PREFIX + stage,
                context=item.context,
                attributes={**self._common, names.STAGE: stage, names.ITEM_ID: _attribute(item_id)},
                start_time=_ns(timestamp),
            )

    def _end_stage(
        self,
        item: _Item,
        stage: str,
        outcome: str,
        timestamp: float,
        metadata: Mapping[str, Any],
    ) -> None:
        self._end_task(item, "unfinished", None, _ns(timestamp))
        if item.stage_token is not None:
            otel_context.detach(item.stage_token)
            item.stage_token = None
        counts = self._counts
        if counts is not None:
            if outcome == "completed":
                _add(counts.completed, self._stage_key(stage), 1)
            elif outcome == "failed":
                _add(counts.failed, self._failure_key(stage, metadata), 1)
            elif outcome == "skipped":
                _add(counts.skipped, self._stage_key(stage), 1)
        span = item.stage_span
        if span is not None:
            span.set_attributes({names.OUTCOME: outcome, names.ATTEMPTS: 1 + item.retries})
            if outcome == "failed":
                error = metadata.get("exception")
                if isinstance(error, BaseException):
                    span.record_exception(error, timestamp=_ns(timestamp))
                span.set_attribute(names.ERROR_TYPE, str(metadata.get("error_type", "")))
                span.set_status(Status(StatusCode.ERROR, str(metadata.get("error", ""))))
            span.end(_ns(timestamp))
        item.stage_span = None
        item.stage_context = None
        item.stage = None
        self._move(item, stage, _NOWHERE)

    def _move(self, item: _Item, stage: str, place: int) -> None:
        """Keep the live counts: ``item`` is now at ``place`` of ``stage``."""
        counts = self._counts
        was = item.place
        if counts is None or was == place:
            return
        key = self._stage_key(stage)
        if was == _QUEUED:
            _add(counts.queued, key, -1)
        elif was == _HELD:
            _add(counts.in_progress, key, -1)
        if place == _QUEUED:
            _add(counts.queued, key, 1)
        elif place == _HELD:
            _add(counts.in_progress, key, 1)
        item.place = place

    # ------------------------------------------------------------------------ task events

    def on_task_event(self, event: TaskEvent) -> Awaitable[None] | None:
        """Open a task span at a call's start; close it and record its duration at its end."""
        kind = event.event_type
        item = self._items.get(event.item_id)
        if kind is TaskEventType.START:
            if item is not None and item.recording and self._task_spans:
                self._begin_task(item, event)
            return None
        outcome = _TASK_OUTCOMES.get(kind)
        if outcome is None:
            return None
        duration = event.duration or 0.0
        if self._counts is not None:
            key = (event.stage, event.task_name, outcome)
            attributes = self._task_attributes.get(key)
            if attributes is None:
                attributes = {
                    **self._common,
                    names.STAGE: event.stage,
                    names.TASK: event.task_name,
                    names.OUTCOME: outcome,
                }
                self._task_attributes[key] = attributes
            self._counts.duration.record(duration, attributes)
        if item is not None and item.task_span is not None:
            self._end_task(item, outcome, event.error, item.task_start + _ns(duration))
        return None

    def _begin_task(self, item: _Item, event: TaskEvent) -> None:
        start = _ns(event.timestamp)
        self._end_task(item, "unfinished", None, start)  # (a call whose end was not seen)
        span = self._tracer.start_span(
            names.TASK_SPAN_PREFIX + event.task_name,
            context=item.stage_context or item.context,
            attributes={
                **self._common,
                names.STAGE: event.stage,
                names.TASK: event.task_name,
                names.ITEM_ID: _attribute(event.item_id),
                names.WORKER: event.worker,
                names.ATTEMPT: event.attempt,
            },
            start_time=start,
        )
        item.task_span = span
        item.task_start = start
        item.task_token = otel_context.attach(trace.set_span_in_context(span))

    def _end_task(
        self, item: _Item, outcome: str, error: BaseException | None, end: int | None
    ) -> None:
        span = item.task_span
        if span is None:
            return
        if item.task_token is not None:
            otel_context.detach(item.task_token)
            item.task_token = None
        span.set_attribute(names.OUTCOME, outcome)
        if error is not None:
            # An error whose __str__ is broken makes record_exception raise: end the span anyway.
            with contextlib.suppress(Exception):
                span.record_exception(error, timestamp=end)
            span.set_attribute(names.ERROR_TYPE, type(error).__name__)
            span.set_status(Status(StatusCode.ERROR, describe_error(error)))
        span.end(end)
        item.task_span = None

    # ---------------------------------------------------------------------- item endings

    def record_finished(
        self, item_id: Any, ended: PipelineResult[Any] | FailedItem, timestamp: float, /
    ) -> Awaitable[None] | None:
        """End the item's span as it left the pipeline (the pipeline's fast path)."""
        item = self._items.pop(item_id, None)
        if item is None:
            return None
        if item.stage is not None:  # it left from a stage that did not end it
            self._end_stage(item, item.stage, "unfinished", timestamp, {})
        if self._counts is not None:
            _add(self._counts.in_flight, self._common_key, -1)
        span = item.span
        if item.recording:
            if isinstance(ended, FailedItem):
                span.set_attributes(
                    {
                        names.OUTCOME: "failed",
                        names.STAGE: ended.stage,
                        names.ERROR_TYPE: ended.error_type,
                    }
                )
                span.set_status(
                    Status(StatusCode.ERROR, f"{ended.error_type}: {ended.error_message}")
                )
            else:
                span.set_attribute(names.OUTCOME, "completed")
        span.end(_ns(timestamp))
        return None

    def on_item_finished(self, event: ItemFinished) -> Awaitable[None] | None:
        """End the item's span (for runtimes that build events; see `record_finished`)."""
        outcome = event.outcome
        result = outcome.value_or(None)
        ended = result if result is not None else outcome.failure()
        return self.record_finished(event.item_id, ended, event.timestamp)

    def end_unfinished(self, timestamp: float | None = None) -> int:
        """End the spans of the items that never left the pipeline; return how many.

        After a ``shutdown()``, a cancellation or a crash, some items end neither as a
        result nor as a failure (the pipeline lists them in ``unfinished_items``), so
        their spans stay open and are never exported. Call this then to end them with
        ``antflow.outcome = "unfinished"`` and take them out of the in-flight counts.

        Args:
            timestamp: Seconds since the epoch to end them at; by default, now.
        """
        end = None if timestamp is None else _ns(timestamp)
        for item in self._items.values():
            # The spans made current belong to the workers' contexts, not to this one.
            item.task_token = item.stage_token = None
            self._end_task(item, "unfinished", None, end)
            if item.stage_span is not None:
                item.stage_span.set_attribute(names.OUTCOME, "unfinished")
                item.stage_span.end(end)
                item.stage_span = None
            self._move(item, item.stage or "", _NOWHERE)
            if self._counts is not None:
                _add(self._counts.in_flight, self._common_key, -1)
            if item.recording:
                item.span.set_attribute(names.OUTCOME, "unfinished")
            item.span.end(end)
        ended = len(self._items)
        self._items.clear()
        return ended

    # ------------------------------------------------------------------------ attributes

    def _stage_key(self, stage: str) -> AttributeKey:
        key = self._stage_keys.get(stage)
        if key is None:
            key = (*self._common_key, (names.STAGE, stage))
            self._stage_keys[stage] = key
        return key

    def _failure_key(self, stage: str, metadata: Mapping[str, Any]) -> AttributeKey:
        error_type = str(metadata.get("error_type", ""))
        key = self._failure_keys.get((stage, error_type))
        if key is None:
            key = (*self._common_key, (names.STAGE, stage), (names.ERROR_TYPE, error_type))
            self._failure_keys[(stage, error_type)] = key
        return key
