"""A live dashboard by polling: a loop reads the pipeline's snapshot and redraws with rich.

This is "Strategy 2: Polling" of the guide. The pipeline runs untouched; a separate
task asks it for ``pipeline.get_dashboard_snapshot()`` a few times a second and
redraws a ``rich.live.Live`` region. The UI runs at its own pace whatever the item
rate, and costs the workers nothing between two polls.

The simulated job: batches go through Generate -> Upload -> Poll. Uploads are flaky
(retried), some batches are rejected for good, and polling publishes its progress with
``set_task_status()``, which shows in the worker table. The drawing reuses the bricks
of antflow-rich (``stage_table``, ``worker_table``) next to a hand-made per-stage view.

    python examples/rich_polling_dashboard.py [--items 60] [--seed 3]

In a terminal the dashboard redraws in place; piped or redirected, it prints the final
state once, with no escape codes, and the summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
from dataclasses import dataclass

from antflow import DashboardSnapshot, Pipeline, Stage, set_task_status
from antflow_rich import ProgressView, stage_table, summary_line, worker_table
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

POLL_EVERY = 0.1  # seconds between two reads of the snapshot


@dataclass(frozen=True)
class Batch:
    """A batch of requests on its way to a (simulated) batch API."""

    number: int
    requests: int


class BatchApi:
    """A simulated batch API: a few milliseconds per call, flaky uploads, rejected batches."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._upload_attempts: dict[int, int] = {}

    async def generate(self, number: int) -> Batch:
        """Build the batch file."""
        await asyncio.sleep(self._random.uniform(0.005, 0.02))
        return Batch(number, requests=10 + number % 40)

    async def upload(self, batch: Batch) -> Batch:
        """Upload it; every fifth batch times out on its first try, every 23rd is rejected."""
        attempt = self._upload_attempts[batch.number] = (
            self._upload_attempts.get(batch.number, 0) + 1
        )
        await asyncio.sleep(self._random.uniform(0.01, 0.03))
        if batch.number % 23 == 22:
            raise PermissionError(f"batch {batch.number}: quota exceeded")
        if batch.number % 5 == 1 and attempt == 1:
            raise TimeoutError(f"batch {batch.number}: upload timed out")
        return batch

    async def poll(self, batch: Batch) -> int:
        """Wait for the batch to complete, publishing progress as it goes."""
        steps = 3 + batch.number % 4
        for step in range(1, steps + 1):
            set_task_status(f"batch {batch.number}: {step}/{steps} chunks done")
            await asyncio.sleep(self._random.uniform(0.01, 0.03))
        return batch.requests


def stage_bars(snapshot: DashboardSnapshot, total: int) -> Table:
    """A hand-made view: one bar per stage, filled with the items that got past it."""
    table = Table.grid(padding=(0, 1))
    for name in snapshot.stage_names:
        stats = snapshot.stats.stage_stats[name]
        past = stats.completed_items + stats.failed_items + stats.skipped_items
        table.add_row(
            Text(f"{name:<8}", style="bold"),
            ProgressBar(total=max(total, 1), completed=min(past, total), width=30),
            Text(f"{past:>4}/{total}", style="cyan"),
            Text(f"{stats.in_progress_items} active", style="dim"),
        )
    return table


def render(snapshot: DashboardSnapshot, total: int) -> RenderableType:
    """The whole screen for one snapshot."""
    view = ProgressView.from_snapshot(snapshot, total)
    header = Text.assemble(
        ("Batch jobs ", "bold"),
        f"{view.done}/{total} done · {view.failed} rejected · ",
        f"{view.rate:.1f} batches/s · {snapshot.elapsed:.1f}s",
    )
    last_error = (
        Text(
            f"last error: {snapshot.error_summary.failed_items[-1].error}",
            style="red",
        )
        if snapshot.error_summary.failed_items
        else Text("no errors yet", style="green")
    )
    return Group(
        Panel(Group(header, stage_bars(snapshot, total), last_error), border_style="blue"),
        stage_table(snapshot),
        worker_table(snapshot, show_tasks=True),
    )


async def monitor_loop(pipeline: Pipeline, live: Live, total: int, done: asyncio.Event) -> None:
    """Poll the snapshot every POLL_EVERY seconds until ``done`` is set."""
    while not done.is_set():
        live.update(render(pipeline.get_dashboard_snapshot(), total), refresh=True)
        with contextlib.suppress(TimeoutError):  # woken early when the run ends
            await asyncio.wait_for(done.wait(), timeout=POLL_EVERY)


async def main(items: int, seed: int) -> int:
    """Run the batches with the dashboard; return the number of rejected batches."""
    api = BatchApi(seed)
    pipeline = Pipeline(
        stages=[
            Stage("Generate", workers=4, tasks=[api.generate]),
            Stage("Upload", workers=3, tasks=[api.upload], task_attempts=3, task_wait_seconds=0),
            Stage("Poll", workers=6, tasks=[api.poll]),
        ]
    )
    console = Console()
    # Not a terminal (a pipe, a file, CI): draw nothing while running, the final state once.
    interactive = console.is_interactive
    done = asyncio.Event()
    with Live(console=console, auto_refresh=False, transient=not interactive) as live:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(monitor_loop(pipeline, live, items, done))
            try:
                results = await pipeline.run(range(items))
            finally:
                done.set()
        final = pipeline.get_dashboard_snapshot()
        live.update(render(final, items))
    if not interactive:
        console.print(render(final, items))
    view = ProgressView.from_snapshot(final, items)
    print(summary_line(view, final.error_summary, "batches"))
    print(f"{sum(r.value for r in results)} requests answered")
    return view.failed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=60, help="number of batches")
    parser.add_argument("--seed", type=int, default=3, help="seed of the simulated API")
    args = parser.parse_args()
    asyncio.run(main(args.items, args.seed))
