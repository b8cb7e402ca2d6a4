"""`Outcomes`: where items end, and the count of items still in flight.

Every item fed ends here exactly once: as a `PipelineResult` (collected, or handed to a
``stream()`` consumer) or as a `FailedItem`; or, after a shutdown, in the unfinished
list. The in-flight count and the idle event that ``join()`` waits on live here too, so
completion is event driven: the event is set when the count falls to zero with no feed
running.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from antflow_core.model import (
    FailedItem,
    FailureRecord,
    ItemOutcome,
    Payload,
    PipelineResult,
    failed_outcome,
    order_by_sequence,
    succeeded_outcome,
)
from antflow_core.runtime import StageQueue

__all__ = ["Outcomes", "StreamItem"]

StreamItem = tuple[int, "PipelineResult[Any] | FailedItem"]


class Outcomes:
    """Results, failures and unfinished items of a pipeline, and its in-flight count.

    Args:
        collect_results: Keep results for ``run()`` and ``results``.
    """

    def __init__(self, collect_results: bool) -> None:
        self.collect_results = collect_results
        self.results: list[PipelineResult[Any]] = []
        self.failures: list[FailedItem] = []
        self.failure_records: list[FailureRecord] = []
        self.unfinished: list[Payload[Any]] = []
        self.fed = 0
        self.processed = 0
        self.failed = 0
        self.in_flight = 0
        self.active_feeds = 0
        self.idle = asyncio.Event()
        self.idle.set()
        # Ended items on their way to a stream() consumer, keyed by arrival (FIFO).
        self.stream_out: StageQueue[StreamItem] | None = None
        self.stream_failures = False
        self._arrivals = 0

    @property
    def wants_results(self) -> bool:
        """Whether results are kept or streamed (else only counted)."""
        return self.collect_results or self.stream_out is not None

    # ------------------------------------------------------------------ counting

    def accepted(self) -> None:
        """An item was fed: it is now in flight."""
        self.fed += 1
        self.in_flight += 1
        self.idle.clear()

    def begin_feed(self) -> None:
        """A feed started: the pipeline is not idle until it ends."""
        self.active_feeds += 1
        self.idle.clear()

    def end_feed(self) -> None:
        """A feed ended."""
        self.active_feeds -= 1
        self._maybe_idle()

    def _maybe_idle(self) -> None:
        if not self.in_flight and not self.active_feeds:
            self.idle.set()

    # ------------------------------------------------------------------ ending items

    async def succeed(self, result: PipelineResult[Any]) -> None:
        """The item left the last stage as ``result`` (waits while a stream is full)."""
        stream_out = self.stream_out
        if stream_out is not None:
            entry = (self._arrivals, result)
            self._arrivals += 1
            await stream_out.put(entry)
        elif self.collect_results:
            self.results.append(result)
        self.processed += 1

    async def fail(self, failed: FailedItem) -> None:
        """The item ended as ``failed`` (waits while a stream of outcomes is full)."""
        stream_out = self.stream_out
        if stream_out is not None and self.stream_failures:
            entry = (self._arrivals, failed)
            self._arrivals += 1
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

    def ended(self) -> None:
        """One item ended (after `succeed` or `fail` and its events)."""
        self.in_flight -= 1
        self._maybe_idle()

    def abandon(self, payloads: list[Payload[Any]]) -> None:
        """A shutdown left these items unfinished; nothing is in flight any more."""
        self.unfinished.extend(payloads)
        self.in_flight = 0
        self.idle.set()

    # ------------------------------------------------------------------ reading

    def ordered_results(self) -> list[PipelineResult[Any]]:
        """The collected results, in input order."""
        self.results = order_by_sequence(self.results)
        return list(self.results)

    def outcomes(self) -> list[ItemOutcome]:
        """Every ended item as a `returns` Result, in input order."""
        ended: list[PipelineResult[Any] | FailedItem] = [*self.results, *self.failures]
        return [
            succeeded_outcome(x) if isinstance(x, PipelineResult) else failed_outcome(x)
            for x in order_by_sequence(ended)
        ]
