"""Renderables that fit any width without wrapping: `PlainTable`, `BarCell`, `BarLine`.

Theory of operation
-------------------
A dashboard is redrawn on every refresh, and a terminal may be of any width, so these
are the bricks that make each section fit the width it is given, cheaply: a
`PlainTable` draws each row as one line of text (no per-cell ``rich.table.Table``
layout), lines wider than the console end in ``…``, and nothing ever wraps, so a table
takes exactly as many lines as it has rows (which is what lets ``layout.py`` plan the
height). Bars give way first: a table's flexible column of `BarCell` bars takes the
width the other columns leave (and is left out when even its smallest bar does not
fit); a `BarLine` (head, bar, tail) shrinks its bar before it cuts its tail.
``render.py`` fills them from a `ProgressView` or a `DashboardSnapshot`.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.progress_bar import ProgressBar
from rich.segment import Segment
from rich.text import Text

__all__ = ["BarCell", "BarLine", "Cell", "PlainTable"]


class BarCell:
    """A progress bar drawn as text, for the flexible column of a `PlainTable`.

    Filled cells are ``━`` (half a cell ``╸``) and the rest ``─``, so the bar reads the
    same with or without colours; an unknown fraction (None) draws a dim ``─`` line.

    Args:
        fraction: How full, from 0.0 to 1.0; None when unknown.
    """

    def __init__(self, fraction: float | None) -> None:
        self.fraction = fraction

    def render(self, width: int) -> Text:
        """Return the bar ``width`` cells wide."""
        if self.fraction is None:
            return Text("─" * width, style="dim")
        halves = round(max(0.0, min(1.0, self.fraction)) * width * 2)
        full, half = divmod(halves, 2)
        style = "bar.finished" if full >= width else "bar.complete"
        bar = Text("━" * full, style=style)
        if half:
            bar.append("╸", style=style)
        bar.append("─" * (width - full - half), style="dim")
        return bar


Cell = str | Text | BarCell
"""What a `PlainTable` cell holds: text, styled text, or (in the flexible column) a bar."""


class PlainTable:
    """A light table: a title, aligned columns under a header and a rule, no borders.

    It draws each row as one line of text, which costs a fraction of what
    ``rich.table.Table`` does per cell; dashboards redraw their tables on every
    refresh, so this keeps a refresh cheap. Lines wider than the console end in ``…``,
    and a table never takes more lines than it has rows: nothing wraps.

    One column may be *flexible* (``flex=``): its cells are `BarCell` bars that take the
    width the other columns leave, between ``flex_width`` bounds; when even the smallest
    bar does not fit, the column is left out.

    Args:
        *headers: The column headers.
        justify: One letter per column, ``"l"`` (left) or ``"r"`` (right); all left if
            None.
        title: A bold line above the table.
        gap: Spaces between two columns.
        rule: Draw a rule under the header.
        flex: The index of the flexible column, None for none.
        flex_width: The least and the most cells the flexible column takes.

    Raises:
        ValueError: If ``justify`` does not give one ``l`` or ``r`` per column, or
            ``flex`` names no column.
    """

    def __init__(
        self,
        *headers: str,
        justify: str | None = None,
        title: str | None = None,
        gap: int = 2,
        rule: bool = True,
        flex: int | None = None,
        flex_width: tuple[int, int] = (6, 30),
    ) -> None:
        justify = "l" * len(headers) if justify is None else justify
        if len(justify) != len(headers) or set(justify) - {"l", "r"}:
            raise ValueError(
                f"justify must be one 'l' or 'r' per column ({len(headers)}), got {justify!r}"
            )
        if flex is not None and not 0 <= flex < len(headers):
            raise ValueError(f"flex must be a column index below {len(headers)}, got {flex!r}")
        self.headers = headers
        self.justify = justify
        self.title = title
        self.gap = gap
        self.rule = rule
        self.flex = flex
        self.flex_width = flex_width
        self.rows: list[tuple[Text | BarCell, ...] | Text] = []
        self._caption: str | None = None
        self._lines: dict[int | None, list[Text]] = {}

    @property
    def caption(self) -> str | None:
        """A dim line under the table, None for none."""
        return self._caption

    @caption.setter
    def caption(self, caption: str | None) -> None:
        self._caption = caption
        self._lines.clear()

    def add_row(self, *cells: Cell) -> None:
        """Append a row: one cell per column, each a string, a styled ``Text`` or a `BarCell`.

        Raises:
            ValueError: If the number of cells is not the number of columns.
        """
        if len(cells) != len(self.headers):
            raise ValueError(f"expected {len(self.headers)} cells, got {len(cells)}")
        self.rows.append(tuple(c if isinstance(c, Text | BarCell) else Text(c) for c in cells))
        self._lines.clear()

    def add_note(self, note: str | Text) -> None:
        """Append a line that is not a row (dim, not split in columns), between the rows."""
        self.rows.append(note if isinstance(note, Text) else Text(note, style="dim"))
        self._lines.clear()

    def lines(self, width: int | None = None) -> list[Text]:
        """Return the table as lines of text: title, header, rule, rows, caption.

        Args:
            width: The width to lay the flexible column out for (its widest when None).
                Lines are not cut to it: the console does that when drawing.
        """
        lines = self._lines.get(width)
        if lines is None:
            lines = self._lines[width] = self._layout(width)
        return list(lines)

    def _layout(self, width: int | None) -> list[Text]:
        header: tuple[Text | BarCell, ...] = tuple(Text(h, style="bold") for h in self.headers)
        rows = [row for row in self.rows if isinstance(row, tuple)]
        columns = list(range(len(self.headers)))
        widths = [0] * len(columns)
        for index in columns:
            if index != self.flex:
                widths[index] = max(
                    cell.cell_len
                    for cell in (header[index], *(r[index] for r in rows))
                    if isinstance(cell, Text)
                )
        if self.flex is not None:
            least, most = self.flex_width
            fixed = sum(widths) + self.gap * (len(columns) - 1)
            room = most if width is None else min(most, width - fixed)
            if room >= least:
                widths[self.flex] = room
            else:
                columns.remove(self.flex)
        last = columns[-1]
        gap = " " * self.gap

        def line(cells: tuple[Text | BarCell, ...], *, is_header: bool = False) -> Text:
            out = Text(no_wrap=True, overflow="ellipsis")
            for position, index in enumerate(columns):
                if position:
                    out.append(gap)
                cell = cells[index]
                if isinstance(cell, BarCell):
                    text = cell.render(widths[index])
                elif index == self.flex:
                    text = cell.copy() if is_header else Text(" " * widths[index])
                    text.truncate(widths[index])
                else:
                    text = cell
                pad = widths[index] - text.cell_len
                if self.justify[index] == "r":
                    out.append(" " * pad)
                    out.append_text(text)
                else:
                    out.append_text(text)
                    if index != last:
                        out.append(" " * pad)
            out.rstrip()
            return out

        lines = [] if self.title is None else [Text(self.title, style="bold")]
        lines.append(line(header, is_header=True))
        if self.rule:
            cells = sum(widths[i] for i in columns) + self.gap * (len(columns) - 1)
            lines.append(Text("─" * cells, style="dim", overflow="crop"))
        for row in self.rows:
            if isinstance(row, tuple):
                lines.append(line(row))
            else:
                note = row.copy()
                note.no_wrap, note.overflow = True, "ellipsis"
                lines.append(note)
        if self._caption:
            lines.append(Text(self._caption, style="dim", no_wrap=True, overflow="ellipsis"))
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        for text in self.lines(width):
            if text.cell_len > width:
                text = text.copy()
                text.truncate(width, overflow=text.overflow)
            yield from text.render(console)
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = min(options.max_width, max(line.cell_len for line in self.lines(options.max_width)))
        return Measurement(width, width)


class BarLine:
    """One line: a head, a bar of at most ``bar_width`` cells, a tail.

    Cheaper to draw than a grid, and the bar gives way first when the line does not fit
    (then the tail is cut with an ellipsis).

    Args:
        head: The label before the bar, None for none.
        bar: The bar.
        tail: The text after the bar.
        bar_width: The most cells the bar takes.
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
