"""Issue 11, findings 1-8: what used to hang now ends, and every item is accounted for.

Each test is named after the finding it guards (``test_fNN_...``). A hang is turned into
a failure by ``asyncio.timeout`` (or a subprocess timeout), never detected by sleeping.
"""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from antflow_core import (
    DashboardSnapshot,
    FailedItem,
    Payload,
    Pipeline,
    PipelineStateError,
    Stage,
    StageValidationError,
    StatusEvent,
)
from antflow_tracker import StatusTracker

HANG = 10  # seconds after which a test that would hang fails instead


async def identity(x: Any) -> Any:
    return x


class CustomBaseError(BaseException):
    """A BaseException that is neither an Exception nor a cancellation."""


def assert_every_item_accounted_for(pipeline: Pipeline, taken: list[int]) -> None:
    """Every item taken from the iterable ended once (result or failure) or is unfinished."""
    stats = pipeline.get_stats()
    ended = [r.id for r in pipeline.results] + [f.id for f in pipeline.failures]
    unfinished = [p.id for p in pipeline.unfinished_items]
    assert sorted(ended + unfinished) == sorted(taken)
    assert stats.items_in_flight == 0
    assert stats.items_fed == len(taken)
    assert stats.items_fed == stats.items_processed + stats.items_failed + stats.items_unfinished
    # The count join() waits on agrees too (it went below zero after a shutdown from inside).
    assert pipeline._run_state.in_flight == 0


# ---------------------------------------------------------------------------- 1


SHUTDOWN_PLACES = ["task", "on_success", "on_failure", "skip_if", "tracker"]


@pytest.mark.parametrize("place", SHUTDOWN_PLACES)
async def test_f01_shutdown_from_inside_the_pipeline_stops_it_and_returns(place: str) -> None:
    pipeline: Pipeline
    returned = asyncio.Event()

    async def stop() -> None:
        await pipeline.shutdown()  # used to wait for the very worker running it
        returned.set()

    async def work(x: int) -> int:
        if place == "task" and x == 3:
            await stop()
        if place == "on_failure" and x == 3:
            raise ValueError("fails, so that on_failure runs")
        return x

    async def on_success(payload: Payload[int]) -> None:
        if place == "on_success" and payload.id == 3:
            await stop()

    async def on_failure(failed: FailedItem) -> None:
        if place == "on_failure":
            await stop()

    async def skip_if(x: int) -> bool:
        if place == "skip_if" and x == 3:
            await stop()
        return False

    async def on_status_change(event: StatusEvent) -> None:
        if place == "tracker" and event.item_id == 3 and event.status == "in_progress":
            await stop()

    pipeline = Pipeline(
        stages=[
            Stage(
                "Work",
                workers=2,
                tasks=[work],
                task_attempts=1,
                on_success=on_success,
                on_failure=on_failure,
                skip_if=skip_if,
            ),
            Stage("Next", tasks=[identity]),
        ],
        status_tracker=StatusTracker(on_status_change=on_status_change),
    )
    async with asyncio.timeout(HANG):
        with pytest.raises(PipelineStateError, match="shut down"):
            await pipeline.run(range(20))
        await pipeline.shutdown()  # and every later shutdown() returns too
    assert returned.is_set()
    assert pipeline.is_closed
    assert_every_item_accounted_for(pipeline, list(range(20)))


async def test_f01_a_stream_shut_down_by_its_last_stage_keeps_the_result_of_the_caller() -> None:
    pipeline: Pipeline

    async def last(x: int) -> int:
        if x == 0:
            await pipeline.shutdown()
        return x  # the caller's item ends after the shutdown, the stream is gone

    pipeline = Pipeline(stages=[Stage("Last", tasks=[last])], collect_results=False)
    seen: list[int] = []

    async def consume() -> None:
        async for result in pipeline.stream([0]):
            seen.append(result.id)

    async with asyncio.timeout(HANG):
        with pytest.raises(PipelineStateError, match="shut down while streaming"):
            await consume()
    assert seen == []
    assert [r.value for r in pipeline.results] == [0]  # processed, so kept, not dropped
    assert_every_item_accounted_for(pipeline, [0])


# ---------------------------------------------------------------------------- 2


def plain_next(x: int) -> int:
    if x == 1:
        next(iter([]))  # StopIteration
    return x


async def async_next(x: int) -> int:
    if x == 1:
        next(iter([]))
    return x


@pytest.mark.parametrize("task", [plain_next, async_next], ids=["plain", "async"])
async def test_f02_a_task_raising_stop_iteration_fails_that_item(
    task: Callable[[int], Any],
) -> None:
    pipeline = Pipeline(stages=[Stage("S", workers=1, tasks=[task], task_attempts=1)])
    async with asyncio.timeout(HANG):
        results = await pipeline.run(range(3))
    assert [r.value for r in results] == [0, 2]
    [failed] = pipeline.failures
    assert failed.id == 1
    # Python turns a StopIteration leaving a coroutine into a RuntimeError (PEP 479);
    # a plain function's is reported the same way, with the StopIteration as the cause.
    assert isinstance(failed.error, RuntimeError)
    assert isinstance(failed.error.__cause__, StopIteration)
    assert "StopIteration" in failed.error_message


