"""antflow-rich: live progress bars and dashboards for antflow pipelines, drawn with rich.

Installing this package is all it takes: ``run(items, progress=True)`` and
``run(items, dashboard="compact" | "detailed" | "full")`` find these displays through
the ``antflow.displays`` entry points. Import from here to configure one yourself::

    from antflow_rich import FullDashboard

    await pipeline.run(items, dashboard=FullDashboard(refresh_interval=1.0))

A custom display is any object implementing `ProgressDisplay` (re-exported here from
``antflow_core``): a ``refresh_interval`` property and ``start``, ``update`` and
``finish`` methods. Subclass `RichDisplay` to get the terminal handling for free and
write only ``render``. antflow 0.10's `DashboardProtocol` and its `BaseDashboard`
(``run(items, custom_dashboard=...)``) are re-exported here too.
"""

from __future__ import annotations

from antflow_core.model import DashboardProtocol, DashboardSnapshot, ProgressDisplay
from antflow_core.runtime import BaseDashboard

from antflow_rich.displays import (
    CompactDashboard,
    DetailedDashboard,
    FullDashboard,
    ProgressBarDisplay,
    RichDisplay,
    blank_snapshot,
)
from antflow_rich.layout import (
    DEGRADATION_STEPS,
    FittedDashboard,
    LayoutPlan,
    StageBars,
    plan_layout,
)
from antflow_rich.logs import log_above
from antflow_rich.render import (
    BarCell,
    BarLine,
    PlainTable,
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
    StageProgress,
    format_count,
    format_duration,
    format_error_types,
    format_rate,
    progress_line,
    stage_progress,
    summary_line,
)

__version__ = "0.1.0"

__all__ = [
    "DEGRADATION_STEPS",
    "BarCell",
    "BarLine",
    "BaseDashboard",
    "CompactDashboard",
    "DashboardProtocol",
    "DashboardSnapshot",
    "DetailedDashboard",
    "FittedDashboard",
    "FullDashboard",
    "LayoutPlan",
    "PlainTable",
    "ProgressBarDisplay",
    "ProgressDisplay",
    "ProgressView",
    "RichDisplay",
    "StageBars",
    "StageProgress",
    "__version__",
    "blank_snapshot",
    "compact_panel",
    "errors_line",
    "errors_panel",
    "format_count",
    "format_duration",
    "format_error_types",
    "format_rate",
    "log_above",
    "plan_layout",
    "progress_line",
    "progress_row",
    "share_rows",
    "stage_progress",
    "stage_table",
    "summary_line",
    "worker_table",
]
