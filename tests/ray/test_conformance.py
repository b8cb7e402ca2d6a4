"""RayPipeline passes the runtime conformance kit (`antflow_core.testing`).

The kit draws scenarios (pipelines, items, feeds and which task calls fail), builds their
stages, runs them through a driver and checks what the runtime reported against what the
model says must happen: every item ends exactly once, with the right outcome, after the
right number of calls, in priority order where the scenario says so, with statistics
that agree. Its tasks record their calls on a `Probe`; here they run in Ray actors, so
the probe's state lives in a Ray actor too (`RayProbe`). (Its ``call`` is synchronous,
as the kit's tasks expect, so Ray logs that a task blocked its actor's event loop for
that moment; that is the probe, not the runtime.)
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
import ray
from antflow_core.model import Stage
from antflow_core.testing import (
    HoldNotReleased,
    Supports,
    check_runtime_async,
    pipeline_driver,
)
from antflow_ray import RayPipeline

HOLD_TIMEOUT = 30.0


@ray.remote
class ProbeLedger:
    """The state of every `RayProbe` of a test, each under its own key."""

    def __init__(self) -> None:
        self.calls: defaultdict[int, Counter[tuple[int, int, int]]] = defaultdict(Counter)
        self.starts: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
        self.times: defaultdict[int, list[tuple[int, float]]] = defaultdict(list)
        self.released: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)

    def call(self, key: int, item: int, stage: int, task: int) -> int:
        self.calls[key][(item, stage, task)] += 1
        self.times[key].append((stage, time.time()))  # one clock: the ledger's
        if task == 0:
            self.starts[key].append((stage, item))
        return self.calls[key][(item, stage, task)]

    def counts(self, key: int) -> dict[tuple[int, int, int], int]:
        return dict(self.calls[key])

    def started(self, key: int, stage: int) -> list[int]:
        return [item for s, item in self.starts[key] if s == stage]

    def call_times(self, key: int, stage: int) -> list[float]:
        return sorted(at for s, at in self.times[key] if s == stage)

    def release(self, key: int) -> None:
        self.released[key].set()

    async def wait_released(self, key: int, seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                await self.released[key].wait()
        except TimeoutError:
            return False
        return True


class RayProbe:
    """A kit `Probe` that tasks in any process can reach: its state is in a Ray actor."""

    def __init__(self, ledger: Any, key: int) -> None:
        self._ledger = ledger
        self._key = key

    def call(self, item: int, stage: int, task: int) -> int:
        count: int = ray.get(self._ledger.call.remote(self._key, item, stage, task))
        return count

    def calls(self) -> Mapping[tuple[int, int, int], int]:
        counts: dict[tuple[int, int, int], int] = ray.get(self._ledger.counts.remote(self._key))
        return counts

    def starts(self, stage: int) -> list[int]:
        items: list[int] = ray.get(self._ledger.started.remote(self._key, stage))
        return items

    def call_times(self, stage: int) -> list[float]:
        times: list[float] = ray.get(self._ledger.call_times.remote(self._key, stage))
        return times

    def release(self) -> None:
        ray.get(self._ledger.release.remote(self._key))

    def wait_released(self) -> None:
        if not ray.get(self._ledger.wait_released.remote(self._key, HOLD_TIMEOUT)):
            raise HoldNotReleased(f"not released within {HOLD_TIMEOUT}s")

    async def wait_released_async(self) -> None:
        if not await self._ledger.wait_released.remote(self._key, HOLD_TIMEOUT):
            raise HoldNotReleased(f"not released within {HOLD_TIMEOUT}s")


@pytest.fixture
def probes() -> Iterator[Any]:
    """Make fresh `RayProbe` objects, all backed by one ledger actor (killed afterwards)."""
    actor_class: Any = ProbeLedger  # Ray's actor classes are typed loosely
    ledger = actor_class.remote()
    keys = itertools.count()
    try:
        yield lambda: RayProbe(ledger, next(keys))
    finally:
        ray.kill(ledger)


def on_ray(stages: Sequence[Stage]) -> RayPipeline:
    return RayPipeline(stages)


async def test_ray_pipeline_passes_the_conformance_kit(probes: Any) -> None:
    report = await check_runtime_async(
        pipeline_driver(on_ray),
        # RayPipeline refuses the flow-control, fan-out and batch options of Stage
        # (antflow_ray.options)
        supports=Supports(
            pull_stages=False,
            rate_limits=False,
            call_concurrency=False,
            fan_out=False,
            batches=False,
        ),
        seed=21,
        count=10,
        probe_factory=probes,
        time_limit=60.0,
    )  # raises ConformanceError naming every item at fault
    assert str(report).startswith("10 scenarios"), report
