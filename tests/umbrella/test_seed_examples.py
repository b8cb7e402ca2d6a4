"""Every code example of the two seed documents runs, as written, on ``pip install antflow``.

The seed documents (the Pipeline guide and the Pipeline API page) live outside this
repository, so each example is copied here verbatim, as ``code`` (only trailing spaces at
line ends were dropped). Around it, the smallest harness that runs it:

* ``before``: stand-ins for what the example uses but does not define (``fetch_task``,
  ``items``, ``stage``, a ``pipeline``...), defined first, at module level;
* top-level ``await``: an example that uses it (as in a notebook or the asyncio REPL) runs
  inside ``async def __example__()``, which the harness passes to ``asyncio.run``; ``setup``
  runs at the start of that function (``await pipeline.start()`` for an example that feeds);
* ``after``: harness code after the example, in the same scope. It runs what the example
  only builds (``asyncio.run(main())``, ``pipeline.run(items)``) and checks with ``assert``
  what the example did;
* ``replace``: the few placeholders that are not Python, each replaced by a stand-in and
  listed with the example (``stages=[...]``).

Each script runs in a subprocess of the session's fresh virtualenv, where the five
distributions were pip-installed from the workspace (``conftest.py``), so ``from antflow
import ...`` resolves exactly as for a user. The test checks the exit status and lines of
the output. The scripts run side by side: several examples wait a second between retries
(the guide's ``task_wait_seconds=1.0``) and the ETL example takes a few seconds.
"""

from __future__ import annotations

import re
import subprocess
import textwrap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

RunScript = Callable[[str, Path], subprocess.CompletedProcess[str]]  # the fixture's type

GUIDE = "Pipeline guide (004_51a16d37cc7cef71.txt)"
API_PAGE = "Pipeline API page (000_c2b940eef537dfb7.txt)"


@dataclass(frozen=True)
class SeedExample:
    id: str
    where: str  # document, section and lines of the seed
    code: str  # verbatim from the seed
    before: str = ""
    setup: str = ""
    after: str = ""
    top_level_await: bool = False
    replace: tuple[tuple[str, str], ...] = ()
    stdout: tuple[str, ...] = ()  # regexes, each must match a whole line of stdout
    stderr: tuple[str, ...] = ()  # regexes, each must be found in stderr
    driver: str = "_harness_asyncio.run(__example__())"

    def script(self) -> str:
        code = self.code
        for placeholder, stand_in in self.replace:
            assert placeholder in code, (self.id, placeholder)
            code = code.replace(placeholder, stand_in)
        before = textwrap.dedent(self.before).strip("\n")
        after = textwrap.dedent(self.after).strip("\n")
        if not self.top_level_await:
            return "\n\n".join(part for part in (before, code, after) if part) + "\n"
        body = "\n".join(
            part for part in (textwrap.dedent(self.setup).strip("\n"), code, after) if part
        )
        return (
            "import asyncio as _harness_asyncio\n\n"
            + (before + "\n\n" if before else "")
            + "async def __example__():\n"
            + textwrap.indent(body, "    ")
            + "\n\n"
            + textwrap.dedent(self.driver).strip("\n")
            + "\n"
        )


# Stand-in tasks shared by several examples: quick, and printing nothing.
TASKS = """
import asyncio

async def fetch_task(x):
    await asyncio.sleep(0.001)
    return f"data_{x}"

async def process_task(data):
    await asyncio.sleep(0)
    return data.upper()

fetch, process = fetch_task, process_task
items = list(range(20))
"""

# A pipeline for the examples that use one without building it.
PIPELINE = """
import asyncio
from antflow import Pipeline, Stage

async def double(x):
    await asyncio.sleep(0.001)
    return x * 2

pipeline = Pipeline(stages=[Stage("Double", workers=4, tasks=[double])])
items = list(range(20))
"""

