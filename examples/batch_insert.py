"""Bulk inserts: a stage that writes rows to a database 50 at a time.

Rows are parsed one by one (4 workers), then inserted in batches: ``batch_size=50``
calls ``insert_rows`` with a list of up to 50 rows, which returns one row id per row.
Each call costs one round trip, whatever the number of rows, so 230 rows take 5 calls
instead of 230. The last batch is partial: it goes when the input ends (``run()``
returns after it) or, on a live feed, once its first row has waited ``batch_timeout``.
A deadlock on the first call fails the whole batch, which is retried as a batch.
Statistics and the tracker count rows, not batches.

    python examples/batch_insert.py
"""

from __future__ import annotations

import asyncio

from antflow import Pipeline, Stage, StatusTracker


class Database:
    """A stand-in for a database: one round trip per call, whatever it carries."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []
        self.calls: list[int] = []  # the size of each insert
        self.deadlocked = False

    async def insert_many(self, rows: list[dict[str, object]]) -> list[int]:
        """Insert ``rows`` in one round trip; return their row ids, in order."""
        self.calls.append(len(rows))
        await asyncio.sleep(0.01)  # the round trip
        if not self.deadlocked:  # the first insert runs into a deadlock
            self.deadlocked = True
            raise ConnectionError("deadlock detected, try again")
        first = len(self.rows)
        self.rows.extend(rows)
        return list(range(first, first + len(rows)))


db = Database()


def parse(line: str) -> dict[str, object]:
    name, amount = line.split(",")
    return {"name": name, "amount": int(amount)}


async def insert_rows(rows: list[dict[str, object]]) -> list[int]:
    return await db.insert_many(rows)  # one row id per row, in order


async def main() -> None:
    lines = [f"customer-{n},{n * 10}" for n in range(230)]
    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[
            Stage("Parse", workers=4, tasks=[parse]),
            Stage(
                "Insert",
                workers=2,
                tasks=[insert_rows],
                batch_size=50,
                batch_timeout=0.5,
                task_wait_seconds=0.01,
            ),
        ],
        status_tracker=tracker,
    )
    results = await pipeline.run(lines)
    print(f"{len(results)} rows inserted with {len(db.calls)} calls")
    print(f"batch sizes: {sorted(db.calls, reverse=True)} (one failed and was retried)")
    print(f"row ids: {sorted(r.value for r in results) == list(range(230))}")
    stats = pipeline.get_stats().stage_stats["Insert"]
    print(f"Insert stats: {stats.completed_items} completed, {stats.retried_items} retried")
    print(f"tracker: {tracker.get_stats()['completed']} rows completed")


if __name__ == "__main__":
    asyncio.run(main())
