"""The chaos invariant: whatever fails, every fed item ends exactly once, and all counts agree.

Hypothesis draws pipelines (1-3 stages, workers, both retry strategies, attempts, queue
capacities, skips, and flow control: pull stages, call rates, call concurrency), failure
plans (each call of each task may raise one of many exception types, BaseExceptions
included), feeds (priorities, ``target_stage``), the way results are consumed (``run``,
``start``/``feed``/``join``, ``stream``, ``stream_outcomes``), ``collect_results`` on or
off, and a StatusTracker or none. After
each run: the results and failures name every fed item exactly once, the pipeline's
stats and the tracker's counts agree with them, and no antflow task is left running.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

from antflow_core import Pipeline, Stage, StatusEvent
from antflow_tracker import StatusTracker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from returns.result import Success


class ChaosError(Exception):
    """A user-defined error."""


class ChaosBaseError(BaseException):
    """A user-defined BaseException: not retried, fails the item at once."""


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
]
MODES = ["run", "feed", "stream", "stream_outcomes"]


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
    return {
        "stages": stages,
        "items": items,
        "failures": failures,
        "batches": batches,
        "mode": draw(st.sampled_from(MODES)),
        "collect": draw(st.booleans()),
        "tracker": draw(st.booleans()),
        "raising_callback": draw(st.booleans()),
    }


def build(scenario: dict[str, Any]) -> list[Stage]:
    calls: Counter[tuple[int, int, int]] = Counter()

    def make_task(stage_index: int, task_index: int) -> Callable[[Any], Any]:
        async def task(value: int) -> int:
            key = (value, stage_index, task_index)
            calls[key] += 1
            await asyncio.sleep(0)
            planned = scenario["failures"].get(key)
            if planned is not None and calls[key] <= planned[0]:
                raise ERRORS[planned[1]](f"item {value} stage {stage_index} call {calls[key]}")
            return value

        return task

    def skipper(skip: frozenset[int]) -> Callable[[int], bool]:
        return lambda value: value in skip

    return [
        Stage(
            f"S{i}",
            workers=spec["workers"],
            tasks=[make_task(i, t) for t in range(spec["tasks"])],
            retry=spec["retry"],
            task_attempts=spec["task_attempts"],
            stage_attempts=spec["stage_attempts"],
            task_wait_seconds=0,
            queue_capacity=None if spec["pull"] else spec["capacity"],
            skip_if=skipper(spec["skip"]),
            pull=spec["pull"],
            call_rate=spec["rate"][0] if spec["rate"] else None,
            call_rate_period=spec["rate"][1] if spec["rate"] else 1.0,
            call_concurrency=spec["concurrency"],
        )
        for i, spec in enumerate(scenario["stages"])
    ]


async def run_scenario(scenario: dict[str, Any]) -> tuple[Pipeline, StatusTracker | None, Any]:
    tracker: StatusTracker | None = None
    if scenario["tracker"]:

        def on_status_change(event: StatusEvent) -> None:
            if scenario["raising_callback"] and event.status == "in_progress":
                raise RuntimeError("a callback bug")

        tracker = StatusTracker(on_status_change=on_status_change)
    pipeline = Pipeline(
        stages=build(scenario), collect_results=scenario["collect"], status_tracker=tracker
    )
    items = list(range(scenario["items"]))
    seen: Any = None
    mode = scenario["mode"]
    if mode == "run":
        await pipeline.run(items, priority=scenario["batches"][0][0])
    elif mode == "feed":
        await pipeline.start()
        count = len(scenario["batches"])
        for k, (priority, target) in enumerate(scenario["batches"]):
            await pipeline.feed(items[k::count], priority=priority, target_stage=f"S{target}")
        await pipeline.join()
    elif mode == "stream":
        seen = [r.id async for r in pipeline.stream(items)]
    else:
        seen = [o async for o in pipeline.stream_outcomes(items)]
    leftover = [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("antflow:")]
    assert not leftover, leftover
    return pipeline, tracker, seen


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
def test_every_fed_item_ends_exactly_once_and_every_count_agrees(
    loop_factory: Callable[[], asyncio.AbstractEventLoop], scenario: dict[str, Any]
) -> None:
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        pipeline, tracker, seen = runner.run(run_scenario(scenario))
    n = scenario["items"]
    failed_ids = [f.id for f in pipeline.failures]
    stats = pipeline.get_stats()

    # every item ended exactly once: as a result or as a failure
    assert (stats.items_fed, stats.items_in_flight, stats.items_unfinished) == (n, 0, 0)
    assert stats.items_processed + stats.items_failed == n
    assert len(failed_ids) == len(set(failed_ids)) == stats.items_failed
    mode = scenario["mode"]
    if mode == "stream":
        assert sorted(seen + failed_ids) == list(range(n))
        assert len(seen) == stats.items_processed
    elif mode == "stream_outcomes":
        ok = [o.unwrap().id for o in seen if isinstance(o, Success)]
        bad = [o.failure().id for o in seen if not isinstance(o, Success)]
        assert sorted(ok + bad) == list(range(n))
        assert sorted(bad) == sorted(failed_ids)
    if scenario["collect"] and mode in ("run", "feed"):
        result_ids = [r.id for r in pipeline.results]
        assert sorted(result_ids + failed_ids) == list(range(n))
    if mode in ("stream", "stream_outcomes"):
        assert pipeline.results == []  # streams keep nothing

    # per-stage counts add up
    per_stage = stats.stage_stats.values()
    assert sum(s.failed_items for s in per_stage) == stats.items_failed
    assert all(s.pending_items == 0 and s.in_progress_items == 0 for s in per_stage)

    # the tracker agrees with the pipeline
    if tracker is not None:
        counts = tracker.get_stats()
        # A result ends "completed", or "skipped" if it skipped the last stage.
        last = list(stats.stage_stats.values())[-1]
        assert counts["skipped"] == last.skipped_items
        assert counts["completed"] + counts["skipped"] == stats.items_processed
        assert counts["failed"] == stats.items_failed
        assert tracker.get_error_summary().total_failed == stats.items_failed
        for item_id in failed_ids:
            status = tracker.get_status(item_id)
            assert status is not None
            assert status.status == "failed"