EXAMPLES = [
    # ------------------------------------------------ Creating Pipelines (Three Approaches)
    SeedExample(
        "fluent-builder",
        f"{GUIDE}, 1. Fluent Builder API, lines 33-41",
        """\
from antflow import Pipeline

async def main():
    results = await (
        Pipeline.create()
        .add("Fetch", fetch_task, workers=10)
        .add("Process", process_task, workers=5)
        .run(items, progress=True)
    )
""",
        before=TASKS
        + """
finished = []
_process_task = process_task

async def process_task(data):
    finished.append(data)
    return await _process_task(data)
""",
        after="""
asyncio.run(main())
assert sorted(finished) == sorted(f"data_{i}" for i in range(20)), finished
print(f"processed {len(finished)} items")
""",
        stdout=(r"processed 20 items",),
        stderr=(r"20 items in .*20 succeeded, 0 failed",),
    ),
    SeedExample(
        "manual-stages",
        f"{GUIDE}, 2. Manual Stage Construction, lines 49-55",
        """\
from antflow import Pipeline, Stage

stage1 = Stage(name="Fetch", workers=10, tasks=[fetch_task])
stage2 = Stage(name="Process", workers=5, tasks=[process_task])

pipeline = Pipeline(stages=[stage1, stage2])
results = await pipeline.run(items)
""",
        before=TASKS,
        after="""
assert [r.value for r in results] == [f"DATA_{i}" for i in items]
print(results[0])
""",
        top_level_await=True,
        stdout=(r"PipelineResult\(id=0, value='DATA_0', sequence_id=0\)",),
    ),
    SeedExample(
        "quick",
        f"{GUIDE}, 3. Quick One-Liner API, lines 63-69",
        """\
from antflow import Pipeline

# Single task
results = await Pipeline.quick(items, process_task, workers=5, progress=True)

# Multiple tasks in one stage
results = await Pipeline.quick(items, [fetch, process], workers=10)
""",
        before="""
import asyncio

async def process_task(x):
    return x + 1

async def fetch(x):
    await asyncio.sleep(0.001)
    return f"data_{x}"

async def process(data):
    return data.upper()

items = list(range(20))
""",
        after="""
assert [r.value for r in results] == [f"DATA_{i}" for i in items]
print(len(results), "results")
""",
        top_level_await=True,
        stdout=(r"20 results",),
        stderr=(r"20 items in .*20 succeeded",),
    ),
    # ---------------------------------------------------- Stage Configuration Reference
    SeedExample(
        "openai-batch",
        f"{GUIDE}, Use Case: OpenAI Batch Processing, lines 121-145",
        """\
import asyncio
from antflow import Stage, Pipeline

async def upload_file(item):
    await asyncio.sleep(0.1)
    return f"uploaded_{item}"

async def poll_status(item):
    await asyncio.sleep(0.1)
    return "done"

async def main():
    stage = Stage(
        name="OpenAI_Batch_Job",
        workers=50,
        tasks=[upload_file, poll_status],
        task_concurrency_limits={
            "upload_file": 2  # Limits concurrent uploads to 2
        }
    )
    pipeline = Pipeline(stages=[stage])
    await pipeline.run(range(10), progress=True)

if __name__ == "__main__":
    asyncio.run(main())
""",
        stderr=(r"10 items in .*10 succeeded, 0 failed",),
    ),
    SeedExample(
        "option-a-two-stages",
        f"{GUIDE}, Option A: Two Stages, lines 155-157",
        """\
# ‚ö†Ô∏è WARNING: Contains unmonitored buffer items
stage_upload = Stage("Upload", workers=2, tasks=[upload])
stage_poll = Stage("Polling", workers=50, tasks=[poll], queue_capacity=1)
""",
        before="""
import asyncio
from antflow import Pipeline, Stage

async def upload(job):
    await asyncio.sleep(0.001)
    return f"batch-{job}"

async def poll(batch):
    await asyncio.sleep(0.01)
    return f"{batch} done"
""",
        after="""
pipeline = Pipeline(stages=[stage_upload, stage_poll])
results = asyncio.run(pipeline.run(range(60)))
assert len(results) == 60
assert pipeline._queues[1].maxsize == 1
print(results[-1].value)
""",
        stdout=(r"batch-59 done",),
    ),
    SeedExample(
        "option-b-task-limits",
        f"{GUIDE}, Option B: Single Stage + Task Limits, lines 171-177",
        """\
# üèÜ BEST PRACTICE: Zero unmonitored items
stage = Stage(
    "Combined",
    workers=50,
    tasks=[upload, poll],
    task_concurrency_limits={"upload": 2}
)
""",
        before="""
import asyncio
from antflow import Pipeline, Stage

uploading = most_uploading = 0

async def upload(job):
    global uploading, most_uploading
    uploading += 1
    most_uploading = max(most_uploading, uploading)
    await asyncio.sleep(0.001)
    uploading -= 1
    return f"batch-{job}"

async def poll(batch):
    await asyncio.sleep(0.01)
    return f"{batch} done"
""",
        after="""
results = asyncio.run(Pipeline(stages=[stage]).run(range(60)))
assert len(results) == 60
print("most uploads at once:", most_uploading)
""",
        stdout=(r"most uploads at once: 2",),
    ),
    SeedExample(
        "queue-capacity",
        f"{GUIDE}, Automatic Backpressure: Customizing Limits, lines 222-227",
        """\
stage = Stage(
    name="BufferStage",
    workers=2,
    queue_capacity=1000, # Large buffer
    tasks=[process]
)
""",
        before="""
import asyncio
from antflow import Pipeline, Stage

async def process(x):
    return x
""",
        after="""
pipeline = Pipeline(stages=[stage])
assert pipeline._queues[0].maxsize == 1000
assert len(asyncio.run(pipeline.run(range(50)))) == 50
print("capacity", stage.capacity)
""",
        stdout=(r"capacity 1000",),
    ),
    # -------------------------------------------------------------------- Basic Usage
    SeedExample(
        "simple-pipeline",
        f"{GUIDE}, Creating a Simple Pipeline, lines 235-249",
        """\
import asyncio
from antflow import Pipeline, Stage

async def fetch(x):
    await asyncio.sleep(0.1)
    return f"data_{x}"

async def main():
    stage = Stage(name="Fetch", workers=3, tasks=[fetch])
    pipeline = Pipeline(stages=[stage])
    results = await pipeline.run(range(10), progress=True)
    print(f"Results: {len(results)} items")

if __name__ == "__main__":
    asyncio.run(main())
""",
        stdout=(r"Results: 10 items",),
        stderr=(r"10 items in .*10 succeeded, 0 failed",),
    ),
    SeedExample(
        "interactive-execution",
        f"{GUIDE}, Interactive Execution, lines 257-273",
        """\
# Start background workers
await pipeline.start()

# Feed initial batch to first stage (default)
await pipeline.feed(batch_1)

# Do other work...

# Inject items directly into a specific stage (e.g., resuming from a checkpoint)
# This item will skip previous stages and start processing at 'ProcessStage'
await pipeline.feed(recovered_items, target_stage="ProcessStage")

# Wait for completion
await pipeline.join()

# Access results
print(pipeline.results)
""",
        before="""
import asyncio
from antflow import Pipeline, Stage

async def fetch(x):
    await asyncio.sleep(0.001)
    return f"fetched {x}"

async def process(text):
    return text.upper()

pipeline = Pipeline(
    stages=[
        Stage("FetchStage", workers=2, tasks=[fetch]),
        Stage("ProcessStage", workers=2, tasks=[process]),
    ]
)
batch_1 = ["a", "b"]
recovered_items = [{"id": "checkpoint-7", "value": "already fetched"}]
""",
        after="""
assert [(r.id, r.value) for r in pipeline.results] == [
    (0, "FETCHED A"), (1, "FETCHED B"), ("checkpoint-7", "ALREADY FETCHED")
]
""",
        top_level_await=True,
        stdout=(r"\[PipelineResult\(id=0, value='FETCHED A'.*id='checkpoint-7'.*\]",),
    ),
    SeedExample(
        "multiple-tasks",
        f"{GUIDE}, Multiple Tasks per Stage, lines 281-302",
        """\
import asyncio
from antflow import Pipeline, Stage

async def validate(x):
    if x < 0:
        raise ValueError("Negative value")
    return x

async def transform(x):
    return x * 2

async def format_output(x):
    return f"Result: {x}"

stage = Stage(
    name="ProcessStage",
    workers=3,
    tasks=[validate, transform, format_output]
)

pipeline = Pipeline(stages=[stage])
results = await pipeline.run(range(10))
""",
        after="""
assert [r.value for r in results] == [f"Result: {2 * x}" for x in range(10)]
print(results[-1].value)
""",
        top_level_await=True,
        stdout=(r"Result: 18",),
    ),
    # ---------------------------------------------------------------- Retry Strategies
    SeedExample(
        "per-task-retry",
        f"{GUIDE}, Per-Task Retry, lines 312-321",
        """\
from antflow import Stage

stage = Stage(
    name="FetchStage",
    workers=5,
    tasks=[fetch_from_api],
    retry="per_task",
    task_attempts=3,
    task_wait_seconds=1.0
)
""",
        before="""
import asyncio
from collections import Counter
from antflow import Pipeline

calls = Counter()

async def fetch_from_api(x):
    calls[x] += 1
    if x == 3 and calls[x] == 1:
        raise ConnectionError("flaky")
    return x
""",
        after="""
pipeline = Pipeline(stages=[stage])
results = asyncio.run(pipeline.run(range(5)))
assert [r.value for r in results] == [0, 1, 2, 3, 4]
assert calls[3] == 2 and pipeline.get_stats().stage_stats["FetchStage"].retried_items == 1
print("item 3 succeeded on attempt", calls[3])
""",
        stdout=(r"item 3 succeeded on attempt 2",),
    ),
    SeedExample(
        "per-stage-retry",
        f"{GUIDE}, Per-Stage Retry, lines 334-342",
        """\
from antflow import Stage

stage = Stage(
    name="TransactionStage",
    workers=2,
    tasks=[begin_transaction, update_db, commit],
    retry="per_stage",
    stage_attempts=3
)
""",
        before="""
import asyncio
from collections import Counter
from antflow import Pipeline

begun = Counter()

async def begin_transaction(x):
    begun[x] += 1
    return {"id": x, "attempt": begun[x]}

async def update_db(tx):
    return tx

async def commit(tx):
    if tx["id"] == 1 and tx["attempt"] == 1:
        raise RuntimeError("deadlock")
    return tx["id"]
""",
        after="""
results = asyncio.run(Pipeline(stages=[stage]).run(range(3)))
assert [r.value for r in results] == [0, 1, 2]
print("transactions begun for item 1:", begun[1])
""",
        stdout=(r"transactions begun for item 1: 2",),
    ),
    # ----------------------------------------------------------------- Status Tracking
    SeedExample(
        "basic-status-tracking",
        f"{GUIDE}, Basic Status Tracking, lines 368-384",
        """\
from antflow import Pipeline, Stage, StatusTracker

tracker = StatusTracker()

stage = Stage(
    name="ProcessStage",
    workers=3,
    tasks=[my_task]
)

pipeline = Pipeline(stages=[stage], status_tracker=tracker)
results = await pipeline.run(items)

# Query statistics
stats = tracker.get_stats()
print(f"Completed: {stats['completed']}")
print(f"Failed: {stats['failed']}")
""",
        before="""
async def my_task(x):
    if x in (4, 11):  # fail every attempt (3 calls, 1 s apart)
        raise ValueError(f"item {x} is broken")
    return x

items = list(range(15))
""",
        top_level_await=True,
        stdout=(r"Completed: 13", r"Failed: 2"),
    ),
    SeedExample(
        "real-time-event-monitoring",
        f"{GUIDE}, Real-Time Event Monitoring, lines 392-403",
        """\
from antflow import Pipeline, StatusTracker

async def on_status_change(event):
    print(f"{event.status.upper()}: Item {event.item_id} @ {event.stage}")

    if event.status == "failed":
        print(f"  Error: {event.metadata.get('error')}")
    elif event.status == "in_progress":
        print(f"  Worker: {event.worker}")

tracker = StatusTracker(on_status_change=on_status_change)
pipeline = Pipeline(stages=[stage], status_tracker=tracker)
""",
        before="""
import asyncio
from antflow import Stage

async def parse(x):
    if x == 2:
        raise ValueError("cannot parse item 2")
    return x

stage = Stage("Parse", workers=2, tasks=[parse], task_attempts=1)
""",
        after="""
asyncio.run(pipeline.run(range(4)))
""",
        stdout=(
            r"QUEUED: Item 0 @ Parse",
            r"IN_PROGRESS: Item 3 @ Parse",
            r"  Worker: Parse-W[01]",
            r"COMPLETED: Item 3 @ Parse",
            r"FAILED: Item 2 @ Parse",
            r"  Error: cannot parse item 2",
        ),
    ),
    SeedExample(
        "task-level-event-monitoring",
        # The seed's fence for this block is not closed before the next section; the code
        # ends at the StatusTracker(...) call (the nested block is the next example).
        f"{GUIDE}, Task-Level Event Monitoring, lines 411-426",
        """\
from antflow import StatusTracker, TaskEvent

async def on_task_retry(event: TaskEvent):
    print(f"‚ö†Ô∏è  Task {event.task_name} retry #{event.attempt}")
    print(f"   Item: {event.item_id}, Error: {event.error}")

async def on_task_fail(event: TaskEvent):
    print(f"‚ùå Task {event.task_name} FAILED after {event.attempt} attempts")

    if event.task_name == "save_to_database":
        await send_critical_alert(f"Database save failed for {event.item_id}")

tracker = StatusTracker(
    on_success=handle_success,
    on_failure=handle_failure
)
""",
        before="""
import asyncio
from antflow import Pipeline, Stage

alerts, succeeded, failed = [], [], []

async def send_critical_alert(message):
    alerts.append(message)

def handle_success(result):
    succeeded.append(result.id)

async def handle_failure(failed_item):
    failed.append(failed_item.id)

async def save_to_database(x):
    if x == 1:
        raise ConnectionError("database is read-only")
    return x
""",
        after="""
stage = Stage("Save", tasks=[save_to_database], task_attempts=2, task_wait_seconds=0)
asyncio.run(Pipeline(stages=[stage], status_tracker=tracker).run(range(3)))
assert (succeeded, failed) == ([0, 2], [1]), (succeeded, failed)

# The two task callbacks above, wired into a tracker of their own:
task_tracker = StatusTracker(on_task_retry=on_task_retry, on_task_fail=on_task_fail)
asyncio.run(Pipeline(stages=[stage], status_tracker=task_tracker).run(range(3)))
assert alerts == ["Database save failed for 1"], alerts
""",
        stdout=(
            r"‚ö†Ô∏è  Task save_to_database retry #1",
            r"   Item: 1, Error: database is read-only",
            r"‚ùå Task save_to_database FAILED after 2 attempts",
        ),
    ),
    SeedExample(
        "task-concurrency-limits",
        f"{GUIDE}, Task Concurrency Limits, lines 435-447",
        """\
stage = Stage(
    name="ETL",
    tasks=[extract, transform, validate, save],
    retry="per_task",
    task_attempts=3,
    # Limit specific tasks (e.g., API calls) to avoid rate limits
    task_concurrency_limits={
        "extract": 5,  # Max 5 concurrent extract calls
        "save": 20     # Max 20 concurrent save calls
    }
)

pipeline = Pipeline(stages=[stage], status_tracker=tracker)
""",
        before="""
import asyncio
from antflow import Pipeline, Stage, StatusTracker

async def extract(x):
    await asyncio.sleep(0.001)
    return {"id": x}

async def transform(record):
    return {**record, "double": record["id"] * 2}

async def validate(record):
    return record

async def save(record):
    return record["double"]

tracker = StatusTracker()
""",
        after="""
results = asyncio.run(pipeline.run(range(10)))
assert [r.value for r in results] == [2 * x for x in range(10)]
print("completed:", tracker.get_stats()["completed"])
""",
        stdout=(r"completed: 10",),
    ),
    SeedExample(
        "query-item-status",
        f"{GUIDE}, Query Item Status, lines 472-484",
        """\
# Get specific item status
status = tracker.get_status(item_id=42)
print(f"Item 42: {status.status} @ {status.stage}")

# Get all failed items
failed = tracker.get_by_status("failed")
for event in failed:
    print(f"Item {event.item_id}: {event.metadata['error']}")

# Get item history
history = tracker.get_history(item_id=42)
for event in history:
    print(f"{event.timestamp}: {event.status}")
""",
        before="""
import asyncio
from antflow import Pipeline, Stage, StatusTracker

async def work(x):
    if x == 7:
        raise KeyError("no record 7")
    return x

tracker = StatusTracker()
pipeline = Pipeline(
    stages=[Stage("Work", workers=4, tasks=[work], task_attempts=1)], status_tracker=tracker
)
asyncio.run(pipeline.run(range(50)))
""",
        stdout=(
            r"Item 42: completed @ Work",
            r"Item 7: 'no record 7'",
            r"\d+\.\d+: queued",
            r"\d+\.\d+: in_progress",
            r"\d+\.\d+: completed",
        ),
    ),
    # ------------------------------------------------------------- Order Preservation
    SeedExample(
        "order-preservation",
        f"{GUIDE}, Order Preservation, lines 504-508",
        """\
from antflow import Pipeline

pipeline = Pipeline(stages=[stage1, stage2])
results = await pipeline.run(items)
# Results maintain input order
""",
        before="""
import asyncio
import random
from antflow import Stage

async def jitter(x):
    await asyncio.sleep(random.uniform(0, 0.005))
    return x

stage1 = Stage("One", workers=8, tasks=[jitter])
stage2 = Stage("Two", workers=8, tasks=[jitter])
items = list(range(60))
""",
        after="""
assert [r.id for r in results] == items
print("in input order:", len(results))
""",
        top_level_await=True,
        stdout=(r"in input order: 60",),
    ),
    # ----------------------------------------------------------- Monitoring Strategies
    SeedExample(
        "strategy-1-callbacks",
        f"{GUIDE}, Strategy 1: Event-Driven (Callbacks), lines 527-533",
        """\
async def on_status_change(event):
    # React immediately to status changes
    print(f"Item {event.item_id} is now {event.status}")

tracker = StatusTracker(on_status_change=on_status_change)
pipeline = Pipeline(stages=[...], status_tracker=tracker)
await pipeline.run(items)
""",
        before="""
from antflow import Pipeline, Stage, StatusTracker

async def work(x):
    return x

stage = Stage("Work", tasks=[work])
items = [1, 2]
""",
        # `[...]` is the guide's placeholder for a list of stages.
        replace=(("stages=[...]", "stages=[stage]"),),
        top_level_await=True,
        stdout=(
            r"Item 0 is now queued",
            r"Item 0 is now in_progress",
            r"Item 1 is now completed",
        ),
    ),
    SeedExample(
        "strategy-2-polling",
        # The guide's monitor loop never ends (`while True` inside the TaskGroup): the
        # harness cancels the example once `pipeline.run(items)` has returned.
        f"{GUIDE}, Strategy 2: Polling (Loop), lines 546-555",
        """\
async def monitor_loop(pipeline):
    while True:
        # Poll current state every second
        stats = pipeline.get_stats()
        print(f"Processed: {stats.items_processed}, In-Flight: {stats.items_in_flight}")
        await asyncio.sleep(1.0)

async with asyncio.TaskGroup() as tg:
    tg.create_task(monitor_loop(pipeline))
    await pipeline.run(items)
""",
        before="""
import asyncio
from antflow import Pipeline, Stage

run_returned = asyncio.Event()

class HarnessPipeline(Pipeline):
    async def run(self, *args, **kwargs):
        try:
            return await super().run(*args, **kwargs)
        finally:
            run_returned.set()

async def work(x):
    await asyncio.sleep(0.001)
    return x

pipeline = HarnessPipeline(stages=[Stage("Work", workers=4, tasks=[work])])
items = list(range(40))
""",
        top_level_await=True,
        driver="""
async def drive():
    example = asyncio.create_task(__example__())
    await run_returned.wait()
    example.cancel()
    try:
        await example
    except asyncio.CancelledError:
        pass
    stats = pipeline.get_stats()
    assert (stats.items_processed, stats.items_in_flight) == (40, 0)
    print("harness: cancelled the monitor after the run")

asyncio.run(drive())
""",
        stdout=(
            r"Processed: \d+, In-Flight: \d+",
            r"harness: cancelled the monitor after the run",
        ),
    ),
    SeedExample(
        "strategy-3-get-stats",
        f"{GUIDE}, Strategy 3: Programmatic Monitoring (get_stats), lines 563-573",
        """\
stats = pipeline.get_stats()

print(f"Total processed: {stats.items_processed}")
print(f"Total failed: {stats.items_failed}")

# Access per-stage metrics
for stage_name, stage_stat in stats.stage_stats.items():
    print(f"Stage {stage_name}:")
    print(f"  Completed: {stage_stat.completed_items}")
    print(f"  Failed: {stage_stat.failed_items}")
    print(f"  In progress: {stage_stat.in_progress_items}")
""",
        before="""
import asyncio
from antflow import Pipeline, Stage

async def fetch(x):
    if x % 5 == 0:
        raise TimeoutError("slow server")
    return x

async def save(x):
    return x

pipeline = Pipeline(
    stages=[
        Stage("Fetch", workers=3, tasks=[fetch], task_attempts=1),
        Stage("Save", workers=2, tasks=[save]),
    ]
)
asyncio.run(pipeline.run(range(20)))
""",
        stdout=(
            r"Total processed: 16",
            r"Total failed: 4",
            r"Stage Fetch:",
            r"  Completed: 16",
            r"  Failed: 4",
            r"Stage Save:",
            r"  In progress: 0",
        ),
    ),
    # ---------------------------------------------------------------- Feeding Data
    SeedExample(
        "synchronous-iterable",
        f"{GUIDE}, Feeding Data: Synchronous Iterable, lines 581-582",
        """\
items = list(range(100))
results = await pipeline.run(items)
""",
        before=PIPELINE,
        after="""
assert [r.value for r in results] == [2 * x for x in range(100)]
print(len(results), "results")
""",
        top_level_await=True,
        stdout=(r"100 results",),
    ),
    SeedExample(
        "async-iterable",
        f"{GUIDE}, Feeding Data: Async Iterable, lines 588-595",
        """\
import asyncio

async def data_generator():
    for i in range(100):
        await asyncio.sleep(0.01)
        yield i

await pipeline.feed_async(data_generator())
""",
        before=PIPELINE,
        setup="await pipeline.start()",
        after="""
await pipeline.join()
assert [r.value for r in pipeline.results] == [2 * x for x in range(100)]
print(len(pipeline.results), "results")
""",
        top_level_await=True,
        stdout=(r"100 results",),
    ),
    SeedExample(
        "streaming-results",
        f"{GUIDE}, Streaming Results, lines 603-605",
        """\
async for result in pipeline.stream(range(100)):
    print(f"Processing result for item {result.id}: {result.value}")
    # Process result immediately, freeing memory
""",
        before=PIPELINE,
        after="""
assert pipeline.get_stats().items_processed == 100
assert pipeline.results == []  # streamed results are not kept
""",
        top_level_await=True,
        stdout=(r"Processing result for item 0: 0", r"Processing result for item 99: 198"),
    ),
    SeedExample(
        "dict-input",
        f"{GUIDE}, Dict Input, lines 615-619",
        """\
items = [
    {"id": "user_1", "value": {"name": "Alice"}},
    {"id": "user_2", "value": {"name": "Bob"}},
]
results = await pipeline.run(items)
""",
        before="""
from antflow import Pipeline, Stage

async def greet(user):
    return f"Hello {user['name']}"

pipeline = Pipeline(stages=[Stage("Greet", tasks=[greet])])
""",
        after="""
for result in results:
    print(result.id, result.value)
""",
        top_level_await=True,
        stdout=(r"user_1 Hello Alice", r"user_2 Hello Bob"),
    ),
    SeedExample(
        "context-manager",
        f"{GUIDE}, Context Manager, lines 627-631",
        """\
from antflow import Pipeline

async with Pipeline(stages=[stage1, stage2]) as pipeline:
    results = await pipeline.run(items)
# Pipeline is automatically shut down
""",
        before="""
from antflow import Stage

async def add_one(x):
    return x + 1

stage1 = Stage("One", tasks=[add_one])
stage2 = Stage("Two", tasks=[add_one])
items = [1, 2, 3]
""",
        after="""
assert [r.value for r in results] == [3, 4, 5]
assert pipeline.is_closed
print("shut down:", pipeline.is_closed)
""",
        top_level_await=True,
        stdout=(r"shut down: True",),
    ),
    # --------------------------------------------------------------- Error Handling
    SeedExample(
        "tracking-failures",
        f"{GUIDE}, Error Handling: Tracking Failures with StatusTracker, lines 639-662",
        """\
from antflow import Pipeline, Stage, StatusTracker

tracker = StatusTracker()

stage = Stage(
    name="RiskyStage",
    workers=3,
    tasks=[risky_task],
    retry="per_task",
    task_attempts=3
)

pipeline = Pipeline(stages=[stage], status_tracker=tracker)
results = await pipeline.run(items)

# Get statistics
stats = tracker.get_stats()
print(f"Succeeded: {stats['completed']}")
print(f"Failed: {stats['failed']}")

# Get failed items
failed_items = tracker.get_by_status("failed")
for event in failed_items:
    print(f"Item {event.item_id}: {event.metadata['error']}")
""",
        before="""
async def risky_task(x):
    if x == 6:  # fails every attempt: 3 calls, 1 s apart
        raise ConnectionError("upstream refused item 6")
    return x

items = list(range(10))
""",
        top_level_await=True,
        stdout=(r"Succeeded: 9", r"Failed: 1", r"Item 6: upstream refused item 6"),
    ),
    SeedExample(
        "extracting-error-information",
        f"{GUIDE}, Error Handling: Extracting Error Information, lines 670-677",
        """\
from antflow import StatusTracker

async def on_status_change(event):
    if event.status == "failed":
        error = event.metadata.get('error')
        print(f"Item {event.item_id} failed: {error}")

tracker = StatusTracker(on_status_change=on_status_change)
""",
        before="""
import asyncio
from antflow import Pipeline, Stage

async def parse(x):
    if x == 3:
        raise ValueError("unexpected end of file")
    return x
""",
        after="""
stage = Stage("Parse", tasks=[parse], task_attempts=1)
asyncio.run(Pipeline(stages=[stage], status_tracker=tracker).run(range(5)))
""",
        stdout=(r"Item 3 failed: unexpected end of file",),
    ),
    SeedExample(
        "worker-level-tracking",
        f"{GUIDE}, Worker-Level Tracking, lines 685-696",
        """\
from antflow import Pipeline, StatusTracker

async def on_status_change(event):
    if event.status == "in_progress":
        print(f"Worker {event.worker_id}: processing {event.item_id}")
    elif event.status == "completed":
        print(f"Worker {event.worker_id}: completed {event.item_id}")

tracker = StatusTracker(on_status_change=on_status_change)
pipeline = Pipeline(stages=[stage], status_tracker=tracker)

worker_names = pipeline.get_worker_names()
""",
        before="""
import asyncio
from antflow import Stage

async def work(x):
    await asyncio.sleep(0.001)
    return x

stage = Stage("Work", workers=3, tasks=[work])
""",
        after="""
print(worker_names)
asyncio.run(pipeline.run(range(6)))
""",
        stdout=(
            r"\{'Work': \['Work-W0', 'Work-W1', 'Work-W2'\]\}",
            r"Worker [0-2]: processing 5",
            r"Worker [0-2]: completed 5",
        ),
    ),
    # --------------------------------------------------------------- Priority Queues
    SeedExample(
        "priority-queues",
        f"{GUIDE}, Priority Queues, lines 716-723",
        """\
# Expedited items (Priority 10)
await pipeline.feed(vip_items, priority=10)

# Normal items (Priority 100)
await pipeline.feed(regular_items)

# Background/Low priority (Priority 500)
await pipeline.feed(maintenance_items, priority=500)
""",
        before="""
import asyncio
from antflow import Pipeline, Stage

served = []
busy, release = asyncio.Event(), asyncio.Event()

async def serve(x):
    if x == "hold":
        busy.set()
        await release.wait()
    served.append(x)
    return x

pipeline = Pipeline(stages=[Stage("Desk", workers=1, tasks=[serve])])
vip_items, regular_items, maintenance_items = ["vip"], ["regular"], ["maintenance"]
""",
        # The single worker holds an item while the example feeds, so the three feeds
        # wait in the queue together and are served by priority.
        setup="""
await pipeline.start()
await pipeline.feed(["hold"])
await busy.wait()
""",
        after="""
release.set()
await pipeline.join()
print(served)
""",
        top_level_await=True,
        stdout=(r"\['hold', 'vip', 'regular', 'maintenance'\]",),
    ),
    # ------------------------------------------------------------- Complete ETL Example
    SeedExample(
        "complete-etl",
        f"{GUIDE}, Complete ETL Example, lines 729-804",
        """\
import asyncio
from antflow import Pipeline, Stage

class ETLProcessor:
    async def extract(self, item_id):
        # Fetch from API/database
        await asyncio.sleep(0.1)
        return {"id": item_id, "data": f"raw_{item_id}"}

    async def validate(self, data):
        # Validate data
        if "data" not in data:
            raise ValueError("Invalid data")
        return data

    async def transform(self, data):
        # Transform data
        data["processed"] = data["data"].upper()
        return data

    async def enrich(self, data):
        # Enrich with additional data
        data["metadata"] = {"timestamp": "2025-10-09"}
        return data

    async def load(self, data):
        # Save to database
        await asyncio.sleep(0.1)
        data["saved"] = True
        return data

async def main():
    processor = ETLProcessor()

    # Extract stage with high concurrency
    extract_stage = Stage(
        name="Extract",
        workers=10,
        tasks=[processor.extract],
        retry="per_task",
        task_attempts=5,
        task_wait_seconds=2.0
    )

    # Transform stage with validation
    transform_stage = Stage(
        name="Transform",
        workers=5,
        tasks=[processor.validate, processor.transform, processor.enrich],
        retry="per_stage",  # Transactional
        stage_attempts=3
    )

    # Load stage with retries
    load_stage = Stage(
        name="Load",
        workers=3,
        tasks=[processor.load],
        retry="per_task",
        task_attempts=5,
        task_wait_seconds=3.0
    )

    # Build pipeline
    pipeline = Pipeline(
        stages=[extract_stage, transform_stage, load_stage]
    )

    # Process items
    item_ids = range(100)
    results = await pipeline.run(item_ids)

    print(f"Processed {len(results)} items")
    print(f"Stats: {pipeline.get_stats()}")

asyncio.run(main())
""",
        stdout=(
            r"Processed 100 items",
            r"Stats: PipelineStats\(items_processed=100, items_failed=0, items_in_flight=0, .*",
        ),
    ),
    # --------------------------------------------------------------- Advanced Internals
    SeedExample(
        "internal-queue-entry",
        # The guide shows the entry as a bare tuple expression; the harness binds its
        # names from an entry taken out of `pipeline._queues[0]` (which only works if the
        # entry has this shape), then evaluates the guide's line.
        f"{GUIDE}, Internal Queue Structure (_queues), line 847",
        """\
    (priority, sequence_id, (payload, attempt))
""",
        before="""
import asyncio
from antflow import Pipeline, Stage

busy, release = asyncio.Event(), asyncio.Event()

async def hold(x):
    busy.set()
    await release.wait()
    return x

pipeline = Pipeline(stages=[Stage("Hold", workers=1, tasks=[hold])])
""",
        setup="""
await pipeline.start()
await pipeline.feed(["first"])
await busy.wait()
await pipeline.feed(["second"], priority=7)
entry = pipeline._queues[0].get_nowait()
priority, sequence_id, (payload, attempt) = entry
documented = (
""",
        after="""
)
assert documented == entry
assert (priority, sequence_id, attempt) == (7, 1, 1)
assert payload.to_dict() == {"id": 1, "value": "second", "_sequence_id": 1}
print("entry:", priority, sequence_id, payload.to_dict(), attempt)
pipeline._queues[0].put_nowait(entry)
release.set()
await pipeline.join()
assert [r.value for r in pipeline.results] == ["first", "second"]
""",
        top_level_await=True,
        stdout=(r"entry: 7 1 \{'id': 1, 'value': 'second', '_sequence_id': 1\} 1",),
    ),
    SeedExample(
        "internal-payload-format",
        # A dict display of the field types; the harness keeps it and compares its keys
        # with the dict form of a real payload.
        f"{GUIDE}, Payload Structure (_prepare_payload), lines 860-864",
        """\
{
    "id": Any,          # Unique identifier (extracted from dict or generated)
    "value": Any,       # The actual data being processed
    "_sequence_id": int # Global sequence ID for result ordering
}
""",
        before="""
from typing import Any
from antflow import Pipeline, Stage

async def echo(x):
    return x

pipeline = Pipeline(stages=[Stage("Echo", tasks=[echo])])
documented = (
""",
        after="""
)
prepared = pipeline._prepare_payload({"id": "a", "value": 1}).to_dict()
assert prepared == {"id": "a", "value": 1, "_sequence_id": 0}
assert list(prepared) == list(documented)
print("payload keys:", list(documented))
""",
        stdout=(r"payload keys: \['id', 'value', '_sequence_id'\]",),
    ),
    SeedExample(
        "custom-prepare-payload",
        f"{GUIDE}, Example Override, lines 878-887",
        """\
class CustomPipeline(Pipeline):
    def _prepare_payload(self, item):
        # Custom logic: use 'uuid' field as ID if present
        if isinstance(item, dict) and 'uuid' in item:
            return {
                "id": item['uuid'],
                "value": item,
                "_sequence_id": self._msg_counter
            }
        return super()._prepare_payload(item)
""",
        before="""
import asyncio
from antflow import Pipeline, Stage

async def name_of(item):
    return item["name"] if isinstance(item, dict) else item
""",
        after="""
pipeline = CustomPipeline(stages=[Stage("Name", tasks=[name_of])])
results = asyncio.run(pipeline.run([{"uuid": "7f3e", "name": "Ada"}, "plain"]))
print([(r.id, r.value) for r in results])
""",
        stdout=(r"\[\('7f3e', 'Ada'\), \(1, 'plain'\)\]",),
    ),
    # ------------------------------------------------------------------- the API page
    SeedExample(
        "api-usage-example",
        f"{API_PAGE}, Usage Example, lines 17-38",
        """\
import asyncio
from antflow import Pipeline, Stage

async def fetch_data(url):
    # ... fetch logic ...
    return data

async def process_data(data):
    # ... process logic ...
    return result

async def main():
    # Define stages
    stage1 = Stage(name="Fetch", workers=5, tasks=[fetch_data])
    stage2 = Stage(name="Process", workers=2, tasks=[process_data])

    # Create pipeline
    pipeline = Pipeline(stages=[stage1, stage2])

    # Run
    urls = ["http://example.com/1", "http://example.com/2"]
    results = await pipeline.run(urls)
""",
        # `data` and `result` stand for what the elided logic computes.
        before="""
data = "<html>...</html>"
result = {"title": "Example"}
""",
        after="""
asyncio.run(main())
print("main() finished")
""",
        stdout=(r"main\(\) finished",),
    ),
]


