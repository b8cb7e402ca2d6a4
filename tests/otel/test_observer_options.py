"""The observer's options, its live counts, unfinished items, and the no-op API."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from antflow import Pipeline, Stage
from antflow_otel import TelemetryObserver, configure_telemetry, get_meter, get_tracer, names
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

from .conftest import Recorded


async def noop(x: Any) -> Any:
    return x


def stage_key(stage: str) -> frozenset[tuple[str, Any]]:
    return frozenset({(names.STAGE, stage)})


async def test_live_counts_show_items_in_flight_queued_and_held_per_stage(
    recorded: Recorded,
) -> None:
    """Mid-run, with every worker held on an event, the up-down counters add up."""
    release = asyncio.Event()
    holding = 0
    all_held = asyncio.Event()

    async def hold(x: int) -> int:
        nonlocal holding
        holding += 1
        if holding == 2:
            all_held.set()
        await release.wait()
        return x

    stages = [
        Stage("Hold", workers=2, tasks=[hold], queue_capacity=10),
        Stage("Next", workers=1, tasks=[noop]),
    ]
    pipeline = Pipeline(stages, telemetry=recorded.observer())
    async with asyncio.timeout(5):
        await pipeline.start()
        await pipeline.feed(range(7))
        await all_held.wait()
        live = recorded.metrics()
        release.set()
        await pipeline.join()
    assert live[names.ITEMS_IN_FLIGHT] == {frozenset(): 7}
    assert live[names.ITEMS_QUEUED] == {stage_key("Hold"): 5}
    assert live[names.ITEMS_IN_PROGRESS] == {stage_key("Hold"): 2}
    done = recorded.metrics()
    assert done[names.ITEMS_IN_FLIGHT] == {frozenset(): 0}
    assert done[names.ITEMS_COMPLETED] == {stage_key("Hold"): 7, stage_key("Next"): 7}


async def test_end_unfinished_closes_the_spans_of_items_a_shutdown_left(
    recorded: Recorded,
) -> None:
    started = asyncio.Event()

    async def stuck(x: int) -> int:
        started.set()
        await asyncio.Event().wait()  # never returns: the shutdown cancels it
        return x

    observer = recorded.observer()
    pipeline = Pipeline([Stage("Stuck", workers=1, tasks=[stuck])], telemetry=observer)
    async with asyncio.timeout(5):
        await pipeline.start()
        await pipeline.feed(range(3))
        await started.wait()
        await pipeline.shutdown()
    assert len(pipeline.unfinished_items) == 3
    assert recorded.spans() == []  # open spans are not exported
    assert observer.items_in_flight == 3

    assert observer.end_unfinished() == 3
    assert observer.items_in_flight == 0
    spans = recorded.spans()
    outcomes = sorted(
        (s.name, (s.attributes or {})[names.ITEM_ID], (s.attributes or {})[names.OUTCOME])
        for s in spans
    )
    assert outcomes == [
        (names.ITEM_SPAN, 0, "unfinished"),
        (names.ITEM_SPAN, 1, "unfinished"),
        (names.ITEM_SPAN, 2, "unfinished"),
        (names.STAGE_SPAN_PREFIX + "Stuck", 0, "unfinished"),
        (names.STAGE_SPAN_PREFIX + "Stuck", 1, "unfinished"),
        (names.STAGE_SPAN_PREFIX + "Stuck", 2, "unfinished"),
        (names.TASK_SPAN_PREFIX + "stuck", 0, "unfinished"),
    ]
    counts = recorded.metrics()
    assert counts[names.ITEMS_IN_FLIGHT] == {frozenset(): 0}
    assert counts[names.ITEMS_QUEUED] == {stage_key("Stuck"): 0}
    assert counts[names.ITEMS_IN_PROGRESS] == {stage_key("Stuck"): 0}
    assert observer.end_unfinished() == 0


async def test_pipeline_name_is_on_every_span_and_metric(recorded: Recorded) -> None:
    observer = recorded.observer(pipeline_name="crawler")
    async with asyncio.timeout(5):
        await Pipeline([Stage("S", workers=1, tasks=[noop])], telemetry=observer).run([1])
    for span in recorded.spans():
        assert (span.attributes or {})[names.PIPELINE] == "crawler", span.name
    for metric, points in recorded.metrics().items():
        for attributes in points:
            assert (names.PIPELINE, "crawler") in attributes, metric


async def test_traces_and_metrics_can_each_be_turned_off(recorded: Recorded) -> None:
    stages = [Stage("S", workers=1, tasks=[noop])]
    async with asyncio.timeout(5):
        await Pipeline(stages, telemetry=recorded.observer(traces=False)).run([1, 2])
    assert recorded.spans() == []
    assert recorded.metrics()[names.ITEMS_COMPLETED] == {stage_key("S"): 2}

    async with asyncio.timeout(5):
        await Pipeline(stages, telemetry=recorded.observer(metrics=False)).run([1, 2])
    assert len(recorded.spans()) == 6  # item, stage and task span of each
    assert recorded.metrics()[names.ITEMS_COMPLETED] == {stage_key("S"): 2}  # unchanged

    quiet = recorded.observer(metrics=False, task_spans=False)
    assert not quiet.observes_task_events  # the pipeline builds no task events for it


def test_options_are_checked() -> None:
    with pytest.raises(TypeError, match="traces must be True or False"):
        TelemetryObserver(traces=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pipeline_name must be a string"):
        TelemetryObserver(pipeline_name=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tracer_provider must be an opentelemetry"):
        configure_telemetry(tracer_provider="console")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="meter_provider must be an opentelemetry"):
        configure_telemetry(meter_provider=object())  # type: ignore[arg-type]


def test_configure_telemetry_chooses_the_providers_of_get_tracer_and_get_meter(
    recorded: Recorded,
) -> None:
    configure_telemetry(recorded.tracer_provider, recorded.meter_provider)
    get_tracer().start_span("mine").end()
    get_meter().create_counter("mine.count").add(2)
    [span] = recorded.spans()
    assert span.name == "mine"
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "antflow"
    assert recorded.metrics()["mine.count"] == {frozenset(): 2}

    configure_telemetry()  # back to the global providers: no SDK set there, nothing recorded
    get_tracer().start_span("elsewhere").end()
    assert [s.name for s in recorded.spans()] == ["mine"]


async def test_with_the_api_alone_telemetry_records_nothing_and_changes_nothing(
    recorded: Recorded,
) -> None:
    """No SDK provider set anywhere (the global no-op providers): a pipeline runs as usual."""
    calls = 0

    async def flaky(x: int) -> int:
        nonlocal calls
        calls += 1
        if x == 2:
            raise ValueError("two")
        return x

    stage = Stage("S", workers=2, tasks=[flaky], task_attempts=2, task_wait_seconds=0)
    pipeline = Pipeline([stage], telemetry=TelemetryObserver())
    async with asyncio.timeout(5):
        results = await pipeline.run(range(4))
    assert [r.value for r in results] == [0, 1, 3]
    assert [f.id for f in pipeline.failures] == [2]
    assert calls == 5
    assert recorded.spans() == []


class EvenItems(Sampler):
    """Samples the traces of items with an even id."""

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        item = (attributes or {}).get(names.ITEM_ID)
        sampled = isinstance(item, int) and item % 2 == 0
        return SamplingResult(Decision.RECORD_AND_SAMPLE if sampled else Decision.DROP)

    def get_description(self) -> str:
        return "EvenItems"


async def test_the_samplers_decision_on_an_item_holds_for_all_of_its_spans() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(root=EvenItems()))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("user")
    trace_ids: dict[int, int] = {}

    async def fetch(x: int) -> int:
        with tracer.start_as_current_span("http") as span:
            trace_ids[x] = span.get_span_context().trace_id
        return x

    observer = TelemetryObserver(tracer_provider=provider, metrics=False)
    async with asyncio.timeout(5):
        await Pipeline([Stage("Fetch", workers=2, tasks=[fetch])], telemetry=observer).run(range(4))
    spans = exporter.get_finished_spans()
    assert sorted(s.name for s in spans) == sorted(
        [names.ITEM_SPAN, names.STAGE_SPAN_PREFIX + "Fetch", names.TASK_SPAN_PREFIX + "fetch"] * 2
        + ["http"] * 2
    )
    assert {(s.attributes or {}).get(names.ITEM_ID) for s in spans} == {0, 2, None}
    # a user's span in a sampled-out item still joins that item's trace (not recorded)
    exported = {s.context.trace_id for s in spans if s.context is not None}
    assert trace_ids[0] in exported
    assert trace_ids[1] not in exported
    assert len(set(trace_ids.values())) == 4
    provider.shutdown()
