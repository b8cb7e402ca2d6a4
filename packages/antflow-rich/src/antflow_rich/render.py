"""Rich renderables for a running pipeline: the bricks the built-in displays are made of.

Each function turns a `ProgressView` or a `DashboardSnapshot` into something
``rich.console.Console.print`` or ``rich.live.Live`` can show. They read only what they
are given (no clock: ages such as "busy for 3.2s" are measured against the snapshot's
``timestamp``), so the same snapshot always renders the same text. A custom dashboard
can reuse any of them; ``examples/rich_polling_dashboard.py`` does.

The width-fitting bricks they fill (`PlainTable`, `BarCell`, `BarLine`) live in
``width_fitting.py`` and are re-exported here; the height plan is ``layout.py``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from antflow_core.model import DashboardSnapshot, WorkerStatus
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.text import Text

from antflow_rich.view import (
    ProgressView,
    format_count,
    format_duration,
    format_error_types,
    format_rate,
    stage_progress,
)
from antflow_rich.width_fitting import BarCell, BarLine, Cell, PlainTable

__all__ = [
    "BarCell",
    "BarLine",
    "Cell",
    "PlainTable",
    "compact_panel",
    "errors_line",
    "errors_panel",
    "progress_row",
    "share_rows",
    "stage_table",
    "worker_table",
]

_DOT: Final = Text(" · ", style="dim")
_ID_WIDTH: Final = 24
_STATUS_WIDTH: Final = 60


def _failed(count: int) -> Text:
    return Text(f"{format_count(count)} failed", style="bold red" if count else "dim")


def _short_seconds(seconds: float) -> str:
    """Return a compact duration for table cells: ``850ms``, ``1.25s``, ``3m20s``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    return format_duration(seconds) if seconds >= 10 else f"{seconds:.2f}s"


