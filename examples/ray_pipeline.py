"""The same stages on Ray: a CPU-bound stage spread over two processes, an I/O stage beside it.

``RayPipeline`` takes the ``Stage`` objects the asyncio ``Pipeline`` takes. Each stage runs
as Ray actors: here ``Fingerprint`` (pure-Python CPU work) gets two actors holding a CPU
each, so it uses both cores of a small machine, and ``Store`` (waiting on a slow service)
gets one actor running eight calls at once on its event loop. Retries, priorities,
routing, the ``StatusTracker`` and the callbacks stay in this process, the driver.

With no cluster address and no ``RAY_ADDRESS`` in the environment, the pipeline starts a
local Ray on this machine's CPUs; set ``RAY_ADDRESS`` (or pass ``address=``) to run the
same script on a cluster.

    python examples/ray_pipeline.py
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import ray
from antflow import FailedItem, Stage, StatusTracker
from antflow_ray import RayPipeline, RayStageOptions

ROUNDS = 2_000  # sha256 rounds per document: a few milliseconds of CPU


def fingerprint(text: str) -> dict[str, Any]:
    """CPU-bound: hash the document over and over (holds the GIL)."""
    digest = text.encode()
    for _ in range(ROUNDS):
        digest = hashlib.sha256(digest).digest()
    return {"text": text, "fingerprint": digest.hex()[:12]}


async def store(record: dict[str, Any]) -> str:
    """I/O-bound: a slow service that refuses documents mentioning 'secret'."""
    await asyncio.sleep(0.02)
    if "secret" in record["text"]:
        raise PermissionError(f"refused to store {record['text']!r}")
    return f"{record['fingerprint']} {record['text']}"


async def main() -> None:
    logging.getLogger("ray").setLevel(logging.WARNING)
    documents = [f"report {n}" if n % 10 else f"secret plan {n}" for n in range(40)]
    failed: list[FailedItem] = []
    tracker = StatusTracker()
    pipeline = RayPipeline(
        [
            Stage("Fingerprint", workers=4, tasks=[fingerprint]),
            Stage(
                "Store",
                workers=8,
                tasks=[store],
                task_attempts=2,
                task_wait_seconds=0.05,
                on_failure=failed.append,  # callbacks run here, on the driver
            ),
        ],
        status_tracker=tracker,
        options={
            "Fingerprint": RayStageOptions(actors=2, num_cpus=1, sync_tasks="inline"),
            "Store": RayStageOptions(actors=1),
        },
        init_options={"include_dashboard": False, "logging_level": logging.WARNING},
    )
    results = await pipeline.run(documents)

    stats = pipeline.get_stats()
    counts = tracker.get_stats()
    refused = failed[0]
    print(f"{stats.items_fed} documents: {len(results)} stored, {len(failed)} refused")
    print(f"first: {results[0].value}")
    print(f"refused: {[f.id for f in failed]}")
    print(f"  {refused.error_type} after {refused.attempts} attempts: {refused.error_message}")
    print(f"retries at Store: {stats.stage_stats['Store'].retried_items}")
    print(f"tracker: {counts['completed']} completed, {counts['failed']} failed")
    actors = {name: option.actors for name, option in pipeline.stage_options.items()}
    print(f"actors per stage: {actors}")


if __name__ == "__main__":
    asyncio.run(main())
    ray.shutdown()
