"""The public surface RayPipeline shares with the asyncio Pipeline, used as the guide uses it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import ray
from antflow_core import Payload, Stage
from antflow_core.model import FailedItem, StatusEvent
from antflow_ray import (
    SUPPORTED_STAGE_OPTIONS,
    RayPipeline,
    RayStageOptions,
    UnsupportedStageOptionError,
    unsupported_options,
)
from antflow_rich import FullDashboard
from antflow_tracker import StatusTracker
from returns.result import Failure, Success
from rich.console import Console


def shared_ledger() -> Any:
    """The session's `Ledger` actor, from inside a task (Ray's handles are untyped)."""
    return ray.get_actor("ledger")


async def square(x: int) -> int:
    if x == 5:
        raise ValueError("five")
    return x * x


@dataclass(frozen=True, slots=True)
class StageWithRateLimit(Stage):
    """A Stage as another issue might extend it: an option RayPipeline does not know."""

    rate_limit: float | None = None


def test_an_option_ray_does_not_support_is_refused_by_name() -> None:
    assert unsupported_options(StageWithRateLimit("S", tasks=[abs])) == []
    limited = StageWithRateLimit("Fetch", tasks=[abs], rate_limit=5.0)
    assert unsupported_options(limited) == ["rate_limit"]
    with pytest.raises(UnsupportedStageOptionError) as raised:
        RayPipeline([limited])
    assert "stage 'Fetch' sets rate_limit, which RayPipeline does not support" in str(raised.value)
    # Every field of today's Stage is supported, each one listed by name.
    assert unsupported_options(Stage("S", tasks=[abs], queue_capacity=3, task_timeout=1)) == []
    assert {"skip_if", "task_concurrency_limits", "retry"} <= SUPPORTED_STAGE_OPTIONS


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"call_rate": 5}, "call_rate"),
        ({"call_rate": 5, "call_rate_period": 60}, "call_rate, call_rate_period"),
        ({"task_rate_limits": {"abs": (2, 1.0)}}, "task_rate_limits"),
        ({"call_concurrency": 2}, "call_concurrency"),
        ({"pull": True}, "pull"),
    ],
)
def test_the_flow_control_options_are_refused_by_name(options: dict[str, Any], named: str) -> None:
    limited = Stage("Limited", tasks=[abs], **options)
    assert ", ".join(unsupported_options(limited)) == named
    with pytest.raises(UnsupportedStageOptionError, match="stage 'Limited' sets"):
        RayPipeline([Stage("First", tasks=[abs]), limited])


async def test_tracker_callbacks_and_a_dashboard_run_on_the_driver() -> None:
    seen: list[str] = []
    succeeded: list[Payload[Any]] = []
    failed: list[FailedItem] = []
    tracker = StatusTracker(on_failure=lambda item: seen.append(f"tracker saw {item.id}"))
    stage = Stage(
        "Square",
        workers=2,
        tasks=[square],
        task_attempts=2,
        task_wait_seconds=0,
        on_success=succeeded.append,
        on_failure=failed.append,
    )
    console = Console(record=True, width=120, force_terminal=False)
    dashboard = FullDashboard(console=console, refresh_interval=0.05)
    pipeline = RayPipeline([stage], status_tracker=tracker)
    results = await pipeline.run(range(8), custom_dashboard=dashboard)  # 0.10 spelling
    assert [r.value for r in results] == [x * x for x in range(8) if x != 5]
    assert sorted(p.value for p in succeeded) == [r.value for r in results]
    assert [(f.id, f.attempts, f.error_message) for f in failed] == [(5, 2, "five")]
    assert seen == ["tracker saw 5"]
    assert tracker.get_stats()["completed"] == 7
    assert [e.status for e in tracker.get_history(5)][-1] == "failed"
    assert "8 items in" in console.export_text()
    assert pipeline.get_worker_names() == {"Square": ["Square-W0", "Square-W1"]}
    metrics = pipeline.get_worker_metrics()
    assert sum(m.items_processed + m.items_failed for m in metrics.values()) == 8
    assert pipeline.get_error_summary().errors_by_type == {"ValueError": 1}


def halve(value: int) -> int:
    return value // 2


def is_zero(value: int) -> bool:
    return value == 0


async def test_0_10_callbacks_on_skip_metadata_and_feeding_before_start() -> None:
    calls: list[tuple[str, Any, Any, dict[str, Any]]] = []

    def on_success(item_id: Any, result: Any, metadata: dict[str, Any]) -> None:
        calls.append(("success", item_id, result, metadata))

    def on_skip(item_id: Any, value: Any, metadata: dict[str, Any]) -> None:
        calls.append(("skip", item_id, value, metadata))

    events: list[StatusEvent] = []
    stage = Stage("Halve", tasks=[halve], skip_if=is_zero, on_success=on_success, on_skip=on_skip)
    pipeline = RayPipeline([stage], status_tracker=StatusTracker(on_status_change=events.append))
    items = [{"id": "a", "value": 0, "source": "s3"}, {"id": "b", "value": 8, "source": "gcs"}]
    await pipeline.feed(items)  # before start(): the items wait in the queue
    results = await pipeline.run([])
    assert [(r.id, r.value, dict(r.metadata)) for r in results] == [
        ("a", 0, {"source": "s3"}),
        ("b", 4, {"source": "gcs"}),
    ]
    assert sorted(calls) == [
        ("skip", "a", 0, {"source": "s3"}),
        ("success", "b", 4, {"source": "gcs"}),
    ]
    skipped = [e.status for e in events if e.item_id == "a" and not e.metadata.get("finished")]
    assert skipped == ["queued", "skipped"]  # never in_progress


def label(x: int) -> str:
    return f"item {x}"


async def test_stream_and_stream_outcomes_yield_every_item_as_it_ends() -> None:
    pipeline = RayPipeline([Stage("Label", workers=2, tasks=[label])])
    streamed = [r.value async for r in pipeline.stream(range(6))]
    assert sorted(streamed) == sorted(f"item {x}" for x in range(6))
    assert pipeline.results == []  # streamed results are not kept

    pipeline = RayPipeline([Stage("Square", workers=2, tasks=[square], task_attempts=1)])
    outcomes = [o async for o in pipeline.stream_outcomes(range(7))]
    succeeded = sorted(o.unwrap().value for o in outcomes if isinstance(o, Success))
    assert succeeded == [0, 1, 4, 9, 16, 36]
    assert [o.failure().id for o in outcomes if isinstance(o, Failure)] == [5]


async def gated(x: int) -> int:
    ledger = shared_ledger()
    await ledger.enter.remote(f"gated-{x}")
    await ledger.gate.remote("never")
    return x


async def test_shutdown_lists_unfinished_items_with_their_values(ledger: Any) -> None:
    stages = [
        Stage("First", workers=2, tasks=[label]),
        Stage("Stuck", workers=1, tasks=[gated], queue_capacity=1),
    ]
    pipeline = RayPipeline(stages)
    await pipeline.start()
    feeding = asyncio.create_task(pipeline.feed(range(10)))
    await ledger.wait_calls.remote(1)  # Stuck holds one item; the rest back up behind it
    await pipeline.shutdown()
    with contextlib.suppress(Exception):
        await feeding  # a feed blocked on a full queue fails when the pipeline closes
    unfinished = pipeline.unfinished_items
    stats = pipeline.get_stats()
    assert stats.items_fed == len(unfinished) > 0
    assert stats.items_in_flight == 0
    assert all(p.value in (x, f"item {x}") for p in unfinished for x in [p.id])
    assert any(isinstance(p.value, str) for p in unfinished)  # fetched from the object store
    assert pipeline.is_closed


async def test_feeding_at_a_target_stage_skips_the_stages_before_it() -> None:
    pipeline = RayPipeline([Stage("Label", tasks=[label]), Stage("Shout", tasks=[str.upper])])
    async with pipeline:
        await pipeline.feed([1])
        await pipeline.feed([{"id": "resumed", "value": "item 9"}], target_stage="Shout")
    assert [(r.id, r.value) for r in pipeline.results] == [(0, "ITEM 1"), ("resumed", "ITEM 9")]


def busy(x: int) -> int:
    return sum(range(x))


def test_options_become_the_actor_options_ray_takes() -> None:
    options = RayStageOptions(
        actors=3,
        num_cpus=1,
        num_gpus=0.5,
        memory=2**30,
        resources={"ssd": 1},
        runtime_env={"pip": ["pillow"]},
    )
    assert options.actor_options(max_concurrency=4) == {
        "max_concurrency": 4,
        "num_cpus": 1,
        "num_gpus": 0.5,
        "memory": 2**30,
        "resources": {"ssd": 1},
        "runtime_env": {"pip": ["pillow"]},
    }
    assert RayStageOptions().actor_options(max_concurrency=1) == {"max_concurrency": 1}


async def test_actors_reserve_the_resources_their_options_ask_for() -> None:
    options = {"Busy": RayStageOptions(actors=2, num_cpus=1)}
    pipeline = RayPipeline([Stage("Busy", workers=4, tasks=[busy])], options=options)
    await pipeline.start()
    assert len(pipeline.get_actors("Busy")) == 2
    await pipeline.feed(range(20))
    await pipeline.join()
    assert [r.value for r in pipeline.results] == [sum(range(x)) for x in range(20)]
    # join() released both CPUs: a pipeline asking for them again gets its actors.
    again = RayPipeline([Stage("Busy", workers=2, tasks=[busy])], options=options)
    assert [r.value for r in await again.run([10, 20])] == [45, 190]


JOINING_SCRIPT = """
import asyncio
import ray
from antflow_core import Stage
from antflow_ray import RayPipeline

def shout(text):
    return text.upper()

async def main():
    results = await RayPipeline([Stage("Shout", tasks=[shout])]).run(["joined"])
    print(results[0].value, ray.get_runtime_context().gcs_address)

asyncio.run(main())
"""


def test_a_script_joins_a_running_cluster_through_ray_address(tmp_path: Path) -> None:
    address = ray.get_runtime_context().gcs_address
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    script = tmp_path / "job.py"
    script.write_text(JOINING_SCRIPT, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(script)],
        env={**env, "RAY_ADDRESS": address},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["JOINED", address]  # the session's cluster, not a new one
