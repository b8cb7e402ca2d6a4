"""Failures of the distributed kind: killed actors, and what cannot be pickled."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import ray
from antflow_core import Stage
from antflow_core.model import RetryStrategy
from antflow_ray import (
    ActorStartError,
    ItemNotSerializableError,
    RayPipeline,
    RayStageOptions,
    RemoteTaskError,
    TaskNotSerializableError,
    ValueNotSerializableError,
)
from antflow_tracker import StatusTracker


def shared_ledger() -> Any:
    """The session's `Ledger` actor, from inside a task (Ray's handles are untyped)."""
    return ray.get_actor("ledger")


async def work(n: int) -> int:
    """The first call of items 0 and 1 waits for a gate that is never opened."""
    ledger = shared_ledger()
    calls = await ledger.enter.remote(f"work-{n}")
    if n < 2 and calls == 1:
        await ledger.gate.remote("never")
    return n * 10


@pytest.mark.parametrize("retry", ["per_task", "per_stage"])
async def test_a_killed_actor_s_items_are_retried_none_lost_none_duplicated(
    retry: RetryStrategy, ledger: Any
) -> None:
    tracker = StatusTracker()
    stage = Stage(
        "Work",
        workers=2,
        tasks=[work],
        retry=retry,
        task_attempts=2,
        stage_attempts=2,
        task_wait_seconds=0,
    )
    pipeline = RayPipeline([stage], status_tracker=tracker)
    await pipeline.start()
    await pipeline.feed(range(6))
    await ledger.wait_calls.remote(2)  # items 0 and 1 are running on the actor
    [actor] = pipeline.get_actors("Work")
    ray.kill(actor)
    await pipeline.join()

    assert [(r.id, r.value) for r in pipeline.results] == [(n, n * 10) for n in range(6)]
    assert pipeline.failures == []
    calls = (await ledger.snapshot.remote())["calls"]
    assert calls == {"work-0": 2, "work-1": 2, **{f"work-{n}": 1 for n in range(2, 6)}}
    stats = pipeline.get_stats()
    assert (stats.items_processed, stats.items_failed, stats.items_in_flight) == (6, 0, 0)
    assert stats.stage_stats["Work"].retried_items == 2
    assert tracker.get_stats()["completed"] == 6


async def test_a_killed_actor_s_items_fail_when_no_attempt_is_left(ledger: Any) -> None:
    stage = Stage("Work", workers=2, tasks=[work], task_attempts=1)
    pipeline = RayPipeline([stage])
    await pipeline.start()
    await pipeline.feed(range(6))
    await ledger.wait_calls.remote(2)
    ray.kill(pipeline.get_actors("Work")[0])
    await pipeline.join()

    assert [r.id for r in pipeline.results] == [2, 3, 4, 5]
    assert [(f.id, f.error_type, f.attempts) for f in pipeline.failures] == [
        (0, "ActorDiedError", 1),
        (1, "ActorDiedError", 1),
    ]
    assert pipeline.get_stats().items_in_flight == 0


_lock = threading.Lock()


def locked_double(x: int) -> int:
    with _lock:
        return 2 * x


def test_a_task_that_cannot_be_pickled_is_refused_before_anything_runs() -> None:
    with pytest.raises(TaskNotSerializableError) as raised:
        RayPipeline([Stage("Ok", tasks=[abs]), Stage("Locked", tasks=[locked_double])])
    message = str(raised.value)
    assert "task 'locked_double' of stage 'Locked' cannot be sent to Ray actors" in message
    assert "cannot pickle '_thread.lock' object" in message
    with pytest.raises(TaskNotSerializableError, match="skip_if of stage 'S'"):
        RayPipeline([Stage("S", tasks=[abs], skip_if=lambda x: _lock.locked())])


def increment(x: int) -> int:
    return x + 1


async def test_an_item_that_cannot_be_pickled_fails_alone() -> None:
    tracker = StatusTracker()
    pipeline = RayPipeline([Stage("Inc", tasks=[increment])], status_tracker=tracker)
    results = await pipeline.run([1, threading.Lock(), 3])
    assert [(r.id, r.value) for r in results] == [(0, 2), (2, 4)]
    [failed] = pipeline.failures
    assert (failed.id, failed.stage, failed.attempts) == (1, "Inc", 0)
    assert isinstance(failed.error, ItemNotSerializableError)
    assert "item 1 cannot be sent to the Ray actors of stage 'Inc'" in failed.error_message
    assert "cannot pickle '_thread.lock' object" in failed.error_message
    assert tracker.get_stats()["failed"] == 1


def lock_for_three(x: int) -> Any:
    return threading.Lock() if x == 3 else x


async def test_an_output_that_cannot_be_pickled_fails_the_call_that_returned_it() -> None:
    stages = [
        Stage("Make", tasks=[lock_for_three], task_attempts=2, task_wait_seconds=0),
        Stage("Use", tasks=[increment]),
    ]
    pipeline = RayPipeline(stages)
    results = await pipeline.run(range(5))
    assert [r.value for r in results] == [1, 2, 3, 5]
    [failed] = pipeline.failures
    assert (failed.id, failed.stage, failed.attempts, failed.value) == (3, "Make", 2, 3)
    assert isinstance(failed.error, ValueNotSerializableError)
    assert "task 'lock_for_three' of stage 'Make' returned a value for item 3" in str(failed.error)
    assert pipeline.get_stats().stage_stats["Make"].retried_items == 1


class Unpicklable(Exception):
    def __init__(self, a: int, b: int) -> None:  # unpickling calls __init__(message): fails
        super().__init__(f"{a}/{b}")


def raise_unpicklable(x: int) -> int:
    raise Unpicklable(x, 0)


def raise_value_error(x: int) -> int:
    raise ValueError(f"bad {x}")


async def test_errors_come_back_with_their_type_or_a_stand_in() -> None:
    pipeline = RayPipeline(
        [Stage("S", workers=2, tasks=[raise_value_error], task_attempts=1)],
    )
    await pipeline.run([7])
    [failed] = pipeline.failures
    assert isinstance(failed.error, ValueError)
    assert failed.error_message == "bad 7"
    notes = "\n".join(getattr(failed.error, "__notes__", []))
    assert "raised in a Ray actor of stage 'S'" in notes
    assert "raise_value_error" in notes  # the remote traceback

    pipeline = RayPipeline([Stage("S", tasks=[raise_unpicklable], task_attempts=1)])
    await pipeline.run([7])
    [failed] = pipeline.failures
    assert isinstance(failed.error, RemoteTaskError)
    assert failed.error.error_type == "Unpicklable"
    assert "Unpicklable: 7/0" in failed.error_message


class Bomb:
    """A callable that pickles, but cannot be unpickled in another process."""

    def __call__(self, x: int) -> int:
        return x

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return (_explode, ())


def _explode() -> Bomb:
    raise ImportError("no module named 'only_on_my_laptop'")


async def test_actors_that_cannot_be_built_fail_start_with_the_reason() -> None:
    pipeline = RayPipeline([Stage("Remote", tasks=[Bomb()])])
    with pytest.raises(ActorStartError, match="the Ray actors of stage 'Remote' could not be"):
        await pipeline.run([1])
    assert pipeline.get_actors("Remote") == []


def test_resource_options_are_checked_when_built() -> None:
    with pytest.raises(ValueError, match="actors must be an integer of at least 1"):
        RayStageOptions(actors=0)
    with pytest.raises(ValueError, match="num_cpus must be None or a number >= 0"):
        RayStageOptions(num_cpus=-1)
    with pytest.raises(ValueError, match="stage 'S' has 1 workers but RayStageOptions asks"):
        RayPipeline([Stage("S", tasks=[abs])], options={"S": RayStageOptions(actors=2)})
