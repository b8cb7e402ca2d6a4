"""The antflow quick start: fetch -> process -> save over 300 simulated pages.

Each stage is a pool of workers. Fetching is slow and flaky: about one page in twelve
fails on its first try and is retried; a few pages are permanently broken and end as
failures without holding up the others. A progress bar shows the run on stderr (plain
lines when stderr is not a terminal). Run it with:

    python3 dev.py demo        (or: python examples/quickstart.py)
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass

from antflow import Pipeline, Stage

ITEMS = 300
BROKEN = {13, 137, 271}  # these pages always fail: they end as failures, not as a crash
VOCABULARY = [
    "ant",
    "colony",
    "queue",
    "worker",
    "stage",
    "retry",
    "item",
    "flow",
    "batch",
    "token",
]


@dataclass(frozen=True)
class Page:
    """A fetched page."""

    url: str
    html: str


@dataclass(frozen=True)
class Summary:
    """What the process stage extracts from a page."""

    url: str
    words: int
    top_word: str


class FlakyWeb:
    """A simulated web: 5-25 ms per request, transient errors on some first attempts."""

    def __init__(self, seed: int = 7) -> None:
        self._random = random.Random(seed)
        self._attempts: Counter[str] = Counter()
        self.retried: set[str] = set()

    async def fetch(self, url: str) -> Page:
        """Fetch one page; may raise ConnectionError."""
        self._attempts[url] += 1
        await asyncio.sleep(self._random.uniform(0.005, 0.025))
        page_no = int(url.rsplit("/", 1)[1])
        if page_no in BROKEN:
            raise ConnectionError(f"{url}: 503 Service Unavailable")
        if page_no % 12 == 5 and self._attempts[url] == 1:
            self.retried.add(url)
            raise TimeoutError(f"{url}: read timed out")
        length = 20 + page_no % 30
        words = " ".join(VOCABULARY[(page_no * 7 + k * k) % len(VOCABULARY)] for k in range(length))
        return Page(url, f"<html><body>{words}</body></html>")


async def process(page: Page) -> Summary:
    """Extract a summary from a page (CPU-light, so it stays on the event loop)."""
    text = page.html.removeprefix("<html><body>").removesuffix("</body></html>")
    words = text.split()
    top_word, _ = Counter(words).most_common(1)[0]
    return Summary(page.url, len(words), top_word)


class Store:
    """A simulated database with a small write latency."""

    def __init__(self) -> None:
        self.rows: dict[str, Summary] = {}

    async def save(self, summary: Summary) -> str:
        """Save one summary and return its key."""
        await asyncio.sleep(0.002)
        self.rows[summary.url] = summary
        return summary.url


async def main() -> None:
    web, store = FlakyWeb(), Store()
    pipeline = Pipeline(
        stages=[
            Stage(
                "Fetch",
                workers=20,
                tasks=[web.fetch],
                retry="per_task",
                task_attempts=3,
                task_wait_seconds=0.05,
            ),
            Stage("Process", workers=4, tasks=[process]),
            Stage("Save", workers=5, tasks=[store.save]),
        ]
    )
    urls = [f"https://example.com/page/{i}" for i in range(ITEMS)]

    started = time.perf_counter()
    results = await pipeline.run(urls, progress=True)  # a live bar on stderr
    elapsed = time.perf_counter() - started

    print(f"antflow quick start: {ITEMS} pages through Fetch -> Process -> Save")
    print("\nfirst results (input order):")
    for result in results[:5]:
        row = store.rows[result.value]
        print(f"  #{result.id:<3} {result.value}  {row.words} words, most used: {row.top_word}")
    print(f"  ... {len(results)} results in total")

    print(f"\nretried after a transient error: {len(web.retried)} pages (all recovered)")
    print(f"failed for good: {len(pipeline.failures)}")
    for failed in pipeline.failures:
        print(
            f"  #{failed.id:<3} at {failed.stage} after {failed.attempts} attempts: "
            f"{failed.error_type}: {failed.error_message}"
        )

    stats = pipeline.get_stats()
    print("\nstats:")
    print(
        f"  processed {stats.items_processed}, failed {stats.items_failed}, "
        f"in flight {stats.items_in_flight}"
    )
    for name, stage in stats.stage_stats.items():
        print(
            f"  {name:8s} completed {stage.completed_items:4d}  failed {stage.failed_items}  "
            f"retries {stage.retried_items}"
        )
    print(f"\n{ITEMS / elapsed:,.0f} pages/s ({elapsed:.2f} s)")


if __name__ == "__main__":
    asyncio.run(main())
