"""Pull stages and the bounded stream: items enter only where a worker (or a reader) is free.

Where time matters (slow stages, a slow consumer), the tests run on the virtual clock of
``virtual_time.py``; the others wait on events. None sleeps in real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from antflow_core import ItemFinished, Pipeline, Stage, StatusEvent, TaskEvent
from antflow_core.runtime import Rendezvous


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


virtual_time = load("antflow_virtual_time", Path(__file__).with_name("virtual_time.py"))
run_virtual: Callable[[Any], Any] = virtual_time.run


async def identity(x: Any) -> Any:
    return x


def no_antflow_tasks() -> list[str]:
    return [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("antflow:")]


# ------------------------------------------------------------------------- pull stages


def watch_pull_stage(pull: bool) -> dict[str, int]:
    """Run Upload (6 workers) -> Poll (3 workers, slow) -> Save; measure what waits where."""

    async def main() -> dict[str, int]:
        seen = {"uploaded": 0, "polling": 0, "most_waiting": 0, "most_inside": 0, "pending": 0}
        pipeline: Pipeline

        async def upload(x: int) -> int:
            seen["uploaded"] += 1
            return x

        async def poll(x: int) -> int:
            seen["polling"] += 1
            # uploaded, not yet polled: with a pull stage they are in Upload workers' hands
            waiting = seen["uploaded"] - seen["polling"]
            seen["most_waiting"] = max(seen["most_waiting"], waiting)
            stats = pipeline.get_stats().stage_stats["Poll"]
            seen["most_inside"] = max(seen["most_inside"], stats.in_progress_items)
            seen["pending"] = max(seen["pending"], stats.pending_items)
            await asyncio.sleep(1.0 + (x % 3))  # a batch job takes a while
            return x

        options: dict[str, Any] = {"pull": True} if pull else {}
        pipeline = Pipeline(
            [
                Stage("Upload", workers=6, tasks=[upload]),
                Stage("Poll", workers=3, tasks=[poll], **options),
                Stage("Save", workers=1, tasks=[identity], queue_capacity=0),
            ]
        )
        async with asyncio.timeout(3600):
            results = await pipeline.run(range(60))
        assert sorted(r.value for r in results) == list(range(60))
        return seen

    seen: dict[str, int] = run_virtual(main())
    return seen


def test_a_pull_stage_with_k_workers_never_has_more_than_k_items_inside() -> None:
    seen = watch_pull_stage(pull=True)
    assert seen["most_inside"] == 3  # its 3 workers, never more
    assert seen["pending"] == 0  # it has no queue
    # uploaded and not yet polling: held by Upload's 6 workers, or handed to one of the
    # 2 other Poll workers in the same turn of the loop; never in a queue
    assert seen["most_waiting"] <= 6 + 2


def test_a_queued_stage_lets_items_wait_in_front_of_it() -> None:
    seen = watch_pull_stage(pull=False)
    assert seen["most_waiting"] > 6 + 2 + 20  # its queue (30) holds them
    assert seen["pending"] > 0


async def test_shutdown_unblocks_hand_overs_and_lists_every_item_once() -> None:
    release = asyncio.Event()  # never set: the pull stage's workers hold their items
    polling = asyncio.Event()
    uploads_done = asyncio.Event()
    counts = {"polling": 0, "uploaded": 0}

    async def upload(x: int) -> int:
        counts["uploaded"] += 1
        if counts["uploaded"] == 6:  # 2 handed over, 4 held by blocked uploaders
            uploads_done.set()
        return x

    async def poll(x: int) -> int:
        counts["polling"] += 1
        if counts["polling"] == 2:
            polling.set()
        await release.wait()
        return x

    pipeline = Pipeline(
        [
            Stage("Upload", workers=4, tasks=[upload]),
            Stage("Poll", workers=2, tasks=[poll], pull=True),
        ]
    )
    await pipeline.start()
    await pipeline.feed(range(10))
    async with asyncio.timeout(10):
        await polling.wait()
        await uploads_done.wait()
        stats = pipeline.get_stats()
        assert stats.stage_stats["Poll"].in_progress_items == 2
        assert stats.stage_stats["Poll"].pending_items == 0
        assert stats.stage_stats["Upload"].in_progress_items == 4  # waiting to hand over
        assert stats.stage_stats["Upload"].pending_items == 4
        await pipeline.shutdown()
    unfinished = [p.id for p in pipeline.unfinished_items]
    assert sorted(unfinished) == list(range(10))  # each exactly once
    stats = pipeline.get_stats()
    assert (stats.items_fed, stats.items_unfinished, stats.items_in_flight) == (10, 10, 0)
    assert stats.items_processed == stats.items_failed == 0
    assert not no_antflow_tasks()


def test_a_per_stage_retry_inside_a_pull_stage_does_not_deadlock() -> None:
    async def main() -> None:
        calls: dict[int, int] = {}
        most_inside = 0
        pipeline: Pipeline

        async def submit(x: int) -> int:
            return x

        async def flaky(x: int) -> int:
            nonlocal most_inside
            stats = pipeline.get_stats().stage_stats["Poll"]
            most_inside = max(most_inside, stats.in_progress_items)
            calls[x] = calls.get(x, 0) + 1
            await asyncio.sleep(0.5)
            if calls[x] < 3:  # every worker fails at once, twice per item
                raise ConnectionError("job lost")
            return x

        pipeline = Pipeline(
            [
                Stage("Submit", workers=5, tasks=[submit]),
                Stage(
                    "Poll",
                    workers=2,
                    tasks=[flaky],
                    pull=True,
                    retry="per_stage",
                    stage_attempts=3,
                    task_wait_seconds=0.25,
                ),
            ]
        )
        async with asyncio.timeout(600):
            results = await pipeline.run(range(12))
        assert sorted(r.value for r in results) == list(range(12))
        assert calls == dict.fromkeys(range(12), 3)
        assert pipeline.get_stats().stage_stats["Poll"].retried_items == 24
        assert most_inside <= 2

    run_virtual(main())


async def test_a_pull_stages_per_stage_retry_is_seen_as_retrying_then_queued() -> None:
    statuses: list[tuple[Any, str, str]] = []

    class Recorder:
        def on_status_event(self, event: StatusEvent) -> None:
            statuses.append((event.item_id, event.stage, event.status))

        def on_task_event(self, event: TaskEvent) -> None:
            pass

        def on_item_finished(self, event: ItemFinished) -> None:
            pass

    failed = False

    async def once_flaky(x: int) -> int:
        nonlocal failed
        if not failed:
            failed = True
            raise ValueError("once")
        return x

    pipeline = Pipeline(
        [
            Stage("A", tasks=[identity]),
            Stage("P", tasks=[once_flaky], pull=True, retry="per_stage", task_wait_seconds=0),
        ],
        status_tracker=Recorder(),
    )
    async with asyncio.timeout(10):
        assert [r.value for r in await pipeline.run([7])] == [7]
    at_pull = [status for item, stage, status in statuses if stage == "P"]
    assert at_pull == ["queued", "in_progress", "retrying", "queued", "in_progress", "completed"]


async def test_feeding_a_pull_stage_waits_for_a_free_worker() -> None:
    release = asyncio.Event()
    started = asyncio.Event()

    async def hold(x: int) -> int:
        started.set()
        await release.wait()
        return x

    pipeline = Pipeline(
        [Stage("A", tasks=[identity]), Stage("P", workers=1, tasks=[hold], pull=True)]
    )
    await pipeline.start()
    async with asyncio.timeout(10):
        feeding = asyncio.create_task(pipeline.feed([1, 2], target_stage="P"))
        await started.wait()
        await asyncio.sleep(0)  # (one turn: the feed cannot hand the second item over)
        assert not feeding.done()
        stats = pipeline.get_stats()
        assert stats.items_fed == 1  # the second is still in feed()'s hands
        assert stats.stage_stats["P"].pending_items == 0
        assert stats.stage_stats["P"].in_progress_items == 1
        release.set()
        await feeding
        await pipeline.join()
    assert sorted(r.value for r in pipeline.results) == [1, 2]


async def test_the_hand_over_point_serves_waiting_givers_by_priority() -> None:
    point: Rendezvous[tuple[int, int, str]] = Rendezvous(takers=1)
    assert not point.try_put((1, 0, "nobody takes it"))
    givers = [
        asyncio.create_task(point.put(item))
        for item in [(100, 1, "late"), (5, 2, "urgent"), (100, 0, "early")]
    ]
    await asyncio.sleep(0)
    assert point.givers == 3
    taken = [await point.get() for _ in range(3)]
    await asyncio.gather(*givers)
    assert [name for _, _, name in taken] == ["urgent", "early", "late"]
    point.close()
    with pytest.raises(Exception, match="closed"):
        await point.get()


# ----------------------------------------------------------------------- bounded stream


def consume_slowly(buffer_size: int | None) -> list[tuple[int, int, int]]:
    """Read a stream one result per virtual second; note (read, processed, fed) at each."""

    async def main() -> list[tuple[int, int, int]]:
        pipeline = Pipeline(
            [
                Stage("Fetch", workers=1, tasks=[identity], queue_capacity=1),
                Stage("Parse", workers=1, tasks=[identity], queue_capacity=1),
            ]
        )
        seen: list[tuple[int, int, int]] = []
        read = 0
        async with asyncio.timeout(3600):
            async for _ in pipeline.stream(range(30), buffer_size=buffer_size):
                read += 1
                await asyncio.sleep(1.0)  # a slow consumer: the pipeline runs ahead
                stats = pipeline.get_stats()
                seen.append((read, stats.items_processed, stats.items_fed))
        assert read == 30
        assert pipeline.results == []
        return seen

    seen: list[tuple[int, int, int]] = run_virtual(main())
    return seen


def test_at_most_buffer_size_results_wait_and_backpressure_reaches_feed() -> None:
    seen = consume_slowly(3)
    waiting = [processed - read for read, processed, _ in seen]
    assert max(waiting) == 3  # the buffer fills, never more
    # inside: the buffer, each stage's worker and queue (1 + 1 each): feed is held back
    assert max(fed - read for read, _, fed in seen[:-5]) == 3 + 2 + 2


def test_buffer_size_zero_hands_each_result_straight_to_the_reader() -> None:
    seen = consume_slowly(0)
    assert all(processed == read for read, processed, _ in seen)
    # nothing waits in a buffer: Parse's worker holds the next result until it is read
    assert max(fed - read for read, _, fed in seen[:-5]) == 2 + 2


@pytest.mark.parametrize("buffer_size", [0, 1, 5, None])
async def test_leaving_a_buffered_stream_early_neither_hangs_nor_leaks_results(
    buffer_size: int | None,
) -> None:
    pipeline = Pipeline(
        [Stage("A", workers=3, tasks=[identity]), Stage("B", workers=2, tasks=[identity])]
    )
    async with asyncio.timeout(10):
        async with contextlib.aclosing(
            pipeline.stream(range(500), buffer_size=buffer_size)
        ) as results:
            async for result in results:
                assert result.value == result.id
                break
        assert pipeline.is_closed
    # The results that waited in the buffer (none without one) are kept in results, not
    # dropped (issue 11, #10): never more than the buffer held.
    kept = len(pipeline.results)
    if buffer_size is None:
        buffer_size = 2 * 10  # the default: as many as stage B's queue holds
    assert kept <= max(buffer_size, 1)  # (0: a hand-over, at most one result handed)
    stats = pipeline.get_stats()
    assert stats.items_processed == 1 + kept  # the one read, and those kept
    assert stats.items_in_flight == 0
    assert stats.items_processed + stats.items_failed + stats.items_unfinished == stats.items_fed
    unfinished = [p.id for p in pipeline.unfinished_items]
    assert len(unfinished) == len(set(unfinished)) == stats.items_unfinished
    assert not no_antflow_tasks()


async def test_breaking_out_without_aclosing_is_cleaned_up_by_shutdown() -> None:
    pipeline = Pipeline([Stage("A", workers=2, tasks=[identity])])
    async with asyncio.timeout(10):
        async for _ in pipeline.stream(range(100), buffer_size=2):
            break
        await pipeline.shutdown()
    assert len(pipeline.results) <= 2  # what waited in the buffer is kept (issue 11, #10)
    stats = pipeline.get_stats()
    assert stats.items_processed == 1 + len(pipeline.results)
    assert stats.items_processed + stats.items_unfinished == stats.items_fed


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
async def test_a_bad_buffer_size_is_refused_at_the_call(bad: object) -> None:
    pipeline = Pipeline([Stage("A", tasks=[identity])])
    with pytest.raises(ValueError, match="buffer_size must be None"):
        pipeline.stream([1], buffer_size=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="buffer_size must be None"):
        await anext(pipeline.stream_outcomes([1], buffer_size=bad))  # type: ignore[arg-type]
    assert not pipeline.is_running