# ---------------------------------------------------------------------------- 3


async def test_f03_a_second_cancellation_while_run_stops_keeps_every_count_right() -> None:
    in_progress = 0
    both_started = asyncio.Event()
    cleaning = asyncio.Event()
    forever = asyncio.Event()

    async def slow_to_stop(x: int) -> int:
        nonlocal in_progress
        in_progress += 1
        if in_progress == 2:
            both_started.set()
        try:
            await forever.wait()
        finally:
            cleaning.set()
            await asyncio.sleep(3600)  # an async cleanup that a second cancel interrupts
        return x

    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[slow_to_stop])])
    runner = asyncio.create_task(pipeline.run(range(10)))
    async with asyncio.timeout(HANG):
        await both_started.wait()
        runner.cancel()  # the first Ctrl-C
        await cleaning.wait()
        runner.cancel()  # the second one, while run() stops the workers
        with pytest.raises(asyncio.CancelledError):
            await runner
        stats = pipeline.get_stats()
        assert (stats.items_fed, stats.items_unfinished, stats.items_in_flight) == (10, 10, 0)
        assert [p.id for p in pipeline.unfinished_items] == list(range(10))
        await pipeline.shutdown()  # used to hang forever
    assert pipeline.is_closed


# ---------------------------------------------------------------------------- 4


@pytest.mark.parametrize(
    "error", [CustomBaseError("source broke"), asyncio.CancelledError("from the source")]
)
@pytest.mark.parametrize("mode", ["stream", "run"])
async def test_f04_an_iterable_raising_a_base_exception_ends_a_stream_as_it_ends_run(
    error: BaseException, mode: str
) -> None:
    taken: list[int] = []

    def source() -> Iterator[int]:
        for i in range(3):
            taken.append(i)
            yield i
        raise error

    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[identity])])
    seen: list[int] = []

    async def consume() -> None:
        if mode == "stream":
            async for result in pipeline.stream(source()):
                seen.append(result.id)
        else:
            await pipeline.run(source())

    async with asyncio.timeout(HANG):
        with pytest.raises(type(error)) as caught:
            await consume()
    assert caught.value is error
    assert pipeline.is_closed
    assert set(seen) <= set(taken)
    stats = pipeline.get_stats()
    ended = seen + [r.id for r in pipeline.results] + [f.id for f in pipeline.failures]
    assert sorted(ended + [p.id for p in pipeline.unfinished_items]) == taken
    assert stats.items_in_flight == 0


# ---------------------------------------------------------------------------- 5

EXIT_SCRIPT = textwrap.dedent(
    """
    import asyncio
    import sys
    import threading

    from antflow_core import Pipeline, Stage

    never = threading.Event()
    started = threading.Event()

    def hangs(x):
        started.set()
        never.wait()  # a plain-function call that never returns
        return x

    async def main(how):
        stage = Stage("S", workers=2, tasks=[hangs], task_attempts=1,
                      task_timeout=0.05 if how == "timeout" else None)
        pipeline = Pipeline(stages=[stage])
        if how == "timeout":
            await pipeline.run([1])
            print("failed:", [type(f.error).__name__ for f in pipeline.failures], flush=True)
        else:
            await pipeline.start()
            await pipeline.feed([1])
            await asyncio.to_thread(started.wait)
            await pipeline.shutdown()
            print("unfinished:", [p.id for p in pipeline.unfinished_items], flush=True)

    asyncio.run(main(sys.argv[1]))
    print("main returned", flush=True)
    """
)


