"""Batch jobs through a pull stage: at most 50 jobs in flight, nothing prepared ahead of time.

A batch API (OpenAI's, say) takes a job, runs it for a while, and lets you download the
output. It allows 50 active jobs at once. The pipeline:

    Prepare (4 workers)  ->  Batch (pull, 50 workers: submit, poll)  ->  Download (4 workers)

`Batch` is a pull stage: it has no queue, so an input file prepared by `Prepare` is
handed to a `Batch` worker only when one is free, and the `Prepare` worker waits with it
until then. So at most 50 jobs run at the service, every one of them watched by a worker,
and `Prepare` never runs ahead: no prepared file waits in a queue (where a signed upload
URL or an access token in it could expire). The same pipeline with a queue in front of
`Batch` is run too, for comparison: its jobs are as many, but hundreds of prepared files
pile up in front of it.

    python examples/batch_jobs.py
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from antflow import Pipeline, Stage

JOBS = 200
ACTIVE_JOBS = 50  # the service's limit


@dataclass
class BatchService:
    """A simulated batch API that counts what it sees."""

    active: int = 0
    most_active: int = 0
    jobs: dict[str, int] = field(default_factory=dict)  # job id -> polls left
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    async def submit(self, input_file: str) -> str:
        """Start a job on ``input_file``; refuse it past the active-job limit."""
        await asyncio.sleep(0.001)
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        if self.active > ACTIVE_JOBS:
            raise RuntimeError(f"429: more than {ACTIVE_JOBS} active jobs")
        job_id = f"job-{input_file}"
        self.jobs[job_id] = self.rng.randint(2, 6)
        return job_id

    async def status(self, job_id: str) -> str:
        """Poll a job: "in_progress" until it is done, then "completed"."""
        await asyncio.sleep(0.01)
        self.jobs[job_id] -= 1
        if self.jobs[job_id] > 0:
            return "in_progress"
        self.active -= 1
        return "completed"


async def run(pull: bool) -> str:
    service = BatchService()
    waiting_most = 0
    pipeline: Pipeline

    async def prepare(record: int) -> str:
        await asyncio.sleep(0.001)  # write the input file
        return f"input-{record}.jsonl"

    async def submit(input_file: str) -> str:
        nonlocal waiting_most
        # prepared files waiting in a queue in front of Batch, right now
        waiting = pipeline.get_stats().stage_stats["Batch"].pending_items
        waiting_most = max(waiting_most, waiting)
        return await service.submit(input_file)

    async def poll(job_id: str) -> str:
        while await service.status(job_id) != "completed":
            pass  # (a real poll sleeps between checks)
        return job_id

    async def download(job_id: str) -> str:
        await asyncio.sleep(0.001)
        return f"{job_id}.out"

    batch_options = {"pull": True} if pull else {"queue_capacity": 0}
    pipeline = Pipeline(
        stages=[
            Stage("Prepare", workers=4, tasks=[prepare]),
            Stage("Batch", workers=ACTIVE_JOBS, tasks=[submit, poll], **batch_options),
            Stage("Download", workers=4, tasks=[download]),
        ]
    )
    results = await pipeline.run(range(JOBS))
    label = "pull stage  " if pull else "queued stage"
    return (
        f"{label}: {len(results)}/{JOBS} downloaded, "
        f"most jobs in flight: {service.most_active}, "
        f"most prepared files waiting in front of Batch: {waiting_most}"
    )


async def main() -> None:
    print(await run(pull=True))
    print(await run(pull=False))


if __name__ == "__main__":
    asyncio.run(main())
