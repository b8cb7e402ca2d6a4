"""`Supervisor`: owns every task and thread the pipeline starts, and stops them.

Theory of operation
-------------------
Structured concurrency (rule 7 of the design) has one owner here. A pipeline starts:

* one task per worker of every stage (`StageRunner.start_workers`), named
  ``antflow:<worker name>``;
* `TaskThreads` when a stage has plain-function tasks: every call gets a thread at once
  (so a stage of 50 workers runs 50 calls at once, and calls abandoned by a timeout
  never starve the stage);
* the display refresher (`DisplayDriver`) when a display is asked for;
* while ``stream()`` runs, its feeder and its closer.

The supervisor keeps a handle on each, and ``join()``, ``shutdown()`` or the method that
started them stops them through it: tasks are cancelled and awaited, the threads are
closed without waiting for a call that is still running in one (a thread cannot be
stopped; a timed-out call finishes on its own, and does not keep the process alive at
exit). After ``join()``, ``shutdown()`` or an ``async with`` block nothing the pipeline
started is left running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from antflow_core.model import DashboardSnapshot, ProgressDisplay
from antflow_core.runtime.display import DisplayDriver
from antflow_core.runtime.stage_runner import StageRunner
from antflow_core.runtime.stopping import stop_tasks
from antflow_core.runtime.threads import TaskThreads

__all__ = ["Supervisor"]


class Supervisor:
    """The tasks (workers, display, stream helpers) and the threads of one pipeline."""

    __slots__ = ("driver", "executor", "helpers", "workers")

    def __init__(self) -> None:
        self.workers: list[asyncio.Task[None]] = []
        self.helpers: list[asyncio.Task[Any]] = []  # a stream's feeder and closer
        self.driver: DisplayDriver | None = None
        self.executor: TaskThreads | None = None  # runs the plain-function tasks

    def start_workers(self, runners: Sequence[StageRunner]) -> None:
        """Start every stage's workers (and their threads, if a stage needs some)."""
        if any(r.calls_plain_functions for r in runners):
            self.executor = TaskThreads()
            for runner in runners:
                runner.use_executor(self.executor)
        loop = asyncio.get_running_loop()
        for runner in runners:
            self.workers.extend(runner.start_workers(loop))

    def owns(self, task: asyncio.Task[Any] | None) -> bool:
        """Whether ``task`` is one the pipeline started (a worker or a stream helper)."""
        return task is not None and (task in self.workers or task in self.helpers)

    async def stop_workers(self, spare: asyncio.Task[Any] | None = None) -> None:
        """Cancel and await every worker but ``spare`` (the caller, if one); close the threads."""
        # Take this run's workers and threads before waiting: a start() while we wait
        # gives the next run its own.
        workers, self.workers = self.workers, []
        executor, self.executor = self.executor, None
        try:
            # even if cancelled meanwhile: see stopping.py
            await stop_tasks([task for task in workers if task is not spare])
        finally:
            if executor is not None:
                # Threads still running a task (a timed-out call) finish on their own.
                executor.close()

    @property
    def has_display(self) -> bool:
        """Whether a display is being refreshed."""
        return self.driver is not None

    def start_display(
        self,
        display: ProgressDisplay,
        snapshot: Callable[[], DashboardSnapshot],
        total: int | None,
        stage_names: Sequence[str],
    ) -> None:
        """Start refreshing ``display`` with ``snapshot()`` at its interval."""
        driver = DisplayDriver(display, snapshot, total, stage_names)
        driver.start()
        self.driver = driver  # only once it started: one whose start() raised is not kept

    def take_display(self) -> DisplayDriver | None:
        """Take the display of the run that ends; a ``start()`` meanwhile brings its own."""
        driver, self.driver = self.driver, None
        return driver

    async def stop_display(self) -> None:
        """Stop refreshing the display and let it show the final snapshot."""
        driver, self.driver = self.driver, None
        if driver is not None:
            await driver.stop()

    def adopt(self, *helpers: asyncio.Task[Any]) -> None:
        """Own ``helpers`` (a stream's feeder and closer) until they are released or cancelled."""
        self.helpers = list(helpers)

    def release_helpers(self) -> None:
        """The helpers ended on their own (their owner awaited them): forget them."""
        self.helpers = []

    async def cancel_helpers(self, spare: asyncio.Task[Any] | None = None) -> None:
        """Cancel and await the helpers but ``spare`` (the caller, if it is one)."""
        helpers, self.helpers = self.helpers, []
        await stop_tasks([task for task in helpers if task is not spare])
