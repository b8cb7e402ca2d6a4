"""Issue 11, findings 9-13: no item taken from the user is lost, no call starves another.

Each test is named after the finding it guards (``test_fNN_...``). A hang is turned into
a failure by ``asyncio.timeout``, never detected by sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from antflow_core import ItemFinished, Pipeline, PipelineStateError, Stage, StatusEvent, TaskEvent

HANG = 10  # seconds after which a test that would hang fails instead


async def identity(x: Any) -> Any:
    return x


class Observer:
    """Wakes the test once ``in_progress`` items started, or ``finished`` items ended."""

    def __init__(self, in_progress: int = 1, finished: int = 0) -> None:
        self.want_started, self.want_finished = in_progress, finished
        self.started_count = self.finished_count = 0
        self.started = asyncio.Event()
        self.finished = asyncio.Event()

    def on_status_event(self, event: StatusEvent) -> None:
        if event.status == "in_progress":
            self.started_count += 1
            if self.started_count >= self.want_started:
                self.started.set()

    def on_task_event(self, event: TaskEvent) -> None:
        return None

    def on_item_finished(self, event: ItemFinished) -> None:
        self.finished_count += 1
        if self.finished_count >= self.want_finished:
            self.finished.set()


class Source:
    """An iterable of 0..n-1 that records every item taken from it."""

    def __init__(self, n: int = 100) -> None:
        self.n = n
        self.taken: list[int] = []

    def __iter__(self) -> Iterator[int]:
        for i in range(self.n):
            self.taken.append(i)
            yield i


def held_stage(workers: int = 1, capacity: int = 1) -> tuple[Stage, asyncio.Event]:
    release = asyncio.Event()

    async def held(x: int) -> int:
        await release.wait()
        return x

    return Stage("Held", workers=workers, tasks=[held], queue_capacity=capacity), release


def accounted(pipeline: Pipeline, yielded: list[int] | None = None) -> list[int]:
    """Return every id that ended (yielded, in results or failures) or is unfinished, sorted."""
    ids = list(yielded or [])
    ids += [r.id for r in pipeline.results] + [f.id for f in pipeline.failures]
    ids += [p.id for p in pipeline.unfinished_items]
    return sorted(ids)


def assert_counts_agree(pipeline: Pipeline, taken: int) -> None:
    stats = pipeline.get_stats()
    assert stats.items_in_flight == 0
    assert stats.items_fed == taken
    assert stats.items_fed == stats.items_processed + stats.items_failed + stats.items_unfinished


# ---------------------------------------------------------------------------- 9


@pytest.mark.parametrize("closing", ["break", "aclosing"])
async def test_f09_leaving_a_stream_early_accounts_for_every_item_taken(closing: str) -> None:
    stage, release = held_stage()
    release.set()
    source = Source()
    pipeline = Pipeline(stages=[stage, Stage("Next", tasks=[identity], queue_capacity=1)])
    yielded: list[int] = []
    async with asyncio.timeout(HANG):
        if closing == "aclosing":
            async with contextlib.aclosing(pipeline.stream(source)) as results:
                async for result in results:
                    yielded.append(result.id)
                    break
        else:
            async for result in pipeline.stream(source):
                yielded.append(result.id)
                break
        await pipeline.shutdown()  # waits for the stream's own stop, however it left
    assert accounted(pipeline, yielded) == source.taken
    assert_counts_agree(pipeline, len(source.taken))


async def test_f09_cancelling_run_accounts_for_the_item_waiting_for_room() -> None:
    stage, _ = held_stage()
    observer = Observer()
    source = Source()
    pipeline = Pipeline(stages=[stage], status_tracker=observer)
    runner = asyncio.create_task(pipeline.run(source))
    async with asyncio.timeout(HANG):
        await observer.started.wait()
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
    # one item held by the worker, one in the queue, one taken and waiting for room
    assert len(source.taken) == 3
    assert accounted(pipeline) == source.taken
    assert_counts_agree(pipeline, 3)


async def test_f09_shutdown_during_feed_accounts_for_the_item_waiting_for_room() -> None:
    stage, _ = held_stage()
    observer = Observer()
    source = Source()
    pipeline = Pipeline(stages=[stage], status_tracker=observer)
    await pipeline.start()
    feeder = asyncio.create_task(pipeline.feed(source))
    async with asyncio.timeout(HANG):
        await observer.started.wait()
        await pipeline.shutdown()
        with pytest.raises(PipelineStateError, match="shut down while feeding"):
            await feeder
    assert len(source.taken) == 3
    assert accounted(pipeline) == source.taken
    assert [p.id for p in pipeline.unfinished_items] == [0, 1, 2]
    assert_counts_agree(pipeline, 3)


# --------------------------------------------------------------------------- 10


@pytest.mark.parametrize("closing", ["break", "aclosing"])
async def test_f10_results_waiting_in_a_left_stream_are_kept_in_results(closing: str) -> None:
    observer = Observer(finished=10)
    pipeline = Pipeline(stages=[Stage("S", workers=4, tasks=[identity])], status_tracker=observer)
    yielded: list[int] = []
    async with asyncio.timeout(HANG):
        stream = pipeline.stream(range(10))
        async with contextlib.aclosing(stream) if closing == "aclosing" else _nothing():
            async for result in stream:
                yielded.append(result.id)
                await observer.finished.wait()  # every item ended: the rest wait in the buffer
                break
        await pipeline.shutdown()
    kept = [r.id for r in pipeline.results]
    assert len(yielded) == 1
    assert sorted(yielded + kept) == list(range(10))  # none processed and dropped
    stats = pipeline.get_stats()
    assert stats.items_processed == 10
    assert pipeline.unfinished_items == []


@contextlib.asynccontextmanager
async def _nothing() -> Any:
    yield


# --------------------------------------------------------------------------- 11


async def test_f11_a_second_concurrent_run_is_refused_and_the_first_is_untouched() -> None:
    stage, release = held_stage(workers=2, capacity=0)
    observer = Observer(in_progress=2)
    pipeline = Pipeline(stages=[stage], status_tracker=observer)
    first = asyncio.create_task(pipeline.run(range(5)))
    async with asyncio.timeout(HANG):
        await observer.started.wait()
        with pytest.raises(PipelineStateError, match=r"run\(\) while another run\(\)"):
            await pipeline.run(range(5, 10))
        with pytest.raises(PipelineStateError, match=r"stream\(\) while run\(\)"):
            async for _ in pipeline.stream(range(5, 10)):
                pass
        release.set()
        results = await first
    assert [r.value for r in results] == [0, 1, 2, 3, 4]
    assert pipeline.get_stats().items_fed == 5
    # once the first run returned, the pipeline runs again
    assert [r.value for r in await pipeline.run(range(5, 8))] == [5, 6, 7]


# --------------------------------------------------------------------------- 12


def plain_identity(x: int) -> int:
    return x


async def test_f12_a_run_started_while_the_previous_run_stops_keeps_its_threads() -> None:
    observer = Observer()
    pipeline = Pipeline(
        stages=[Stage("Sync", workers=1, tasks=[plain_identity], task_wait_seconds=0)],
        status_tracker=observer,
    )
    second: list[asyncio.Task[Any]] = []

    def start_second_run(_: asyncio.Task[None]) -> None:
        # The first run's worker just stopped: its join() is in its final stop.
        second.append(asyncio.get_running_loop().create_task(pipeline.run(range(20, 40))))

    async def first_run() -> None:  # start/feed/join: a run() meanwhile would be refused
        await pipeline.start()
        await pipeline.feed(range(20))
        await pipeline.join()

    first = asyncio.create_task(first_run())
    async with asyncio.timeout(HANG):
        await observer.started.wait()
        [worker] = [t for t in asyncio.all_tasks() if t.get_name() == "antflow:Sync-W0"]
        worker.add_done_callback(start_second_run)
        await first
        results = await second[0]
    assert pipeline.failures == []  # not "cannot schedule new futures after shutdown"
    assert [r.value for r in results] == list(range(20, 40))
    assert len(pipeline.results) == 40


# --------------------------------------------------------------------------- 13


async def test_f13_calls_that_time_out_do_not_starve_the_stage_of_threads() -> None:
    stuck = threading.Event()
    calls: list[int] = []

    def call(x: int) -> int:
        calls.append(x)
        if x < 2:
            stuck.wait(timeout=HANG)  # two calls hang, as many as the stage has workers
        return x

    pipeline = Pipeline(
        stages=[Stage("Sync", workers=2, tasks=[call], task_attempts=1, task_timeout=0.3)]
    )
    try:
        async with asyncio.timeout(HANG):
            results = await pipeline.run(range(8))
    finally:
        stuck.set()
    assert [r.value for r in results] == [2, 3, 4, 5, 6, 7]  # each called, none timed out
    assert [f.id for f in pipeline.failures] == [0, 1]
    assert sorted(calls) == list(range(8))
