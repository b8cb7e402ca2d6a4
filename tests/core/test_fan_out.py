"""Fan-out: a stage whose task returns an iterable makes an item of each element.

What a user relies on: 0, 1 or many children per item, each ending exactly once with an
id derived from its parent's and its parent's priority; the parent counted as expanded
(not a result) in the stats, the tracker, ``run()`` and ``unfinished_items``; failures in
children and in parents; backpressure on children; and a recursive crawl, whose pages
emit their links back into the fetching stage, that completes without deadlock.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from antflow_core import Pipeline, Stage
from antflow_core.errors import FanOutError, UnknownStageError
from antflow_core.model import ALLOWED_TRANSITIONS, Child, ItemStatus, StatusEvent
from antflow_tracker import StatusTracker


async def split(n: int) -> list[str]:
    """n children: "n.0", "n.1", ..."""
    return [f"{n}.{k}" for k in range(n)]


async def identity(x: Any) -> Any:
    return x


def assert_books_balance(pipeline: Pipeline) -> None:
    stats = pipeline.get_stats()
    entered = stats.items_fed + stats.items_spawned
    ended = stats.items_processed + stats.items_failed + stats.items_expanded
    assert entered == ended + stats.items_unfinished + stats.items_in_flight, stats


async def test_zero_one_and_many_children_each_end_once_with_derived_ids() -> None:
    tracker = StatusTracker()
    pipeline = Pipeline(
        [
            Stage("Split", workers=3, tasks=[split], fan_out=True),
            Stage("Up", workers=2, tasks=[str.upper]),
        ],
        status_tracker=tracker,
    )
    async with asyncio.timeout(5):
        results = await pipeline.run([0, 1, 3])

    assert [(r.id, r.value) for r in results] == [
        ((1, 0), "1.0"),
        ((2, 0), "3.0"),
        ((2, 1), "3.1"),
        ((2, 2), "3.2"),
    ]
    stats = pipeline.get_stats()
    assert (stats.items_fed, stats.items_expanded, stats.items_spawned) == (3, 3, 4)
    assert (stats.items_processed, stats.items_failed, stats.items_in_flight) == (4, 0, 0)
    split_stats = stats.stage_stats["Split"]
    assert (split_stats.expanded_items, split_stats.spawned_items) == (3, 4)
    assert split_stats.completed_items == 0  # an expanded parent is not a completed item
    assert stats.stage_stats["Up"].completed_items == 4
    assert_books_balance(pipeline)
    # The tracker: parents end "expanded", children are items of their own.
    counts = tracker.get_stats()
    assert (counts["expanded"], counts["completed"]) == (3, 4)
    assert tracker.get_status(0).metadata == {"children": 0}  # type: ignore[union-attr]
    assert [e.status for e in tracker.get_history(2)] == ["queued", "in_progress", "expanded"]
    child = tracker.get_history((2, 1))
    assert [(e.stage, e.status) for e in child] == [
        ("Up", "queued"),
        ("Up", "in_progress"),
        ("Up", "completed"),
    ]
    assert child[0].metadata == {"parent": 2}


async def test_every_status_sequence_follows_the_transition_table() -> None:
    seen: list[StatusEvent] = []

    async def count(text: str) -> list[str]:
        return list(text)

    pipeline = Pipeline(
        [Stage("Split", tasks=[split], fan_out=True), Stage("Chars", tasks=[count], fan_out=True)],
        status_tracker=StatusTracker(on_status_change=seen.append),
    )
    async with asyncio.timeout(5):
        results = await pipeline.run([2])
    assert [r.value for r in results] == ["2", ".", "0", "2", ".", "1"]
    assert [r.id for r in results][:2] == [((0, 0), 0), ((0, 0), 1)]
    last: dict[tuple[Any, str], ItemStatus | None] = {}
    for event in seen:
        key = (event.item_id, event.stage)
        assert event.status in ALLOWED_TRANSITIONS[last.get(key)], (key, event.status)
        last[key] = event.status
    ends = Counter(status for (_, stage), status in last.items() if stage == "Chars")
    assert ends == {ItemStatus.EXPANDED: 2, ItemStatus.COMPLETED: 6}


async def test_generators_async_generators_and_plain_functions_fan_out() -> None:
    async def agen(n: int) -> AsyncIterator[int]:
        for k in range(n):
            await asyncio.sleep(0)
            yield k * 10

    def plain_generator(n: int) -> Iterator[int]:
        yield from range(n)

    def plain_list(n: int) -> tuple[int, ...]:
        return tuple(range(n))

    for task in (agen, plain_generator, plain_list):
        pipeline = Pipeline([Stage("Fan", workers=2, tasks=[task], fan_out=True)])
        async with asyncio.timeout(5):
            results = await pipeline.run([2, 1])
        assert sorted(r.id for r in results) == [(0, 0), (0, 1), (1, 0)], task


def test_only_the_last_task_of_a_fan_out_stage_may_be_an_async_generator_function() -> None:
    async def agen(n: int) -> AsyncIterator[int]:
        yield n

    Stage("Fan", workers=1, tasks=[identity, agen], fan_out=True)  # accepted: it fans out
    with pytest.raises(ValueError, match="async generator function"):
        Stage("Fan", workers=1, tasks=[agen, identity], fan_out=True)
    with pytest.raises(ValueError, match="last task of a fan_out=True stage"):
        Stage("Plain", workers=1, tasks=[agen])


async def test_a_stage_of_several_tasks_fans_out_the_last_ones_output() -> None:
    async def double(n: int) -> int:
        return n * 2

    pipeline = Pipeline([Stage("S", tasks=[double, split], fan_out=True)])
    async with asyncio.timeout(5):
        results = await pipeline.run([1])
    assert [r.value for r in results] == ["2.0", "2.1"]


async def test_failures_in_children_and_in_parents() -> None:
    calls: Counter[int] = Counter()

    async def flaky_split(n: int) -> list[int]:
        calls[n] += 1
        if n == 1 and calls[n] == 1:
            raise ConnectionError("transient")  # retried: no child made yet
        if n == 2:
            raise ValueError("bad parent")  # fails the parent
        return [n * 10 + k for k in range(3)]

    async def check(child: int) -> int:
        if child % 10 == 1:
            raise KeyError(child)  # the second child of each parent fails
        return child

    pipeline = Pipeline(
        [
            Stage("Split", workers=2, tasks=[flaky_split], fan_out=True, task_wait_seconds=0),
            Stage("Check", workers=2, tasks=[check], task_attempts=1),
        ]
    )
    async with asyncio.timeout(5):
        results = await pipeline.run([1, 2, 3])

    assert sorted(r.value for r in results) == [10, 12, 30, 32]
    failures = {f.id: (f.stage, f.error_type) for f in pipeline.failures}
    assert failures == {
        1: ("Split", "ValueError"),  # the item 2, fed second
        (0, 1): ("Check", "KeyError"),
        (2, 1): ("Check", "KeyError"),
    }
    assert calls == {1: 2, 2: 3, 3: 1}  # 2 is retried (task_attempts=3), then fails
    stats = pipeline.get_stats()
    assert (stats.items_expanded, stats.items_spawned, stats.items_failed) == (2, 6, 3)
    assert_books_balance(pipeline)


async def test_an_iterable_that_breaks_after_its_first_children_fails_the_parent() -> None:
    started: Counter[int] = Counter()

    async def rows(n: int) -> AsyncIterator[int]:
        started[n] += 1
        yield n
        yield n + 100
        if n == 0:
            raise OSError("truncated file")
        yield n + 200

    pipeline = Pipeline([Stage("Rows", tasks=[rows], fan_out=True, task_wait_seconds=0)])
    async with asyncio.timeout(5):
        results = await pipeline.run([0, 1])

    assert sorted(r.value for r in results) == [0, 1, 100, 101, 201]
    [failed] = pipeline.failures
    assert (failed.id, failed.error_type) == (0, "OSError")
    assert started == {0: 1, 1: 1}  # not retried: its first children are on their way
    stats = pipeline.get_stats()
    assert (stats.items_expanded, stats.items_failed, stats.items_spawned) == (1, 1, 5)
    assert_books_balance(pipeline)


async def test_task_timeout_bounds_each_element_an_async_generator_makes() -> None:
    # A read that hangs after the first children must not hold a worker forever.
    closed: list[int] = []

    async def rows(n: int) -> AsyncIterator[int]:
        try:
            yield n
            if n == 0:
                await asyncio.Event().wait()  # the connection hangs
            yield n + 100
        finally:
            closed.append(n)

    stage = Stage("Rows", tasks=[rows], fan_out=True, task_timeout=0.05, task_attempts=3)
    pipeline = Pipeline([stage])
    async with asyncio.timeout(5):
        results = await pipeline.run([0, 1])

    assert sorted(r.value for r in results) == [0, 1, 101]
    [failed] = pipeline.failures
    assert (failed.id, failed.error_type, failed.attempts) == (0, "TaskTimeoutError", 1)
    assert "task_timeout=0.05s" in failed.error_message
    assert sorted(closed) == [0, 1]
    assert_books_balance(pipeline)


@pytest.mark.parametrize(
    "limit", [{"task_concurrency_limits": {"pages": 1}}, {"call_concurrency": 1}]
)
async def test_a_concurrency_limit_holds_while_an_async_generator_makes_its_elements(
    limit: dict[str, Any],
) -> None:
    # A paginated API allowed one request at a time: each page is read inside the generator.
    reading: set[int] = set()
    overlaps: list[set[int]] = []

    async def pages(n: int) -> AsyncIterator[tuple[int, int]]:
        for page in range(3):
            reading.add(n)
            if len(reading) > 1:
                overlaps.append(set(reading))
            for _ in range(3):
                await asyncio.sleep(0)  # the request
            reading.discard(n)
            yield (n, page)

    stage = Stage("Pages", workers=4, tasks=[pages], fan_out=True, **limit)
    pipeline = Pipeline([stage])
    async with asyncio.timeout(5):
        results = await pipeline.run(range(4))

    assert len(results) == 12
    assert overlaps == []
    assert_books_balance(pipeline)


@pytest.mark.parametrize("output", ["text", b"bytes", {"a": 1}, 42, None])
async def test_an_output_that_cannot_fan_out_fails_the_item_at_once(output: object) -> None:
    calls = 0

    async def wrong(n: int) -> object:
        nonlocal calls
        calls += 1
        return output

    pipeline = Pipeline([Stage("Fan", tasks=[wrong], fan_out=True, task_wait_seconds=0)])
    async with asyncio.timeout(5):
        await pipeline.run([0])
    [failed] = pipeline.failures
    assert isinstance(failed.error, FanOutError)
    assert "task 'wrong' of fan-out stage 'Fan' returned" in failed.error_message
    assert calls == 1  # never retried


async def test_children_keep_their_parents_priority_and_metadata() -> None:
    release = asyncio.Event()

    async def hold(x: Any) -> Any:
        await release.wait()
        return x

    expanded = asyncio.Event()

    def on_status_change(event: StatusEvent) -> None:
        if event.status == "expanded":
            expanded.set()

    pipeline = Pipeline(
        [
            Stage("Split", tasks=[split], fan_out=True),
            Stage("Hold", tasks=[hold], queue_capacity=0),
        ],
        status_tracker=StatusTracker(on_status_change=on_status_change),
    )
    await pipeline.start()
    try:
        await pipeline.feed([{"id": "a", "value": 2, "source": "s3"}], priority=7)
        async with asyncio.timeout(5):
            await expanded.wait()
        queue = pipeline._queues[1]
        waiting = [queue.get_nowait() for _ in range(queue.qsize())]
        for entry in waiting:
            queue.put_nowait(entry)
        assert sorted((prio, payload.id) for prio, _, (payload, _) in waiting) == [
            (7, ("a", 1)),
        ]  # the first child is held by Hold's worker, the second waits
        assert all(payload.metadata == {"source": "s3"} for _, _, (payload, _) in waiting)
    finally:
        release.set()
        await pipeline.join()
    assert [(r.id, r.metadata) for r in pipeline.results] == [
        (("a", 0), {"source": "s3"}),
        (("a", 1), {"source": "s3"}),
    ]


async def test_fed_items_keep_their_positions_as_ids_while_children_are_made() -> None:
    async def items() -> AsyncIterator[int]:
        for _ in range(4):
            await asyncio.sleep(0)  # children of earlier items are made meanwhile
            yield 3

    pipeline = Pipeline([Stage("Split", workers=4, tasks=[split], fan_out=True)])
    async with asyncio.timeout(5):
        results = await pipeline.run(items())
    assert sorted({r.id[0] for r in results}) == [0, 1, 2, 3]
    assert len({r.sequence_id for r in results}) == 12  # every child its own sequence id
    assert [r.sequence_id for r in results] == sorted(r.sequence_id for r in results)


async def test_backpressure_holds_a_generator_while_the_next_stage_is_full() -> None:
    pulled = 0
    release = asyncio.Event()

    async def many(n: int) -> AsyncIterator[int]:
        nonlocal pulled
        for k in range(1000):
            pulled += 1
            yield k

    async def slow(x: int) -> int:
        await release.wait()
        return x

    fourth_on_its_way = asyncio.Event()

    def on_status_change(event: StatusEvent) -> None:
        if event.item_id == (0, 3):
            fourth_on_its_way.set()  # queued at Slow: then it waits for room there

    pipeline = Pipeline(
        [
            Stage("Many", tasks=[many], fan_out=True),
            Stage("Slow", workers=1, tasks=[slow], queue_capacity=2),
        ],
        collect_results=False,
        status_tracker=StatusTracker(on_status_change=on_status_change),
    )
    await pipeline.start()
    await pipeline.feed([0])
    async with asyncio.timeout(5):
        await fourth_on_its_way.wait()
    for _ in range(20):
        await asyncio.sleep(0)  # give the generator every chance to run ahead
    # One child held by Slow's worker, two in its queue, one waiting for room.
    assert pulled == 4
    assert pipeline.get_stats().items_spawned == 4
    release.set()
    async with asyncio.timeout(5):
        await pipeline.join()
    assert pipeline.get_stats().items_processed == 1000


async def test_a_child_may_go_to_a_named_stage_and_an_unknown_name_fails_the_parent() -> None:
    async def route(n: int) -> list[Any]:
        if n == 9:
            return [Child(n, stage="Nowhere")]
        return [Child(n * 10, stage="Last", id=f"direct-{n}"), n]

    async def middle(x: int) -> int:
        return x + 1

    pipeline = Pipeline(
        [
            Stage("Route", tasks=[route], fan_out=True),
            Stage("Middle", tasks=[middle]),
            Stage("Last", tasks=[identity]),
        ]
    )
    async with asyncio.timeout(5):
        results = await pipeline.run([1, 9])
    assert sorted((str(r.id), r.value) for r in results) == [
        ("(0, 1)", 2),  # through Middle
        ("direct-1", 10),  # straight to Last
    ]
    [failed] = pipeline.failures
    assert (failed.id, failed.stage) == (1, "Route")
    assert isinstance(failed.error, UnknownStageError)
    assert "'Nowhere' not found" in failed.error_message


async def test_shutdown_during_an_expansion_lists_the_parent_and_children_as_unfinished() -> None:
    made = asyncio.Event()

    async def endless(n: int) -> AsyncIterator[int]:
        k = 0
        while True:
            yield k
            k += 1

    async def stuck(x: int) -> int:
        made.set()
        await asyncio.Event().wait()
        return x

    third_on_its_way = asyncio.Event()

    def on_status_change(event: StatusEvent) -> None:
        if event.item_id == (0, 2):
            third_on_its_way.set()  # queued at Stuck: then it waits for room there

    pipeline = Pipeline(
        [
            Stage("Endless", tasks=[endless], fan_out=True),
            Stage("Stuck", tasks=[stuck], queue_capacity=1),
        ],
        status_tracker=StatusTracker(on_status_change=on_status_change),
    )
    await pipeline.start()
    await pipeline.feed(["parent"])
    async with asyncio.timeout(5):
        await made.wait()
        await third_on_its_way.wait()
    await pipeline.shutdown()
    unfinished = [p.id for p in pipeline.unfinished_items]
    # The parent, the child in Stuck's hands, the one in its queue, the one on its way.
    assert unfinished == [0, (0, 0), (0, 1), (0, 2)]
    stats = pipeline.get_stats()
    assert (stats.items_unfinished, stats.items_in_flight, stats.items_spawned) == (4, 0, 3)
    assert_books_balance(pipeline)


async def test_a_fan_out_task_that_shuts_the_pipeline_down_leaves_the_books_balanced() -> None:
    stopped = asyncio.Event()

    async def stop_midway(n: int) -> AsyncIterator[int]:
        yield n
        await pipeline.shutdown()
        stopped.set()
        yield n + 1

    pipeline = Pipeline(
        [Stage("Stop", tasks=[stop_midway], fan_out=True), Stage("Next", tasks=[identity])]
    )
    await pipeline.start()
    await pipeline.feed([7])
    async with asyncio.timeout(5):
        await stopped.wait()
        await pipeline.shutdown()  # returns once the worker that called it has stopped
    stats = pipeline.get_stats()
    assert stats.items_in_flight == 0
    assert pipeline._run_state.in_flight == 0  # the count join() waits on agrees
    assert 0 in [p.id for p in pipeline.unfinished_items]  # the parent never expanded
    assert_books_balance(pipeline)


# ------------------------------------------------------------------ a recursive crawl

PAGES = 2000


def links_of(page: int) -> list[int]:
    """A site of 2,000 pages: a tree (every page reachable from 0) plus cross links."""
    tree = [child for child in (2 * page + 1, 2 * page + 2) if child < PAGES]
    return [*tree, (page * 7 + 3) % PAGES, (page * 13 + 5) % PAGES, 0]


async def test_a_recursive_crawl_of_2000_pages_fetches_and_saves_every_page_once() -> None:
    fetched: Counter[int] = Counter()
    seen = {0}

    async def fetch(page: int) -> tuple[int, list[int]]:
        fetched[page] += 1
        await asyncio.sleep(0)
        return page, links_of(page)

    async def parse(fetched_page: tuple[int, list[int]]) -> AsyncIterator[Any]:
        page, links = fetched_page
        for link in links:
            if link not in seen:  # the crawler's own dedup: a page is crawled once
                seen.add(link)
                yield Child(link, stage="Fetch", id=f"page {link}")
        yield {"page": page, "links": len(links)}  # the record goes on to Save

    async def save(record: dict[str, int]) -> int:
        return record["page"]

    pipeline = Pipeline(
        [
            # Small queues on purpose: the loop Fetch -> Parse -> Fetch must not deadlock.
            Stage("Fetch", workers=8, tasks=[fetch], queue_capacity=2),
            Stage("Parse", workers=3, tasks=[parse], fan_out=True, queue_capacity=2),
            Stage("Save", workers=2, tasks=[save], queue_capacity=2),
        ]
    )
    async with asyncio.timeout(60):
        results = await pipeline.run([0])

    assert sorted(r.value for r in results) == list(range(PAGES))
    assert fetched == dict.fromkeys(range(PAGES), 1)
    stats = pipeline.get_stats()
    assert stats.items_processed == PAGES
    assert stats.items_expanded == PAGES  # every fetched page, parsed
    assert stats.items_spawned == (PAGES - 1) + PAGES  # the links, and the records
    assert (stats.items_failed, stats.items_in_flight) == (0, 0)
    assert_books_balance(pipeline)


async def test_the_fan_out_stages_on_success_is_called_once_per_child() -> None:
    seen: list[tuple[Any, Any]] = []

    def on_success(payload: Any) -> None:
        seen.append((payload.id, payload.value))

    pipeline = Pipeline([Stage("Split", tasks=[split], fan_out=True, on_success=on_success)])
    async with asyncio.timeout(5):
        await pipeline.run([2, 0])
    assert seen == [((0, 0), "2.0"), ((0, 1), "2.1")]
