"""A complete ETL job: Extract -> Transform -> Load, with retries, a tracker and a report.

* **Extract** reads customer records from a flaky API: many workers (I/O bound), each
  call retried in place (``per_task``) when the API times out.
* **Transform** validates, normalises and enriches a record. The three steps are one
  unit (``per_stage``): when enrichment fails, the record starts the stage again from
  validation. Records without an email address fail validation on every attempt and end
  as failures; the others come through.
* **Load** writes to a database that accepts few connections: few workers. Records
  of deleted customers skip it (``skip_if``).

A `StatusTracker` counts statuses and collects the errors; ``on_failure`` of the
Transform stage puts rejected records aside for a human to look at.

    python examples/etl.py
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from antflow import FailedItem, Pipeline, Stage, StatusTracker

RECORDS = 60


@dataclass(frozen=True)
class Customer:
    """A customer record on its way to the warehouse."""

    id: int
    name: str
    email: str
    country: str = ""
    deleted: bool = False
    segment: str = ""


class SourceApi:
    """A fake customer API: every 9th record times out on the first call."""

    def __init__(self) -> None:
        self.calls: Counter[int] = Counter()

    async def extract(self, customer_id: int) -> Customer:
        """Read one customer record."""
        self.calls[customer_id] += 1
        await asyncio.sleep(0.002)
        if customer_id % 9 == 4 and self.calls[customer_id] == 1:
            raise TimeoutError(f"customer {customer_id}: API timed out")
        email = "" if customer_id % 20 == 7 else f"User{customer_id}@Example.COM"
        return Customer(
            id=customer_id,
            name=f"user {customer_id}",
            email=email,
            deleted=customer_id % 15 == 0,
        )


class Enricher:
    """A fake geo service that fails the first call for some records."""

    def __init__(self) -> None:
        self.calls: Counter[int] = Counter()

    async def enrich(self, customer: Customer) -> Customer:
        """Add the country and the market segment."""
        self.calls[customer.id] += 1
        await asyncio.sleep(0.001)
        if customer.id % 8 == 3 and self.calls[customer.id] == 1:
            raise ConnectionError(f"geo service dropped the request for {customer.id}")
        country = ("FR", "DE", "JP", "BR")[customer.id % 4]
        return replace(customer, country=country, segment="eu" if country in "FRDE" else "world")


async def validate(customer: Customer) -> Customer:
    if not customer.email:
        raise ValueError(f"customer {customer.id} has no email address")
    return customer


async def normalise(customer: Customer) -> Customer:
    return replace(customer, name=customer.name.title(), email=customer.email.lower())


class Warehouse:
    """A fake database table."""

    def __init__(self) -> None:
        self.rows: dict[int, Customer] = {}

    async def load(self, customer: Customer) -> int:
        """Insert or replace the customer's row; return its key."""
        await asyncio.sleep(0.003)
        self.rows[customer.id] = customer
        return customer.id


def is_deleted(record: Any) -> bool:
    return isinstance(record, Customer) and record.deleted


async def main() -> None:
    api, enricher, warehouse = SourceApi(), Enricher(), Warehouse()
    rejected: list[FailedItem] = []

    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[
            Stage(
                "Extract",
                workers=10,
                tasks=[api.extract],
                retry="per_task",
                task_attempts=3,
                task_wait_seconds=0.01,
            ),
            Stage(
                "Transform",
                workers=4,
                tasks=[validate, normalise, enricher.enrich],
                retry="per_stage",
                stage_attempts=2,
                task_wait_seconds=0.01,
                on_failure=rejected.append,
            ),
            Stage("Load", workers=2, tasks=[warehouse.load], skip_if=is_deleted),
        ],
        status_tracker=tracker,
    )
    results = await pipeline.run(range(RECORDS))

    stats = pipeline.get_stats()
    print(f"ETL: {RECORDS} records, {stats.items_processed} through, {stats.items_failed} failed")
    print(f"  loaded into the warehouse: {len(warehouse.rows)}")
    print(f"  skipped at Load (deleted customers): {stats.stage_stats['Load'].skipped_items}")
    for name, stage in stats.stage_stats.items():
        print(
            f"  {name:<9} completed {stage.completed_items:>2}  failed {stage.failed_items}  "
            f"retries {stage.retried_items}"
        )
    counts = tracker.get_stats()  # an item that skipped the last stage ends "skipped"
    print(
        f"  tracker: {counts['completed']} completed, {counts['skipped']} skipped, "
        f"{counts['failed']} failed"
    )
    summary = tracker.get_error_summary()
    print(f"  errors by type: {dict(sorted(summary.errors_by_type.items()))}")
    for failed in rejected:
        print(f"  rejected #{failed.id} at {failed.stage}: {failed.error_message}")
    first = warehouse.rows[results[1].value]
    print(f"  first loaded row: {first}")


if __name__ == "__main__":
    asyncio.run(main())
