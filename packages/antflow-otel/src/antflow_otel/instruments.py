"""The metric instruments, one set per meter provider, shared by every observer using it.

Counting is the hot path of a pipeline with telemetry, so the observers count in plain
dictionaries here (a dictionary update per event) and the instruments read them when a
metric reader collects: the counters and the live counts are *observable* instruments
whose callbacks report the totals. Only the task duration histogram is recorded per call,
since a histogram needs every value.

An SDK meter keeps the callbacks of the first registration of an instrument name and
ignores later ones, so the instruments are made once per provider and every observer
that uses the provider counts into the same `Counts`. Its keys are attribute sets as
sorted tuples of pairs, made once per stage by each observer.

The counts are written from the event loop's thread and read, as a copy, from the
metric reader's thread.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Histogram, MeterProvider, Observation

from antflow_otel import names
from antflow_otel.config import get_meter

__all__ = ["AttributeKey", "Counts", "counts_for"]

AttributeKey = tuple[tuple[str, Any], ...]
"""An attribute set as a hashable key: ``(("antflow.stage", "Fetch"),)``."""


class Counts:
    """The totals and live counts of the observers on one meter provider."""

    __slots__ = (
        "completed",
        "duration",
        "failed",
        "in_flight",
        "in_progress",
        "queued",
        "retried",
        "skipped",
    )

    def __init__(self, meter: metrics.Meter) -> None:
        self.completed: dict[AttributeKey, int] = {}
        self.failed: dict[AttributeKey, int] = {}
        self.retried: dict[AttributeKey, int] = {}
        self.skipped: dict[AttributeKey, int] = {}
        self.in_flight: dict[AttributeKey, int] = {}
        self.queued: dict[AttributeKey, int] = {}
        self.in_progress: dict[AttributeKey, int] = {}
        counters = (
            (names.ITEMS_COMPLETED, self.completed, "{item}", "Items that completed a stage."),
            (names.ITEMS_FAILED, self.failed, "{item}", "Items a stage gave up on."),
            (names.ITEMS_RETRIED, self.retried, "{retry}", "Task calls or stage attempts retried."),
            (names.ITEMS_SKIPPED, self.skipped, "{item}", "Items that skip_if sent past a stage."),
        )
        for name, values, unit, description in counters:
            meter.create_observable_counter(name, [_reporter(values)], unit, description)
        self.duration: Histogram = meter.create_histogram(
            names.TASK_DURATION,
            "s",
            "How long each task call took.",
            explicit_bucket_boundaries_advisory=names.TASK_DURATION_BUCKETS,
        )
        live = (
            (names.ITEMS_IN_FLIGHT, self.in_flight, "Items fed that have not left the pipeline."),
            (names.ITEMS_QUEUED, self.queued, "Items waiting in a stage's queue."),
            (names.ITEMS_IN_PROGRESS, self.in_progress, "Items a worker of the stage holds."),
        )
        for name, values, description in live:
            meter.create_observable_up_down_counter(
                name, [_reporter(values)], "{item}", description
            )


_Callback = Callable[[CallbackOptions], Iterable[Observation]]


def _reporter(values: dict[AttributeKey, int]) -> _Callback:
    """A callback reporting ``values`` (a copy: the event loop may be adding to them)."""

    def report(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(value, dict(key)) for key, value in values.copy().items()]

    return report


_lock = threading.Lock()
_by_provider: weakref.WeakKeyDictionary[MeterProvider, Counts] = weakref.WeakKeyDictionary()
_global: list[Counts] = []


def counts_for(meter_provider: MeterProvider | None) -> Counts:
    """The `Counts` of ``meter_provider``, or of OpenTelemetry's global provider for None.

    The global provider's instruments are made once, on a meter that follows the global
    provider: before an SDK is set it is the API's proxy, which passes to the SDK's meter
    once one is set.
    """
    with _lock:
        if meter_provider is None:
            if not _global:
                _global.append(Counts(get_meter(metrics.get_meter_provider())))
            return _global[0]
        counts = _by_provider.get(meter_provider)
        if counts is None:
            counts = Counts(get_meter(meter_provider))
            _by_provider[meter_provider] = counts
        return counts
