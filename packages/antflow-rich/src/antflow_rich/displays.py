"""The displays behind ``progress=True`` and ``dashboard="compact" | "detailed" | "full"``.

Theory of operation
-------------------
The core's ``DisplayDriver`` owns the timing: it calls `RichDisplay.start` once, then
`RichDisplay.update` every ``refresh_interval`` seconds with a fresh
`DashboardSnapshot`, then `RichDisplay.finish` with the final one (also after an error
or a cancellation). A display never subscribes to events, so between two refreshes it
costs the workers nothing.

What a display does with a snapshot depends on where its console writes:

* **A terminal** (``console.is_interactive``): a ``rich.live.Live`` region redrawn in
  place on every update, with no refresh thread of its own, laid out for the
  terminal's size at each redraw (`antflow_rich.layout`). While it is shown, lines
  printed to stdout/stderr by the program, and records of the ``logging`` handlers
  that write to the terminal (`antflow_rich.logs.log_above`), appear above it (only
  for streams that are terminals themselves, so a piped stdout is never diverted). On
  finish the last frame stays on screen (or is erased, with ``transient=True``) and the
  one-line summary follows.
* **Anything else** (a CI log, a pipe, a file, a dumb terminal): no escape codes at all.
  At most one plain progress line per ``plain_interval`` seconds of pipeline time
  (measured on the snapshots' timestamps, never by reading a clock), then the summary.

Each built-in display is a `RichDisplay` subclass whose only job is `RichDisplay.render`:
turning a `ProgressView` and the snapshot into a rich renderable.
"""

from __future__ import annotations

import abc
import math
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from typing import ClassVar, TextIO

from antflow_core.model import (
    DashboardSnapshot,
    ErrorSummary,
    StageCounts,
    compute_pipeline_stats,
)
from rich.console import Console, RenderableType
from rich.live import Live

from antflow_rich.layout import FittedDashboard, StageBars
from antflow_rich.logs import log_above
from antflow_rich.render import progress_row
from antflow_rich.view import ProgressView, progress_line, summary_line

__all__ = [
    "CompactDashboard",
    "DetailedDashboard",
    "FullDashboard",
    "ProgressBarDisplay",
    "RichDisplay",
    "blank_snapshot",
]


def _positive_seconds(name: str, value: float | None, *, allow_none: bool) -> float | None:
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"{name} must be a number of seconds > 0, got None")
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        hint = " (or None)" if allow_none else ""
        raise ValueError(f"{name} must be a number of seconds > 0{hint}, got {value!r}")
    return float(value)


