"""``antflow.display``: progress bars and dashboards, where antflow 0.10 had them.

The displays come from antflow-rich; ``run(items, progress=True)`` and
``run(items, dashboard="compact" | "detailed" | "full")`` find them without any import.
Import from here to configure one, or to write your own: a `ProgressDisplay`, or a
dashboard written for antflow 0.10 (`DashboardProtocol`, `BaseDashboard`), passed as
``run(items, custom_dashboard=...)``.
"""

from __future__ import annotations

from antflow_core import BaseDashboard, DashboardProtocol, DashboardSnapshot, ProgressDisplay
from antflow_rich import (
    CompactDashboard,
    DetailedDashboard,
    FullDashboard,
    PlainTable,
    ProgressBarDisplay,
    ProgressView,
    RichDisplay,
    blank_snapshot,
)

__all__ = [
    "BaseDashboard",
    "CompactDashboard",
    "DashboardProtocol",
    "DashboardSnapshot",
    "DetailedDashboard",
    "FullDashboard",
    "PlainTable",
    "ProgressBarDisplay",
    "ProgressDisplay",
    "ProgressView",
    "RichDisplay",
    "blank_snapshot",
]
