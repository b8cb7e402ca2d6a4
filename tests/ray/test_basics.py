"""RayPipeline runs the same stages as the asyncio Pipeline, with the same results."""

from __future__ import annotations

import asyncio

from antflow_core import Pipeline, Stage
from antflow_ray import RayPipeline, RayStageOptions


async def double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def add_one(x: int) -> int:
    return x + 1


async def test_two_stages_give_the_results_in_input_order() -> None:
    stages = [
        Stage("Double", workers=4, tasks=[double]),
        Stage("Add", workers=2, tasks=[add_one, add_one]),
    ]
    pipeline = RayPipeline(stages, options={"Double": RayStageOptions(actors=2)})
    results = await pipeline.run(range(20))
    assert [(r.id, r.value) for r in results] == [(i, 2 * i + 2) for i in range(20)]
    asyncio_results = await Pipeline(stages).run(range(20))
    assert [r.value for r in results] == [r.value for r in asyncio_results]
    stats = pipeline.get_stats()
    assert (stats.items_processed, stats.items_failed, stats.items_in_flight) == (20, 0, 0)
    assert stats.stage_stats["Double"].completed_items == 20
    assert pipeline.get_actors("Double") == []  # joined: the actors are gone