def _positive_count(name: str, value: int | None, *, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        hint = " (or None for no limit)" if allow_none else ""
        raise ValueError(f"{name} must be an int >= 1{hint}, got {value!r}")
    return value


def _is_tty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def blank_snapshot(stage_names: Sequence[str]) -> DashboardSnapshot:
    """Return the snapshot of a pipeline that has not done anything yet.

    Displays draw it on `RichDisplay.start`, so the frame appears at once instead of
    after the first refresh interval.
    """
    names = tuple(stage_names)
    stats = compute_pipeline_stats(
        names, [StageCounts() for _ in names], fed=0, processed=0, failed=0
    )
    return DashboardSnapshot(
        timestamp=0.0,
        stats=stats,
        worker_states={},
        worker_metrics={},
        error_summary=ErrorSummary(total_failed=0),
        started_at=None,
        stage_names=names,
    )


class RichDisplay(abc.ABC):
    """Base of the rich displays: live in a terminal, plain lines elsewhere, a summary at the end.

    It implements the core's `ProgressDisplay` Protocol; a subclass only writes
    `render`. Pass an instance as ``pipeline.run(items, progress=display)`` (or
    ``dashboard=display``), or use the names ``progress=True`` and
    ``dashboard="compact" | "detailed" | "full"``, which build one with the defaults.

    Args:
        refresh_interval: Seconds between two updates; None keeps the class default
            (`default_refresh_interval`).
        console: Where to draw; by default a new ``rich.console.Console`` on stderr.
            Inject ``Console(record=True, width=...)`` in tests.
        plain_interval: When the console is not a terminal, print a plain progress
            line at most once per this many seconds of the run; None prints none (only
            the final summary).
        description: The label of the bar, the panel title and the summary.
        summary: Print the one-line summary when the run ends.
        transient: In a terminal, erase the display when the run ends, leaving only
            the summary (tqdm's ``leave=False``).
        redirect_logging: While the display is live, print the records of the
            ``logging`` handlers that write to the terminal above it (see
            `antflow_rich.logs.log_above`).

    Raises:
        ValueError: If an interval is not a number > 0.
    """

    default_refresh_interval: ClassVar[float] = 0.25
    """Seconds between updates when none is given."""

    def __init__(
        self,
        *,
        refresh_interval: float | None = None,
        console: Console | None = None,
        plain_interval: float | None = 10.0,
        description: str = "antflow",
        summary: bool = True,
        transient: bool = False,
        redirect_logging: bool = True,
    ) -> None:
        interval = _positive_seconds("refresh_interval", refresh_interval, allow_none=True)
        self._refresh_interval = self.default_refresh_interval if interval is None else interval
        self._plain_interval = _positive_seconds("plain_interval", plain_interval, allow_none=True)
        if not isinstance(description, str):
            raise TypeError(f"description must be a str, got {description!r}")
        self._console = console if console is not None else Console(stderr=True)
        self._description = description
        self._summary = summary
        self._transient = transient
        self._redirect_logging = redirect_logging
        self._logging = ExitStack()
        self._total: int | None = None
        self._stage_names: tuple[str, ...] = ()
        self._live: Live | None = None
        self._last_plain: float | None = None
        self._last_snapshot: DashboardSnapshot | None = None

    # ----------------------------------------------------------------- the Protocol

    @property
    def refresh_interval(self) -> float:
        """Seconds between two `update` calls."""
        return self._refresh_interval

    def start(self, total: int | None, stage_names: Sequence[str]) -> None:
        """Begin a run of ``total`` items (None when unknown) through ``stage_names``."""
        if total is not None and (isinstance(total, bool) or not isinstance(total, int)):
            raise TypeError(f"total must be an int or None, got {total!r}")
        self._stop_live()
        self._total = None if total is None else max(0, total)
        self._stage_names = tuple(stage_names)
        self._last_plain = None
        self._last_snapshot = None
        if not self.is_terminal:
            return
        live = Live(
            console=self._console,
            auto_refresh=False,
            transient=self._transient,
            vertical_overflow="ellipsis",
            redirect_stdout=_is_tty(sys.stdout),
            redirect_stderr=_is_tty(sys.stderr),
        )
        self._live = live
        self._draw(live, blank_snapshot(self._stage_names), start=True)
        if self._redirect_logging:
            self._logging.enter_context(log_above(self._console))

    def update(self, snapshot: DashboardSnapshot) -> None:
        """Show ``snapshot``: redraw the live region, or maybe print one plain line."""
        self._last_snapshot = snapshot
        live = self._live
        if live is not None:
            self._draw(live, snapshot)
            return
        interval = self._plain_interval
        if interval is None:
            return
        if self._last_plain is None:
            self._last_plain = snapshot.started_at or snapshot.timestamp
        if snapshot.timestamp - self._last_plain >= interval:
            self._last_plain = snapshot.timestamp
            self._print_plain(progress_line(self.view(snapshot), self._description))

    def finish(self, snapshot: DashboardSnapshot) -> None:
        """Draw the final state, release the terminal and print the one-line summary."""
        self._last_snapshot = snapshot
        live, self._live = self._live, None
        if live is not None:
            try:
                if not self._transient:
                    live.update(self.render(self.view(snapshot), snapshot))
            finally:
                self._stop(live)
        if self._summary:
            self._print_plain(self.summary(snapshot))

    # ------------------------------------------------------------------ for users

    @property
    def console(self) -> Console:
        """The console the display draws on."""
        return self._console

    @property
    def is_terminal(self) -> bool:
        """Whether the console is an interactive terminal (live redraws) or not (plain lines)."""
        return bool(self._console.is_interactive)

    @property
    def total(self) -> int | None:
        """The number of items of the current run, None when unknown."""
        return self._total

    @property
    def stage_names(self) -> tuple[str, ...]:
        """The stages of the current run, in order."""
        return self._stage_names

    @property
    def last_snapshot(self) -> DashboardSnapshot | None:
        """The last snapshot the display was given, None before the first update."""
        return self._last_snapshot

    def view(self, snapshot: DashboardSnapshot) -> ProgressView:
        """Return the numbers to show for ``snapshot`` in the current run."""
        return ProgressView.from_snapshot(snapshot, self._total)

    def summary(self, snapshot: DashboardSnapshot) -> str:
        """Return the one-line summary of the run as of ``snapshot``."""
        return summary_line(self.view(snapshot), snapshot.error_summary, self._description)

    @property
    def description(self) -> str:
        """The label of the bar, the panel title and the summary."""
        return self._description

    @property
    def transient(self) -> bool:
        """Whether the display is erased when the run ends (the summary stays)."""
        return self._transient

    @abc.abstractmethod
    def render(self, view: ProgressView, snapshot: DashboardSnapshot) -> RenderableType:
        """Return what to draw for ``snapshot``; ``view`` holds its counts, rate and ETA.

        Must read nothing but its arguments (and the display's settings), so the same
        snapshot always renders the same way.
        """

    # ----------------------------------------------------------------- internals

    def _draw(self, live: Live, snapshot: DashboardSnapshot, *, start: bool = False) -> None:
        """Redraw ``live``; if rendering fails, give the terminal back before raising."""
        try:
            live.update(self.render(self.view(snapshot), snapshot))
            if start:
                live.start(refresh=True)
            else:
                live.refresh()
        except BaseException:
            self._live = None
            self._stop(live)
            raise

    def _stop(self, live: Live) -> None:
        """Give the terminal back: the logging handlers' streams, then the live region."""
        try:
            self._logging.close()
        finally:
            live.stop()

    def _stop_live(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            self._stop(live)

    def _print_plain(self, line: str) -> None:
        self._console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)


class ProgressBarDisplay(RichDisplay):
    """``progress=True``: one line with a bar, done / total, percent, rate, ETA and failures.

    ``antflow ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 500/1,000  50% · 434.8 items/s ·
    ETA 1.2s · 3 failed``. With an unknown total the bar pulses and shows items done and
    elapsed time. With ``stages=True`` a bar per stage follows, counting the items
    through that stage (`antflow_rich.layout.StageBars`).

    Args:
        refresh_interval: As in `RichDisplay` (default 0.1 s).
        console: As in `RichDisplay`.
        plain_interval: As in `RichDisplay`.
        description: As in `RichDisplay`.
        summary: As in `RichDisplay`.
        transient: As in `RichDisplay`.
        redirect_logging: As in `RichDisplay`.
        stages: Add a bar per stage under the run's bar.

    Raises:
        ValueError: If an interval is not a number > 0.
    """

    default_refresh_interval: ClassVar[float] = 0.1

    def __init__(
        self,
        *,
        refresh_interval: float | None = None,
        console: Console | None = None,
        plain_interval: float | None = 10.0,
        description: str = "antflow",
        summary: bool = True,
        transient: bool = False,
        redirect_logging: bool = True,
        stages: bool = False,
    ) -> None:
        super().__init__(
            refresh_interval=refresh_interval,
            console=console,
            plain_interval=plain_interval,
            description=description,
            summary=summary,
            transient=transient,
            redirect_logging=redirect_logging,
        )
        self._stages = stages

    def render(self, view: ProgressView, snapshot: DashboardSnapshot) -> RenderableType:
        """Return the progress line (and the stages' bars)."""
        if self._stages:
            return StageBars(view, snapshot, description=self.description)
        return progress_row(view, description=self.description, animation_time=snapshot.timestamp)


class CompactDashboard(RichDisplay):
    """``dashboard="compact"``: one panel with progress, rate, ETA, elapsed time and counts.

    In a terminal fewer than 5 lines high the panel becomes one progress line. See
    `RichDisplay` for the arguments.
    """

    default_refresh_interval: ClassVar[float] = 0.25

    def render(self, view: ProgressView, snapshot: DashboardSnapshot) -> RenderableType:
        """Return the panel."""
        return FittedDashboard(
            view,
            snapshot,
            description=self.description,
            show_stages=False,
            show_workers=False,
        )


class DetailedDashboard(RichDisplay):
    """``dashboard="detailed"``: the compact panel, a table of stages and a table of workers.

    The stage table has a bar per stage; the worker table takes the lines the terminal
    has left, shared between the stages; a last line tells the latest failure. The
    layout fits the terminal and gives up details in a planned order when it is small
    (`antflow_rich.layout`).

    Args:
        refresh_interval: As in `RichDisplay` (default 1 s).
        console: As in `RichDisplay`.
        plain_interval: As in `RichDisplay`.
        description: As in `RichDisplay`.
        summary: As in `RichDisplay`.
        transient: As in `RichDisplay`.
        redirect_logging: As in `RichDisplay`.
        max_worker_rows: List at most this many lines of workers (the rest are
            counted); None lists as many as the terminal has room for.

    Raises:
        ValueError: If an interval or a row limit is out of range.
    """

    default_refresh_interval: ClassVar[float] = 1.0
    show_tasks: ClassVar[bool] = False
    """Whether the worker table shows each busy worker's item, task and status."""

    def __init__(
        self,
        *,
        refresh_interval: float | None = None,
        console: Console | None = None,
        plain_interval: float | None = 10.0,
        description: str = "antflow",
        summary: bool = True,
        transient: bool = False,
        redirect_logging: bool = True,
        max_worker_rows: int | None = None,
    ) -> None:
        super().__init__(
            refresh_interval=refresh_interval,
            console=console,
            plain_interval=plain_interval,
            description=description,
            summary=summary,
            transient=transient,
            redirect_logging=redirect_logging,
        )
        self._max_worker_rows = _positive_count("max_worker_rows", max_worker_rows, allow_none=True)

    def render(self, view: ProgressView, snapshot: DashboardSnapshot) -> RenderableType:
        """Return the panel, the stage table, the worker table and the latest failure."""
        return FittedDashboard(
            view,
            snapshot,
            description=self.description,
            show_tasks=self.show_tasks,
            errors="line",
            max_worker_rows=self._max_worker_rows,
        )


class FullDashboard(DetailedDashboard):
    """``dashboard="full"``: the detailed dashboard plus what each worker does and recent errors.

    The worker table adds, for each busy worker, the item it holds, the task it runs,
    the status the task published with ``set_task_status()`` and how long it has held
    the item; a panel lists the latest failures with their error and attempts. The
    header, the stage rows and the recent errors are always on screen; the worker rows
    give way first when the terminal is small (`antflow_rich.layout`).

    Args:
        refresh_interval: As in `RichDisplay` (default 1 s).
        console: As in `RichDisplay`.
        plain_interval: As in `RichDisplay`.
        description: As in `RichDisplay`.
        summary: As in `RichDisplay`.
        transient: As in `RichDisplay`.
        redirect_logging: As in `RichDisplay`.
        max_worker_rows: List at most this many lines of workers; None lists as many
            as the terminal has room for.
        max_error_rows: List at most this many recent failures.

    Raises:
        ValueError: If an interval or a row limit is out of range.
    """

    show_tasks: ClassVar[bool] = True

    def __init__(
        self,
        *,
        refresh_interval: float | None = None,
        console: Console | None = None,
        plain_interval: float | None = 10.0,
        description: str = "antflow",
        summary: bool = True,
        transient: bool = False,
        redirect_logging: bool = True,
        max_worker_rows: int | None = None,
        max_error_rows: int = 5,
    ) -> None:
        super().__init__(
            refresh_interval=refresh_interval,
            console=console,
            plain_interval=plain_interval,
            description=description,
            summary=summary,
            transient=transient,
            redirect_logging=redirect_logging,
            max_worker_rows=max_worker_rows,
        )
        self._max_error_rows = max_error_rows
        _positive_count("max_error_rows", max_error_rows, allow_none=False)

    def render(self, view: ProgressView, snapshot: DashboardSnapshot) -> RenderableType:
        """Return the detailed dashboard with tasks, and the recent-errors panel."""
        return FittedDashboard(
            view,
            snapshot,
            description=self.description,
            show_tasks=True,
            errors="panel",
            max_worker_rows=self._max_worker_rows,
            max_error_rows=self._max_error_rows,
        )
