"""`DisplayDriver`: feeds a `ProgressDisplay` with snapshots at its refresh interval."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence

from antflow_core.model import DashboardSnapshot, ProgressDisplay
from antflow_core.runtime.stopping import stop_tasks

__all__ = ["DisplayDriver"]

logger = logging.getLogger("antflow")


class DisplayDriver:
    """Runs one display for one run: ``start``, periodic ``update``, ``finish``.

    The display reads a snapshot at its own interval instead of reacting to each event,
    so it costs the workers nothing between refreshes. A display that raises, or whose
    ``refresh_interval`` is not a finite number of seconds > 0, is logged and dropped; the
    pipeline goes on.
    """

    def __init__(
        self,
        display: ProgressDisplay,
        snapshot: Callable[[], DashboardSnapshot],
        total: int | None,
        stage_names: Sequence[str],
    ) -> None:
        self._display: ProgressDisplay | None = display
        self._snapshot = snapshot
        self._total = total
        self._stage_names = tuple(stage_names)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Call the display's ``start`` and begin refreshing it."""
        display = self._display
        if display is None:
            return
        try:
            interval = display.refresh_interval
            if (
                isinstance(interval, bool)
                or not isinstance(interval, int | float)
                or not math.isfinite(interval)
                or interval <= 0
            ):
                logger.error(
                    "antflow: the progress display's refresh_interval is %r, not a finite "
                    "number of seconds > 0; running without it",
                    interval,
                )
                self._display = None
                return
            display.start(self._total, self._stage_names)
        except Exception:
            logger.exception("antflow: the progress display failed to start; running without it")
            self._display = None
            return
        self._task = asyncio.get_running_loop().create_task(
            self._refresh(display, float(interval)), name="antflow:display"
        )

    async def _refresh(self, display: ProgressDisplay, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                display.update(self._snapshot())
            except Exception:
                logger.exception("antflow: the progress display failed; running without it")
                self._display = None
                return

    async def stop(self) -> None:
        """Stop refreshing and call the display's ``finish`` with the final snapshot.

        Both happen even if the caller is cancelled meanwhile (the cancellation is
        re-raised afterwards), so a display is never left refreshing.
        """
        task, self._task = self._task, None
        try:
            if task is not None:
                await stop_tasks([task])
        finally:
            display, self._display = self._display, None
            if display is not None:
                try:
                    display.finish(self._snapshot())
                except Exception:
                    logger.exception("antflow: the progress display failed to finish")
