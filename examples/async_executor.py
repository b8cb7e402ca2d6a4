"""AsyncExecutor: one coroutine over many inputs, n at a time, with retries.

Not every job is a pipeline. Here one step, "fetch a page", runs over a simulated web
through an `AsyncExecutor` of 20 workers:

1. 200 pages with ``submit()``, two retries each for a 5xx error (``retry_if``: a 404
   is not worth another attempt), handled as they finish (``as_completed``): a few
   pages fail once with a 503 and are retried, two fail with a 404 at once;
2. ten pages with ``map()``: their sizes in input order;
3. a race of three mirrors with ``wait(return_when=FIRST_COMPLETED)``: the losers are
   cancelled;
4. 1,000 ids streamed from an async generator with ``map_iter()``: never more than 40
   calls ahead of the consumer.

Run it with ``python examples/async_executor.py``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

from antflow import FIRST_COMPLETED, AsyncExecutor, as_completed, wait

PAGES = 200
FLAKY = {page for page in range(PAGES) if page % 25 == 7}  # fail once, then work
BROKEN = {13, 113}  # always fail


class HTTPError(Exception):
    """A failed request."""


def is_transient(error: BaseException) -> bool:
    """A server error (5xx) may go away; a 404 will not: retry only the former."""
    return isinstance(error, HTTPError) and str(error).startswith("5")


class SimulatedWeb:
    """Pages that take 1-5 ms; counts attempts and how many requests run at once."""

    def __init__(self) -> None:
        self.attempts: Counter[int] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0

    async def fetch(self, page: int) -> str:
        """Return the page's HTML, or raise HTTPError."""
        self.attempts[page] += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.001 * (1 + page % 5))
            if page in BROKEN:
                raise HTTPError(f"404 on page-{page}")
            if page in FLAKY and self.attempts[page] == 1:
                raise HTTPError(f"503 on page-{page}")
            return f"<html>{'x' * (100 + page)}</html>"
        finally:
            self.in_flight -= 1


async def mirror(name: str, seconds: float) -> str:
    if seconds:
        await asyncio.sleep(seconds)  # a slow mirror: cancelled once another answered
    return name


async def ids() -> AsyncIterator[int]:
    for n in range(1_000):
        yield n


async def main() -> None:
    web = SimulatedWeb()
    async with AsyncExecutor(max_workers=20) as executor:
        # 1. submit + as_completed, with retries of transient errors only
        patient = executor.with_options(retries=2, retry_delay=0.01, retry_if=is_transient)
        futures = {patient.submit(web.fetch, page): page for page in range(PAGES)}
        fetched, failed = 0, {}
        async for future in as_completed(futures):
            error = future.exception()
            if error is None:
                fetched += 1
            else:
                failed[futures[future]] = error
        retried = sorted(p for p, n in web.attempts.items() if n > 1 and p not in BROKEN)
        print(f"crawled {fetched} of {PAGES} pages, 20 at a time")
        print(f"most requests at once: {web.most_in_flight}")
        print(f"retried and recovered: {len(retried)} pages {retried}")
        (attempts,) = {web.attempts[p] for p in failed}  # the same for each
        print(
            f"failed for good after {attempts} attempt(s), a 404 is not retried:",
            *(repr(failed[p]) for p in sorted(failed)),
        )

        # 2. map: results in input order
        sizes = [len(html) async for html in executor.map(web.fetch, range(20, 30))]
        print(f"sizes of pages 20-29, in input order: {sizes}")

        # 3. a race: the first mirror to answer wins, the others are cancelled
        race = [
            executor.submit(mirror, "mirror-a", 10),
            executor.submit(mirror, "mirror-b", 0),  # answers at once
            executor.submit(mirror, "mirror-c", 10),
        ]
        done, pending = await wait(race, return_when=FIRST_COMPLETED)
        for loser in pending:
            loser.cancel()
        winner = await done.pop()
        print(f"fastest mirror: {winner}; cancelled: {sum(f.cancelled() for f in race)}")

        # 4. map_iter: a stream, at most 40 calls ahead of the consumer
        started = taken = most_ahead = 0

        async def label(n: int) -> str:
            nonlocal started, most_ahead
            started += 1
            most_ahead = max(most_ahead, started - taken)
            await asyncio.sleep(0)
            return f"id-{n}"

        async for _ in executor.map_iter(label, ids(), buffersize=40):
            taken += 1
        print(f"streamed {taken} ids, at most {most_ahead} calls ahead of the consumer")


if __name__ == "__main__":
    asyncio.run(main())
