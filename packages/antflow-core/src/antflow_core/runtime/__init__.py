"""The asyncio runtime of antflow: `Pipeline` executes what `antflow_core.model` decides.

It waits, schedules and calls; every decision (retry, routing, ordering, capacity,
stats) is a model function. See `antflow_core.runtime.pipeline` for the theory of
operation.
"""

from antflow_core.runtime.dashboards import BaseDashboard, DashboardDisplay
from antflow_core.runtime.display import DisplayDriver
from antflow_core.runtime.extensions import (
    DISPLAY_ENTRY_POINT_GROUP,
    TELEMETRY_ENTRY_POINT_GROUP,
    available_displays,
    load_display_factory,
    load_telemetry_observer,
    resolve_display,
    with_telemetry,
)
from antflow_core.runtime.interrupts import SIGTERM_EXIT_STATUS, interrupt_guard
from antflow_core.runtime.observers import combine_observers
from antflow_core.runtime.pipeline import Pipeline
from antflow_core.runtime.queues import QueueClosed, StageQueue
from antflow_core.runtime.workers import set_task_status

__all__ = [
    "DISPLAY_ENTRY_POINT_GROUP",
    "SIGTERM_EXIT_STATUS",
    "TELEMETRY_ENTRY_POINT_GROUP",
    "BaseDashboard",
    "DashboardDisplay",
    "DisplayDriver",
    "Pipeline",
    "QueueClosed",
    "StageQueue",
    "available_displays",
    "combine_observers",
    "interrupt_guard",
    "load_display_factory",
    "load_telemetry_observer",
    "resolve_display",
    "set_task_status",
    "with_telemetry",
]
