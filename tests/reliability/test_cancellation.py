"""Cancellation and Ctrl-C stop the workers promptly and say which items had not finished."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from antflow_core import Pipeline, Stage, StatusEvent


class InProgress:
    """An observer that wakes the test once ``count`` items are in progress."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.seen = 0
        self.reached = asyncio.Event()

    def on_status_event(self, event: StatusEvent) -> None:
        if event.status == "in_progress":
            self.seen += 1
            if self.seen >= self.count:
                self.reached.set()

    def on_task_event(self, event: Any) -> None:
        return None

    def on_item_finished(self, event: Any) -> None:
        return None


def gated_pipeline(observer: InProgress, calls: list[int], workers: int = 2) -> Pipeline:
    forever = asyncio.Event()

    async def held(x: int) -> int:
        calls.append(x)
        await forever.wait()
        return x

    return Pipeline(
        stages=[Stage("Held", workers=workers, tasks=[held]), Stage("Next", tasks=[held])],
        status_tracker=observer,
    )


async def test_cancelling_join_stops_everything_and_lists_unfinished() -> None:
    observer, calls = InProgress(2), list[int]()
    pipeline = gated_pipeline(observer, calls)
    await pipeline.start()
    await pipeline.feed(range(6))
    joiner = asyncio.create_task(pipeline.join())
    await observer.reached.wait()
    joiner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await joiner
    assert calls == [0, 1]  # no new task call started after the cancellation
    assert pipeline.is_closed
    assert [p.id for p in pipeline.unfinished_items] == list(range(6))
    stats = pipeline.get_stats()
    assert (stats.items_unfinished, stats.items_in_flight) == (6, 0)


async def test_cancelling_a_stream_consumer_stops_everything() -> None:
    observer, calls = InProgress(2), list[int]()
    pipeline = gated_pipeline(observer, calls)

    async def consume() -> list[Any]:
        return [r async for r in pipeline.stream(range(5))]

    consumer = asyncio.create_task(consume())
    await observer.reached.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    await pipeline.shutdown()  # waits for the stream's own shutdown to complete
    assert pipeline.is_closed
    assert calls == [0, 1]
    assert [p.id for p in pipeline.unfinished_items] == list(range(5))


async def test_a_task_that_swallows_cancellation_does_not_keep_its_worker_going() -> None:
    reached = asyncio.Event()
    forever = asyncio.Event()
    calls: list[int] = []

    async def stubborn(x: int) -> int:
        calls.append(x)
        reached.set()
        with contextlib.suppress(asyncio.CancelledError):
            await forever.wait()
        return x

    pipeline = Pipeline(stages=[Stage("S", workers=1, tasks=[stubborn])])
    await pipeline.start()
    await pipeline.feed(range(4))
    await reached.wait()
    await pipeline.shutdown()
    assert calls == [0]  # the worker finished item 0 but took no further item
    assert [r.value for r in pipeline.results] == [0]
    assert [p.id for p in pipeline.unfinished_items] == [1, 2, 3]


SCRIPT = textwrap.dedent(
    """
    import asyncio
    from antflow_core import Pipeline, Stage

    started = 0

    async def slow(x):
        global started
        started += 1
        if started == 3:
            print("three started", flush=True)
        await asyncio.Event().wait()   # hangs until interrupted
        return x

    pipeline = Pipeline(stages=[Stage("Slow", workers=3, tasks=[slow])])
    try:
        asyncio.run(pipeline.run(range(100)))
    except KeyboardInterrupt:
        ids = [p.id for p in pipeline.unfinished_items]
        stats = pipeline.get_stats()
        print(f"interrupted: fed {stats.items_fed}, unfinished {len(ids)}, "
              f"in_order {ids == list(range(stats.items_fed))}, started {started}, "
              f"ended {stats.items_processed + stats.items_failed}", flush=True)
    """
)


def test_ctrl_c_in_a_script_stops_the_pipeline_and_reports_unfinished_items(
    tmp_path: Path,
) -> None:
    script = tmp_path / "interrupted.py"
    script.write_text(SCRIPT)
    process = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # Ctrl-C's default handling, even when the suite runs as a shell's background
        # job (which starts with SIGINT ignored).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "three started"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    # Every item fed (3 held by workers, up to 30 queued, and the one the feed had taken
    # and was waiting for room for) is reported unfinished, none ended, and no task call
    # started after the interrupt.
    fields = dict(
        part.split(" ", 1) for part in out.strip().removeprefix("interrupted: ").split(", ")
    )
    assert 3 <= int(fields["fed"]) <= 34
    assert fields["unfinished"] == fields["fed"]
    assert fields["in_order"] == "True"
    assert (fields["started"], fields["ended"]) == ("3", "0")
