"""Interactive execution: start the workers, feed items while they run, then join.

A document pipeline Download -> Parse -> Index. Three sources feed it while it runs:

* a first batch of URLs, fed to the first stage;
* documents recovered from yesterday's checkpoint, already downloaded and parsed: they
  are fed with ``target_stage="Index"`` and skip the two earlier stages;
* a slow async source (an ``async def`` generator), fed with ``feed_async``.

    python examples/interactive_feeding.py
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from antflow import Pipeline, Stage


async def download(url: str) -> str:
    await asyncio.sleep(0.01)
    return f"<html>{url}</html>"


async def parse(html: str) -> list[str]:
    return html.removeprefix("<html>").removesuffix("</html>").split("/")


async def index(words: list[str]) -> str:
    await asyncio.sleep(0.005)
    return "indexed: " + " ".join(words)


async def new_urls() -> AsyncIterator[str]:
    """URLs that arrive over time, like messages from a queue."""
    for n in range(3):
        await asyncio.sleep(0.01)
        yield f"example.org/live/{n}"


async def main() -> None:
    pipeline = Pipeline(
        stages=[
            Stage("Download", workers=4, tasks=[download]),
            Stage("Parse", workers=2, tasks=[parse]),
            Stage("Index", workers=2, tasks=[index]),
        ]
    )
    await pipeline.start()

    # The first batch enters at the first stage (the default).
    await pipeline.feed(f"example.org/page/{n}" for n in range(4))

    # Parsed documents from a checkpoint: their value is what Index takes (a word list).
    recovered = [
        {"id": "checkpoint-1", "value": ["example.org", "old", "1"]},
        {"id": "checkpoint-2", "value": ["example.org", "old", "2"]},
    ]
    await pipeline.feed(recovered, target_stage="Index")

    # Items from an async source; feed_async returns when the source is exhausted.
    await pipeline.feed_async(new_urls())

    await pipeline.join()
    for result in pipeline.results:
        print(f"{result.id!s:>12}  {result.value}")
    stats = pipeline.get_stats()
    print(
        f"{stats.items_processed} indexed; "
        f"{stats.stage_stats['Download'].completed_items} downloaded, "
        f"{stats.stage_stats['Index'].completed_items} through Index"
    )


if __name__ == "__main__":
    asyncio.run(main())
