"""Load: very wide stages work; long streams keep memory flat (the million-item run is
``bench/memory.py``, documented in docs/performance.md)."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

from antflow_core import Pipeline, Stage


async def hop(x: int) -> int:
    await asyncio.sleep(0)
    return x


async def test_a_stage_with_ten_thousand_workers_works() -> None:
    pipeline = Pipeline(
        stages=[Stage("Wide", workers=10_000, tasks=[hop]), Stage("Narrow", workers=3, tasks=[hop])]
    )
    results = await pipeline.run(range(20_000))
    assert [r.value for r in results] == list(range(20_000))
    assert len(pipeline.get_worker_names()["Wide"]) == 10_000
    assert pipeline._queues[0].maxsize == 100_000
    assert len(pipeline.get_worker_states()) == 10_003


async def test_memory_does_not_grow_with_the_number_of_streamed_items() -> None:
    async def streamed(n: int) -> int:
        pipeline = Pipeline(
            stages=[Stage(f"S{i}", workers=10, tasks=[hop]) for i in range(3)],
            collect_results=False,
        )
        count = 0
        async for _ in pipeline.stream(range(n)):
            count += 1
        assert count == n
        return count

    gc.collect()
    tracemalloc.start()
    try:
        await streamed(1_000)
        small_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        await streamed(10_000)
        large_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # ten times the items, the same peak (within 20 % plus 64 KiB of noise)
    assert large_peak <= small_peak * 1.2 + 64 * 1024, (small_peak, large_peak)
