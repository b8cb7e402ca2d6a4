"""Telemetry overhead: antflow's throughput with OpenTelemetry on, against off, in one run.

The pipeline of ``bench/throughput.py`` (3 stages of 10 workers, a no-op coroutine task)
runs N items. The task costs nothing, so what telemetry adds is all there is to see:
this is its worst case. Contenders:

* ``no telemetry``: ``Pipeline.run`` alone;
* ``tracker``: with a ``StatusTracker()``, for scale;
* ``no-op API``: ``telemetry=TelemetryObserver()`` with no SDK provider set anywhere,
  as when only ``opentelemetry-api`` is installed: every span and instrument is the
  API's no-op, and what remains is the observer's own bookkeeping;
* ``SDK``: the OpenTelemetry SDK recording everything: a ``TracerProvider`` whose
  ``BatchSpanProcessor`` exports to an ``InMemorySpanExporter`` (its queue sized so that
  no span is dropped; the export thread's CPU time counts, and the run ends with a
  ``force_flush``), and a ``MeterProvider`` with an ``InMemoryMetricReader``, read once
  after the run. 7 spans per item (an item span, and a stage and a task span per stage);
* ``SDK + tracker``: the same, beside a ``StatusTracker()``
  (``Pipeline(status_tracker=tracker, telemetry=observer)``).

Each round runs every contender once (alternating the order); a ratio is the median over
the rounds of the two contenders' ratio within a round. Time is the process's CPU time
(all threads: the span export thread counts).

    python bench/otel_overhead.py [--items 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Mapping

from antflow import Pipeline, Stage, StatusTracker
from antflow_otel import TelemetryObserver
from benchlib import STAGES, WORKERS, Row, noop, paired_ratio, round_rates
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

SPANS_PER_ITEM = 1 + 2 * STAGES


def stages() -> list[Stage]:
    return [Stage(f"S{i}", workers=WORKERS, tasks=[noop]) for i in range(STAGES)]


async def without(n: int) -> int:
    return len(await Pipeline(stages()).run(range(n)))


async def with_tracker(n: int) -> int:
    return len(await Pipeline(stages(), status_tracker=StatusTracker()).run(range(n)))


async def with_noop_api(n: int) -> int:
    return len(await Pipeline(stages(), telemetry=TelemetryObserver()).run(range(n)))


async def with_sdk(n: int, tracker: StatusTracker | None = None) -> int:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(
        BatchSpanProcessor(exporter, max_queue_size=SPANS_PER_ITEM * n + 1)
    )
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    observer = TelemetryObserver(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        results = await Pipeline(stages(), status_tracker=tracker, telemetry=observer).run(range(n))
        tracer_provider.force_flush()
        metrics = reader.get_metrics_data()
        exported = len(exporter.get_finished_spans())
    finally:
        tracer_provider.shutdown()
        meter_provider.shutdown()
    if exported != SPANS_PER_ITEM * n:
        raise RuntimeError(f"exported {exported} spans, expected {SPANS_PER_ITEM * n}")
    if metrics is None:
        raise RuntimeError("the metric reader read nothing")
    return len(results)


async def with_sdk_and_tracker(n: int) -> int:
    tracker = StatusTracker()
    got = await with_sdk(n, tracker)
    if tracker.get_stats()["completed"] != n:
        raise RuntimeError("the tracker missed items")
    return got


CONTENDERS: Mapping[str, Callable[[int], Awaitable[int]]] = {
    "no telemetry": without,
    "tracker": with_tracker,
    "no-op API": with_noop_api,
    "SDK": with_sdk,
    "SDK + tracker": with_sdk_and_tracker,
}


def measure(items: int, repeat: int) -> list[Row]:
    """Telemetry overhead as suite rows: median ratios of rounds against no telemetry."""
    rates = asyncio.run(round_rates(CONTENDERS, items, repeat))

    def against_off(name: str) -> str:
        return f"{paired_ratio(rates, name, 'no telemetry'):.2f} ({max(rates[name]):,.0f}/s)"

    return [
        Row("telemetry overhead", "no-op API / no telemetry", against_off("no-op API")),
        Row("telemetry overhead", "SDK, batch, in memory / no telemetry", against_off("SDK")),
        Row("telemetry overhead", "SDK + tracker / no telemetry", against_off("SDK + tracker")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rates = asyncio.run(round_rates(CONTENDERS, args.items, args.repeat))
    print(
        f"{args.items} items, {STAGES} stages x {WORKERS} workers, a no-op task, "
        f"{args.repeat} rounds, CPU time; ratios are medians of the rounds' ratios"
    )
    print(f"  {'':15s} {'items/s':>10s}   {'vs no telemetry':>15s}   {'µs/item added':>13s}")
    for name, values in rates.items():
        ratio = paired_ratio(rates, name, "no telemetry")
        added = 1e6 / max(values) - 1e6 / max(rates["no telemetry"])
        print(f"  {name:15s} {max(values):10,.0f}   {ratio:15.2f}   {added:13.1f}")


if __name__ == "__main__":
    main()
