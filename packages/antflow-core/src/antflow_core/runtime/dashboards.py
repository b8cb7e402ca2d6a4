"""antflow 0.10's custom dashboards: `BaseDashboard`, and how the runtime drives one.

A `DashboardProtocol` object (``on_start(pipeline, total)``, ``on_update(snapshot)``,
``on_finish(results, summary)``) is wrapped in a `DashboardDisplay`, which implements the
core's `ProgressDisplay`: the pipeline's `DisplayDriver` then runs it exactly like any
other display (one ``on_update`` per refresh interval, exceptions logged and the
dashboard dropped, nothing subscribed to events). `DashboardDisplay` reads the run's
results and failures through the pipeline's public API only.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from typing import Any, ClassVar, Final

from antflow_core.model import (
    DashboardProtocol,
    DashboardSnapshot,
    ErrorSummary,
    PipelineResult,
    summarize_errors,
)

__all__ = ["DEFAULT_DASHBOARD_INTERVAL", "BaseDashboard", "DashboardDisplay"]

DEFAULT_DASHBOARD_INTERVAL: Final = 0.5
"""Seconds between two ``on_update`` calls when neither ``run()`` nor the dashboard says."""


class BaseDashboard(abc.ABC):
    """A base for custom dashboards: write only `render`; pass it as ``custom_dashboard=``.

    It implements `DashboardProtocol` (antflow 0.10's dashboard interface) and keeps
    what it is given, so `render` and an overridden `on_finish` can use it: the
    `pipeline`, the run's `total`, the `last_snapshot`, and at the end the `results` and
    the failures' `summary`. It needs no terminal and no rich::

        class Percent(BaseDashboard):
            def render(self, snapshot: DashboardSnapshot) -> None:
                done = snapshot.stats.items_processed + snapshot.stats.items_failed
                print(f"{done}/{self.total}")

        await pipeline.run(items, custom_dashboard=Percent())

    Set the class attribute `refresh_interval` to change the pace (``run(...,
    refresh_interval=...)`` overrides it).
    """

    refresh_interval: ClassVar[float] = DEFAULT_DASHBOARD_INTERVAL
    """Seconds between two `on_update` calls."""

    pipeline: Any = None
    """The pipeline of the current run (set by `on_start`)."""
    total: int | None = None
    """Items of the current run, None when unknown (set by `on_start`)."""
    last_snapshot: DashboardSnapshot | None = None
    """The latest snapshot given to `on_update`."""
    results: Sequence[PipelineResult[Any]] = ()
    """The run's results (set by `on_finish`)."""
    summary: ErrorSummary | None = None
    """The run's failures (set by `on_finish`)."""

    def on_start(self, pipeline: Any, total: int | None) -> None:
        """Remember the pipeline and the total; a run begins."""
        self.pipeline = pipeline
        self.total = total
        self.last_snapshot = None
        self.results = ()
        self.summary = None

    def on_update(self, snapshot: DashboardSnapshot) -> None:
        """Remember ``snapshot`` and `render` it."""
        self.last_snapshot = snapshot
        self.render(snapshot)

    def on_finish(self, results: list[PipelineResult[Any]], summary: ErrorSummary) -> None:
        """Remember the results and the summary; override it to print a report.

        The final snapshot was rendered just before (by a last `on_update`).
        """
        self.results = results
        self.summary = summary

    @abc.abstractmethod
    def render(self, snapshot: DashboardSnapshot) -> None:
        """Show ``snapshot``: print it, draw it, send it to a web page."""


class DashboardDisplay:
    """Runs a `DashboardProtocol` object as a `ProgressDisplay` of one pipeline.

    ``start`` calls ``on_start(pipeline, total)``, ``update`` calls ``on_update``, and
    ``finish`` calls ``on_update`` with the final snapshot and then ``on_finish`` with
    the run's results (those collected since ``start``) and an `ErrorSummary` of the
    run's failures (all of them, not only the latest few a snapshot lists).

    Args:
        dashboard: The custom dashboard.
        pipeline: The pipeline it watches (what ``on_start`` receives).
        refresh_interval: Seconds between updates; None takes the dashboard's own
            ``refresh_interval`` attribute when it is a number > 0, else 0.5.
    """

    def __init__(
        self, dashboard: DashboardProtocol, pipeline: Any, refresh_interval: float | None = None
    ) -> None:
        self.dashboard = dashboard
        self.pipeline = pipeline
        if refresh_interval is None:
            own = getattr(dashboard, "refresh_interval", None)
            usable = (
                isinstance(own, int | float)
                and not isinstance(own, bool)
                and math.isfinite(own)
                and own > 0
            )
            refresh_interval = float(own) if usable else DEFAULT_DASHBOARD_INTERVAL  # type: ignore[arg-type]
        self._refresh_interval = float(refresh_interval)
        self._results_from = 0
        self._failures_from = 0

    @property
    def refresh_interval(self) -> float:
        """Seconds between two ``on_update`` calls."""
        return self._refresh_interval

    def start(self, total: int | None, stage_names: Sequence[str]) -> None:
        """Note where this run's results and failures begin; call ``on_start``."""
        self._results_from = len(self.pipeline.results)
        self._failures_from = self.pipeline.get_error_summary().total_failed
        self.dashboard.on_start(self.pipeline, total)

    def update(self, snapshot: DashboardSnapshot) -> None:
        """Call ``on_update``."""
        self.dashboard.on_update(snapshot)

    def finish(self, snapshot: DashboardSnapshot) -> None:
        """Call ``on_update`` with the final snapshot, then ``on_finish`` (even if it raised)."""
        try:
            self.dashboard.on_update(snapshot)
        finally:
            results: list[PipelineResult[Any]] = self.pipeline.results[self._results_from :]
            failures = self.pipeline.get_error_summary().failed_items[self._failures_from :]
            self.dashboard.on_finish(results, summarize_errors(failures))
