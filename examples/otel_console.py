"""OpenTelemetry traces and metrics of a pipeline, printed to the console.

A crawler fetches 8 pages (an ``async`` task that opens its own "GET" span, as an
instrumented HTTP client would) and parses them (a plain function, run in a thread).
One page fails once and is retried, one never loads, and one is skipped by ``Parse``.
A ``StatusTracker`` sits beside the telemetry.

The OpenTelemetry SDK is set up as a program sets it up for production, with the
console exporters in place of an OTLP exporter: every span is printed as one line when
the batch processor exports it, and the metrics once, when the program ends. Needs
``pip install antflow[otel] opentelemetry-sdk``.

    python examples/otel_console.py
"""

from __future__ import annotations

import asyncio

from antflow import Pipeline, Stage, StatusTracker
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

tracer = trace.get_tracer("crawler")  # the program's own tracer
attempts: dict[str, int] = {}


async def fetch(url: str) -> str:
    attempts[url] = attempts.get(url, 0) + 1
    # An instrumented HTTP client opens a span like this one: it becomes a child of
    # antflow's span for this task call.
    with tracer.start_as_current_span(f"GET {url}"):
        await asyncio.sleep(0.01)
    if url.endswith("/broken") or (url.endswith("/flaky") and attempts[url] == 1):
        raise ConnectionError(f"{url}: connection reset")
    return f"<html>{url}</html>"


def parse(html: str) -> int:
    return len(html)


def one_line(span: ReadableSpan) -> str:
    """A span as one console line: trace, name, duration and antflow's attributes."""
    context = span.context
    trace_id = f"{context.trace_id:032x}"[-6:] if context is not None else "------"
    took = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    shown = {
        key.removeprefix("antflow."): value
        for key, value in (span.attributes or {}).items()
        if key in ("antflow.item.id", "antflow.attempt", "antflow.outcome", "error.type")
    }
    details = " ".join(f"{key}={value}" for key, value in shown.items())
    return f"span trace={trace_id} {span.name:<34} {took:6.1f} ms  {details}\n"


def metric_lines(data: MetricsData) -> str:
    """The metrics as ``name{attributes} value`` lines (a histogram shows its count)."""
    lines = []
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    pairs = (point.attributes or {}).items()
                    labels = ",".join(f"{key}={value!r}" for key, value in pairs)
                    count = getattr(point, "count", None)  # a histogram's point
                    shown = f"count={count}" if count is not None else getattr(point, "value", "")
                    lines.append(f"metric {metric.name}{{{labels}}} {shown}\n")
    return "".join(sorted(lines))


def set_up_opentelemetry() -> tuple[TracerProvider, MeterProvider]:
    resource = Resource.create({"service.name": "crawler"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter(formatter=one_line)))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(
        ConsoleMetricExporter(formatter=metric_lines), export_interval_millis=60_000
    )
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    metrics.set_meter_provider(meter_provider)
    return tracer_provider, meter_provider


async def crawl() -> None:
    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[
            Stage("Fetch", workers=3, tasks=[fetch], task_attempts=2, task_wait_seconds=0.01),
            Stage("Parse", workers=1, tasks=[parse], skip_if=lambda html: "/skip" in html),
        ],
        status_tracker=tracker,
        telemetry=True,  # antflow-otel's observer, on the providers set above
    )
    pages = ["home", "about", "flaky", "broken", "skip", "blog", "docs", "faq"]
    results = await pipeline.run(
        [{"id": page, "value": f"https://example.com/{page}"} for page in pages]
    )
    stats = tracker.get_stats()
    print(f"crawled {len(results)} pages, {stats['failed']} failed (tracker)")


def main() -> None:
    tracer_provider, meter_provider = set_up_opentelemetry()
    asyncio.run(crawl())
    tracer_provider.shutdown()  # exports the spans still in the batch
    meter_provider.shutdown()  # exports the metrics one last time


if __name__ == "__main__":
    main()
