"""Fixtures of the antflow-otel tests: the OpenTelemetry SDK, recording in memory.

No test sets OpenTelemetry's global providers (they can be set once per process): each
gets its own `TracerProvider` with an `InMemorySpanExporter` behind a
`SimpleSpanProcessor` (spans are exported as they end) and its own `MeterProvider` with
an `InMemoryMetricReader`, and passes them explicitly or through `configure_telemetry`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from antflow_otel import TelemetryObserver, configure_telemetry
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

Attributes = frozenset[tuple[str, Any]]


@dataclass
class Node:
    """A span as a test compares it: name, attributes, status, events and child spans."""

    name: str
    attributes: dict[str, Any]
    status: str  # "UNSET", "OK" or "ERROR"
    description: str | None
    events: list[tuple[Any, ...]]
    children: list[Node]


def _start(span: ReadableSpan) -> tuple[int, str]:
    return (span.start_time or 0, span.name)


def _event(name: str, attributes: dict[str, Any]) -> tuple[Any, ...]:
    if name == "exception":
        return (name, attributes["exception.type"], attributes["exception.message"])
    return (name, attributes)


@dataclass
class Recorded:
    """What the pipeline under test sent to OpenTelemetry."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    units: dict[str, str] = field(default_factory=dict)

    def observer(self, **options: Any) -> TelemetryObserver:
        """A `TelemetryObserver` recording into this fixture."""
        return TelemetryObserver(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **options
        )

    def user_tracer(self) -> Tracer:
        """A tracer for the spans a user's task opens (scope ``"user"``)."""
        return self.tracer_provider.get_tracer("user")

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def traces(self) -> dict[Any, Node]:
        """Every finished trace as a tree of `Node`, by the id of the item at its root.

        Children are in the order they started. An exception event is shown as
        ``("exception", type, message)``, another event as ``(name, attributes)``.
        """
        spans = self.spans()
        children: dict[int | None, list[ReadableSpan]] = {}
        for span in spans:
            parent = span.parent.span_id if span.parent is not None else None
            children.setdefault(parent, []).append(span)

        def node(span: ReadableSpan) -> Node:
            assert span.context is not None
            kids = sorted(children.get(span.context.span_id, []), key=_start)
            return Node(
                span.name,
                dict(span.attributes or {}),
                span.status.status_code.name,
                span.status.description,
                [_event(e.name, dict(e.attributes or {})) for e in span.events],
                [node(k) for k in kids],
            )

        roots = children.get(None, [])
        return {dict(r.attributes or {})["antflow.item.id"]: node(r) for r in roots}

    def metrics(self) -> dict[str, dict[Attributes, float]]:
        """Each metric's points: its value by attribute set (a histogram's: its count)."""
        data = self.reader.get_metrics_data()
        found: dict[str, dict[Attributes, float]] = {}
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    self.units[metric.name] = metric.unit or ""
                    points = found.setdefault(metric.name, {})
                    for point in metric.data.data_points:
                        key = frozenset((point.attributes or {}).items())
                        if isinstance(point, HistogramDataPoint):
                            points[key] = point.count
                        else:
                            points[key] = point.value  # type: ignore[union-attr]
        return found


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Recorded(tracer_provider, meter_provider, exporter, reader)
    configure_telemetry()  # back to the global providers, whatever the test configured
    tracer_provider.shutdown()
    meter_provider.shutdown()