def _clip(value: Any, width: int = _ID_WIDTH) -> str:
    """``value`` as one line of at most ``width`` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def progress_row(
    view: ProgressView,
    *,
    description: str = "antflow",
    animation_time: float | None = None,
    bar_width: int = 40,
) -> RenderableType:
    """Return the progress bar line: bar, done / total, percent, rate, ETA, failures.

    With an unknown total the bar pulses and the line shows items done and the
    elapsed time instead of a percentage and an ETA.

    Args:
        view: The numbers to show.
        description: The label before the bar.
        animation_time: Time that drives the pulse of an unknown-total bar (pass the
            snapshot's timestamp so that rendering stays deterministic).
        bar_width: Width of the bar in cells; it gets narrower when the line does not fit.
    """
    fraction = view.fraction
    if view.total is None or fraction is None:
        counts = Text.assemble((format_count(view.done), "bold"), " done")
        timing = Text(f"elapsed {format_duration(view.elapsed)}")
    else:
        counts = Text.assemble(
            (format_count(view.done), "bold"),
            f"/{format_count(view.total)} ",
            (f"{fraction:>4.0%}", "bold cyan"),
        )
        timing = Text(f"ETA {format_duration(view.eta)}")
    details = Text.assemble(
        format_rate(view.rate), _DOT, timing, _DOT, _failed(view.failed), no_wrap=True
    )
    return BarLine(
        Text(description, style="bold"),
        _bar(view, animation_time, None),
        Text.assemble(counts, _DOT, details),
        bar_width,
    )


def _bar(view: ProgressView, animation_time: float | None, width: int | None) -> ProgressBar:
    """A bar that fills with done / total, or pulses when the total is unknown."""
    if view.total is None:
        return ProgressBar(total=None, width=width, animation_time=animation_time)
    if view.total == 0:
        return ProgressBar(total=1, completed=1, width=width)
    return ProgressBar(total=view.total, completed=min(view.done, view.total), width=width)


def _pair(label: str, value: str, style: str = "bold") -> Text:
    return Text.assemble((label, "dim"), " ", (value, style))


def compact_panel(
    view: ProgressView,
    *,
    description: str = "antflow",
    animation_time: float | None = None,
) -> Panel:
    """Return one panel with the progress bar, rate, ETA, elapsed time and the counts.

    The counts are items succeeded, failed, in flight, fed and retries made, plus
    items left unfinished by a shutdown when there are any.
    """
    fraction = view.fraction
    bar = _bar(view, animation_time, None)
    if view.total is None or fraction is None:
        head = Text.assemble((format_count(view.done), "bold"), " done (total unknown)")
    else:
        head = Text.assemble(
            (format_count(view.done), "bold"),
            f"/{format_count(view.total)} ",
            (f"{fraction:.0%}", "bold cyan"),
        )
    timing = Text.assemble(
        _pair("Rate", format_rate(view.rate)),
        _DOT,
        _pair("ETA", format_duration(view.eta)),
        _DOT,
        _pair("Elapsed", format_duration(view.elapsed)),
        no_wrap=True,
        overflow="ellipsis",
    )
    counts = [
        _pair("Succeeded", format_count(view.succeeded), "bold green"),
        _pair("Failed", format_count(view.failed), "bold red" if view.failed else "bold"),
        _pair("In flight", format_count(view.in_flight)),
        _pair("Fed", format_count(view.fed)),
        _pair("Retries", format_count(view.retries), "bold yellow" if view.retries else "bold"),
    ]
    if view.unfinished:
        counts.append(_pair("Unfinished", format_count(view.unfinished), "bold magenta"))
    count_line = Text(no_wrap=True, overflow="ellipsis")
    for index, part in enumerate(counts):
        if index:
            count_line.append_text(_DOT)
        count_line.append_text(part)
    return Panel(
        Group(BarLine(None, bar, head, 40), timing, count_line),
        title=Text(description, style="bold"),
        title_align="left",
        border_style="blue",
        expand=False,
    )


def stage_table(
    snapshot: DashboardSnapshot,
    *,
    total: int | None = None,
    title: str | None = "Stages",
    rule: bool = True,
) -> PlainTable:
    """Return a table with a row per stage: a bar of the items through it, and its counts.

    The columns are the stage, its bar (as wide as the console allows, left out when
    too narrow), **Done** (items the stage is done with, over the items expected to
    reach it when the total is known: see `StageProgress`), Queued, Active (items held
    over the stage's workers), Failed, Skipped and Retries.

    Args:
        snapshot: The pipeline, read at one moment.
        total: The run's total, None when unknown (the bars then show no fraction).
        title: A bold line above the table, None for none.
        rule: Draw the rule under the header.
    """
    table = PlainTable(
        "Stage",
        "Progress",
        "Done",
        "Queued",
        "Active",
        "Failed",
        "Skipped",
        "Retries",
        justify="llrrrrrr",
        title=title,
        rule=rule,
        flex=1,
    )
    retries = {name: stats.retried_items for name, stats in snapshot.stats.stage_stats.items()}
    if snapshot.run_baseline is not None:
        for name, stats in snapshot.run_baseline.stage_stats.items():
            retries[name] = retries.get(name, 0) - stats.retried_items
    skipped = {name: stats.skipped_items for name, stats in snapshot.stats.stage_stats.items()}
    if snapshot.run_baseline is not None:
        for name, stats in snapshot.run_baseline.stage_stats.items():
            skipped[name] = skipped.get(name, 0) - stats.skipped_items
    for stage in stage_progress(snapshot, total):
        done = format_count(stage.through)
        if stage.expected is not None:
            done += f"/{format_count(stage.expected)}"
        active = format_count(stage.active)
        if stage.workers:
            active += f"/{format_count(stage.workers)}"
        table.add_row(
            Text(stage.name, style="bold"),
            BarCell(stage.fraction),
            done,
            format_count(stage.queued),
            active,
            Text(format_count(stage.failed), style="red" if stage.failed else ""),
            format_count(skipped.get(stage.name, 0)),
            format_count(retries.get(stage.name, 0)),
        )
    return table


def share_rows(counts: Sequence[int], rows: int) -> list[int] | None:
    """Share ``rows`` lines between groups of ``counts`` workers; return how many each shows.

    A group that cannot show all its workers needs one more line to count the rest, so
    every group gets at least that line, and then the groups take one row each in turn
    until the lines run out. None when ``rows`` cannot even give each group its line.
    """
    shown = [0] * len(counts)
    if sum(counts) <= rows:
        return list(counts)
    used = sum(1 for count in counts if count)
    if used > rows:
        return None
    grew = True
    while grew:
        grew = False
        for index, count in enumerate(counts):
            if shown[index] < count:
                # one more row; the stage's "more" line goes away when it is complete
                cost = 1 if shown[index] + 1 < count else 0
                if used + cost <= rows:
                    shown[index] += 1
                    used += cost
                    grew = True
    return shown


def _workers_by_stage(snapshot: DashboardSnapshot) -> list[tuple[str, list[str]]]:
    """The workers' names grouped by stage, in stage order; busy workers first in a stage."""
    states, metrics = snapshot.worker_states, snapshot.worker_metrics
    groups: dict[str, list[str]] = {name: [] for name in snapshot.stage_names}
    for name in [*states, *(n for n in metrics if n not in states)]:
        holder = states.get(name) or metrics[name]
        groups.setdefault(holder.stage, []).append(name)

    def idle(name: str) -> bool:
        state = states.get(name)
        return state is None or state.status is not WorkerStatus.BUSY

    return [(stage, sorted(names, key=idle)) for stage, names in groups.items() if names]


def worker_table(
    snapshot: DashboardSnapshot, *, show_tasks: bool = False, max_rows: int | None = 24
) -> PlainTable:
    """Return a table with one row per worker: state, items done and failed, mean time per item.

    Workers are grouped by stage, in stage order, busy ones first; their names
    (``Fetch-W0``) carry their stage.

    Args:
        snapshot: The pipeline, read at one moment.
        show_tasks: Add what each busy worker is doing: the item it holds, the task it
            runs, for how long it has held the item, and the status the task published
            with ``set_task_status()``.
        max_rows: Take at most this many lines for the workers, shared between the
            stages (`share_rows`): each stage lists some of its workers and a line counts
            the rest (``… 26 more Fetch workers (24 busy)``). None lists them all.
    """
    headers = ["Worker", "State", "Done", "Failed", "Avg"]
    if show_tasks:
        headers += ["Item", "Task", "Busy for", "Status"]
    table = PlainTable(*headers, justify="llrrrllrl"[: len(headers)], title="Workers")
    states = snapshot.worker_states
    groups = _workers_by_stage(snapshot)
    counts = [len(names) for _, names in groups]
    shown = counts if max_rows is None else share_rows(counts, max_rows)
    if shown is None:  # not even a line per stage: count them in one line
        shown = [0] * len(groups)
    for (stage, names), count in zip(groups, shown, strict=True):
        for name in names[:count]:
            table.add_row(*_worker_cells(snapshot, name, show_tasks))
        hidden = names[count:]
        if hidden:
            busy = sum(
                1
                for name in hidden
                if (state := states.get(name)) is not None and state.status is WorkerStatus.BUSY
            )
            more = " more" if count else ""
            plural = "s" if len(hidden) != 1 else ""
            table.add_note(
                f"… {format_count(len(hidden))}{more} {stage} worker{plural} "
                f"({format_count(busy)} busy)"
            )
    return table


def _worker_cells(snapshot: DashboardSnapshot, name: str, show_tasks: bool) -> list[Cell]:
    state = snapshot.worker_states.get(name)
    metric = snapshot.worker_metrics.get(name)
    busy = state is not None and state.status is WorkerStatus.BUSY
    cells: list[Cell] = [
        Text(name, style="bold"),
        Text("busy", style="green") if busy else Text("idle", style="dim"),
    ]
    if metric is None:
        cells += ["-", "-", "-"]
    else:
        cells += [
            format_count(metric.items_processed),
            Text(format_count(metric.items_failed), style="red" if metric.items_failed else ""),
            _short_seconds(metric.average_processing_time),
        ]
    if show_tasks:
        if state is not None and busy:
            since = state.busy_since
            cells += [
                _clip(state.current_item_id),
                _clip(state.current_task or ""),
                "" if since is None else _short_seconds(max(0.0, snapshot.timestamp - since)),
                Text(_clip(state.task_status or "", _STATUS_WIDTH), style="italic"),
            ]
        else:
            cells += ["", "", "", ""]
    return cells


def errors_line(snapshot: DashboardSnapshot) -> Text:
    """Return the recent errors in one line: the count, the latest failure, the counts by type.

    ``Recent errors (9 failed): page-577 at Fetch: TimeoutError: read timed out ·
    ConnectionError: 4, TimeoutError: 2``; it ends in ``…`` where the console is too
    narrow. What the dashboards show when there is no room for `errors_panel`.
    """
    errors = snapshot.error_summary
    if not errors.total_failed:
        return Text("Recent errors: none so far", style="green", no_wrap=True, overflow="ellipsis")
    line = Text.assemble(
        ("Recent errors", "bold red"),
        f" ({format_count(errors.total_failed)} failed)",
        no_wrap=True,
        overflow="ellipsis",
    )
    if errors.failed_items:
        last = errors.failed_items[-1]
        line.append(f": {_clip(last.item_id)} at {last.stage}: ")
        line.append(last.error_type, style="red")
        line.append(f": {_clip(last.error, _STATUS_WIDTH)}")
    line.append_text(_DOT)
    line.append(format_error_types(errors, limit=3), style="dim")
    return line


def errors_panel(snapshot: DashboardSnapshot, *, max_rows: int = 5) -> Panel:
    """Return a panel with the most recent failures, newest first, and the count by type.

    Args:
        snapshot: The pipeline, read at one moment; its ``error_summary`` holds the
            latest failures.
        max_rows: Show at most this many failures.
    """
    errors = snapshot.error_summary
    title = Text.assemble(
        ("Recent errors", "bold"), f" ({format_count(errors.total_failed)} failed)"
    )
    if not errors.total_failed:
        return Panel(
            Text("No failures so far", style="green"),
            title=title,
            title_align="left",
            border_style="green",
            expand=False,
        )
    table = PlainTable("Item", "Stage", "Error", "Attempts", "When", "Message", justify="lllrrl")
    for record in reversed(errors.failed_items[-max_rows:] if max_rows > 0 else ()):
        table.add_row(
            _clip(record.item_id),
            record.stage,
            Text(record.error_type, style="red"),
            str(record.attempts),
            f"{_short_seconds(max(0.0, snapshot.timestamp - record.timestamp))} ago",
            _clip(record.error, _STATUS_WIDTH),
        )
    by_type = Text.assemble(
        ("By type: ", "dim"), format_error_types(errors, limit=5), no_wrap=True, overflow="ellipsis"
    )
    return Panel(
        Group(table, by_type),
        title=title,
        title_align="left",
        border_style="red",
        expand=False,
    )
