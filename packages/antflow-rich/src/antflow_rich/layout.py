"""Dashboards that fit the terminal: what to show at a given height, and in what order to give up.

Theory of operation
-------------------
A dashboard is drawn in sections, top to bottom: the **header** (the progress panel,
or one progress line), the **stages** (a row per stage, with its bar), the
**workers** (a row per worker) and the **recent errors** (a panel, or one line).
Three of them are always kept: the header, a row for every stage and the recent
errors. The workers are what gives way.

`plan_layout` is the one place that decides, from the lines available (the console's
height), the sizes of the sections. It tries `DEGRADATION_STEPS` in order, each one
giving up a little more than the one before, and takes the first that fits:

0. everything: the worker table takes the lines the other sections leave, shared
   between the stages (`antflow_rich.render.share_rows`: every stage lists some of its
   workers and counts the rest in a line);
1. the errors panel lists at most 3 failures;
2. no worker table (the stage table's Active column still says how many of each
   stage's workers are busy);
3. the header panel becomes one progress line;
4. the errors panel lists 1 failure;
5. the stage table loses its title and the rule under its header;
6. the errors panel becomes one line.

When even the last step does not fit (a terminal a few lines high), the last step is
drawn anyway and the live display cuts it. Width never needs a plan: every section
fits any width by itself (bars shrink, tables and lines end in ``…``, nothing wraps).

`FittedDashboard` is the renderable: it measures the console each time it is drawn,
so a terminal resized during a run re-flows at the next refresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from antflow_core.model import DashboardSnapshot
from rich.console import Console, ConsoleOptions, RenderResult
from rich.progress_bar import ProgressBar
from rich.text import Text

from antflow_rich.render import (
    BarLine,
    compact_panel,
    errors_line,
    errors_panel,
    progress_row,
    share_rows,
    stage_table,
    worker_table,
)
from antflow_rich.view import (
    ProgressView,
    format_count,
    format_duration,
    format_rate,
    stage_progress,
)

__all__ = ["DEGRADATION_STEPS", "FittedDashboard", "LayoutPlan", "StageBars", "plan_layout"]

DEGRADATION_STEPS: Final = (
    "everything; the workers share the lines left",
    "the errors panel lists at most 3 failures",
    "no worker table",
    "the header panel becomes one line",
    "the errors panel lists 1 failure",
    "the stage table loses its title and rule",
    "the errors panel becomes one line",
)
"""What each step of `plan_layout` gives up, in order."""

_HEADER_PANEL: Final = 5  # border, bar, timing, counts, border
_ERRORS_FRAME: Final = 5  # border, header, rule, by type, border (plus a line per failure)
_EMPTY_ERRORS_PANEL: Final = 3  # border, "No failures so far", border
_TABLE_FRAME: Final = 3  # title, header, rule
_DOT: Final = Text(" · ", style="dim")

ErrorsForm = Literal["panel", "line"]


@dataclass(frozen=True, slots=True)
class LayoutPlan:
    """The sizes of a dashboard's sections; what `plan_layout` returns.

    Attributes:
        step: The step of `DEGRADATION_STEPS` taken (0: nothing given up).
        header_panel: The header is the panel (else one progress line).
        stage_titles: The stage table has its title and rule.
        worker_rows: Lines of the worker table's body; None for no worker table.
        error_rows: Failures listed in the errors panel; 0 draws the one-line form.
        height: The lines the plan takes.
    """

    step: int
    header_panel: bool
    stage_titles: bool
    worker_rows: int | None
    error_rows: int
    height: int


def plan_layout(
    height: int,
    *,
    stages: int,
    workers: Sequence[int] | None = None,
    max_worker_rows: int | None = None,
    errors: ErrorsForm | None = None,
    error_rows: int = 5,
    failures: bool = True,
    show_stages: bool = True,
) -> LayoutPlan:
    """Choose the sections' sizes for ``height`` lines (see the module's theory of operation).

    Args:
        height: The lines available.
        stages: The number of stages (a row each).
        workers: The number of workers of each stage; None for a dashboard without a
            worker table.
        max_worker_rows: Take at most this many lines for the workers.
        errors: ``"panel"`` for an errors panel, ``"line"`` for one errors line (drawn
            only when there are failures), None for no errors section.
        error_rows: Failures the errors panel lists when there is room.
        failures: Whether there are failures (an empty errors panel is shorter).
        show_stages: Whether the dashboard has a stage table.
    """
    counts = [count for count in (workers or ()) if count]
    wanted = sum(counts)
    if max_worker_rows is not None:
        wanted = min(wanted, max_worker_rows)
    least_workers = len(counts)  # a line per stage to count its workers
    plan: LayoutPlan | None = None
    for step in range(len(DEGRADATION_STEPS)):
        header_panel = step < 3
        stage_titles = step < 5
        rows = error_rows if step < 1 else min(error_rows, 3) if step < 4 else min(error_rows, 1)
        if step >= 6:
            rows = 0
        used = _HEADER_PANEL if header_panel else 1
        if show_stages:
            used += stages + (_TABLE_FRAME if stage_titles else 1)
        if errors == "line":
            used += 1 if failures else 0
        elif errors == "panel":
            used += _errors_height(rows, failures)
        worker_rows: int | None = None
        if step < 2 and counts and wanted:
            room = height - used - _TABLE_FRAME
            if room < least_workers or share_rows(counts, min(room, wanted)) is None:
                continue  # not even a line per stage: give up more
            worker_rows = min(room, wanted)
            used += _TABLE_FRAME + worker_rows
        plan = LayoutPlan(step, header_panel, stage_titles, worker_rows, rows, used)
        if used <= height:
            return plan
    assert plan is not None  # the last step never continues
    return plan


def _errors_height(rows: int, failures: bool) -> int:
    if not failures:
        return _EMPTY_ERRORS_PANEL if rows else 1
    return _ERRORS_FRAME + rows if rows else 1


class FittedDashboard:
    """A dashboard drawn to fit the console it is drawn on (see `plan_layout`).

    It reads the console's size each time it is drawn, so the same object re-flows
    when the terminal is resized.

    Args:
        view: The numbers of the run.
        snapshot: The pipeline, read at one moment.
        description: The title of the header.
        show_stages: Draw the stage table.
        show_workers: Draw the worker table.
        show_tasks: In the worker table, what each busy worker is doing.
        errors: ``"panel"``, ``"line"`` or None: how the recent errors are shown.
        max_worker_rows: At most this many lines of workers; None for as many as fit.
        max_error_rows: At most this many failures in the errors panel.
        height: Lines to fit in; None for the console's height.
    """

    def __init__(
        self,
        view: ProgressView,
        snapshot: DashboardSnapshot,
        *,
        description: str = "antflow",
        show_stages: bool = True,
        show_workers: bool = True,
        show_tasks: bool = False,
        errors: ErrorsForm | None = None,
        max_worker_rows: int | None = None,
        max_error_rows: int = 5,
        height: int | None = None,
    ) -> None:
        self.view = view
        self.snapshot = snapshot
        self.description = description
        self.show_stages = show_stages
        self.show_workers = show_workers
        self.show_tasks = show_tasks
        self.errors: ErrorsForm | None = errors
        self.max_worker_rows = max_worker_rows
        self.max_error_rows = max_error_rows
        self.height = height

    def plan(self, height: int) -> LayoutPlan:
        """Return the layout for ``height`` lines."""
        snapshot = self.snapshot
        workers: list[int] | None = None
        if self.show_workers:
            per_stage: dict[str, int] = dict.fromkeys(snapshot.stage_names, 0)
            for state in snapshot.worker_states.values():
                per_stage[state.stage] = per_stage.get(state.stage, 0) + 1
            workers = list(per_stage.values())
        errors = snapshot.error_summary
        return plan_layout(
            height,
            stages=len(snapshot.stage_names or snapshot.stats.stage_stats),
            workers=workers,
            max_worker_rows=self.max_worker_rows,
            errors=self.errors,
            error_rows=min(self.max_error_rows, max(1, len(errors.failed_items))),
            failures=bool(errors.total_failed),
            show_stages=self.show_stages,
        )

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        height = self.height or options.height or options.max_height
        plan = self.plan(height)
        view, snapshot = self.view, self.snapshot
        if plan.header_panel:
            yield compact_panel(
                view, description=self.description, animation_time=snapshot.timestamp
            )
        else:
            yield progress_row(
                view, description=self.description, animation_time=snapshot.timestamp
            )
        if self.show_stages:
            titled = plan.stage_titles
            yield stage_table(
                snapshot, total=view.total, title="Stages" if titled else None, rule=titled
            )
        if plan.worker_rows is not None:
            yield worker_table(snapshot, show_tasks=self.show_tasks, max_rows=plan.worker_rows)
        if self.errors == "line" and not snapshot.error_summary.total_failed:
            return
        if self.errors == "line" or (self.errors == "panel" and plan.error_rows == 0):
            yield errors_line(snapshot)
        elif self.errors == "panel":
            yield errors_panel(snapshot, max_rows=plan.error_rows)


class StageBars:
    """The progress line of the run and, below it, a bar per stage (items through it).

    ``Fetch ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 561/1,000  56% · 4/30 active · 40 queued``.
    The bars line up under the run's bar. When the console has fewer lines than
    ``1 + stages``, only the run's line is drawn.

    Args:
        view: The numbers of the run.
        snapshot: The pipeline, read at one moment.
        description: The label of the run's bar.
        height: Lines to fit in; None for the console's height.
    """

    def __init__(
        self,
        view: ProgressView,
        snapshot: DashboardSnapshot,
        *,
        description: str = "antflow",
        height: int | None = None,
    ) -> None:
        self.view = view
        self.snapshot = snapshot
        self.description = description
        self.height = height

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        view, snapshot = self.view, self.snapshot
        stages = stage_progress(snapshot, view.total)
        height = self.height or options.height or options.max_height
        if height < 1 + len(stages):
            stages = []
        rows: list[tuple[str, ProgressBar, str, str | None, Text]] = []
        if view.total is None or view.fraction is None:
            run_bar = ProgressBar(total=None, animation_time=snapshot.timestamp)
            run_counts, run_percent = f"{format_count(view.done)} done", None
            timing = f"elapsed {format_duration(view.elapsed)}"
        else:
            run_bar = ProgressBar(total=max(1, view.total), completed=min(view.done, view.total))
            run_counts = f"{format_count(view.done)}/{format_count(view.total)}"
            run_percent = f"{view.fraction:>4.0%}"
            timing = f"ETA {format_duration(view.eta)}"
        rest = Text.assemble(_DOT, format_rate(view.rate), _DOT, timing, _DOT)
        rest.append(f"{format_count(view.failed)} failed", "bold red" if view.failed else "dim")
        rows.append((self.description, run_bar, run_counts, run_percent, rest))
        for stage in stages:
            fraction = stage.fraction
            if stage.expected is None or fraction is None:
                bar = ProgressBar(total=None, animation_time=snapshot.timestamp)
                counts, percent = f"{format_count(stage.through)} done", None
            else:
                bar = ProgressBar(total=max(1, stage.expected), completed=stage.through)
                if stage.expected == 0:
                    bar = ProgressBar(total=1, completed=1)
                counts = f"{format_count(stage.through)}/{format_count(stage.expected)}"
                percent = f"{fraction:>4.0%}"
            active = format_count(stage.active)
            if stage.workers:
                active += f"/{format_count(stage.workers)}"
            rest = Text.assemble(
                _DOT, f"{active} active", _DOT, f"{format_count(stage.queued)} queued"
            )
            if stage.failed:
                rest.append_text(_DOT)
                rest.append(f"{format_count(stage.failed)} failed", style="bold red")
            rows.append((stage.name, bar, counts, percent, rest))
        label = max(len(row[0]) for row in rows)
        counts_width = max(len(row[2]) for row in rows)
        tails = []
        for _, _, counts, percent, rest in rows:
            tail = Text(counts.rjust(counts_width), style="bold", no_wrap=True)
            if percent is not None:
                tail.append(" ")
                tail.append(percent, style="bold cyan")
            tail.append_text(rest)
            tails.append(tail)
        room = min(options.max_width - label - 2 - tail.cell_len for tail in tails)
        bar_width = max(0, min(40, room))
        for (name, bar, *_), tail in zip(rows, tails, strict=True):
            yield BarLine(Text(name.ljust(label), style="bold"), bar, tail, bar_width)
