"""Issue 11, findings 14-22: counts agree, nothing crashes, bad input is refused at once.

Each test is named after the finding it guards (``test_fNN_...``). A hang is turned into
a failure by ``asyncio.timeout``, never detected by sleeping.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from antflow_core import (
    DashboardSnapshot,
    FailedItem,
    FeedError,
    ItemFinished,
    ItemStatus,
    Pipeline,
    PipelineResult,
    PipelineStateError,
    Stage,
    StageValidationError,
    StatusEvent,
)
from antflow_core.model import failed_outcome
from antflow_tracker import StatusTracker

HANG = 10  # seconds after which a test that would hang fails instead


async def identity(x: Any) -> Any:
    return x


def plain_identity(x: Any) -> Any:
    return x


class CustomBaseError(BaseException):
    """A BaseException that is neither an Exception nor a cancellation."""


def assert_tracker_agrees(pipeline: Pipeline, tracker: StatusTracker) -> None:
    """The tracker's final statuses are the pipeline's outcomes; the rest are unfinished.

    A result ends "completed", or "skipped" if it skipped the last stage.
    """
    stats = pipeline.get_stats()
    last_stage = pipeline.stages[-1].name
    ended_as_results = [
        e.item_id
        for status in ("completed", "skipped")
        for e in tracker.get_by_status(status)
        if status == "completed" or e.stage == last_stage
    ]
    assert len(ended_as_results) == stats.items_processed
    assert tracker.get_stats()["failed"] == stats.items_failed
    assert tracker.get_error_summary().total_failed == stats.items_failed
    unfinished = {p.id for p in pipeline.unfinished_items}
    for status in ("queued", "in_progress", "retrying", "skipped"):
        for event in tracker.get_by_status(status):
            if event.item_id not in ended_as_results:
                assert event.item_id in unfinished, (event, unfinished)
    assert stats.items_fed == stats.items_processed + stats.items_failed + stats.items_unfinished


# --------------------------------------------------------------------------- 14


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("__str__ is broken")


class NotAStringError(Exception):
    def __str__(self) -> Any:
        return 42


@pytest.mark.parametrize("error_type", [UnprintableError, NotAStringError])
async def test_f14_an_error_whose_str_is_broken_fails_only_its_item(
    error_type: type[Exception],
) -> None:
    async def breaks(x: int) -> int:
        if x == 1:
            raise error_type()
        return x

    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[Stage("S", workers=1, tasks=[breaks], task_attempts=2, task_wait_seconds=0)],
        status_tracker=tracker,
    )
    async with asyncio.timeout(HANG):
        results = await pipeline.run(range(3))  # used to raise PipelineCrashedError
    assert [r.value for r in results] == [0, 2]
    [failed] = pipeline.failures
    assert failed.id == 1
    assert isinstance(failed.error, error_type)
    assert error_type.__name__ in failed.error_message
    assert pipeline.unfinished_items == []
    summary = pipeline.get_error_summary()
    assert summary.errors_by_type == {error_type.__name__: 1}
    assert_tracker_agrees(pipeline, tracker)
    status = tracker.get_status(1)
    assert status is not None
    assert status.status == "failed"
    assert error_type.__name__ in status.metadata["error"]


async def test_f14_an_iterable_raising_an_error_whose_str_is_broken_still_feeds() -> None:
    def source() -> Any:
        yield 0
        raise UnprintableError()

    pipeline = Pipeline(stages=[Stage("S", tasks=[identity])])
    async with asyncio.timeout(HANG):
        with pytest.raises(FeedError, match="UnprintableError") as caught:
            await pipeline.run(source())
    assert isinstance(caught.value.__cause__, UnprintableError)
    assert [r.value for r in pipeline.results] == [0]


# --------------------------------------------------------------------------- 15


async def test_f15_generator_exit_raised_by_a_plain_function_fails_only_its_item() -> None:
    def closes(x: int) -> int:
        if x == 0:
            raise GeneratorExit
        return x

    pipeline = Pipeline(stages=[Stage("S", workers=1, tasks=[closes], task_attempts=3)])
    async with asyncio.timeout(HANG):
        results = await pipeline.run(range(3))  # used to crash the worker
    assert [r.value for r in results] == [1, 2]
    [failed] = pipeline.failures
    assert failed.id == 0
    assert type(failed.error) is GeneratorExit
    assert failed.attempts == 1  # a BaseException is not retried


# --------------------------------------------------------------------------- 16


async def test_f16_a_feed_stopped_while_waiting_for_room_leaves_no_phantom_queued_item() -> None:
    release = asyncio.Event()
    started = asyncio.Event()

    async def held(x: int) -> int:
        started.set()
        await release.wait()
        return x

    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[Stage("Held", workers=1, tasks=[held], queue_capacity=1)], status_tracker=tracker
    )
    await pipeline.start()
    feeder = asyncio.create_task(pipeline.feed(range(10)))
    async with asyncio.timeout(HANG):
        await started.wait()
        await pipeline.shutdown()
        with pytest.raises(PipelineStateError):
            await feeder
    assert_tracker_agrees(pipeline, tracker)
    queued = [e.item_id for e in tracker.get_by_status("queued")]
    assert queued == [1]  # the item in the queue; the one still waiting for room is not


async def test_f16_a_stop_just_after_the_last_stage_completed_an_item_agrees() -> None:
    reached = asyncio.Event()
    forever = asyncio.Event()

    async def on_status_change(event: StatusEvent) -> None:
        if event.status == "completed" and event.stage == "Last":
            reached.set()
            await forever.wait()  # the stop comes while the tracker hears of the end

    tracker = StatusTracker(on_status_change=on_status_change)
    pipeline = Pipeline(
        stages=[Stage("First", tasks=[identity]), Stage("Last", tasks=[identity])],
        status_tracker=tracker,
    )
    runner = asyncio.create_task(pipeline.run([1]))
    async with asyncio.timeout(HANG):
        await reached.wait()
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
    assert_tracker_agrees(pipeline, tracker)
    stats = pipeline.get_stats()
    assert (stats.items_processed, stats.items_unfinished) == (1, 0)


# --------------------------------------------------------------------------- 17


def test_f17_a_status_callback_raising_a_base_exception_never_skips_on_failure() -> None:
    # A runtime that reports an item's end without its final status (a custom runtime
    # calling on_item_finished): the tracker records "failed" itself, which calls
    # on_status_change, which raises.
    delivered: list[int] = []

    def on_status_change(event: StatusEvent) -> None:
        raise CustomBaseError("a status callback bug")

    tracker = StatusTracker(
        on_status_change=on_status_change, on_failure=lambda f: delivered.append(f.id)
    )
    for item in range(10):
        tracker.on_status_event(StatusEvent(item, "S", ItemStatus.IN_PROGRESS, "S-W0", 0, 0.0))
        failed = FailedItem(item, item, ValueError("bad"), "S", 1, item)
        tracker.on_item_finished(ItemFinished(item, failed_outcome(failed), 1.0))
    assert delivered == list(range(10))
    assert tracker.get_stats()["failed"] == 10


async def test_f17_an_async_status_callback_raising_a_base_exception_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    delivered: list[int] = []

    async def on_status_change(event: StatusEvent) -> None:
        raise CustomBaseError("an async status callback bug")

    async def on_success(result: PipelineResult[Any]) -> None:
        delivered.append(result.id)

    tracker = StatusTracker(on_status_change=on_status_change, on_success=on_success)
    pipeline = Pipeline(
        stages=[Stage("S", tasks=[identity], skip_if=lambda x: x % 2 == 1)],
        status_tracker=tracker,
        collect_results=False,
    )
    async with asyncio.timeout(HANG):
        await pipeline.run(range(10))
    assert sorted(delivered) == list(range(10))
    assert "the tracker's on_status_change callback raised" in caplog.text


# --------------------------------------------------------------------------- 18


class Display:
    """A minimal `ProgressDisplay` that records its calls; ``start`` may raise."""

    refresh_interval = 0.01

    def __init__(self, start_raises: BaseException | None = None) -> None:
        self.start_raises = start_raises
        self.calls: list[str] = []

    def start(self, total: int | None, stage_names: Sequence[str]) -> None:
        self.calls.append("start")
        if self.start_raises is not None:
            raise self.start_raises

    def update(self, snapshot: DashboardSnapshot) -> None:
        self.calls.append("update")

    def finish(self, snapshot: DashboardSnapshot) -> None:
        self.calls.append("finish")


def antflow_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("antflow")]


async def test_f18_cancelling_the_final_stop_of_a_stream_still_stops_display_and_threads() -> None:
    display = Display()
    pipeline = Pipeline(stages=[Stage("Sync", workers=1, tasks=[plain_identity])])
    threads_before = set(antflow_threads())

    async def consume() -> list[int]:
        seen = []
        async for result in pipeline.stream(range(5), progress=display):
            seen.append(result.id)
            if len(seen) == 5:
                # the stream's last step stops the workers; cancel the consumer right then
                [worker] = [t for t in asyncio.all_tasks() if t.get_name() == "antflow:Sync-W0"]
                worker.add_done_callback(lambda _: consumer.cancel())
        return seen

    consumer = asyncio.create_task(consume())
    async with asyncio.timeout(HANG):
        with pytest.raises(asyncio.CancelledError):
            await consumer
    assert display.calls[-1] == "finish"
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "antflow:display"]
    for thread in set(antflow_threads()) - threads_before:
        await asyncio.to_thread(thread.join, HANG)  # the pool's threads end
        assert not thread.is_alive()


# --------------------------------------------------------------------------- 19


@pytest.mark.parametrize("error", [CustomBaseError("display"), KeyboardInterrupt()])
async def test_f19_a_display_whose_start_raises_a_base_exception_leaves_nothing_running(
    error: BaseException,
) -> None:
    display = Display(start_raises=error)
    pipeline = Pipeline(stages=[Stage("S", workers=3, tasks=[identity])])
    with pytest.raises(type(error)):
        await pipeline.run(range(3), progress=display)
    assert not pipeline.is_running
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("antflow:")]
    # the pipeline is still usable
    assert [r.value for r in await pipeline.run(range(3))] == [0, 1, 2]


# --------------------------------------------------------------------------- 20


def test_f20_a_pipeline_runs_in_one_event_loop_after_another(
    loop_factory: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    limited = threading.Lock()

    async def limited_call(x: int) -> int:
        await asyncio.sleep(0)
        return x

    def plain(x: int) -> int:
        with limited:
            return x

    pipeline = Pipeline(
        stages=[
            Stage(
                "Async",
                workers=2,
                tasks=[limited_call],
                task_concurrency_limits={"limited_call": 1},
                call_rate=10_000,  # a rate limiter and a call gate, bound to a loop too
            ),
            Stage("Plain", workers=2, tasks=[plain], task_timeout=5, call_concurrency=1),
        ]
    )
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        first = runner.run(pipeline.run(range(10)))
    with asyncio.Runner(loop_factory=loop_factory) as runner:  # a second asyncio.run
        second = runner.run(pipeline.run(range(10, 20)))
    assert [r.value for r in first] == list(range(10))
    assert [r.value for r in second] == list(range(10, 20))
    assert pipeline.unfinished_items == []
    assert pipeline.failures == []


# --------------------------------------------------------------------------- 21


async def agen_task(x: int) -> AsyncIterator[int]:
    yield x


async def agen_predicate(x: int) -> AsyncIterator[bool]:
    yield False


class AgenCallable:
    async def __call__(self, x: int) -> AsyncIterator[int]:
        yield x


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tasks", [agen_task]),
        ("tasks", [AgenCallable()]),
        ("skip_if", agen_predicate),
        ("on_success", agen_task),
        ("on_failure", agen_task),
    ],
)
def test_f21_an_async_generator_function_is_refused_at_construction(field: str, value: Any) -> None:
    kwargs: dict[str, Any] = {"tasks": [identity], field: value}
    with pytest.raises(StageValidationError, match="async generator") as caught:
        Stage("S", **kwargs)
    assert "yield" in str(caught.value)


# --------------------------------------------------------------------------- 22


@pytest.mark.parametrize(
    "items", [bytearray(b"abc"), memoryview(b"abc")], ids=["bytearray", "memoryview"]
)
@pytest.mark.parametrize("method", ["run", "stream", "feed"])
async def test_f22_binary_buffers_are_refused_as_items(items: Any, method: str) -> None:
    pipeline = Pipeline(stages=[Stage("S", tasks=[identity])])
    call: Callable[[], Any]
    if method == "run":
        call = lambda: pipeline.run(items)  # noqa: E731
    elif method == "stream":
        call = lambda: pipeline.stream(items).__anext__()  # noqa: E731
    else:
        await pipeline.start()
        call = lambda: pipeline.feed(items)  # noqa: E731
    with pytest.raises(TypeError, match=f"items is a {type(items).__name__}"):
        await call()
    assert pipeline.get_stats().items_fed == 0
    await pipeline.shutdown()
