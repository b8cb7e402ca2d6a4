"""Rich renderables for a running pipeline: the bricks the built-in displays are made of.

Each function turns a `ProgressView` or a `DashboardSnapshot` into something
``rich.console.Console.print`` or ``rich.live.Live`` can show. They read only what they
are given (no clock: ages such as "busy for 3.2s" are measured against the snapshot's
``timestamp``), so the same snapshot always renders the same text. A custom dashboard
can reuse any of them; ``examples/rich_polling_dashboard.py`` does.
"""

from __future__ import annotations

from typing import Any, Final

from antflow_core.model import DashboardSnapshot, WorkerStatus
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.segment import Segment
from rich.text import Text

from antflow_rich.view import (
    ProgressView,
    format_count,
    format_duration,
    format_error_types,
    format_rate,
)

__all__ = [
    "PlainTable",
    "compact_panel",
    "errors_panel",
    "progress_row",
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


class PlainTable:
    """A light table: a title, aligned columns under a header and a rule, no borders.

    It draws each row as one line of text, which costs a fraction of what
    ``rich.table.Table`` does per cell; dashboards redraw their tables on every
    refresh, so this keeps a refresh cheap. Lines wider than the console end in ``…``.

    Args:
        *headers: The column headers.
        justify: One letter per column, ``"l"`` (left) or ``"r"`` (right); all left if
            None.
        title: A bold line above the table.
        gap: Spaces between two columns.

    Raises:
        ValueError: If ``justify`` does not give one ``l`` or ``r`` per column.
    """

    def __init__(
        self, *headers: str, justify: str | None = None, title: str | None = None, gap: int = 2
    ) -> None:
        justify = "l" * len(headers) if justify is None else justify
        if len(justify) != len(headers) or set(justify) - {"l", "r"}:
            raise ValueError(
                f"justify must be one 'l' or 'r' per column ({len(headers)}), got {justify!r}"
            )
        self.headers = headers
        self.justify = justify
        self.title = title
        self.gap = gap
        self.rows: list[tuple[Text, ...]] = []
        self._caption: str | None = None
        self._lines: list[Text] | None = None

    @property
    def caption(self) -> str | None:
        """A dim line under the table, None for none."""
        return self._caption

    @caption.setter
    def caption(self, caption: str | None) -> None:
        self._caption = caption
        self._lines = None

    def add_row(self, *cells: str | Text) -> None:
        """Append a row: one cell per column, each a string or a styled ``Text``.

        Raises:
            ValueError: If the number of cells is not the number of columns.
        """
        if len(cells) != len(self.headers):
            raise ValueError(f"expected {len(self.headers)} cells, got {len(cells)}")
        self.rows.append(tuple(c if isinstance(c, Text) else Text(c) for c in cells))
        self._lines = None

    def lines(self) -> list[Text]:
        """Return the table as lines of text: title, header, rule, rows, caption."""
        if self._lines is None:
            self._lines = self._layout()
        return list(self._lines)

    def _layout(self) -> list[Text]:
        header = tuple(Text(h, style="bold") for h in self.headers)
        widths = [
            max(cell.cell_len for cell in column) for column in zip(header, *self.rows, strict=True)
        ]
        last = len(widths) - 1
        gap = " " * self.gap

        def line(cells: tuple[Text, ...]) -> Text:
            out = Text(no_wrap=True, overflow="ellipsis")
            for index, cell in enumerate(cells):
                if index:
                    out.append(gap)
                pad = widths[index] - cell.cell_len
                if self.justify[index] == "r":
                    out.append(" " * pad)
                    out.append_text(cell)
                else:
                    out.append_text(cell)
                    if index != last:
                        out.append(" " * pad)
            out.rstrip()
            return out

        lines = [] if self.title is None else [Text(self.title, style="bold")]
        lines.append(line(header))
        lines.append(Text("─" * (sum(widths) + self.gap * last), style="dim", overflow="crop"))
        lines.extend(line(row) for row in self.rows)
        if self._caption:
            lines.append(Text(self._caption, style="dim"))
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        for text in self.lines():
            if text.cell_len > width:
                text = text.copy()
                text.truncate(width, overflow=text.overflow)
            yield from text.render(console)
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = min(options.max_width, max(line.cell_len for line in self.lines()))
        return Measurement(width, width)


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
    return _BarLine(
        Text(description, style="bold"),
        _bar(view, animation_time, None),
        Text.assemble(counts, _DOT, details),
        bar_width,
    )


class _BarLine:
    """One line: a head, a bar of at most ``bar_width`` cells, a tail.

    Cheaper to draw than a grid, and the bar gives way first when the line does not fit
    (then the tail is cut with an ellipsis).
    """

    def __init__(self, head: Text | None, bar: ProgressBar, tail: Text, bar_width: int) -> None:
        self.head = head
        self.bar = bar
        self.tail = tail
        self.bar_width = bar_width

    def _head_cells(self) -> int:
        return 0 if self.head is None else self.head.cell_len + 1

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        remaining = width - self._head_cells()
        if self.head is not None:
            yield from self.head.render(console)
            yield Segment(" ")
        cells = min(self.bar_width, remaining - self.tail.cell_len - 1)
        if cells >= 4:
            self.bar.width = cells
            drawn = list(console.render(self.bar, options.update(width=cells)))
            # without colours rich leaves the empty part of the bar out: pad it
            yield from Segment.adjust_line_length(drawn, cells)
            yield Segment(" ")
            remaining -= cells + 1
        tail = self.tail
        if tail.cell_len > remaining:
            tail = tail.copy()
            tail.truncate(max(0, remaining), overflow="ellipsis")
        yield from tail.render(console)
        yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        full = self._head_cells() + self.bar_width + 1 + self.tail.cell_len
        return Measurement(min(self.tail.cell_len, options.max_width), min(full, options.max_width))


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
    count_line = Text()
    for index, part in enumerate(counts):
        if index:
            count_line.append_text(_DOT)
        count_line.append_text(part)
    return Panel(
        Group(_BarLine(None, bar, head, 40), timing, count_line),
        title=Text(description, style="bold"),
        title_align="left",
        border_style="blue",
        expand=False,
    )


def stage_table(snapshot: DashboardSnapshot) -> PlainTable:
    """Return a table with one row per stage: queued, active, done, failed, skipped, retries."""
    table = PlainTable(
        "Stage",
        "Queued",
        "Active",
        "Completed",
        "Failed",
        "Skipped",
        "Retries",
        justify="lrrrrrr",
        title="Stages",
    )
    stage_stats = snapshot.stats.stage_stats
    names = snapshot.stage_names or tuple(stage_stats)
    for name in names:
        stats = stage_stats.get(name)
        if stats is None:
            continue
        table.add_row(
            Text(name, style="bold"),
            format_count(stats.pending_items),
            format_count(stats.in_progress_items),
            format_count(stats.completed_items),
            Text(format_count(stats.failed_items), style="red" if stats.failed_items else ""),
            format_count(stats.skipped_items),
            format_count(stats.retried_items),
        )
    return table


def worker_table(
    snapshot: DashboardSnapshot, *, show_tasks: bool = False, max_rows: int | None = 24
) -> PlainTable:
    """Return a table with one row per worker: state, items done and failed, mean time per item.

    Workers are listed in stage order; their names (``Fetch-W0``) carry their stage.

    Args:
        snapshot: The pipeline, read at one moment.
        show_tasks: Add what each busy worker is doing: the item it holds, the task it
            runs, for how long it has held the item, and the status the task published
            with ``set_task_status()`` (the one column that wraps when space runs out).
        max_rows: Show at most this many workers; a caption counts the rest (and how
            many of them are busy). None shows them all.
    """
    headers = ["Worker", "State", "Done", "Failed", "Avg"]
    if show_tasks:
        headers += ["Item", "Task", "Busy for", "Status"]
    table = PlainTable(*headers, justify="llrrrllrl"[: len(headers)], title="Workers")
    states = snapshot.worker_states
    metrics = snapshot.worker_metrics
    names = list(states) + [name for name in metrics if name not in states]
    shown = names if max_rows is None else names[:max_rows]
    for name in shown:
        state = states.get(name)
        metric = metrics.get(name)
        busy = state is not None and state.status is WorkerStatus.BUSY
        cells: list[str | Text] = [
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
        table.add_row(*cells)
    hidden = names[len(shown) :]
    if hidden:
        busy_hidden = sum(
            1
            for name in hidden
            if (state := states.get(name)) is not None and state.status is WorkerStatus.BUSY
        )
        table.caption = f"… and {len(hidden)} more workers ({busy_hidden} busy)"
    return table


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
    by_type = Text.assemble(("By type: ", "dim"), format_error_types(errors, limit=5))
    return Panel(
        Group(table, by_type),
        title=title,
        title_align="left",
        border_style="red",
        expand=False,
    )
