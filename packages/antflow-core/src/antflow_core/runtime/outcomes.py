"""`Outcomes`: how items end, and where their ends go.

Theory of operation
-------------------
Every item fed ends exactly once: as a `PipelineResult` when it leaves the last stage,
or as a `FailedItem` when a stage gives up on it. The last stage's workers hand a
result to `Outcomes.finish_now` (or, when something must be waited for, to
`Outcomes.finish`); a failing stage hands its `FailedItem` to `Outcomes.add_failure`.
Each counts the item out of `RunState` once, which is what ``join()`` waits on.

A result goes to one consumer. While ``stream()`` runs it goes into the stream channel
(a bounded `StageQueue` keyed by arrival, so the consumer sees completion order and a
slow consumer holds the last stage back); otherwise it is kept for ``run()`` and
``results`` when ``collect_results`` is on, and dropped when it is off. Results are
appended in completion order and sorted by ``sequence_id`` only when read, and only if
they arrived out of order. Failures are always kept (they are few), go to the stream too
under ``stream_outcomes()``, and feed the error summaries.

Items that had not ended when the pipeline shut down are collected into ``unfinished``
by the facade; they are counted neither as results nor as failures. Results that waited
in the stream channel when the pipeline stopped (the consumer left its loop, or a
shutdown came) had ended, so they are kept in ``results`` (`Outcomes.keep_unread`).
"""

from __future__ import annotations

import time
from typing import Any, TypeAlias

from antflow_core.model import (
    FailedItem,
    FailureRecord,
    ItemOutcome,
    ItemStatus,
    Payload,
    PipelineResult,
    failed_outcome,
    order_by_sequence,
    succeeded_outcome,
)
from antflow_core.runtime.emission import Emitter
from antflow_core.runtime.queues import StageQueue
from antflow_core.runtime.rendezvous import Rendezvous
from antflow_core.runtime.run_state import RunState
from antflow_core.runtime.workers import WorkerRecord

__all__ = ["Outcomes", "StreamEntry"]

StreamEntry: TypeAlias = tuple[int, "PipelineResult[Any] | FailedItem"]
"""What the stream channel holds: ``(arrival number, result or failure)``."""


