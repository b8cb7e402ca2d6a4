"""A recursive crawler: each page's links go back into the fetching stage, through fan-out.

The site is simulated: 500 pages linked as a tree plus cross links, one of them missing
(404) and one busy for a moment (503). Fetch -> Parse -> Save, where Parse is a fan-out
stage: for each page it yields its new links as ``Child(link, stage="Fetch")`` (back to
Fetch) and the page's record (on to Save). Fetch retries server errors only
(``retry_if``). Every page is fetched and saved exactly once, and the loop
Fetch -> Parse -> Fetch never deadlocks, whatever the queue sizes: children sent back to
an earlier stage never wait for room.

    python examples/crawler.py
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

from antflow import Child, Pipeline, PipelineStats, Stage

PAGES = 500
MISSING = 137  # this page does not exist
BUSY = 42  # this one answers 503 the first time


class HTTPError(Exception):
    """A response with an error status."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"{url}: HTTP {status}")
        self.status = status


@dataclass(frozen=True)
class Page:
    """A fetched page: its address, its title and the pages it links to."""

    url: str
    title: str
    links: tuple[str, ...]


def url(number: int) -> str:
    return f"/page/{number}"


def links_of(number: int) -> tuple[str, ...]:
    """A tree (every page reachable from the first) plus a cross link back into it."""
    tree = [n for n in (2 * number + 1, 2 * number + 2) if n < PAGES]
    return tuple(url(n) for n in [*tree, (number * 7 + 3) % PAGES])


fetches: Counter[str] = Counter()


async def fetch(address: str) -> Page:
    fetches[address] += 1
    await asyncio.sleep(0.001)  # the network
    number = int(address.rsplit("/", 1)[1])
    if number == MISSING:
        raise HTTPError(address, 404)
    if number == BUSY and fetches[address] == 1:
        raise HTTPError(address, 503)
    return Page(address, f"Page {number}", links_of(number))


def server_error(exc: BaseException) -> bool:
    return isinstance(exc, HTTPError) and exc.status >= 500


seen = {url(0)}


async def parse(page: Page) -> AsyncIterator[Page | Child[str]]:
    for link in page.links:
        if link not in seen:  # each page is crawled once
            seen.add(link)
            yield Child(link, stage="Fetch", id=link)  # back to Fetch, as its own item
    yield page  # and the page goes on to Save


saved: list[str] = []


async def save(page: Page) -> str:
    saved.append(page.url)
    return page.title


def books(stats: PipelineStats) -> str:
    return (
        f"{stats.items_fed} fed + {stats.items_spawned} made by fan-out = "
        f"{stats.items_processed} results + {stats.items_failed} failed + "
        f"{stats.items_expanded} expanded"
    )


async def main() -> None:
    pipeline = Pipeline(
        stages=[
            Stage(
                "Fetch",
                workers=10,
                tasks=[fetch],
                retry_if=server_error,  # a 503 is retried, a 404 is not
                task_wait_seconds=0.01,
                queue_capacity=5,
            ),
            Stage("Parse", workers=2, tasks=[parse], fan_out=True, queue_capacity=5),
            Stage("Save", workers=2, tasks=[save], queue_capacity=5),
        ]
    )
    results = await pipeline.run([url(0)])
    print(f"crawled {len(seen)} pages: {len(results)} saved, {len(pipeline.failures)} failed")
    for failed in pipeline.failures:
        print(f"  {failed.error_message} after {failed.attempts} attempt")
    once = all(count == 1 for address, count in fetches.items() if address != url(BUSY))
    print(f"each page fetched once: {once}; {url(BUSY)} twice (one retry)")
    print(f"each page saved once: {len(saved) == len(set(saved))}")
    print(books(pipeline.get_stats()))


if __name__ == "__main__":
    asyncio.run(main())
