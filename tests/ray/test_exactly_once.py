"""Every fed item ends exactly once, under failures, with both retry strategies.

Tasks record each call in the session's `Ledger` actor (see ``conftest.py``), so the test
knows how often each item was tried across every actor process.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import ray
from antflow_core import Stage
from antflow_core.model import ALLOWED_TRANSITIONS, ItemStatus, RetryStrategy, StatusEvent
from antflow_ray import RayPipeline, RayStageOptions
from antflow_tracker import StatusTracker


def shared_ledger() -> Any:
    """The session's `Ledger` actor, from inside a task (Ray's handles are untyped)."""
    return ray.get_actor("ledger")


async def flaky(job: dict[str, int]) -> int:
    """Fail the first ``job["fails"]`` calls for this item, across every actor."""
    calls = await shared_ledger().enter.remote(f"flaky-{job['n']}")
    if calls <= job["fails"]:
        raise ConnectionError(f"call {calls} for {job['n']} refused")
    return job["n"] * 10


def describe(value: int) -> str:
    return f"#{value}"


def skip_fives(value: int) -> bool:
    return value % 50 == 0


def stages(retry: RetryStrategy) -> list[Stage]:
    return [
        Stage(
            "Fetch",
            workers=4,
            tasks=[flaky],
            retry=retry,
            task_attempts=3,
            stage_attempts=3,
            task_wait_seconds=0,
        ),
        Stage("Describe", workers=2, tasks=[describe], skip_if=skip_fives),
    ]


@pytest.mark.parametrize("retry", ["per_task", "per_stage"])
async def test_random_failures_end_every_item_exactly_once(
    retry: RetryStrategy, ledger: Any
) -> None:
    rng = random.Random(f"exactly-once-{retry}")
    plan = {n: rng.choice([0, 0, 0, 1, 2, 3]) for n in range(30)}
    items = [{"id": f"item-{n}", "value": {"n": n, "fails": f}} for n, f in plan.items()]
    events: list[StatusEvent] = []
    tracker = StatusTracker(on_status_change=events.append)
    pipeline = RayPipeline(
        stages(retry), status_tracker=tracker, options={"Fetch": RayStageOptions(actors=2)}
    )
    results = await pipeline.run(items)

    gave_up = {n for n, f in plan.items() if f >= 3}
    assert [r.id for r in results] == [f"item-{n}" for n in plan if n not in gave_up]
    assert [f.id for f in pipeline.failures] == [f"item-{n}" for n in sorted(gave_up)]
    for result in results:
        n = int(result.id.removeprefix("item-"))
        assert result.value == (n * 10 if n % 5 == 0 else f"#{n * 10}")
    for failed in pipeline.failures:
        assert (failed.stage, failed.attempts, failed.error_type) == (
            "Fetch",
            3,
            "ConnectionError",
        )
        assert failed.value == {"n": int(failed.id.removeprefix("item-")), "fails": 3}
    calls = (await ledger.snapshot.remote())["calls"]
    assert calls == {f"flaky-{n}": min(f + 1, 3) for n, f in plan.items()}

    stats = pipeline.get_stats()
    assert stats.items_fed == 30
    assert stats.items_processed == len(results)
    assert stats.items_failed == len(gave_up)
    assert stats.items_in_flight == 0
    fetch, describe_stats = stats.stage_stats["Fetch"], stats.stage_stats["Describe"]
    assert fetch.retried_items == sum(min(f, 2) for f in plan.values())
    assert fetch.completed_items == 30 - len(gave_up)
    assert describe_stats.skipped_items == sum(1 for n in plan if n % 5 == 0 and n not in gave_up)
    assert describe_stats.completed_items + describe_stats.skipped_items == len(results)
    assert tracker.get_stats()["completed"] + tracker.get_stats()["skipped"] == len(results)

    # Each item's statuses at each stage follow the model's transition table (the
    # tracker's own closing event of an item that skipped the last stage aside).
    previous: dict[tuple[Any, str], ItemStatus | None] = {}
    for event in events:
        key = (event.item_id, event.stage)
        if event.metadata.get("finished") is True:
            continue
        if event.status == "retrying":  # 0.10's metadata: the attempt about to be made
            assert event.metadata["retry"] is True
            assert event.metadata["attempt"] in (2, 3)
        assert event.status in ALLOWED_TRANSITIONS[previous.get(key)], (event, previous.get(key))
        previous[key] = event.status


async def serve(name: str) -> str:
    ledger = shared_ledger()
    await ledger.enter.remote(name)
    if name == "hold":
        await ledger.gate.remote("release")
    return name


async def test_priorities_order_the_queue(ledger: Any) -> None:
    pipeline = RayPipeline([Stage("Desk", workers=1, tasks=[serve])])
    await pipeline.start()
    await pipeline.feed(["hold"])
    await ledger.wait_calls.remote(1)  # the only worker holds "hold": the rest must queue
    await pipeline.feed(["maint-1", "maint-2"], priority=500)
    await pipeline.feed(["regular-1"])
    await pipeline.feed(["vip-1", "vip-2"], priority=10)
    await ledger.open.remote("release")
    await pipeline.join()
    log = (await ledger.snapshot.remote())["log"]
    assert log == ["hold", "vip-1", "vip-2", "regular-1", "maint-1", "maint-2"]
    assert [r.value for r in pipeline.results] == [
        "hold",
        "maint-1",
        "maint-2",
        "regular-1",
        "vip-1",
        "vip-2",
    ]


async def upload(n: int) -> int:
    ledger = shared_ledger()
    await ledger.enter.remote(f"upload-{n}", "upload")
    await ledger.leave.remote("upload")
    return n


async def poll(n: int) -> int:
    return n + 1


async def test_task_concurrency_limits_hold_across_actors(ledger: Any) -> None:
    stage = Stage("Batch", workers=4, tasks=[upload, poll], task_concurrency_limits={"upload": 1})
    pipeline = RayPipeline([stage], options={"Batch": RayStageOptions(actors=2)})
    results = await pipeline.run(range(12))
    assert [r.value for r in results] == list(range(1, 13))
    assert (await ledger.snapshot.remote())["most"] == {"upload": 1}
