"""Priorities: lower numbers go first; equal priorities keep their feeding order.

One worker serves a support desk. While it is busy with a first ticket, more arrive: a
backlog of maintenance tickets (priority 500), regular tickets (the default, 100) and
tickets from VIP customers (priority 10). When the worker is free again it serves them
by priority, not by arrival.

    python examples/priorities.py
"""

from __future__ import annotations

import asyncio

from antflow import Pipeline, Stage


async def main() -> None:
    served: list[str] = []
    busy = asyncio.Event()  # the worker has taken the first ticket
    release = asyncio.Event()  # ... and may finish it

    async def answer(ticket: str) -> str:
        if ticket == "first":
            busy.set()
            await release.wait()
        served.append(ticket)
        await asyncio.sleep(0.001)
        return f"answered {ticket}"

    pipeline = Pipeline(stages=[Stage("Support", workers=1, tasks=[answer])])
    await pipeline.start()
    await pipeline.feed(["first"])
    await busy.wait()

    await pipeline.feed(["maint-1", "maint-2", "maint-3"], priority=500)
    await pipeline.feed(["ticket-1", "ticket-2"])  # priority 100
    await pipeline.feed(["vip-1", "vip-2"], priority=10)
    release.set()
    await pipeline.join()

    print("served in this order:")
    for position, ticket in enumerate(served, start=1):
        print(f"  {position}. {ticket}")
    # Results still come back in feeding order, whatever the processing order was.
    print("results in feeding order:", ", ".join(str(r.value) for r in pipeline.results))


if __name__ == "__main__":
    asyncio.run(main())