@pytest.fixture(scope="module")
def example_runs(
    request: pytest.FixtureRequest,
    run_in_umbrella: RunScript,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run the selected examples side by side in the umbrella virtualenv, once."""
    wanted = [
        example
        for example in EXAMPLES
        if any(
            isinstance(item, pytest.Function)
            and item.originalname == "test_seed_example_runs_as_written"
            and item.callspec.params["example"] is example
            for item in request.session.items
            if hasattr(item, "callspec")
        )
    ]

    def run(example: SeedExample) -> subprocess.CompletedProcess[str]:
        return run_in_umbrella(example.script(), tmp_path_factory.mktemp(example.id))

    with ThreadPoolExecutor(max_workers=6) as pool:
        return {e.id: done for e, done in zip(wanted, pool.map(run, wanted), strict=True)}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_seed_example_runs_as_written(
    example: SeedExample, example_runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    run = example_runs[example.id]
    assert run.returncode == 0, f"{example.where}\n--- script\n{example.script()}\n{run.stderr}"
    lines = run.stdout.splitlines()
    for pattern in example.stdout:
        assert any(re.fullmatch(pattern, line) for line in lines), (pattern, run.stdout)
    for pattern in example.stderr:
        assert re.search(pattern, run.stderr), (pattern, run.stderr)


def test_the_examples_cover_both_seed_documents() -> None:
    ids = [e.id for e in EXAMPLES]
    assert len(ids) == len(set(ids))
    assert sum(e.where.startswith(GUIDE) for e in EXAMPLES) == 34
    assert sum(e.where.startswith(API_PAGE) for e in EXAMPLES) == 1
    for example in EXAMPLES:
        assert "from antflow_" not in example.code, example.id  # only `from antflow import`
