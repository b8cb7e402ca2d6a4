"""Context propagation: the spans a task opens are children of that call's span.

The observer makes the stage span current when a worker takes an item and the task span
current while a task runs, in the worker's own context, and restores it afterwards: a
span never leaks to another item, to the caller, or across workers.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading

import pytest
from antflow import Pipeline, Stage
from antflow_otel import names
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from .conftest import Recorded


def by_id(spans: list[ReadableSpan]) -> dict[int, ReadableSpan]:
    return {s.context.span_id: s for s in spans if s.context is not None}


def parent_of(span: ReadableSpan, spans: dict[int, ReadableSpan]) -> ReadableSpan:
    assert span.parent is not None, f"{span.name} has no parent"
    return spans[span.parent.span_id]


async def test_a_span_opened_in_an_async_or_a_thread_task_is_a_child_of_the_task_span(
    recorded: Recorded,
) -> None:
    tracer = recorded.user_tracer()
    threads: set[str] = set()

    async def fetch(x: int) -> int:
        with tracer.start_as_current_span("http", attributes={"item": x}):
            await asyncio.sleep(0)
        return x

    def parse(x: int) -> int:  # plain function: runs in the pipeline's threads
        threads.add(threading.current_thread().name)
        with tracer.start_as_current_span("cpu", attributes={"item": x}):
            return x

    stages = [
        Stage("Fetch", workers=3, tasks=[fetch]),
        Stage("Parse", workers=2, tasks=[parse]),
    ]
    async with asyncio.timeout(5):
        await Pipeline(stages, telemetry=recorded.observer()).run(range(20))

    assert threads
    assert all(name.startswith("antflow") for name in threads)
    spans = recorded.spans()
    index = by_id(spans)
    for user_name, task_name in (("http", "fetch"), ("cpu", "parse")):
        user_spans = [s for s in spans if s.name == user_name]
        assert len(user_spans) == 20
        for span in user_spans:
            parent = parent_of(span, index)
            assert parent.name == names.TASK_SPAN_PREFIX + task_name
            # the task span of the same item: no span leaks from one item to another
            assert (parent.attributes or {})[names.ITEM_ID] == (span.attributes or {})["item"]


async def test_many_workers_interleaving_never_mix_up_their_items_spans(
    recorded: Recorded, caplog: pytest.LogCaptureFixture
) -> None:
    tracer = recorded.user_tracer()
    rng = random.Random(7)
    delays = [rng.choice([0, 0, 1, 2]) for _ in range(200)]

    async def work(x: int) -> int:
        for _ in range(delays[x]):  # yield to the other workers a varying number of times
            await asyncio.sleep(0)
        with tracer.start_as_current_span("inner", attributes={"item": x}):
            for _ in range(delays[-x]):
                await asyncio.sleep(0)
        if x % 7 == 0 and delays[x] == 0:
            raise ConnectionError("flaky")
        return x

    stages = [
        Stage("A", workers=8, tasks=[work], task_attempts=2, task_wait_seconds=0),
        Stage("B", workers=5, tasks=[work], retry="per_stage", task_wait_seconds=0),
    ]
    caplog.set_level(logging.WARNING)
    outside = trace.get_current_span()
    async with asyncio.timeout(5):
        await Pipeline(stages, telemetry=recorded.observer()).run(range(200))
    assert trace.get_current_span() is outside  # nothing leaked into the caller
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []  # no bad detach

    spans = recorded.spans()
    index = by_id(spans)
    inner = [s for s in spans if s.name == "inner"]
    assert len(inner) >= 400
    for span in inner:
        task_span = parent_of(span, index)
        stage_span = parent_of(task_span, index)
        item_span = parent_of(stage_span, index)
        item = (span.attributes or {})["item"]
        assert (task_span.attributes or {})[names.ITEM_ID] == item
        assert (stage_span.attributes or {})[names.ITEM_ID] == item
        assert (item_span.attributes or {})[names.ITEM_ID] == item
        assert item_span.parent is None


async def test_without_task_spans_a_users_span_is_a_child_of_the_stage_span(
    recorded: Recorded,
) -> None:
    tracer = recorded.user_tracer()

    async def fetch(x: int) -> int:
        with tracer.start_as_current_span("http"):
            return x

    observer = recorded.observer(task_spans=False)
    assert observer.observes_task_events  # for the task duration histogram
    async with asyncio.timeout(5):
        await Pipeline([Stage("Fetch", workers=2, tasks=[fetch])], telemetry=observer).run(range(3))
    spans = recorded.spans()
    index = by_id(spans)
    assert sorted(s.name for s in spans) == [
        *[names.ITEM_SPAN] * 3,
        *[names.STAGE_SPAN_PREFIX + "Fetch"] * 3,
        *["http"] * 3,
    ]
    for span in spans:
        if span.name == "http":
            assert parent_of(span, index).name == names.STAGE_SPAN_PREFIX + "Fetch"
    assert recorded.metrics()[names.TASK_DURATION] == {
        frozenset({(names.STAGE, "Fetch"), (names.TASK, "fetch"), (names.OUTCOME, "completed")}): 3
    }


async def test_stage_callbacks_run_under_the_stage_span(recorded: Recorded) -> None:
    tracer = recorded.user_tracer()

    async def double(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return 2 * x

    def on_success(result: object) -> None:
        tracer.start_span("notify").end()

    def skip_if(x: int) -> bool:
        tracer.start_span("check").end()
        return False

    stage = Stage(
        "Double",
        workers=1,
        tasks=[double],
        task_attempts=1,
        on_success=on_success,
        skip_if=skip_if,
    )
    async with asyncio.timeout(5):
        await Pipeline([stage], telemetry=recorded.observer()).run([1, 2, 3])
    spans = recorded.spans()
    index = by_id(spans)
    notified = [s for s in spans if s.name == "notify"]
    assert len(notified) == 2
    for span in notified:
        assert parent_of(span, index).name == names.STAGE_SPAN_PREFIX + "Double"
    # skip_if decides, while the item is still queued, whether the stage runs at all: it
    # runs before the item's stage span is current, and no earlier item's span leaks in.
    checks = [s for s in spans if s.name == "check"]
    assert len(checks) == 3
    assert all(span.parent is None for span in checks)


async def test_items_fed_inside_a_span_start_their_own_trace_linked_to_it(
    recorded: Recorded,
) -> None:
    async def noop(x: int) -> int:
        return x

    tracer = recorded.user_tracer()
    pipeline = Pipeline([Stage("S", workers=2, tasks=[noop])], telemetry=recorded.observer())
    with tracer.start_as_current_span("nightly batch") as batch:
        async with asyncio.timeout(5):
            await pipeline.run(range(3))
    batch_context = batch.get_span_context()
    items = [s for s in recorded.spans() if s.name == names.ITEM_SPAN]
    assert len(items) == 3
    for span in items:
        assert span.parent is None
        assert span.context is not None
        assert span.context.trace_id != batch_context.trace_id
        assert [link.context for link in span.links] == [batch_context]


async def test_items_fed_outside_any_span_have_no_link(recorded: Recorded) -> None:
    async def noop(x: int) -> int:
        return x

    pipeline = Pipeline([Stage("S", workers=1, tasks=[noop])], telemetry=recorded.observer())
    async with asyncio.timeout(5):
        await pipeline.run(range(2))
    assert [list(s.links) for s in recorded.spans() if s.name == names.ITEM_SPAN] == [[], []]
