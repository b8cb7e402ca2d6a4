"""`ProgressView`: the numbers a display shows, derived from one `DashboardSnapshot`.

Everything here is plain arithmetic and string formatting: no rich, no clock, no I/O.
A display passes the snapshot the pipeline handed it (and the total it was started
with) and gets back what to print: items done, rate, ETA, failures. Rendering with
rich lives in `antflow_rich.render`.

The rules, in one place:

* **done** is every item that ended: ``items_processed + items_failed``, plus
  ``items_expanded`` (items a fan-out stage turned into children). The children of a
  fan-out stage add to the **total** as they are made (``items_spawned``).
* **rate** is done divided by the snapshot's ``elapsed`` (0.0 before any time passed).
* **ETA** is ``(total - done) / rate``; unknown (None) when the total is unknown or
  nothing has ended yet, and 0.0 once done reaches the total.
* **Through a stage** (`StageProgress`) are the items the stage is done with:
  completed, failed or skipped there. Of the run's total, the items that failed at an
  earlier stage never reach it, so a stage **expects** ``total`` minus those; its bar
  fills to 100% when the run ends. After a stage that fanned items out, how many will
  reach a stage is not known (its ``expected`` is None); a fan-out stage is through
  with the items it expanded.
"""

from __future__ import annotations

from dataclasses import dataclass

from antflow_core.model import DashboardSnapshot, ErrorSummary

__all__ = [
    "ProgressView",
    "StageProgress",
    "format_count",
    "format_duration",
    "format_error_types",
    "format_rate",
    "progress_line",
    "stage_progress",
    "summary_line",
]


@dataclass(frozen=True, slots=True)
class ProgressView:
    """How far a run is, as a display shows it.

    Attributes:
        total: Items the run will feed, None when unknown (``feed_async``, generators).
        succeeded: Items that left the last stage as results.
        failed: Items that failed at some stage.
        in_flight: Items fed that have not ended yet.
        fed: Items fed so far.
        unfinished: Items abandoned by ``shutdown()`` or cancellation.
        retries: Retries made, summed over the stages.
        elapsed: Seconds since the pipeline started.
        expanded: Items a fan-out stage turned into children (they ended so).
    """

    total: int | None
    succeeded: int
    failed: int
    in_flight: int
    fed: int
    unfinished: int
    retries: int
    elapsed: float
    expanded: int = 0

    @classmethod
    def from_snapshot(cls, snapshot: DashboardSnapshot, total: int | None) -> ProgressView:
        """Read the counts of ``snapshot``; ``total`` is what the display was started with.

        Counts are those of the current run: a pipeline run again after ``join()`` keeps
        its totals, so the snapshot's ``run_baseline`` is subtracted.
        """
        stats, base = snapshot.stats, snapshot.run_baseline
        retries = sum(s.retried_items for s in stats.stage_stats.values())
        if base is not None:
            retries -= sum(s.retried_items for s in base.stage_stats.values())
        spawned = stats.items_spawned - (base.items_spawned if base else 0)
        return cls(
            total=None if total is None else total + spawned,
            succeeded=stats.items_processed - (base.items_processed if base else 0),
            failed=stats.items_failed - (base.items_failed if base else 0),
            in_flight=stats.items_in_flight,
            fed=stats.items_fed - (base.items_fed if base else 0),
            unfinished=stats.items_unfinished - (base.items_unfinished if base else 0),
            retries=retries,
            elapsed=snapshot.elapsed,
            expanded=stats.items_expanded - (base.items_expanded if base else 0),
        )

    @property
    def done(self) -> int:
        """Items that ended, as results, as failures, or expanded into children."""
        return self.succeeded + self.failed + self.expanded

    @property
    def rate(self) -> float:
        """Items ended per second since the start; 0.0 before any time has passed."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def remaining(self) -> int | None:
        """Items still to end, None when the total is unknown."""
        return None if self.total is None else max(0, self.total - self.done)

    @property
    def fraction(self) -> float | None:
        """Share of the total that ended, from 0.0 to 1.0; None when the total is unknown."""
        if self.total is None:
            return None
        if self.total == 0:
            return 1.0
        return min(1.0, self.done / self.total)

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate; None when it cannot be told yet."""
        remaining = self.remaining
        if remaining is None:
            return None
        if remaining == 0:
            return 0.0
        rate = self.rate
        return remaining / rate if rate > 0 else None


@dataclass(frozen=True, slots=True)
class StageProgress:
    """How far the current run is through one stage.

    Attributes:
        name: The stage's name.
        through: Items the stage is done with (completed, failed or skipped there).
        expected: Items that will reach the stage: the run's total less the items that
            failed at earlier stages; None when the total is unknown.
        queued: Items waiting in the stage's queue.
        active: Items a worker of the stage holds.
        workers: The stage's workers (0 when the snapshot lists none).
        failed: Items that failed at the stage.
    """

    name: str
    through: int
    expected: int | None
    queued: int
    active: int
    workers: int
    failed: int

    @property
    def fraction(self) -> float | None:
        """Share of the expected items through the stage, 0.0 to 1.0; None when unknown."""
        if self.expected is None:
            return None
        if self.expected <= 0:
            return 1.0
        return min(1.0, self.through / self.expected)