@pytest.mark.parametrize("how", ["timeout", "shutdown"])
def test_f05_a_plain_call_that_never_returns_does_not_keep_the_process_alive(
    tmp_path: Path, how: str
) -> None:
    script = tmp_path / "hung_call.py"
    script.write_text(EXIT_SCRIPT)
    try:
        done = subprocess.run(
            [sys.executable, str(script), how],
            capture_output=True,
            text=True,
            timeout=30,  # the interpreter used to wait for the thread forever at exit
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the process did not exit: {exc.stdout!r}")
    assert done.returncode == 0, done.stderr
    expected = "failed: ['TaskTimeoutError']" if how == "timeout" else "unfinished: [0]"
    assert done.stdout.splitlines() == [expected, "main returned"]


# ---------------------------------------------------------------------------- 6


async def test_f06_a_task_that_feeds_its_own_pipeline_does_not_deadlock() -> None:
    pipeline: Pipeline

    async def crawl(page: int) -> int:
        if page < 200:  # every page links to two more, like a recursive crawler
            await pipeline.feed([2 * page + 1, 2 * page + 2])
        return page

    pipeline = Pipeline(stages=[Stage("Crawl", workers=2, tasks=[crawl], queue_capacity=2)])
    async with asyncio.timeout(HANG):
        await pipeline.start()
        await pipeline.feed([0])
        await pipeline.join()
    assert sorted(r.value for r in pipeline.results) == list(range(401))
    assert pipeline.get_stats().items_fed == 401


async def test_f06_a_callback_that_feeds_a_full_queue_neither_blocks_nor_drops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pipeline: Pipeline

    async def more(payload: Payload[int]) -> None:
        if payload.value < 50:  # three more items for each of the first fifty
            await pipeline.feed([payload.value + k * 50 for k in (1, 2, 3)])

    pipeline = Pipeline(
        stages=[Stage("Parse", workers=1, tasks=[identity], queue_capacity=1, on_success=more)],
        callback_timeout=1,
    )
    async with asyncio.timeout(HANG):
        results = await pipeline.run(range(50))
    assert sorted(r.value for r in results) == list(range(200))
    assert "callback_timeout" not in caplog.text  # never blocked until the timeout


@pytest.mark.parametrize("call", ["join", "run", "stream"])
async def test_f06_waiting_for_the_pipeline_from_inside_it_fails_at_once(call: str) -> None:
    pipeline: Pipeline
    errors: list[BaseException] = []

    async def waits_for_itself(x: int) -> int:
        try:
            if call == "join":
                await pipeline.join()
            elif call == "run":
                await pipeline.run([x + 100])
            else:
                async for _ in pipeline.stream([x + 100]):
                    pass
        except PipelineStateError as exc:
            errors.append(exc)
        return x

    pipeline = Pipeline(stages=[Stage("S", tasks=[waits_for_itself])])
    async with asyncio.timeout(HANG):
        await pipeline.start()
        await pipeline.feed([1])
        await pipeline.join()
    assert [r.value for r in pipeline.results] == [1]
    [error] = errors
    assert f"{call}() from code the pipeline runs" in str(error)
    assert "feed() the new items from there instead" in str(error)


# ---------------------------------------------------------------------------- 7


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_f07_non_finite_numbers_are_rejected_where_numbers_are_validated(number: float) -> None:
    with pytest.raises(StageValidationError, match="task_timeout must be"):
        Stage("S", tasks=[identity], task_timeout=number)
    with pytest.raises(StageValidationError, match="task_wait_seconds must be"):
        Stage("S", tasks=[identity], task_wait_seconds=number)
    with pytest.raises(ValueError, match="callback_timeout must be"):
        Pipeline(stages=[Stage("S", tasks=[identity])], callback_timeout=number)


class Display:
    """A minimal `ProgressDisplay` that records its calls."""

    def __init__(self, refresh_interval: float = 0.01) -> None:
        self.refresh_interval = refresh_interval
        self.calls: list[str] = []

    def start(self, total: int | None, stage_names: Sequence[str]) -> None:
        self.calls.append("start")

    def update(self, snapshot: DashboardSnapshot) -> None:
        self.calls.append("update")

    def finish(self, snapshot: DashboardSnapshot) -> None:
        self.calls.append("finish")


@pytest.mark.parametrize("number", [math.nan, math.inf])
async def test_f07_a_non_finite_refresh_interval_is_rejected_before_anything_starts(
    number: float,
) -> None:
    pipeline = Pipeline(stages=[Stage("S", tasks=[identity])])
    with pytest.raises(ValueError, match="refresh_interval must be"):
        await pipeline.run([1], progress=Display(), refresh_interval=number)
    assert not pipeline.is_running


@pytest.mark.parametrize("number", [math.nan, math.inf, 0.0])
async def test_f07_a_display_with_a_non_finite_refresh_interval_is_dropped_not_run(
    number: float, caplog: pytest.LogCaptureFixture
) -> None:
    display = Display(refresh_interval=number)
    pipeline = Pipeline(stages=[Stage("S", tasks=[identity])])
    async with asyncio.timeout(HANG):
        results = await pipeline.run(range(3), progress=display)
    assert [r.value for r in results] == [0, 1, 2]
    assert display.calls == []
    assert "refresh_interval" in caplog.text


# ---------------------------------------------------------------------------- 8


async def test_f08_an_async_skip_if_that_never_returns_is_cut_off_by_callback_timeout() -> None:
    forever = asyncio.Event()

    async def skip_if(x: int) -> bool:
        if x == 1:
            await forever.wait()
        return False

    pipeline = Pipeline(
        stages=[Stage("S", workers=1, tasks=[identity], skip_if=skip_if)], callback_timeout=0.05
    )
    async with asyncio.timeout(HANG):
        results = await pipeline.run(range(3))
    assert [r.value for r in results] == [0, 2]
    [failed] = pipeline.failures
    assert (failed.id, failed.stage) == (1, "S")
    assert isinstance(failed.error, TimeoutError)
    assert "skip_if of stage 'S' took longer than callback_timeout=0.05s" in str(failed.error)
