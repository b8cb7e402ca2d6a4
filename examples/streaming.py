"""Streaming: handle each result as soon as it is ready, with flat memory.

``pipeline.stream(items)`` yields results in completion order (not input order) and keeps
none of them, so a consumer can write each one out and forget it however many items
flow. ``stream_outcomes(items)`` also yields the failures, each item's outcome as a
``returns`` Result to match on.

    python examples/streaming.py
"""

from __future__ import annotations

import asyncio

from antflow import Pipeline, Stage
from returns.result import Failure, Success


async def resize(photo: int) -> str:
    # Larger photos take longer, so results complete out of input order.
    await asyncio.sleep(0.002 * (photo % 5))
    if photo == 13:
        raise OSError(f"photo {photo}: corrupt file")
    return f"thumb-{photo}.jpg"


def make_pipeline() -> Pipeline:
    return Pipeline(
        stages=[Stage("Resize", workers=4, tasks=[resize], task_attempts=1)],
        collect_results=False,  # stream() keeps nothing either way; say so for clarity
    )


async def main() -> None:
    pipeline = make_pipeline()
    arrival: list[int] = []
    async for result in pipeline.stream(range(20)):
        arrival.append(result.id)  # write result.value somewhere, then let it go
    print(f"stream(): {len(arrival)} thumbnails, in completion order: {arrival[:8]} ...")
    print(
        f"  failures are not yielded; they are in pipeline.failures: "
        f"{[f.id for f in pipeline.failures]}"
    )

    done = failed = 0
    async for outcome in make_pipeline().stream_outcomes(range(20)):
        match outcome:
            case Success(result):
                done += 1
            case Failure(failure):
                failed += 1
                print(f"stream_outcomes(): item {failure.id} failed: {failure.error_message}")
    print(f"stream_outcomes(): {done} succeeded, {failed} failed")


if __name__ == "__main__":
    asyncio.run(main())