def stage_progress(snapshot: DashboardSnapshot, total: int | None) -> list[StageProgress]:
    """Return the current run's progress through each stage, in stage order.

    Counts are those of the current run (the snapshot's ``run_baseline`` is subtracted);
    ``total`` is what the display was started with.
    """
    stage_stats = snapshot.stats.stage_stats
    base = snapshot.run_baseline.stage_stats if snapshot.run_baseline is not None else {}
    workers: dict[str, int] = {}
    for state in snapshot.worker_states.values():
        workers[state.stage] = workers.get(state.stage, 0) + 1
    failed_before = 0
    fanned_out = False  # past a stage that made children: how many come is not known
    progress = []
    for name in snapshot.stage_names or tuple(stage_stats):
        stats = stage_stats.get(name)
        if stats is None:
            continue
        old = base.get(name)
        completed = stats.completed_items - (old.completed_items if old else 0)
        failed = stats.failed_items - (old.failed_items if old else 0)
        skipped = stats.skipped_items - (old.skipped_items if old else 0)
        expanded = stats.expanded_items - (old.expanded_items if old else 0)
        progress.append(
            StageProgress(
                name=name,
                through=completed + failed + skipped + expanded,
                expected=None if total is None or fanned_out else max(0, total - failed_before),
                queued=stats.pending_items,
                active=stats.in_progress_items,
                workers=workers.get(name, 0),
                failed=failed,
            )
        )
        failed_before += failed
        fanned_out = fanned_out or stats.spawned_items > 0 or stats.expanded_items > 0
    return progress


def format_count(count: int) -> str:
    """Return ``count`` with thousands separators: ``12,345``."""
    return f"{count:,}"


def format_duration(seconds: float | None) -> str:
    """Return a short duration: ``0.4s``, ``12.3s``, ``4m05s``, ``2h03m09s``; ``--`` for None."""
    if seconds is None:
        return "--"
    if seconds < 60:
        return f"{max(0.0, seconds):.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s"


def format_rate(rate: float) -> str:
    """Return a rate in items per second: ``8.5 items/s``, ``1,234 items/s``."""
    if rate >= 1000:
        return f"{rate:,.0f} items/s"
    return f"{rate:,.1f} items/s"


def format_error_types(errors: ErrorSummary, *, limit: int = 3) -> str:
    """Return the most frequent error types: ``ValueError: 7, TimeoutError: 3``.

    Args:
        errors: The failures, as a snapshot carries them.
        limit: Name at most this many types; the rest are counted as ``+N more``.
    """
    ranked = sorted(errors.errors_by_type.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{name}: {format_count(count)}" for name, count in ranked[:limit])
    hidden = len(ranked) - limit
    return f"{shown}, +{hidden} more" if hidden > 0 else shown


def progress_line(view: ProgressView, description: str = "antflow") -> str:
    """Return one plain line for logs: done, rate, ETA, failures, items in flight.

    ``antflow: 500/1,000 (50%) | 432.9 items/s | ETA 1.2s | 3 failed | 12 in flight``;
    with an unknown total: ``antflow: 500 done | 432.9 items/s | elapsed 1.2s | ...``.
    """
    fraction = view.fraction
    if view.total is None or fraction is None:
        head = f"{format_count(view.done)} done"
        timing = f"elapsed {format_duration(view.elapsed)}"
    else:
        head = f"{format_count(view.done)}/{format_count(view.total)} ({fraction:.0%})"
        timing = f"ETA {format_duration(view.eta)}"
    parts = [
        head,
        format_rate(view.rate),
        timing,
        f"{format_count(view.failed)} failed",
        f"{format_count(view.in_flight)} in flight",
    ]
    return f"{description}: " + " | ".join(parts)


def summary_line(view: ProgressView, errors: ErrorSummary, description: str = "antflow") -> str:
    """Return the one-line summary a display prints when the run ends.

    ``antflow: 1,000 items in 2.3s (432.9 items/s): 990 succeeded, 10 failed
    (ValueError: 7, TimeoutError: 3)``. When fewer items ended than the total, it says
    ``500 of 1,000 items``; items abandoned by a shutdown are counted as ``unfinished``.
    """
    if view.total is not None and view.done != view.total:
        items = f"{format_count(view.done)} of {format_count(view.total)} items"
    else:
        items = f"{format_count(view.done)} items"
    line = (
        f"{description}: {items} in {format_duration(view.elapsed)} ({format_rate(view.rate)}): "
        f"{format_count(view.succeeded)} succeeded, {format_count(view.failed)} failed"
    )
    if view.failed and errors.errors_by_type:
        line += f" ({format_error_types(errors)})"
    if view.unfinished:
        line += f", {format_count(view.unfinished)} unfinished"
    return line
