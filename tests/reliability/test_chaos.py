"""The chaos invariant: whatever fails or stops, every item ends once or is unfinished.

Hypothesis draws pipelines (1-3 stages, workers, both retry strategies, attempts, queue
capacities, skips, flow control: pull stages, call rates, call concurrency; stages that
fan out or call their tasks in batches), failure plans (each call of each task may raise one of many
exception types: BaseExceptions, and exceptions whose ``__str__`` is broken, included),
feeds (priorities, ``target_stage``), the way results are consumed (``run``,
``start``/``feed``/``join``, ``stream``, ``stream_outcomes``), ``collect_results`` on or
off, a StatusTracker or none, and a way the run is stopped early, or none:

* ``shutdown inside``: a task calls ``await pipeline.shutdown()`` (issue 11, #1);
* ``double cancel``: the consumer is cancelled while a task holds an item, and again
  while that task's ``finally`` cleans up (#3);
* ``source raises``: the items iterable raises a BaseException that is not an Exception,
  or a CancelledError, midway (#4);
* ``early exit``: a stream consumer leaves its loop after some results, with or without
  ``contextlib.aclosing`` (#9, #10).

After each run: every item taken from the iterable, and every child a fan-out stage
made, ended exactly once (yielded, in ``results`` or in ``failures``; an item that
fanned out ends as neither, counted as expanded) or is listed in ``unfinished_items``;
the pipeline's stats and the tracker's counts agree with that; and no antflow task is
left running.
The whole property runs on asyncio and on uvloop (``loop_factory``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any

from antflow_core import Pipeline, PipelineStateError, Stage, StatusEvent
from antflow_tracker import StatusTracker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from returns.result import Success


class ChaosError(Exception):
    """A user-defined error."""


class ChaosBaseError(BaseException):
    """A user-defined BaseException: not retried, fails the item at once."""


class UnprintableError(Exception):
    """An error whose ``__str__`` raises."""

    def __str__(self) -> str:
        raise RuntimeError("__str__ is broken")


class NotAStringError(Exception):
    """An error whose ``__str__`` returns something that is not a string."""

    def __str__(self) -> Any:
        return 42


ERRORS: list[type[BaseException]] = [
    ValueError,
    KeyError,
    TimeoutError,
    ConnectionError,
    OSError,
    RuntimeError,
    ZeroDivisionError,
    ChaosError,
    ChaosBaseError,
    SystemExit,
    KeyboardInterrupt,
    UnprintableError,
    NotAStringError,
]
MODES = ["run", "feed", "stream", "stream_outcomes"]
STOPS = [None, "shutdown inside", "double cancel", "source raises", "early exit"]
SOURCE_ERRORS: list[type[BaseException]] = [ChaosBaseError, asyncio.CancelledError]
HANG = 10  # seconds after which an example that would hang fails instead


@st.composite
def chaos(draw: st.DrawFn) -> dict[str, Any]:
    stage_count = draw(st.integers(1, 3))
    stages = [
        {
            "workers": draw(st.integers(1, 5)),
            "tasks": draw(st.integers(1, 2)),
            "retry": draw(st.sampled_from(["per_task", "per_stage"])),
            "task_attempts": draw(st.integers(1, 3)),
            "stage_attempts": draw(st.integers(1, 3)),
            "capacity": draw(st.sampled_from([None, 0, 1, 3])),
            "skip": draw(st.frozensets(st.integers(0, 19), max_size=4)),
            "pull": index > 0 and draw(st.booleans()),
            # calls per period: binding, in a few milliseconds at most
            "rate": draw(st.sampled_from([None, None, (2, 0.002), (5, 0.001)])),
            "concurrency": draw(st.sampled_from([None, None, 1, 2])),
            "shape": draw(st.sampled_from([None, None, "fan_out", "batch"])),
            "batch_size": draw(st.integers(1, 4)),
            "batch_timeout": draw(st.sampled_from([None, None, 0.001])),
        }
        for index in range(stage_count)
    ]
    items = draw(st.integers(0, 20))
    failures = (
        draw(
            st.dictionaries(
                st.tuples(
                    st.integers(0, items - 1),
                    st.integers(0, stage_count - 1),
                    st.integers(0, 1),
                ),
                st.tuples(st.integers(1, 4), st.integers(0, len(ERRORS) - 1)),
                max_size=12,
            )
        )
        if items
        else {}
    )
    batches = draw(
        st.lists(
            st.tuples(st.integers(0, 3), st.integers(0, stage_count - 1)), min_size=1, max_size=3
        )
    )
    mode = draw(st.sampled_from(MODES))
    stop = draw(st.sampled_from(STOPS))
    if stop == "early exit" and mode not in ("stream", "stream_outcomes"):
        stop = None
    return {
        "stages": stages,
        "items": items,
        "failures": failures,
        "batches": batches,
        "mode": mode,
        "collect": draw(st.booleans()),
        "tracker": draw(st.booleans()),
        "raising_callback": draw(st.booleans()),
        "stop": stop,
        # where a stop from inside happens: the first call for this item at this stage
        "stop_item": draw(st.integers(0, max(items - 1, 0))),
        "stop_stage": draw(st.integers(0, stage_count - 1)),
        # source raises: after how many items, and what
        "source_after": draw(st.integers(0, items)),
        "source_error": draw(st.sampled_from(SOURCE_ERRORS)),
        # early exit: after how many results, and whether through aclosing
        "exit_after": draw(st.integers(0, 5)),
        "aclosing": draw(st.booleans()),
    }


def children_of(value: int) -> list[int]:
    """What a fan-out stage makes of ``value``: 0 to 3 children, numbered apart from items."""
    return [1000 * (value + 1) + k for k in range(value % 4)]


def pulls(spec: dict[str, Any]) -> bool:
    """A pull stage, unless it batches (a batch stage collects from a queue of its own)."""
    return bool(spec["pull"]) and spec["shape"] != "batch"


class Run:
    """One scenario's pipeline, its source of items, and what the consumer saw."""

    def __init__(self, scenario: dict[str, Any]) -> None:
        self.scenario = scenario
        self.calls: Counter[tuple[int, int, int]] = Counter()
        self.expanded: Counter[int] = Counter()  # values a fan-out task expanded
        self.children: Counter[int] = Counter()  # the children those calls made
        self.taken: list[int] = []
        self.yielded_ok: list[int] = []  # results a stream yielded (as Success, for outcomes)
        self.yielded_failed: list[int] = []  # failures stream_outcomes yielded
        self.stop_reached = asyncio.Event()  # a task holds the stop item (double cancel)
        self.cleaning = asyncio.Event()  # that task's finally began its async cleanup
        self.tracker: StatusTracker | None = None
        if scenario["tracker"]:

            def on_status_change(event: StatusEvent) -> None:
                if scenario["raising_callback"] and event.status == "in_progress":
                    raise RuntimeError("a callback bug")

            self.tracker = StatusTracker(on_status_change=on_status_change)
        self.pipeline = Pipeline(
            stages=self.stages(), collect_results=scenario["collect"], status_tracker=self.tracker
        )

    def stages(self) -> list[Stage]:
        scenario = self.scenario

        async def call(value: int, stage_index: int, task_index: int) -> None:
            """One call on ``value``: count it, maybe stop from inside, maybe fail."""
            key = (value, stage_index, task_index)
            self.calls[key] += 1
            if self.calls[key] == 1 and task_index == 0 and self.is_stop_point(key):
                await self.stop_from_inside()
            planned = scenario["failures"].get(key)
            if planned is not None and self.calls[key] <= planned[0]:
                raise ERRORS[planned[1]](f"item {value} stage {stage_index} call {key}")

        def make_task(
            stage_index: int, task_index: int, spec: dict[str, Any]
        ) -> Callable[[Any], Any]:
            if spec["shape"] == "batch":

                async def batch(values: list[int]) -> list[int]:
                    await asyncio.sleep(0)
                    for value in values:  # a call on each of them, the first fault fails all
                        await call(value, stage_index, task_index)
                    return values

                return batch
            if spec["shape"] == "fan_out" and task_index == spec["tasks"] - 1:

                async def fan_out(value: int) -> list[int]:
                    await asyncio.sleep(0)
                    await call(value, stage_index, task_index)
                    made = children_of(value)
                    self.expanded[value] += 1
                    self.children.update(made)
                    return made

                return fan_out

            async def task(value: int) -> int:
                await asyncio.sleep(0)
                await call(value, stage_index, task_index)
                return value

            return task

        def skipper(skip: frozenset[int]) -> Callable[[int], bool]:
            return lambda value: value in skip

        return [
            Stage(
                f"S{i}",
                workers=spec["workers"],
                tasks=[make_task(i, t, spec) for t in range(spec["tasks"])],
                retry=spec["retry"],
                task_attempts=spec["task_attempts"],
                stage_attempts=spec["stage_attempts"],
                task_wait_seconds=0,
                queue_capacity=None if pulls(spec) else spec["capacity"],
                skip_if=skipper(spec["skip"]),
                pull=pulls(spec),
                call_rate=spec["rate"][0] if spec["rate"] else None,
                call_rate_period=spec["rate"][1] if spec["rate"] else 1.0,
                call_concurrency=spec["concurrency"],
                fan_out=spec["shape"] == "fan_out",
                batch_size=spec["batch_size"] if spec["shape"] == "batch" else None,
                batch_timeout=spec["batch_timeout"] if spec["shape"] == "batch" else None,
            )
            for i, spec in enumerate(scenario["stages"])
        ]

    def is_stop_point(self, key: tuple[int, int, int]) -> bool:
        scenario = self.scenario
        return scenario["stop"] in ("shutdown inside", "double cancel") and key[:2] == (
            scenario["stop_item"],
            scenario["stop_stage"],
        )

    async def stop_from_inside(self) -> None:
        if self.scenario["stop"] == "shutdown inside":
            await self.pipeline.shutdown()
            return
        self.stop_reached.set()  # double cancel: hold the item until cancelled, twice
        try:
            await asyncio.Event().wait()
        finally:
            self.cleaning.set()
            await asyncio.Event().wait()  # an async cleanup, cut by the second cancel

    def source(self, values: list[int]) -> Iterator[int]:
        """Yield ``values``, recording each one taken; raise midway for "source raises"."""
        breaks = self.scenario["stop"] == "source raises"
        after, error = self.scenario["source_after"], self.scenario["source_error"]
        for value in values:
            if breaks and len(self.taken) == after:
                raise error("the source broke")
            self.taken.append(value)
            yield value
        if breaks and len(self.taken) == after:
            raise error("the source broke")

    async def consume(self) -> None:
        """Run the scenario's mode; stops surface as the exceptions a user would see."""
        scenario, pipeline = self.scenario, self.pipeline
        items = list(range(scenario["items"]))
        mode = scenario["mode"]
        if mode == "run":
            await pipeline.run(self.source(items), priority=scenario["batches"][0][0])
        elif mode == "feed":
            await pipeline.start()
            count = len(scenario["batches"])
            try:
                for k, (priority, target) in enumerate(scenario["batches"]):
                    await pipeline.feed(
                        self.source(items[k::count]), priority=priority, target_stage=f"S{target}"
                    )
            except BaseException:
                await pipeline.shutdown()
                raise
            await pipeline.join()
        else:
            stream: AsyncGenerator[Any, None] = (
                pipeline.stream(self.source(items))
                if mode == "stream"
                else pipeline.stream_outcomes(self.source(items))
            )
            early = scenario["stop"] == "early exit"
            closing = early and scenario["aclosing"]
            async with contextlib.aclosing(stream) if closing else contextlib.nullcontext():
                async for ended in stream:
                    if mode == "stream":
                        self.yielded_ok.append(ended.id)
                    elif isinstance(ended, Success):
                        self.yielded_ok.append(ended.unwrap().id)
                    else:
                        self.yielded_failed.append(ended.failure().id)
                    if (
                        early
                        and len(self.yielded_ok) + len(self.yielded_failed) > scenario["exit_after"]
                    ):
                        break
            if early:
                await pipeline.shutdown()  # waits for the stream's own stop, however it left

    async def play(self) -> None:
        stop = self.scenario["stop"]
        consumer = asyncio.ensure_future(self.consume())
        if stop == "double cancel":
            reached = asyncio.ensure_future(self.stop_reached.wait())
            await asyncio.wait([consumer, reached], return_when=asyncio.FIRST_COMPLETED)
            reached.cancel()
            if not consumer.done():
                consumer.cancel()
                await self.cleaning.wait()
                consumer.cancel()
        try:
            await consumer
        except PipelineStateError:
            assert stop == "shutdown inside"
        except asyncio.CancelledError:
            assert stop in ("double cancel", "source raises")
        except ChaosBaseError:
            assert stop == "source raises"
        leftover = [
            t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("antflow:")
        ]
        assert not leftover, leftover


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # loop_factory is a plain function
    ],
)
@given(chaos())
def test_every_item_taken_ends_once_or_is_unfinished_and_every_count_agrees(
    loop_factory: Callable[[], asyncio.AbstractEventLoop], scenario: dict[str, Any]
) -> None:
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        run = runner.run(_play(scenario))
    pipeline, tracker = run.pipeline, run.tracker
    stats = pipeline.get_stats()
    # An item's id is its position in feeding order: the ids of the items taken from the
    # iterable (the several batches of "feed" included) are 0..len(taken)-1.
    taken = list(range(len(run.taken)))
    failed_ids = [f.id for f in pipeline.failures]
    unfinished_ids = [p.id for p in pipeline.unfinished_items]
    result_ids = [r.id for r in pipeline.results]
    mode = scenario["mode"]
    # Items that fanned out end as neither result nor failure; their children are items.
    entered = len(taken) + stats.items_spawned
    fans_out = any(spec["shape"] == "fan_out" for spec in scenario["stages"])

    def assert_each_item_once(ids: list[Any]) -> None:
        """``ids`` (ended or unfinished) name each item that entered once, none expanded."""
        if not fans_out:
            assert sorted(ids) == taken
            return
        assert len(ids) == len(set(ids)) == entered - stats.items_expanded
        assert {i for i in ids if isinstance(i, int)} <= set(taken)  # others: children

    # every item taken from the iterable was fed, and ended once or is unfinished
    assert stats.items_fed == len(taken)
    assert stats.items_in_flight == 0
    assert pipeline._run_state.in_flight == 0  # the count join() waits on agrees
    assert stats.items_expanded <= sum(run.expanded.values())  # each a successful call
    assert stats.items_spawned <= sum(run.children.values())  # a stop may cut a fan-out
    assert (
        stats.items_processed + stats.items_failed + stats.items_expanded + stats.items_unfinished
        == entered
    )
    assert len(failed_ids) == stats.items_failed
    assert len(unfinished_ids) == stats.items_unfinished
    if mode in ("stream", "stream_outcomes"):
        # a result was yielded, or kept in results when the stream was left early
        processed_ids = run.yielded_ok + result_ids
        assert len(processed_ids) == stats.items_processed
        assert_each_item_once(processed_ids + failed_ids + unfinished_ids)
        assert set(run.yielded_failed) <= set(failed_ids)
        assert len(run.yielded_failed) == len(set(run.yielded_failed))
        if scenario["stop"] is None:
            assert result_ids == []  # streams keep nothing
    elif scenario["collect"]:
        assert_each_item_once(result_ids + failed_ids + unfinished_ids)
    else:
        assert result_ids == []
        assert len(set(failed_ids + unfinished_ids)) == len(failed_ids + unfinished_ids)
        if not fans_out:
            assert set(failed_ids + unfinished_ids) <= set(taken)
    if scenario["stop"] is None:
        assert stats.items_unfinished == 0
        assert sorted(run.taken) == list(range(scenario["items"]))
        # Without a stop every fan-out made all its children: by value, what ended is
        # every item fed and every child made, less those that fanned out.
        assert stats.items_spawned == sum(run.children.values())
        assert stats.items_expanded == sum(run.expanded.values())
        if mode in ("run", "feed") and scenario["collect"]:
            ended = Counter(r.value for r in pipeline.results)
            ended.update(f.value for f in pipeline.failures)
            must_end = Counter(run.taken) + run.children
            must_end.subtract(run.expanded)
            assert ended == +must_end

    # per-stage counts add up
    per_stage = stats.stage_stats.values()
    assert sum(s.failed_items for s in per_stage) == stats.items_failed
    assert sum(s.expanded_items for s in per_stage) == stats.items_expanded
    assert sum(s.spawned_items for s in per_stage) == stats.items_spawned
    assert all(s.pending_items == 0 and s.in_progress_items == 0 for s in per_stage)

    # the tracker agrees with the pipeline: a result ends "completed", or "skipped" if it
    # skipped the last stage; a failure ends "failed"; any other status is an unfinished item
    if tracker is not None:
        last_stage = f"S{len(scenario['stages']) - 1}"
        ended_as_results = [
            e.item_id
            for status in ("completed", "skipped")
            for e in tracker.get_by_status(status)
            if status == "completed" or e.stage == last_stage
        ]
        assert len(ended_as_results) == stats.items_processed
        assert not set(ended_as_results) & (set(failed_ids) | set(unfinished_ids))
        assert tracker.get_stats()["failed"] == stats.items_failed
        assert tracker.get_stats()["expanded"] == stats.items_expanded
        assert tracker.get_error_summary().total_failed == stats.items_failed
        for item_id in failed_ids:
            status = tracker.get_status(item_id)
            assert status is not None
            assert status.status == "failed"
        for status_name in ("queued", "in_progress", "retrying", "skipped"):
            for event in tracker.get_by_status(status_name):
                if event.item_id not in ended_as_results:
                    assert event.item_id in unfinished_ids, (event, unfinished_ids)


async def _play(scenario: dict[str, Any]) -> Run:
    run = Run(scenario)
    async with asyncio.timeout(HANG):  # a hang fails the example instead of the suite
        await run.play()
    return run