class Outcomes:
    """The results, failures and unfinished items of a pipeline, and its stream channel.

    Args:
        collect_results: Keep results for ``run()`` and ``results``.
        emitter: Tells the observer that an item ended.
        run_state: Counts ended items out.
    """

    __slots__ = (
        "collect_results",
        "emitter",
        "end_item",
        "failed",
        "failure_records",
        "failures",
        "keep_late",
        "processed",
        "results",
        "results_sorted",
        "stream_arrivals",
        "stream_failures",
        "stream_out",
        "unfinished",
    )

    def __init__(self, collect_results: bool, emitter: Emitter, run_state: RunState) -> None:
        self.collect_results = collect_results
        self.emitter = emitter
        self.end_item = run_state.end_item
        self.processed = 0  # items that ended as results
        self.failed = 0  # items that ended as failures
        self.results: list[PipelineResult[Any]] = []  # in arrival order until sorted
        self.results_sorted = True
        self.failures: list[FailedItem] = []
        self.failure_records: list[FailureRecord] = []
        self.unfinished: list[Payload[Any]] = []
        # Ended items on their way to a stream() consumer, keyed by arrival (FIFO).
        self.stream_out: StageQueue[StreamEntry] | Rendezvous[StreamEntry] | None = None
        self.stream_arrivals = 0
        self.stream_failures = False  # whether failures go to the stream too
        self.keep_late = False  # keep results whatever collect_results (a stream stopped)

    # ------------------------------------------------------------------ ending items

    def deliver(self, result: PipelineResult[Any]) -> bool:
        """Hand a result to its consumer (the stream, or the kept results) without waiting.

        Returns False when the stream is full; then `finish` waits for room.
        """
        stream_out = self.stream_out
        if stream_out is not None:
            if not stream_out.try_put((self.stream_arrivals, result)):
                return False
            self.stream_arrivals += 1
        elif self.collect_results or self.keep_late:
            results = self.results
            if results and results[-1].sequence_id > result.sequence_id:
                self.results_sorted = False
            results.append(result)
        return True

    def finish_now(self, record: WorkerRecord, result: PipelineResult[Any]) -> bool:
        """`finish` for an unobserved pipeline when nothing must be waited for.

        Returns False, having done nothing, when the stream is full: await `finish` then.
        """
        if not self.deliver(result):
            return False
        self.processed += 1
        record.payload = None
        self.end_item()
        return True

    async def finish(
        self,
        record: WorkerRecord,
        result: PipelineResult[Any],
        stage: str,
        status: ItemStatus = ItemStatus.COMPLETED,
    ) -> None:
        """The item held by ``record`` left the last stage, ``stage``: it ends as ``result``.

        It is counted first; only then does the observer hear its last status at that
        stage (``status``: ``completed``, or ``skipped``) and its end, both at once, before
        anything of the observer's is awaited. So a stop (a shutdown, a cancellation)
        can come at any await here without the observer and the pipeline disagreeing
        about how the item ended.
        """
        if not self.deliver(result):
            stream_out = self.stream_out
            assert stream_out is not None
            entry = (self.stream_arrivals, result)
            self.stream_arrivals += 1
            await stream_out.put(entry)
        self.processed += 1
        record.payload = None
        emitter = self.emitter
        if emitter.observer is not None:
            told = emitter.status(result.id, stage, status, record)
            ended = emitter.item_finished(result.id, result)
            if told is not None:
                await emitter.settle(told)
            if ended is not None:
                await emitter.settle(ended)
        self.end_item()

    async def add_result(
        self,
        result: PipelineResult[Any],
        told: tuple[str, WorkerRecord, dict[str, Any]] | None = None,
    ) -> None:
        """An item that no worker record holds as its ``payload`` ends as ``result``.

        For an item of a batch, or a child of a fan-out stage that ends where it was
        made: the caller keeps it in the worker's ``held`` list until this returns.
        ``told`` (the stage, the worker's record and the status's metadata) has the
        observer hear ``completed`` at that stage, as `finish` does: once it is counted.
        """
        if not self.deliver(result):
            stream_out = self.stream_out
            assert stream_out is not None
            entry = (self.stream_arrivals, result)
            self.stream_arrivals += 1
            await stream_out.put(entry)
        self.processed += 1
        emitter = self.emitter
        if emitter.observer is not None:
            status = None
            if told is not None:
                stage, record, about = told
                status = emitter.status(result.id, stage, ItemStatus.COMPLETED, record, about)
            ended = emitter.item_finished(result.id, result)
            if status is not None:
                await emitter.settle(status)
            if ended is not None:
                await emitter.settle(ended)
        self.end_item()

    async def add_failure(self, failed: FailedItem) -> None:
        """Keep a failure (and stream it under ``stream_outcomes()``).

        The failing stage then tells the observer and counts the item out with ``end_item``.
        """
        stream_out = self.stream_out
        if stream_out is not None and self.stream_failures:
            entry = (self.stream_arrivals, failed)
            self.stream_arrivals += 1
            if not stream_out.try_put(entry):
                await stream_out.put(entry)
        self.failed += 1
        self.failures.append(failed)
        self.failure_records.append(
            FailureRecord(
                failed.id,
                failed.error_message,
                failed.error_type,
                failed.stage,
                failed.attempts,
                time.time(),
            )
        )

    # ---------------------------------------------------------------- the stream channel

    def open_stream(
        self, out: StageQueue[StreamEntry] | Rendezvous[StreamEntry], *, failures: bool
    ) -> None:
        """Send ended items to ``out`` from now on (failures too, if ``failures``)."""
        self.stream_out = out
        self.stream_failures = failures

    def stop_stream(self) -> StageQueue[StreamEntry] | Rendezvous[StreamEntry] | None:
        """The pipeline stops: close the stream channel, if one is open, and return it.

        From now on a result goes to ``results`` whatever ``collect_results`` says (the
        result of a worker that called ``shutdown()`` and ended its item after it, when
        nobody reads the stream any more); see `keep_unread`.
        """
        stream_out = self.stream_out
        if stream_out is not None:
            stream_out.close()
            self.keep_late = True
        return stream_out

    def keep_unread(
        self, stream_out: StageQueue[StreamEntry] | Rendezvous[StreamEntry] | None
    ) -> None:
        """After a stop: keep the results the stream had ready but nobody read.

        They went through every stage and count as processed, so they go to ``results``
        (even with ``collect_results=False``: at most the stream's capacity of them)
        instead of being dropped with the channel. Failures are kept in ``failures``
        anyway.
        """
        if stream_out is None:
            return
        for _, ended in stream_out.drain():
            if isinstance(ended, PipelineResult):
                self.results.append(ended)
                self.results_sorted = False

    def close_stream(self) -> None:
        """Keep results again (when ``collect_results``), instead of streaming them."""
        self.stream_out = None

    # ---------------------------------------------------------------------- reading

    def ordered_results(self) -> list[PipelineResult[Any]]:
        """The kept results, in input order (a copy)."""
        if not self.results_sorted:
            self.results = order_by_sequence(self.results)
            self.results_sorted = True
        return list(self.results)

    def results_since(self, first_sequence: int) -> list[PipelineResult[Any]]:
        """The kept results of the items fed from ``first_sequence`` on, in input order."""
        results = self.ordered_results()
        if first_sequence == 0:
            return results
        return [r for r in results if r.sequence_id >= first_sequence]

    def ordered_failures(self) -> list[FailedItem]:
        """Every failure, in input order."""
        return order_by_sequence(self.failures)

    def ordered_outcomes(self) -> list[ItemOutcome]:
        """Every kept result and every failure as a `returns` Result, in input order."""
        ended: list[PipelineResult[Any] | FailedItem] = [*self.results, *self.failures]
        return [
            succeeded_outcome(x) if isinstance(x, PipelineResult) else failed_outcome(x)
            for x in order_by_sequence(ended)
        ]

    def ordered_unfinished(self) -> list[Payload[Any]]:
        """The items that had not ended at shutdown, in input order."""
        return order_by_sequence(self.unfinished)
