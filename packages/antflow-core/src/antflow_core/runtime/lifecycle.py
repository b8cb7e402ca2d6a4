"""`Lifecycle`: a pipeline's start, join and shutdown, and the event loop it runs in.

Theory of operation
-------------------
The facade's ``start()``, ``join()`` and ``shutdown()`` are done here, over the rooms
the facade wired; the facade keeps their signatures and documentation and delegates.
What changes is the phase in `RunState` (new, running, stopping, idle, closed):

* `Lifecycle.start` follows the pipeline into the running event loop
  (`Lifecycle.enter_loop`: asyncio's events and semaphores belong to one loop, so a
  second ``asyncio.run`` gets new ones), starts the display first (one whose ``start()``
  raises leaves nothing running), then every runner's workers through the `Supervisor`.
  Starting a running pipeline only adds a display if it has none.
* `Lifecycle.join` says the input is closed (a batch stage then calls its last, partial
  batch), waits on `RunState.wait_idle` until every fed item has ended (event driven,
  nothing polls), and stops the workers. Meanwhile the phase is ``STOPPING`` so a
  ``feed()`` cannot hand an item to a worker that is being cancelled. A crash, a
  cancellation of the caller, or a shutdown from elsewhere turn into a shutdown and
  the matching error.
* `Lifecycle.abort` is the shutdown: it closes every queue and the stream channel,
  stops the stream's helpers and the workers (but not the task that called it, when
  that is one of them: that task is cancelled once the stop is recorded), lists what
  had not ended in ``unfinished_items``, and stops the display. ``closed`` is set once
  it is complete, so a second ``shutdown()`` waits for the first.

``join()`` calls back into the facade for the two steps a subclass (or a test) may
replace: ``shutdown()`` and ``_stop_workers()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from antflow_core.errors import PipelineStateError
from antflow_core.model import DashboardSnapshot, PipelinePlan, ProgressDisplay
from antflow_core.runtime.emission import Emitter
from antflow_core.runtime.intake import Intake
from antflow_core.runtime.monitoring import Monitor
from antflow_core.runtime.outcomes import Outcomes
from antflow_core.runtime.run_state import Phase, RunState
from antflow_core.runtime.stage_runner import StageInput, StageRunner
from antflow_core.runtime.supervisor import Supervisor
from antflow_core.runtime.workers import current_worker

__all__ = ["Lifecycle"]


class Lifecycle:
    """Starts, joins and shuts down the rooms of one pipeline.

    Args:
        plan: The compiled pipeline.
        queues: What is in front of each stage (a queue, or a pull stage's hand-over).
        runners: The stage runners, in order.
        run_state: The phase, the items in flight, a worker's crash.
        intake: Feeds items; knows the sequence id a run starts at.
        outcomes: Results, failures, unfinished items, the stream channel.
        emitter: Reads, at each start, whether the observer wants task events.
        monitor: Marks where each run starts.
        supervisor: Owns the workers, the threads, the display, a stream's helpers.
        snapshot: What the display shows (the facade's ``get_dashboard_snapshot``).
    """

    __slots__ = (
        "closed",
        "emitter",
        "intake",
        "loop",
        "monitor",
        "outcomes",
        "plan",
        "queues",
        "run_state",
        "runners",
        "snapshot",
        "supervisor",
    )

    def __init__(
        self,
        plan: PipelinePlan,
        queues: Sequence[StageInput],
        runners: Sequence[StageRunner],
        run_state: RunState,
        intake: Intake,
        outcomes: Outcomes,
        emitter: Emitter,
        monitor: Monitor,
        supervisor: Supervisor,
        snapshot: Callable[[], DashboardSnapshot],
    ) -> None:
        self.plan = plan
        self.queues = queues
        self.runners = runners
        self.run_state = run_state
        self.intake = intake
        self.outcomes = outcomes
        self.emitter = emitter
        self.monitor = monitor
        self.supervisor = supervisor
        self.snapshot = snapshot
        self.closed = asyncio.Event()  # set once shutdown has completed
        self.loop: asyncio.AbstractEventLoop | None = None  # the event loop it last ran in

    @property
    def is_closed(self) -> bool:
        """Whether ``shutdown()`` was called (read afresh: a phase may change across awaits)."""
        return self.run_state.phase is Phase.CLOSED

    # -------------------------------------------------------------------------- start

    @staticmethod
    def check_total(total: object) -> None:
        """Refuse a ``total`` that is not None or a number of items >= 0."""
        if total is not None and (
            not isinstance(total, int) or isinstance(total, bool) or total < 0
        ):
            raise ValueError(f"total must be None or a number of items >= 0, got {total!r}")

    def start(self, display: ProgressDisplay | None, total: int | None) -> None:
        """Start the workers (and ``display``); only add the display if already running."""
        run_state = self.run_state
        self.enter_loop()
        if run_state.phase is Phase.RUNNING:
            if display is not None and not self.supervisor.has_display:
                self.start_display(display, total)
            return
        run_state.crash = None
        run_state.input_closed = False  # items may be fed until join() (batch stages)
        run_state.drained = None
        self.emitter.read_task_observation()
        self.monitor.begin_run()
        if display is not None:
            # Before anything else starts: a display whose start() raises a BaseException
            # (an Exception is logged and the display dropped) leaves nothing running.
            self.start_display(display, total)
        self.supervisor.start_workers(self.runners)
        run_state.phase = Phase.RUNNING

    def enter_loop(self) -> None:
        """Follow the pipeline into the running event loop (a second ``asyncio.run``).

        asyncio's events and semaphores belong to the loop they first waited in, so a
        pipeline started in a new loop gets new ones; its queues are empty between runs.

        Raises:
            PipelineStateError: If it is running in another event loop right now.
        """
        loop = asyncio.get_running_loop()
        if self.loop is loop:
            return
        run_state = self.run_state
        if run_state.phase is Phase.RUNNING:
            raise PipelineStateError(
                "the pipeline is running in another event loop: join() it there first, or "
                "use another Pipeline"
            )
        if self.loop is not None:
            run_state.renew_idle()
            self.closed = asyncio.Event()
            for runner in self.runners:
                runner.renew_semaphores()
        self.loop = loop

    def start_display(self, display: ProgressDisplay, total: int | None) -> None:
        """Start refreshing ``display`` with the pipeline's snapshots."""
        self.supervisor.start_display(display, self.snapshot, total, self.plan.stage_names)

    # --------------------------------------------------------------------------- join

    async def join(
        self,
        shutdown: Callable[[], Awaitable[None]],
        stop_workers: Callable[[], Awaitable[None]],
    ) -> None:
        """Wait until every fed item has ended, then stop the workers (``stop_workers``).

        ``shutdown`` is called when the wait is cancelled, a worker crashed, or the
        pipeline was shut down meanwhile.
        """
        run_state = self.run_state
        self.intake.refuse_from_inside("join")
        if run_state.phase is not Phase.RUNNING:
            if run_state.in_flight and run_state.phase is not Phase.CLOSED:
                raise PipelineStateError(
                    f"join() before start(): {run_state.in_flight} fed items wait in the "
                    "queues and no worker runs to process them; call `await pipeline.start()` "
                    "first"
                )
            return
        run_state.close_input()  # nobody feeds any more: batches being collected may go
        try:
            await run_state.wait_idle()
        except BaseException:
            await shutdown()
            raise
        if run_state.crash is not None:
            await shutdown()
            run_state.raise_crash()
        if self.is_closed:  # (the property: mypy would narrow the phase across the await)
            await self.closed.wait()  # (a shutdown from inside: until its caller ended)
            raise PipelineStateError(
                "the pipeline was shut down while join() waited: the items that had not "
                "ended are in unfinished_items"
            )
        # Until the workers are gone feed() is refused: a stopping worker could take an
        # item and be cancelled with it. From IDLE on, fed items wait for the next start().
        run_state.phase = Phase.STOPPING
        self.intake.run_start_sequence = self.intake.msg_counter
        # This run's display, taken before waiting: a start() meanwhile brings its own.
        driver = self.supervisor.take_display()
        try:
            await stop_workers()
        finally:  # a cancellation meanwhile (the end of a stream loop) still stops it all
            if run_state.phase is Phase.STOPPING:  # (not started again or shut down meanwhile)
                run_state.phase = Phase.IDLE
            if driver is not None:
                await driver.stop()

    # ----------------------------------------------------------------------- shutdown

    async def shutdown(self) -> None:
        """Shut down (`abort`), or wait until the shutdown another caller began is done."""
        if self.run_state.phase is Phase.CLOSED:
            await self.closed.wait()  # another caller is closing it: wait until done
            return
        await self.abort()

    async def abort(self) -> None:
        """Close everything: queues, helpers, workers, display; record what had not ended.

        Called from code the pipeline runs (a task, a callback, ``skip_if``, a tracker's
        callback: a worker's task, or a stream's feeder), it cannot wait for the task
        running it: that task is stopped like the others, by a cancellation that takes
        effect at its next ``await`` once this returns, and ``closed`` is set when it has
        ended. Its item, if it has one, it ends or lists unfinished itself
        (`StageRunner.worker`).

        The stop completes even if the caller is cancelled meanwhile (a second Ctrl-C,
        an outer timeout): the cancellation is passed on to the tasks still stopping
        (`stop_tasks`) and raised once everything is recorded.
        """
        run_state, outcomes, supervisor = self.run_state, self.outcomes, self.supervisor
        caller = asyncio.current_task()
        spare = caller if supervisor.owns(caller) else None
        spared_record = current_worker.get() if spare is not None else None
        run_state.phase = Phase.CLOSED
        for queue in self.queues:
            queue.close()
        stream = outcomes.stop_stream()
        interrupted: asyncio.CancelledError | None = None
        try:
            await supervisor.cancel_helpers(spare)
        except asyncio.CancelledError as exc:
            interrupted = exc
        try:
            await supervisor.stop_workers(spare)
        except asyncio.CancelledError as exc:
            interrupted = exc
        outcomes.keep_unread(stream)  # results the stream had ready but nobody read
        for runner in self.runners:
            taken = runner.take_unfinished(spared_record)
            outcomes.unfinished.extend(taken)
            # A stopped worker counted out the item it held (`StageRunner.worker`); these
            # were waiting in queues or held in batches and fan-outs. An item the caller's
            # worker is still ending, that worker counts out itself.
            run_state.in_flight -= len(taken)
        run_state.parked = 0
        run_state.idle.set()
        try:
            await supervisor.stop_display()
        except asyncio.CancelledError as exc:
            interrupted = exc
        if spare is None:
            self.closed.set()
        else:
            spare.add_done_callback(lambda _: self.closed.set())
            spare.cancel()
        if interrupted is not None:
            raise interrupted
