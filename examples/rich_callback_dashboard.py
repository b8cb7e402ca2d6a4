"""A live dashboard driven by events: StatusTracker callbacks redraw it as things happen.

This is "Strategy 1: Event-Driven (Callbacks)" of the guide. A ``StatusTracker`` calls
``on_status_change`` every time an item changes status at a stage, and
``on_task_retry`` / ``on_task_fail`` when a task is retried or gives up. The callbacks
keep their own tally (items by stage and status, the latest events) and redraw a
``rich.live.Live`` region at most ``MAX_FPS`` times a second, so the screen follows the
events without redrawing thousands of times.

The simulated job: orders go through Validate -> Charge -> Ship. Some orders are
invalid (they fail at Validate), the payment service is flaky (charges are retried),
and digital orders skip shipping (``skip_if``).

    python examples/rich_callback_dashboard.py [--items 80] [--seed 5]

In a terminal the dashboard redraws in place; piped or redirected, it prints the final
state once, with no escape codes, and the summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from antflow import Pipeline, Stage, StatusEvent, StatusTracker, TaskEvent
from antflow_rich import ProgressView, summary_line
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

MAX_FPS: Final = 20  # redraws per second at most, however many events arrive
STATUSES: Final = ("queued", "in_progress", "retrying", "completed", "failed", "skipped")
ENDED: Final = frozenset({"completed", "failed", "skipped"})  # counted once per item and stage
STYLES: Final = {"completed": "green", "failed": "red", "retrying": "yellow", "skipped": "dim"}


@dataclass(frozen=True)
class Order:
    """An order to process."""

    number: int
    amount: float
    digital: bool


class Shop:
    """A simulated shop backend: a few milliseconds per call, some bad orders, a flaky bank."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._charge_attempts: Counter[int] = Counter()

    def order(self, number: int) -> Order:
        """Make order ``number``."""
        return Order(number, round(self._random.uniform(5, 200), 2), digital=number % 4 == 0)

    async def validate(self, order: Order) -> Order:
        """Reject every 13th order."""
        await asyncio.sleep(self._random.uniform(0.002, 0.01))
        if order.number % 13 == 12:
            raise ValueError("unknown shipping address")
        return order

    async def charge(self, order: Order) -> Order:
        """Charge the card; the bank drops one call in six the first time."""
        self._charge_attempts[order.number] += 1
        await asyncio.sleep(self._random.uniform(0.01, 0.04))
        if order.number % 6 == 1 and self._charge_attempts[order.number] == 1:
            raise ConnectionError("payment gateway reset the connection")
        return order

    async def ship(self, order: Order) -> str:
        """Book a parcel."""
        await asyncio.sleep(self._random.uniform(0.01, 0.03))
        return f"parcel-{order.number}"


class EventBoard:
    """What the callbacks have seen, and the rich view of it.

    Args:
        stage_names: The stages, in order.
        live: The live region to redraw.
    """

    def __init__(self, stage_names: Sequence[str], live: Live) -> None:
        self._stage_names = tuple(stage_names)
        self._live = live
        self._status: dict[tuple[Any, str], str] = {}  # (item, stage) -> current status
        self._ended: set[tuple[Any, str]] = set()  # (item, stage) pairs that ended
        self.counts: dict[str, Counter[str]] = {name: Counter() for name in stage_names}
        self.events = 0
        self.retries = 0
        self._log: deque[Text] = deque(maxlen=8)
        self._started = time.monotonic()
        self._last_draw = 0.0

    # The three callbacks the StatusTracker calls.

    async def on_status_change(self, event: StatusEvent) -> None:
        """Move the item to its new status at its stage; log failures."""
        self.events += 1
        key = (event.item_id, event.stage)
        if key in self._ended:
            return  # it already completed, failed or skipped this stage: keep the first
        previous = self._status.pop(key, None)
        if previous is not None:
            self.counts[event.stage][previous] -= 1
        status = str(event.status)
        if status in ENDED:
            self._ended.add(key)
        else:
            self._status[key] = status
        self.counts[event.stage][status] += 1
        if status == "failed":
            self._note(f"order {event.item_id} failed at {event.stage}: "
                       f"{event.metadata.get('error')}", "red")  # fmt: skip
        self.redraw()

    async def on_task_retry(self, event: TaskEvent) -> None:
        """Log the retry."""
        self.retries += 1
        self._note(f"retry #{event.attempt} of {event.task_name} for order {event.item_id}: "
                   f"{event.error}", "yellow")  # fmt: skip
        self.redraw()

    async def on_task_fail(self, event: TaskEvent) -> None:
        """Log the task that gave up."""
        self._note(f"{event.task_name} gave up on order {event.item_id} after "
                   f"{event.attempt} attempt(s)", "bold red")  # fmt: skip
        self.redraw()

    # Drawing.

    def _note(self, message: str, style: str) -> None:
        elapsed = time.monotonic() - self._started
        line = Text.assemble((f"{elapsed:6.2f}s ", "dim"), (message, style))
        line.no_wrap, line.overflow = True, "ellipsis"
        self._log.append(line)

    def redraw(self, *, force: bool = False) -> None:
        """Redraw now if the last frame is older than 1/MAX_FPS seconds (or if forced)."""
        now = time.monotonic()
        if force or now - self._last_draw >= 1 / MAX_FPS:
            self._last_draw = now
            self._live.update(self.render(), refresh=True)

    def render(self) -> RenderableType:
        """The stage table and the event log."""
        table = Table(title="Items by stage and status", title_justify="left", expand=False)
        table.add_column("Stage", style="bold")
        for status in STATUSES:
            table.add_column(status.replace("_", " "), justify="right", style=STYLES.get(status))
        for name in self._stage_names:
            table.add_row(name, *(str(self.counts[name][s]) for s in STATUSES))
        log = Group(*self._log) if self._log else Text("nothing to report yet", style="dim")
        footer = Text(f"{self.events} status events · {self.retries} retries", style="dim")
        return Group(table, Panel(log, title="Latest events", title_align="left"), footer)


async def main(items: int, seed: int) -> int:
    """Process the orders with the dashboard; return the number of failed orders."""
    shop = Shop(seed)
    stages = [
        Stage("Validate", workers=4, tasks=[shop.validate], task_attempts=1),
        Stage("Charge", workers=4, tasks=[shop.charge], task_attempts=3, task_wait_seconds=0.02),
        Stage("Ship", workers=4, tasks=[shop.ship], skip_if=lambda order: order.digital),
    ]
    console = Console()
    # Not a terminal (a pipe, a file, CI): draw nothing while running, the final state once.
    interactive = console.is_interactive
    with Live(console=console, auto_refresh=False, transient=not interactive) as live:
        board = EventBoard([s.name for s in stages], live)
        tracker = StatusTracker(
            on_status_change=board.on_status_change,
            on_task_retry=board.on_task_retry,
            on_task_fail=board.on_task_fail,
        )
        pipeline = Pipeline(stages=stages, status_tracker=tracker)
        results = await pipeline.run([shop.order(i) for i in range(items)])
        board.redraw(force=True)
    if not interactive:
        console.print(board.render())
    final = pipeline.get_dashboard_snapshot()
    view = ProgressView.from_snapshot(final, items)
    print(summary_line(view, final.error_summary, "orders"))
    parcels = sum(1 for r in results if isinstance(r.value, str))
    print(f"{parcels} parcels booked, {len(results) - parcels} digital orders sent")
    return view.failed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=80, help="number of orders")
    parser.add_argument("--seed", type=int, default=5, help="seed of the simulated shop")
    args = parser.parse_args()
    asyncio.run(main(args.items, args.seed))
