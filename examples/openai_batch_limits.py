"""Task concurrency limits: 50 batch jobs in flight, but never more than 2 uploads at once.

A simulated batch API (think of OpenAI's Batch API) has two limits: at most 2 file
uploads at the same time, and at most 50 active jobs. Each job is uploaded, then polled
until it is done. The guide compares two designs; this script runs both and measures:

* **two stages**: ``Upload`` (2 workers) then ``Poll`` (50 workers, ``queue_capacity=1``).
  Jobs that were uploaded but wait for a poller (in the queue, or held by an upload
  worker blocked on the full queue) are active at the API but watched by nobody.
* **one stage with a task limit**: 50 workers each run ``upload`` then ``poll``, and
  ``task_concurrency_limits={"upload": 2}`` throttles only the upload. A worker polls
  the job it has just uploaded, so no job is ever left unwatched.

    python examples/openai_batch_limits.py
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from antflow import Pipeline, Stage

JOBS = 70
UPLOAD_SECONDS = 0.002
POLL_SECONDS = 0.3  # much longer than 25 upload rounds: every poller gets busy


@dataclass
class BatchApi:
    """A fake batch API that records how it is used."""

    uploading: int = 0
    active: int = 0  # uploaded and not finished yet
    polled: int = 0  # active jobs a worker is polling right now
    max_uploading: int = 0
    max_active: int = 0
    max_unwatched: int = 0  # active jobs nobody polls, seen when a new upload finishes
    finished: list[str] = field(default_factory=list)

    async def upload(self, job: int) -> str:
        """Upload the job's input file and start the job; return its id."""
        self.uploading += 1
        self.max_uploading = max(self.max_uploading, self.uploading)
        await asyncio.sleep(UPLOAD_SECONDS)
        self.uploading -= 1
        self.max_unwatched = max(self.max_unwatched, self.active - self.polled)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        return f"batch-{job:03d}"

    async def poll(self, batch_id: str) -> str:
        """Wait until the job is done; return where its output is."""
        self.polled += 1
        await asyncio.sleep(POLL_SECONDS)
        self.polled -= 1
        self.active -= 1
        self.finished.append(batch_id)
        return f"{batch_id}.jsonl"


async def two_stages(api: BatchApi) -> int:
    pipeline = Pipeline(
        stages=[
            Stage("Upload", workers=2, tasks=[api.upload]),
            Stage("Poll", workers=50, tasks=[api.poll], queue_capacity=1),
        ]
    )
    return len(await pipeline.run(range(JOBS)))


async def one_stage_with_limit(api: BatchApi) -> int:
    pipeline = Pipeline(
        stages=[
            Stage(
                "BatchJob",
                workers=50,
                tasks=[api.upload, api.poll],
                task_concurrency_limits={"upload": 2},
            )
        ]
    )
    return len(await pipeline.run(range(JOBS)))


def report(title: str, api: BatchApi, done: int) -> None:
    print(f"{title}: {done}/{JOBS} jobs done")
    print(f"  most uploads at once:           {api.max_uploading}")
    print(f"  most active jobs at the API:    {api.max_active}")
    print(f"  most active jobs nobody polled: {api.max_unwatched}")


async def main() -> None:
    split = BatchApi()
    report("two stages (Upload -> Poll)", split, await two_stages(split))
    combined = BatchApi()
    report("one stage, upload limited to 2", combined, await one_stage_with_limit(combined))


if __name__ == "__main__":
    asyncio.run(main())
